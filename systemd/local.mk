# systemd/: the unit, the system user and the runtime/state directories.
#
# The .in files are filled in by sed at build time (not by configure) so that
# `make prefix=...` and distcheck's redirected directories are honoured.  The
# sysusers and tmpfiles files are both installed as circd.conf, each in its
# own directory, so they are generated under sysusers.d/ and tmpfiles.d/.
systemdsystemunit_DATA = systemd/circd.service
sysusers_DATA = systemd/sysusers.d/circd.conf
tmpfiles_DATA = systemd/tmpfiles.d/circd.conf
CLEANFILES += $(systemdsystemunit_DATA) $(sysusers_DATA) $(tmpfiles_DATA)
EXTRA_DIST += systemd/circd.service.in systemd/circd.sysusers.in systemd/circd.tmpfiles.in

systemd_edit = sed \
	-e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@CIRCD_USER[@]|$(CIRCD_USER)|g' \
	-e 's|@VERSION[@]|$(VERSION)|g'

# Write to a temporary file first: a failed sed must not leave a half file
# that make would then take as up to date.
systemd/circd.service: $(srcdir)/systemd/circd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) $(@D) && $(systemd_edit) $< > $@.tmp && mv -f $@.tmp $@
systemd/sysusers.d/circd.conf: $(srcdir)/systemd/circd.sysusers.in Makefile
	$(AM_V_GEN)$(MKDIR_P) $(@D) && $(systemd_edit) $< > $@.tmp && mv -f $@.tmp $@
systemd/tmpfiles.d/circd.conf: $(srcdir)/systemd/circd.tmpfiles.in Makefile
	$(AM_V_GEN)$(MKDIR_P) $(@D) && $(systemd_edit) $< > $@.tmp && mv -f $@.tmp $@

# test-unit.sh: systemd-analyze verify (must print nothing) and security
# (exposure <= 2.0).  test-sysusers.sh: sysusers and tmpfiles applied to a
# throw-away root directory, never the host's /etc.
TESTS += systemd/test-unit.sh systemd/test-sysusers.sh
EXTRA_DIST += systemd/test-unit.sh systemd/test-sysusers.sh

# test-syscalls.py: the built daemon, run under strace through start, book
# drop, control commands, reloads and stop, makes no system call that the
# unit's SystemCallFilter= would refuse.
TESTS += systemd/test-syscalls.py
EXTRA_DIST += systemd/test-syscalls.py

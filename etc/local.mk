# etc/circd.conf: the commented example configuration, installed as
# $(sysconfdir)/circd/circd.conf (what circd reads by default) when there is
# none yet.  `make install` never overwrites a site's file: when one exists
# the example goes beside it as circd.conf.dist.  `make uninstall` removes
# circd.conf only while it is still the unedited example.  (Packages install
# it as a conffile instead.)  Hooked in through prerequisites, so that other
# local.mk files can add their own install-data-local steps.
pkgsysconfdir = $(sysconfdir)/circd
EXTRA_DIST += etc/circd.conf
install-data-local: install-circd-conf
uninstall-local: uninstall-circd-conf
install-circd-conf:
	$(MKDIR_P) '$(DESTDIR)$(pkgsysconfdir)'
	@if test -f '$(DESTDIR)$(pkgsysconfdir)/circd.conf'; then \
	  echo " keeping $(DESTDIR)$(pkgsysconfdir)/circd.conf; the example goes to circd.conf.dist"; \
	  echo " $(INSTALL_DATA) etc/circd.conf '$(DESTDIR)$(pkgsysconfdir)/circd.conf.dist'"; \
	  $(INSTALL_DATA) $(srcdir)/etc/circd.conf '$(DESTDIR)$(pkgsysconfdir)/circd.conf.dist'; \
	else \
	  echo " $(INSTALL_DATA) etc/circd.conf '$(DESTDIR)$(pkgsysconfdir)/circd.conf'"; \
	  $(INSTALL_DATA) $(srcdir)/etc/circd.conf '$(DESTDIR)$(pkgsysconfdir)/circd.conf'; \
	fi
uninstall-circd-conf:
	rm -f '$(DESTDIR)$(pkgsysconfdir)/circd.conf.dist'
	@if cmp -s $(srcdir)/etc/circd.conf '$(DESTDIR)$(pkgsysconfdir)/circd.conf'; then \
	  echo " rm -f '$(DESTDIR)$(pkgsysconfdir)/circd.conf'"; \
	  rm -f '$(DESTDIR)$(pkgsysconfdir)/circd.conf'; \
	fi
.PHONY: install-circd-conf uninstall-circd-conf

# test-conf.sh: the example passes `circd -t`, as shipped and with every
# commented-out setting switched on.
TESTS += etc/test-conf.sh
EXTRA_DIST += etc/test-conf.sh

# etc/scenarios: example scenarios for the sim plugin (demo, a 2-part set,
# a gate alarm), installed for demos and plugin authors.
scenariosdir = $(pkgdatadir)/scenarios
dist_scenarios_DATA = etc/scenarios/demo.scn etc/scenarios/set-2part.scn \
	etc/scenarios/gate-alarm.scn

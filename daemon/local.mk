# daemon/: the core
sbin_PROGRAMS += circd
noinst_LTLIBRARIES += daemon/libcircd-core.la
daemon_libcircd_core_la_SOURCES = \
	daemon/core.c daemon/core.h \
	daemon/ctl_handlers.c daemon/ctl_handlers.h \
	daemon/ctl_report.c daemon/ctl_report.h \
	daemon/ctl_query.c daemon/ctl_query.h \
	daemon/forwarder.c daemon/forwarder.h \
	daemon/host_stream.c daemon/host_stream.h \
	daemon/instance.c daemon/instance.h \
	daemon/items.c daemon/items.h \
	daemon/journal.c daemon/journal.h \
	daemon/log.c daemon/log.h \
	daemon/mailbox.c daemon/mailbox.h \
	daemon/metrics.c daemon/metrics.h daemon/metrics_core.c \
	daemon/metrics_http.c daemon/metrics_http.h \
	daemon/plugin_loader.c daemon/plugin_loader.h \
	daemon/presence.c daemon/presence.h \
	daemon/reload.c \
	daemon/station.c daemon/station.h \
	daemon/station_bookdrop.c daemon/bookdrop.h daemon/bookdrop_sort.c daemon/bookdrop_bins.c \
	daemon/sort_rules.c daemon/sort_rules.h \
	daemon/station_shelf.c daemon/shelf_model.c daemon/shelf_model.h \
	daemon/station_selfcheck.c daemon/selfcheck.h daemon/selfcheck_report.c \
	daemon/selfcheck_patron.c daemon/selfcheck_patron.h \
	daemon/station_gate.c daemon/gate_decide.c daemon/gate_decide.h \
	daemon/gate_debounce.c daemon/gate_debounce.h \
	daemon/gate_latency.c daemon/gate_latency.h daemon/gate_store.c daemon/gate_store.h
daemon_libcircd_core_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir) $(SYSTEMD_CFLAGS) \
	$(SQLITE_CFLAGS) $(JSONC_CFLAGS) $(LIBCONFIG_CFLAGS)
daemon_libcircd_core_la_LIBADD = daemon/libcircd-config.la daemon/libcircd-control.la \
	lib/libcircd-tags.la lib/libcircd-transport.la lib/libcircd-util.la $(SYSTEMD_LIBS) $(SQLITE_LIBS) $(JSONC_LIBS) $(LIBCONFIG_LIBS)

circd_SOURCES = daemon/main.c
circd_CPPFLAGS = $(daemon_libcircd_core_la_CPPFLAGS) -DCIRCD_USER='"$(CIRCD_USER)"'
circd_LDADD = daemon/libcircd-core.la

# Unit tests of the core's modules.
core_test_cppflags = $(daemon_libcircd_core_la_CPPFLAGS) -I$(top_srcdir)/daemon $(CMOCKA_CFLAGS)
core_test_ldadd = daemon/libcircd-core.la $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test_journal tests/unit/test_plugin_loader tests/unit/test_mailbox
TESTS += tests/unit/test_journal tests/unit/test_plugin_loader tests/unit/test_mailbox
check_PROGRAMS += tests/unit/test_ctl_query
TESTS += tests/unit/test_ctl_query
tests_unit_test_ctl_query_SOURCES = tests/unit/test_ctl_query.c
tests_unit_test_ctl_query_CPPFLAGS = $(core_test_cppflags)
tests_unit_test_ctl_query_LDADD = $(core_test_ldadd)
check_PROGRAMS += tests/unit/test_host_stream
TESTS += tests/unit/test_host_stream
tests_unit_test_host_stream_SOURCES = tests/unit/test_host_stream.c
tests_unit_test_host_stream_CPPFLAGS = $(core_test_cppflags)
tests_unit_test_host_stream_LDADD = $(core_test_ldadd) -lutil
check_PROGRAMS += tests/unit/test_metrics
TESTS += tests/unit/test_metrics
tests_unit_test_metrics_SOURCES = tests/unit/test_metrics.c
tests_unit_test_metrics_CPPFLAGS = $(core_test_cppflags)
tests_unit_test_metrics_LDADD = $(core_test_ldadd)
tests_unit_test_journal_SOURCES = tests/unit/test_journal.c
tests_unit_test_journal_CPPFLAGS = $(core_test_cppflags)
tests_unit_test_journal_LDADD = $(core_test_ldadd)
tests_unit_test_plugin_loader_SOURCES = tests/unit/test_plugin_loader.c
tests_unit_test_plugin_loader_CPPFLAGS = $(core_test_cppflags)
tests_unit_test_plugin_loader_LDADD = $(core_test_ldadd)
tests_unit_test_mailbox_SOURCES = tests/unit/test_mailbox.c
tests_unit_test_mailbox_CPPFLAGS = $(core_test_cppflags)
tests_unit_test_mailbox_LDADD = $(core_test_ldadd)

# Deliberately broken plugins the loader test must refuse (check-only, never installed).
badplug_ldflags = -module -avoid-version -shared -rpath /nowhere
check_LTLIBRARIES += tests/unit/badplug/good.la tests/unit/badplug/usb_reader.la \
	tests/unit/badplug/bad_magic.la \
	tests/unit/badplug/bad_major.la tests/unit/badplug/bad_minor.la \
	tests/unit/badplug/bad_small.la tests/unit/badplug/no_symbol.la
tests_unit_badplug_good_la_SOURCES = tests/unit/badplug/badplug.c
tests_unit_badplug_good_la_LDFLAGS = $(badplug_ldflags)
tests_unit_badplug_usb_reader_la_SOURCES = tests/unit/badplug/badplug.c
tests_unit_badplug_usb_reader_la_CPPFLAGS = $(AM_CPPFLAGS) -DBADPLUG_USB -DBADPLUG_NAME='"usb_reader"'
tests_unit_badplug_usb_reader_la_LDFLAGS = $(badplug_ldflags)
tests_unit_badplug_bad_magic_la_SOURCES = tests/unit/badplug/badplug.c
tests_unit_badplug_bad_magic_la_CPPFLAGS = $(AM_CPPFLAGS) -DBADPLUG_MAGIC -DBADPLUG_NAME='"bad_magic"'
tests_unit_badplug_bad_magic_la_LDFLAGS = $(badplug_ldflags)
tests_unit_badplug_bad_major_la_SOURCES = tests/unit/badplug/badplug.c
tests_unit_badplug_bad_major_la_CPPFLAGS = $(AM_CPPFLAGS) -DBADPLUG_MAJOR -DBADPLUG_NAME='"bad_major"'
tests_unit_badplug_bad_major_la_LDFLAGS = $(badplug_ldflags)
tests_unit_badplug_bad_minor_la_SOURCES = tests/unit/badplug/badplug.c
tests_unit_badplug_bad_minor_la_CPPFLAGS = $(AM_CPPFLAGS) -DBADPLUG_MINOR -DBADPLUG_NAME='"bad_minor"'
tests_unit_badplug_bad_minor_la_LDFLAGS = $(badplug_ldflags)
tests_unit_badplug_bad_small_la_SOURCES = tests/unit/badplug/badplug.c
tests_unit_badplug_bad_small_la_CPPFLAGS = $(AM_CPPFLAGS) -DBADPLUG_SMALL -DBADPLUG_NAME='"bad_small"'
tests_unit_badplug_bad_small_la_LDFLAGS = $(badplug_ldflags)
tests_unit_badplug_no_symbol_la_SOURCES = tests/unit/badplug/badplug.c
tests_unit_badplug_no_symbol_la_CPPFLAGS = $(AM_CPPFLAGS) -DBADPLUG_NO_SYMBOL
tests_unit_badplug_no_symbol_la_LDFLAGS = $(badplug_ldflags)

# udev rules for the plugins' USB readers, made by the circd just built from
# the plugins just built (their USB id tables).
udevrules_DATA = systemd/70-circd.rules
CLEANFILES += systemd/70-circd.rules
systemd/70-circd.rules: circd $(plugins_LTLIBRARIES)
	$(AM_V_GEN)$(MKDIR_P) systemd && ./circd --udev-rules=$(CIRCD_USER) --plugin-dir plugins/.libs > $@.tmp && mv $@.tmp $@

TESTS += tests/unit/test-udev-rules.sh
EXTRA_DIST += tests/unit/test-udev-rules.sh

# The shelf station's model: call-number order and the shelf list's syntax.
check_PROGRAMS += tests/unit/test_shelf_model
TESTS += tests/unit/test_shelf_model
tests_unit_test_shelf_model_SOURCES = tests/unit/test_shelf_model.c
tests_unit_test_shelf_model_CPPFLAGS = $(core_test_cppflags)
tests_unit_test_shelf_model_LDADD = $(core_test_ldadd)

# Fuzz target: the shelf list parser (corpus replay always; libFuzzer with
# --enable-fuzzing).
check_PROGRAMS += tests/fuzz/replay_shelf_model
tests_fuzz_replay_shelf_model_SOURCES = tests/fuzz/fuzz_shelf_model.c tests/fuzz/replay_main.c \
	daemon/shelf_model.c
tests_fuzz_replay_shelf_model_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir) -I$(top_srcdir)/daemon \
	-DFUZZ_NAME='"shelf_model"'
tests_fuzz_replay_shelf_model_LDADD = lib/libcircd-util.la
TESTS += tests/fuzz/replay_shelf_model
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_shelf_model
tests_fuzz_fuzz_shelf_model_SOURCES = tests/fuzz/fuzz_shelf_model.c daemon/shelf_model.c
tests_fuzz_fuzz_shelf_model_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir) -I$(top_srcdir)/daemon
tests_fuzz_fuzz_shelf_model_LDADD = lib/libcircd-util.la
tests_fuzz_fuzz_shelf_model_LDFLAGS = -fsanitize=fuzzer
FUZZ_TARGETS += tests/fuzz/fuzz_shelf_model
endif

# The self-check station's pure decisions (patron answers, un-securing, card ids).
check_PROGRAMS += tests/unit/test_selfcheck_patron
TESTS += tests/unit/test_selfcheck_patron
tests_unit_test_selfcheck_patron_SOURCES = tests/unit/test_selfcheck_patron.c
tests_unit_test_selfcheck_patron_CPPFLAGS = $(core_test_cppflags)
tests_unit_test_selfcheck_patron_LDADD = $(core_test_ldadd)
check_PROGRAMS += tests/fuzz/replay_selfcheck_patron
tests_fuzz_replay_selfcheck_patron_SOURCES = tests/fuzz/fuzz_selfcheck_patron.c tests/fuzz/replay_main.c
tests_fuzz_replay_selfcheck_patron_CPPFLAGS = $(core_test_cppflags) -DFUZZ_NAME='"selfcheck_patron"'
tests_fuzz_replay_selfcheck_patron_LDADD = $(core_test_ldadd)
TESTS += tests/fuzz/replay_selfcheck_patron
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_selfcheck_patron
tests_fuzz_fuzz_selfcheck_patron_SOURCES = tests/fuzz/fuzz_selfcheck_patron.c
tests_fuzz_fuzz_selfcheck_patron_CPPFLAGS = $(core_test_cppflags)
tests_fuzz_fuzz_selfcheck_patron_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_selfcheck_patron_LDADD = $(core_test_ldadd)
FUZZ_TARGETS += tests/fuzz/fuzz_selfcheck_patron
endif

# The gate's pure parts: decision and debounce.
check_PROGRAMS += tests/unit/test_gate
TESTS += tests/unit/test_gate
tests_unit_test_gate_SOURCES = tests/unit/test_gate.c
tests_unit_test_gate_CPPFLAGS = $(core_test_cppflags)
tests_unit_test_gate_LDADD = $(core_test_ldadd)
# The bookdrop's sort rules: unit test and fuzz target (sort_rules.c alone).
check_PROGRAMS += tests/unit/test_sort_rules
TESTS += tests/unit/test_sort_rules
tests_unit_test_sort_rules_SOURCES = tests/unit/test_sort_rules.c daemon/sort_rules.c
tests_unit_test_sort_rules_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir) $(CMOCKA_CFLAGS)
tests_unit_test_sort_rules_LDADD = lib/libcircd-util.la $(CMOCKA_LIBS)
check_PROGRAMS += tests/fuzz/replay_sort_rules
tests_fuzz_replay_sort_rules_SOURCES = tests/fuzz/fuzz_sort_rules.c tests/fuzz/replay_main.c \
	daemon/sort_rules.c
tests_fuzz_replay_sort_rules_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir) -DFUZZ_NAME='"sort_rules"'
tests_fuzz_replay_sort_rules_LDADD = lib/libcircd-util.la
TESTS += tests/fuzz/replay_sort_rules
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_sort_rules
tests_fuzz_fuzz_sort_rules_SOURCES = tests/fuzz/fuzz_sort_rules.c daemon/sort_rules.c
tests_fuzz_fuzz_sort_rules_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)
tests_fuzz_fuzz_sort_rules_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_sort_rules_LDADD = lib/libcircd-util.la
FUZZ_TARGETS += tests/fuzz/fuzz_sort_rules
endif

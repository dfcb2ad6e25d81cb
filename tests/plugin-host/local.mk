# tests/plugin-host: a fake host that loads a plugin .so for tests, and the
# start of the conformance kit for reader plugins (only uses include/circd/).
check_LTLIBRARIES += tests/plugin-host/libfakehost.la
tests_plugin_host_libfakehost_la_SOURCES = tests/plugin-host/fakehost.c \
	tests/plugin-host/fakehost-load.c tests/plugin-host/fakehost-records.c \
	tests/plugin-host/fakehost-stream.c \
	tests/plugin-host/fakehost.h tests/plugin-host/fakehost-internal.h
tests_plugin_host_libfakehost_la_LIBADD = lib/libcircd-transport.la lib/libcircd-util.la -lm

# Unit tests that load plugins/.libs/<name>.so through the fake host.
FAKEHOST_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/plugin-host $(CMOCKA_CFLAGS)
FAKEHOST_TEST_LDADD = tests/plugin-host/libfakehost.la $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test_plugin_sim tests/unit/test_plugin_jsonl \
	tests/unit/test_plugin_example
TESTS += tests/unit/test_plugin_sim tests/unit/test_plugin_jsonl tests/unit/test_plugin_example
tests_unit_test_plugin_sim_SOURCES = tests/unit/test_plugin_sim.c
tests_unit_test_plugin_sim_CPPFLAGS = $(FAKEHOST_TEST_CPPFLAGS)
tests_unit_test_plugin_sim_LDADD = $(FAKEHOST_TEST_LDADD)
tests_unit_test_plugin_jsonl_SOURCES = tests/unit/test_plugin_jsonl.c
tests_unit_test_plugin_jsonl_CPPFLAGS = $(FAKEHOST_TEST_CPPFLAGS)
tests_unit_test_plugin_jsonl_LDADD = $(FAKEHOST_TEST_LDADD)
tests_unit_test_plugin_example_SOURCES = tests/unit/test_plugin_example.c
tests_unit_test_plugin_example_CPPFLAGS = $(FAKEHOST_TEST_CPPFLAGS)
tests_unit_test_plugin_example_LDADD = $(FAKEHOST_TEST_LDADD) -lutil

# Out-of-tree build: only the installed header and .pc, then load the result.
check_PROGRAMS += tests/plugin-host/oot-check
tests_plugin_host_oot_check_SOURCES = tests/plugin-host/oot-check.c
tests_plugin_host_oot_check_CPPFLAGS = $(FAKEHOST_TEST_CPPFLAGS)
tests_plugin_host_oot_check_LDADD = tests/plugin-host/libfakehost.la -lutil
TESTS += tests/plugin-host/test-oot-build.sh
EXTRA_DIST += tests/plugin-host/test-oot-build.sh

# Conformance: every plugin of the tree loads, validates, starts and stops,
# and exports nothing but its descriptor.
check_PROGRAMS += tests/plugin-host/test_conformance
tests_plugin_host_test_conformance_SOURCES = tests/plugin-host/test_conformance.c
tests_plugin_host_test_conformance_CPPFLAGS = $(FAKEHOST_TEST_CPPFLAGS)
tests_plugin_host_test_conformance_LDADD = tests/plugin-host/libfakehost.la
TESTS += tests/plugin-host/test_conformance tests/plugin-host/test-exports.sh
EXTRA_DIST += tests/plugin-host/test-exports.sh

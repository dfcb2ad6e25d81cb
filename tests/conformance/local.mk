# tests/conformance: the reader-plugin conformance kit.  One harness
# (conformance.c, on the fake host of tests/plugin-host) runs any reader
# plugin against its emulator; each plugin is one driver file (driver.h
# has the format).  Each driver is one test: the kit, then the kit under
# valgrind (run-driver.sh).  To add a plugin: write tests/conformance/NAME.conf
# and list it here.
check_PROGRAMS += tests/conformance/conformance
tests_conformance_conformance_SOURCES = tests/conformance/conformance.c \
	tests/conformance/driver.c tests/conformance/driver.h \
	tests/conformance/emulator.c tests/conformance/emulator.h
tests_conformance_conformance_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/plugin-host
tests_conformance_conformance_LDADD = tests/plugin-host/libfakehost.la -lutil

CONFORMANCE_DRIVERS = \
	tests/conformance/feig.conf \
	tests/conformance/example.conf \
	tests/conformance/3m810.conf
TEST_EXTENSIONS += .conf
CONF_LOG_COMPILER = $(SHELL) $(srcdir)/tests/conformance/run-driver.sh
TESTS += $(CONFORMANCE_DRIVERS)
EXTRA_DIST += $(CONFORMANCE_DRIVERS) tests/conformance/run-driver.sh \
	tests/emulators/example_emulator.py

# daemon/config.mk: the config module (libcircd-config.la), its tests and fuzz target
noinst_LTLIBRARIES += daemon/libcircd-config.la
daemon_libcircd_config_la_SOURCES = daemon/config.c daemon/config-items.c daemon/options.c \
	daemon/conf.h daemon/config-internal.h
daemon_libcircd_config_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir) $(LIBCONFIG_CFLAGS)
daemon_libcircd_config_la_LIBADD = lib/libcircd-util.la $(LIBCONFIG_LIBS) -lm

check_PROGRAMS += tests/unit/test_config
tests_unit_test_config_SOURCES = tests/unit/test_config.c
tests_unit_test_config_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir) $(CMOCKA_CFLAGS)
tests_unit_test_config_LDADD = daemon/libcircd-config.la lib/libcircd-util.la $(CMOCKA_LIBS)
TESTS += tests/unit/test_config

check_PROGRAMS += tests/fuzz/replay_config
tests_fuzz_replay_config_SOURCES = tests/fuzz/fuzz_config.c tests/fuzz/replay_main.c
tests_fuzz_replay_config_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir) -DFUZZ_NAME='"config"' \
	$(LIBCONFIG_CFLAGS)
tests_fuzz_replay_config_LDADD = daemon/libcircd-config.la lib/libcircd-util.la $(LIBCONFIG_LIBS)
TESTS += tests/fuzz/replay_config
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_config
tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz_config.c
tests_fuzz_fuzz_config_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir) $(LIBCONFIG_CFLAGS)
tests_fuzz_fuzz_config_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_config_LDADD = daemon/libcircd-config.la lib/libcircd-util.la $(LIBCONFIG_LIBS)
FUZZ_TARGETS += tests/fuzz/fuzz_config
endif

# lib/sip2: SIP2 codec (messages, wire format, checksums, dates, charsets)
# and the blocking client (TCP/TLS, login, status, resend) used by the sip2
# plugin and `circctl upstream test`.
noinst_LTLIBRARIES += lib/libcircd-sip2.la
lib_libcircd_sip2_la_SOURCES = \
	lib/sip2/sip2.h \
	lib/sip2/spec.c \
	lib/sip2/msg.c \
	lib/sip2/checksum.c \
	lib/sip2/codec.c \
	lib/sip2/date.c \
	lib/sip2/charset.c \
	lib/sip2/client.h \
	lib/sip2/client.c \
	lib/sip2/transport.h \
	lib/sip2/transport.c \
	lib/sip2/upstream_options.h \
	lib/sip2/upstream_options.c
lib_libcircd_sip2_la_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
lib_libcircd_sip2_la_LIBADD = $(OPENSSL_LIBS)

check_PROGRAMS += tests/unit/test_sip2_codec
tests_unit_test_sip2_codec_SOURCES = tests/unit/test_sip2_codec.c
tests_unit_test_sip2_codec_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_sip2_codec_LDADD = lib/libcircd-sip2.la lib/libcircd-util.la $(CMOCKA_LIBS)
TESTS += tests/unit/test_sip2_codec

check_PROGRAMS += tests/fuzz/replay_sip2
tests_fuzz_replay_sip2_SOURCES = tests/fuzz/fuzz_sip2.c tests/fuzz/replay_main.c
tests_fuzz_replay_sip2_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"sip2"'
tests_fuzz_replay_sip2_LDADD = lib/libcircd-sip2.la lib/libcircd-util.la
TESTS += tests/fuzz/replay_sip2
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_sip2
tests_fuzz_fuzz_sip2_SOURCES = tests/fuzz/fuzz_sip2.c
tests_fuzz_fuzz_sip2_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_sip2_LDADD = lib/libcircd-sip2.la lib/libcircd-util.la
FUZZ_TARGETS += tests/fuzz/fuzz_sip2
endif

# The ACS emulator checks itself first
TESTS += tests/sip2/test_acs_emulator.py
EXTRA_DIST += tests/sip2/test_acs_emulator.py tests/sip2/acs_harness.py

# The client against the emulator (TCP and TLS)
check_PROGRAMS += tests/sip2/test_sip2_client
tests_sip2_test_sip2_client_SOURCES = tests/sip2/test_sip2_client.c \
	tests/sip2/acs_child.c tests/sip2/acs_child.h
tests_sip2_test_sip2_client_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_sip2_test_sip2_client_LDADD = lib/libcircd-sip2.la lib/libcircd-util.la \
	$(OPENSSL_LIBS) $(CMOCKA_LIBS)
TESTS += tests/sip2/test_sip2_client
EXTRA_DIST += tests/sip2/make-certs.sh

# make bench
bench_programs += tests/bench/bench_sip2
tests_bench_bench_sip2_SOURCES = tests/bench/bench_sip2.c
tests_bench_bench_sip2_LDADD = lib/libcircd-sip2.la lib/libcircd-util.la

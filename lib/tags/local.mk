# lib/tags: the tag data model library (ISO 28560-3/-2, 3M RFID501), item
# security, set tracking and `circctl tag`; its tests, fuzz targets, bench.
noinst_LTLIBRARIES += lib/libcircd-tags.la
lib_libcircd_tags_la_SOURCES = \
	lib/tags/tag.h lib/tags/tag_internal.h \
	lib/tags/crc.c lib/tags/crc.h \
	lib/tags/item.c \
	lib/tags/compaction.c lib/tags/compaction.h \
	lib/tags/iso28560_3.c lib/tags/iso28560_2.c lib/tags/rfid501.c \
	lib/tags/detect.c \
	lib/tags/security.c lib/tags/security.h \
	lib/tags/sets.c lib/tags/sets.h \
	lib/tags/tag_cli.c lib/tags/tag_cli.h lib/tags/tag_print.c
EXTRA_DIST += lib/tags/README.md
# users link lib/libcircd-util.la as well (tag_cli.c uses its hex helpers)

# Unit tests (cmocka)
TAG_TESTS = tests/unit/test_tag_crc tests/unit/test_tag_iso28560_3 \
	tests/unit/test_tag_iso28560_2 tests/unit/test_tag_detect \
	tests/unit/test_tag_security tests/unit/test_tag_sets tests/unit/test_tag_cli
check_PROGRAMS += $(TAG_TESTS)
TESTS += $(TAG_TESTS)
TAG_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
TAG_TEST_LIBS = lib/libcircd-tags.la lib/libcircd-util.la $(CMOCKA_LIBS)
tests_unit_test_tag_crc_SOURCES = tests/unit/test_tag_crc.c
tests_unit_test_tag_crc_CFLAGS = $(TAG_TEST_CFLAGS)
tests_unit_test_tag_crc_LDADD = $(TAG_TEST_LIBS)
tests_unit_test_tag_iso28560_3_SOURCES = tests/unit/test_tag_iso28560_3.c tests/unit/test_tag_util.h
tests_unit_test_tag_iso28560_3_CFLAGS = $(TAG_TEST_CFLAGS)
tests_unit_test_tag_iso28560_3_LDADD = $(TAG_TEST_LIBS)
tests_unit_test_tag_iso28560_2_SOURCES = tests/unit/test_tag_iso28560_2.c tests/unit/test_tag_util.h
tests_unit_test_tag_iso28560_2_CFLAGS = $(TAG_TEST_CFLAGS)
tests_unit_test_tag_iso28560_2_LDADD = $(TAG_TEST_LIBS)
tests_unit_test_tag_detect_SOURCES = tests/unit/test_tag_detect.c tests/unit/test_tag_util.h
tests_unit_test_tag_detect_CFLAGS = $(TAG_TEST_CFLAGS)
tests_unit_test_tag_detect_LDADD = $(TAG_TEST_LIBS)
tests_unit_test_tag_security_SOURCES = tests/unit/test_tag_security.c
tests_unit_test_tag_security_CFLAGS = $(TAG_TEST_CFLAGS)
tests_unit_test_tag_security_LDADD = $(TAG_TEST_LIBS)
tests_unit_test_tag_sets_SOURCES = tests/unit/test_tag_sets.c
tests_unit_test_tag_sets_CFLAGS = $(TAG_TEST_CFLAGS)
tests_unit_test_tag_sets_LDADD = $(TAG_TEST_LIBS)
tests_unit_test_tag_cli_SOURCES = tests/unit/test_tag_cli.c tests/unit/test_tag_util.h
tests_unit_test_tag_cli_CFLAGS = $(TAG_TEST_CFLAGS)
tests_unit_test_tag_cli_LDADD = $(TAG_TEST_LIBS)

# Fuzz target: iso28560_3 (corpus replay always; libFuzzer with --enable-fuzzing)
check_PROGRAMS += tests/fuzz/replay_tag_iso28560_3
tests_fuzz_replay_tag_iso28560_3_SOURCES = tests/fuzz/fuzz_tag_iso28560_3.c tests/fuzz/replay_main.c
tests_fuzz_replay_tag_iso28560_3_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"tag_iso28560_3"'
tests_fuzz_replay_tag_iso28560_3_LDADD = lib/libcircd-tags.la lib/libcircd-util.la
TESTS += tests/fuzz/replay_tag_iso28560_3
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_tag_iso28560_3
tests_fuzz_fuzz_tag_iso28560_3_SOURCES = tests/fuzz/fuzz_tag_iso28560_3.c
tests_fuzz_fuzz_tag_iso28560_3_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_tag_iso28560_3_LDADD = lib/libcircd-tags.la lib/libcircd-util.la
FUZZ_TARGETS += tests/fuzz/fuzz_tag_iso28560_3
endif

# Fuzz target: iso28560_2 (corpus replay always; libFuzzer with --enable-fuzzing)
check_PROGRAMS += tests/fuzz/replay_tag_iso28560_2
tests_fuzz_replay_tag_iso28560_2_SOURCES = tests/fuzz/fuzz_tag_iso28560_2.c tests/fuzz/replay_main.c
tests_fuzz_replay_tag_iso28560_2_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"tag_iso28560_2"'
tests_fuzz_replay_tag_iso28560_2_LDADD = lib/libcircd-tags.la lib/libcircd-util.la
TESTS += tests/fuzz/replay_tag_iso28560_2
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_tag_iso28560_2
tests_fuzz_fuzz_tag_iso28560_2_SOURCES = tests/fuzz/fuzz_tag_iso28560_2.c
tests_fuzz_fuzz_tag_iso28560_2_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_tag_iso28560_2_LDADD = lib/libcircd-tags.la lib/libcircd-util.la
FUZZ_TARGETS += tests/fuzz/fuzz_tag_iso28560_2
endif

# Fuzz target: rfid501 (corpus replay always; libFuzzer with --enable-fuzzing)
check_PROGRAMS += tests/fuzz/replay_tag_rfid501
tests_fuzz_replay_tag_rfid501_SOURCES = tests/fuzz/fuzz_tag_rfid501.c tests/fuzz/replay_main.c
tests_fuzz_replay_tag_rfid501_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"tag_rfid501"'
tests_fuzz_replay_tag_rfid501_LDADD = lib/libcircd-tags.la lib/libcircd-util.la
TESTS += tests/fuzz/replay_tag_rfid501
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_tag_rfid501
tests_fuzz_fuzz_tag_rfid501_SOURCES = tests/fuzz/fuzz_tag_rfid501.c
tests_fuzz_fuzz_tag_rfid501_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_tag_rfid501_LDADD = lib/libcircd-tags.la lib/libcircd-util.la
FUZZ_TARGETS += tests/fuzz/fuzz_tag_rfid501
endif

# Fuzz target: detect (corpus replay always; libFuzzer with --enable-fuzzing)
check_PROGRAMS += tests/fuzz/replay_tag_detect
tests_fuzz_replay_tag_detect_SOURCES = tests/fuzz/fuzz_tag_detect.c tests/fuzz/replay_main.c
tests_fuzz_replay_tag_detect_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"tag_detect"'
tests_fuzz_replay_tag_detect_LDADD = lib/libcircd-tags.la lib/libcircd-util.la
TESTS += tests/fuzz/replay_tag_detect
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_tag_detect
tests_fuzz_fuzz_tag_detect_SOURCES = tests/fuzz/fuzz_tag_detect.c
tests_fuzz_fuzz_tag_detect_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_tag_detect_LDADD = lib/libcircd-tags.la lib/libcircd-util.la
FUZZ_TARGETS += tests/fuzz/fuzz_tag_detect
endif

# Benchmark: decodes/s per model, encodes/s
bench_programs += tests/bench/bench_tags
tests_bench_bench_tags_SOURCES = tests/bench/bench_tags.c
tests_bench_bench_tags_LDADD = lib/libcircd-tags.la lib/libcircd-util.la

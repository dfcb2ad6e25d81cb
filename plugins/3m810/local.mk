# plugins/3m810: 3M 810 / Model 210 RFID readers over serial (19200 8N1) or
# TCP; tested against tests/emulators/m3m_emulator.py.
plugins_LTLIBRARIES += plugins/3m810.la
plugins_3m810_la_SOURCES = \
	plugins/3m810/m3m-plugin.h \
	plugins/3m810/m3m.c \
	plugins/3m810/m3m_reader.c \
	plugins/3m810/m3m_frame.h \
	plugins/3m810/m3m_frame.c
plugins_3m810_la_LDFLAGS = $(CIRCD_PLUGIN_LINK)
plugins_3m810_la_LIBADD = lib/libcircd-transport.la

# The plugin through the fake host against the emulator (pty and TCP), and
# the frame codec against the spec's vector
check_PROGRAMS += tests/unit/test_plugin_3m810
TESTS += tests/unit/test_plugin_3m810
tests_unit_test_plugin_3m810_SOURCES = tests/unit/test_plugin_3m810.c \
	plugins/3m810/m3m_frame.c
tests_unit_test_plugin_3m810_CPPFLAGS = $(FAKEHOST_TEST_CPPFLAGS) \
	-I$(top_srcdir)/plugins/3m810 \
	-DEMULATOR='"$(abs_top_srcdir)/tests/emulators/m3m_emulator.py"'
tests_unit_test_plugin_3m810_LDADD = $(FAKEHOST_TEST_LDADD) lib/libcircd-tags.la \
	lib/libcircd-util.la -lutil
EXTRA_DIST += tests/emulators/m3m_emulator.py

# Fuzz target: frame scanning, decoding and the answer parsers (corpus
# replay always; libFuzzer with --enable-fuzzing)
check_PROGRAMS += tests/fuzz/replay_m3m_frame
tests_fuzz_replay_m3m_frame_SOURCES = tests/fuzz/fuzz_m3m_frame.c tests/fuzz/replay_main.c \
	plugins/3m810/m3m_frame.c
tests_fuzz_replay_m3m_frame_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/3m810 \
	-DFUZZ_NAME='"m3m_frame"'
TESTS += tests/fuzz/replay_m3m_frame
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_m3m_frame
tests_fuzz_fuzz_m3m_frame_SOURCES = tests/fuzz/fuzz_m3m_frame.c plugins/3m810/m3m_frame.c
tests_fuzz_fuzz_m3m_frame_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/3m810
tests_fuzz_fuzz_m3m_frame_LDFLAGS = -fsanitize=fuzzer
FUZZ_TARGETS += tests/fuzz/fuzz_m3m_frame
endif

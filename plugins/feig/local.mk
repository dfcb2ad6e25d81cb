# plugins/feig: FEIG OBID ISO-Host readers over serial, TCP or USB; tested
# against tests/emulators/feig_emulator.py (serial, TCP) and the umockdev
# fake reader tests/usb/fake_feig.c (USB).
plugins_LTLIBRARIES += plugins/feig.la
plugins_feig_la_SOURCES = \
	plugins/feig/feig-plugin.h \
	plugins/feig/feig.c \
	plugins/feig/feig_reader.c \
	plugins/feig/feig_commands.c \
	plugins/feig/feig_port.c \
	plugins/feig/feig_frame.h \
	plugins/feig/feig_frame.c
plugins_feig_la_LDFLAGS = $(CIRCD_PLUGIN_LINK)
plugins_feig_la_LIBADD = lib/libcircd-transport.la
# USB (port = "usb:VID:PID[:SERIAL]") only with libusb: --disable-usb
# builds the plugin for serial and TCP alone.
feig_usb_cppflags =
if ENABLE_USB
plugins_feig_la_SOURCES += plugins/feig/feig_usb.c
feig_usb_cppflags += -DFEIG_USB=1 $(LIBUSB_CFLAGS)
plugins_feig_la_LIBADD += lib/libcircd-usb.la
endif
plugins_feig_la_CPPFLAGS = $(AM_CPPFLAGS) $(feig_usb_cppflags)

# The plugin through the fake host against the emulator (pty and TCP)
check_PROGRAMS += tests/unit/test_plugin_feig
TESTS += tests/unit/test_plugin_feig
tests_unit_test_plugin_feig_SOURCES = tests/unit/test_plugin_feig.c
tests_unit_test_plugin_feig_CPPFLAGS = $(FAKEHOST_TEST_CPPFLAGS) \
	-DEMULATOR='"$(abs_top_srcdir)/tests/emulators/feig_emulator.py"'
tests_unit_test_plugin_feig_LDADD = $(FAKEHOST_TEST_LDADD) -lutil
EXTRA_DIST += tests/emulators/feig_emulator.py

# The plugin over USB through the fake host against the umockdev fake FEIG
# reader (a fake, for tests).  Re-runs itself under umockdev-wrapper; exit
# 77 (skip) without it.
if ENABLE_USB
if HAVE_UMOCKDEV
check_PROGRAMS += tests/unit/test_plugin_feig_usb
TESTS += tests/unit/test_plugin_feig_usb
tests_unit_test_plugin_feig_usb_SOURCES = tests/unit/test_plugin_feig_usb.c \
	tests/usb/fake_feig.c tests/usb/fake_feig.h \
	tests/usb/fake_usbdevfs.c tests/usb/fake_usbdevfs.h
tests_unit_test_plugin_feig_usb_CPPFLAGS = $(FAKEHOST_TEST_CPPFLAGS) -I$(top_srcdir)/tests/usb
tests_unit_test_plugin_feig_usb_CFLAGS = $(AM_CFLAGS) $(UMOCKDEV_CFLAGS)
tests_unit_test_plugin_feig_usb_LDADD = $(FAKEHOST_TEST_LDADD) $(UMOCKDEV_LIBS)
endif
endif

# Fuzz target: frames and answer parsers (corpus replay always; libFuzzer
# with --enable-fuzzing)
check_PROGRAMS += tests/fuzz/replay_feig_frame
tests_fuzz_replay_feig_frame_SOURCES = tests/fuzz/fuzz_feig_frame.c tests/fuzz/replay_main.c \
	plugins/feig/feig_frame.c
tests_fuzz_replay_feig_frame_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/feig \
	-DFUZZ_NAME='"feig_frame"'
TESTS += tests/fuzz/replay_feig_frame
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_feig_frame
tests_fuzz_fuzz_feig_frame_SOURCES = tests/fuzz/fuzz_feig_frame.c plugins/feig/feig_frame.c
tests_fuzz_fuzz_feig_frame_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/feig
tests_fuzz_fuzz_feig_frame_LDFLAGS = -fsanitize=fuzzer
FUZZ_TARGETS += tests/fuzz/fuzz_feig_frame
endif

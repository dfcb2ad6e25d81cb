# plugins/acr122u: ACS ACR122U patron card reader over USB (libusb); tested
# against a fake reader made with umockdev (tests/usb/fake_acr122u.c).
# Included from Makefile.am inside `if ENABLE_USB`.
plugins_LTLIBRARIES += plugins/acr122u.la
plugins_acr122u_la_SOURCES = \
	plugins/acr122u/acr122u.c \
	plugins/acr122u/acr122u_proto.h \
	plugins/acr122u/acr122u_proto.c
plugins_acr122u_la_CFLAGS = $(AM_CFLAGS) $(LIBUSB_CFLAGS)
plugins_acr122u_la_LDFLAGS = $(CIRCD_PLUGIN_LINK)
plugins_acr122u_la_LIBADD = lib/libcircd-usb.la

# The plugin through the fake host against the umockdev fake reader.  The
# test re-runs itself under umockdev-wrapper; exit 77 (skip) without it.
if HAVE_UMOCKDEV
check_PROGRAMS += tests/unit/test_plugin_acr122u tests/usb/test_usb_transport
TESTS += tests/unit/test_plugin_acr122u tests/usb/test_usb_transport
tests_unit_test_plugin_acr122u_SOURCES = tests/unit/test_plugin_acr122u.c \
	tests/usb/fake_acr122u.c tests/usb/fake_acr122u.h \
	tests/usb/fake_usbdevfs.c tests/usb/fake_usbdevfs.h
tests_unit_test_plugin_acr122u_CPPFLAGS = $(FAKEHOST_TEST_CPPFLAGS) -I$(top_srcdir)/tests/usb
tests_unit_test_plugin_acr122u_CFLAGS = $(AM_CFLAGS) $(UMOCKDEV_CFLAGS)
tests_unit_test_plugin_acr122u_LDADD = $(FAKEHOST_TEST_LDADD) $(UMOCKDEV_LIBS)
tests_usb_test_usb_transport_SOURCES = tests/usb/test_usb_transport.c \
	tests/usb/fake_acr122u.c tests/usb/fake_acr122u.h \
	tests/usb/fake_usbdevfs.c tests/usb/fake_usbdevfs.h
tests_usb_test_usb_transport_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/usb $(CMOCKA_CFLAGS)
tests_usb_test_usb_transport_CFLAGS = $(AM_CFLAGS) $(UMOCKDEV_CFLAGS) $(LIBUSB_CFLAGS)
tests_usb_test_usb_transport_LDADD = lib/libcircd-usb.la $(UMOCKDEV_LIBS) $(CMOCKA_LIBS)
endif
EXTRA_DIST += tests/usb/umockdev-reexec.h

# Fuzz target: CCID messages, pseudo-APDU answers, PN532 target lists
# (corpus replay always; libFuzzer with --enable-fuzzing)
check_PROGRAMS += tests/fuzz/replay_acr122u
tests_fuzz_replay_acr122u_SOURCES = tests/fuzz/fuzz_acr122u.c tests/fuzz/replay_main.c \
	plugins/acr122u/acr122u_proto.c
tests_fuzz_replay_acr122u_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/acr122u \
	-DFUZZ_NAME='"acr122u"'
TESTS += tests/fuzz/replay_acr122u
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_acr122u
tests_fuzz_fuzz_acr122u_SOURCES = tests/fuzz/fuzz_acr122u.c plugins/acr122u/acr122u_proto.c
tests_fuzz_fuzz_acr122u_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/acr122u
tests_fuzz_fuzz_acr122u_LDFLAGS = -fsanitize=fuzzer
FUZZ_TARGETS += tests/fuzz/fuzz_acr122u
endif

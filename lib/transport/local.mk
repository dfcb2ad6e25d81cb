# lib/transport: the byte stream to a device — serial (termios) or TCP
# client — opened from one spec string; used by the reader plugins.
noinst_LTLIBRARIES += lib/libcircd-transport.la
lib_libcircd_transport_la_SOURCES = \
	lib/transport/transport.h \
	lib/transport/transport-internal.h \
	lib/transport/transport.c \
	lib/transport/spec.c \
	lib/transport/serial.c \
	lib/transport/tcp.c

check_PROGRAMS += tests/unit/test_transport
tests_unit_test_transport_SOURCES = tests/unit/test_transport.c
tests_unit_test_transport_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_transport_LDADD = lib/libcircd-transport.la $(CMOCKA_LIBS) -lutil
TESTS += tests/unit/test_transport

# The USB transport (libusb-1.0) in a library of its own, so that only the
# USB plugins link libusb.
if ENABLE_USB
noinst_LTLIBRARIES += lib/libcircd-usb.la
lib_libcircd_usb_la_SOURCES = lib/transport/usb.h lib/transport/usb.c
lib_libcircd_usb_la_CFLAGS = $(AM_CFLAGS) $(LIBUSB_CFLAGS)
lib_libcircd_usb_la_LIBADD = $(LIBUSB_LIBS)
endif

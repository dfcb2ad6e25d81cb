# daemon/control.mk: the control socket server (libcircd-control.la) and its tests
# Consumers link lib/libcircd-util.la too (kept out of LIBADD so that the
# daemon links each convenience library once).
noinst_LTLIBRARIES += daemon/libcircd-control.la
daemon_libcircd_control_la_SOURCES = daemon/control.c daemon/control.h \
	daemon/control-socket.c daemon/control-socket.h
daemon_libcircd_control_la_CPPFLAGS = $(AM_CPPFLAGS) $(SYSTEMD_CFLAGS) $(JSONC_CFLAGS) \
	-I$(top_srcdir)
daemon_libcircd_control_la_LIBADD = $(SYSTEMD_LIBS) $(JSONC_LIBS)

check_PROGRAMS += tests/unit/test_control
TESTS += tests/unit/test_control
tests_unit_test_control_SOURCES = tests/unit/test_control.c
tests_unit_test_control_CPPFLAGS = $(AM_CPPFLAGS) $(SYSTEMD_CFLAGS) $(JSONC_CFLAGS) \
	$(CMOCKA_CFLAGS) -I$(top_srcdir)
tests_unit_test_control_LDADD = daemon/libcircd-control.la lib/libcircd-util.la \
	$(SYSTEMD_LIBS) $(JSONC_LIBS) $(CMOCKA_LIBS)

# The real server with canned answers, for test_circctl.py's end-to-end cases.
check_PROGRAMS += tests/unit/control_canned_server
tests_unit_control_canned_server_SOURCES = tests/unit/control_canned_server.c
tests_unit_control_canned_server_CPPFLAGS = $(AM_CPPFLAGS) $(SYSTEMD_CFLAGS) $(JSONC_CFLAGS) \
	-I$(top_srcdir)
tests_unit_control_canned_server_LDADD = daemon/libcircd-control.la lib/libcircd-util.la \
	$(SYSTEMD_LIBS) $(JSONC_LIBS)

check_PROGRAMS += tests/unit/test_control_socket
TESTS += tests/unit/test_control_socket
tests_unit_test_control_socket_SOURCES = tests/unit/test_control_socket.c
tests_unit_test_control_socket_CPPFLAGS = $(tests_unit_test_control_CPPFLAGS)
tests_unit_test_control_socket_LDADD = $(tests_unit_test_control_LDADD)

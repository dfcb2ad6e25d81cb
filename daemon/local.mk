# daemon/: the core
sbin_PROGRAMS += circd
noinst_LTLIBRARIES += daemon/libcircd-core.la
daemon_libcircd_core_la_SOURCES = \
	daemon/core.c daemon/core.h \
	daemon/ctl_handlers.c daemon/ctl_handlers.h \
	daemon/forwarder.c daemon/forwarder.h \
	daemon/instance.c daemon/instance.h \
	daemon/journal.c daemon/journal.h \
	daemon/log.c daemon/log.h \
	daemon/mailbox.c daemon/mailbox.h \
	daemon/plugin_loader.c daemon/plugin_loader.h \
	daemon/presence.c daemon/presence.h \
	daemon/station.c daemon/station.h \
	daemon/station_bookdrop.c
daemon_libcircd_core_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir) $(SYSTEMD_CFLAGS) \
	$(SQLITE_CFLAGS) $(JSONC_CFLAGS) $(LIBCONFIG_CFLAGS)
daemon_libcircd_core_la_LIBADD = daemon/libcircd-config.la daemon/libcircd-control.la \
	lib/libcircd-util.la $(SYSTEMD_LIBS) $(SQLITE_LIBS) $(JSONC_LIBS) $(LIBCONFIG_LIBS)

circd_SOURCES = daemon/main.c
circd_CPPFLAGS = $(daemon_libcircd_core_la_CPPFLAGS)
circd_LDADD = daemon/libcircd-core.la

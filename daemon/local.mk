# daemon/: the core
sbin_PROGRAMS += circd
circd_SOURCES = daemon/main.c
circd_LDADD = lib/libcircd-util.la

# lib/util: helpers shared by daemon, plugins, circctl and tests
noinst_LTLIBRARIES += lib/libcircd-util.la
lib_libcircd_util_la_SOURCES = lib/util/util.c lib/util/util.h

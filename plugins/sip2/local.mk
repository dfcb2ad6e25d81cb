# plugins/sip2: upstream plugin posting circulation to the ILS over SIP2
plugins_LTLIBRARIES += plugins/sip2.la
plugins_sip2_la_SOURCES = \
	plugins/sip2/sip2-plugin.h \
	plugins/sip2/sip2.c \
	plugins/sip2/session.c \
	plugins/sip2/txn.c \
	plugins/sip2/fields_json.c
plugins_sip2_la_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(OPENSSL_CFLAGS)
plugins_sip2_la_LDFLAGS = $(CIRCD_PLUGIN_LINK)
plugins_sip2_la_LIBADD = lib/libcircd-sip2.la lib/libcircd-util.la $(OPENSSL_LIBS) $(JSONC_LIBS)

# The plugin's run() driven by a fake host against the ACS emulator
check_PROGRAMS += tests/sip2/test_sip2_plugin
tests_sip2_test_sip2_plugin_SOURCES = tests/sip2/test_sip2_plugin.c \
	tests/sip2/fake_host.c tests/sip2/fake_host.h \
	tests/sip2/acs_child.c tests/sip2/acs_child.h \
	$(plugins_sip2_la_SOURCES)
tests_sip2_test_sip2_plugin_CPPFLAGS = $(AM_CPPFLAGS) -DCIRCD_PLUGIN_STATIC \
	-I$(top_srcdir)/plugins/sip2
tests_sip2_test_sip2_plugin_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JSONC_CFLAGS) \
	$(OPENSSL_CFLAGS)
tests_sip2_test_sip2_plugin_LDADD = lib/libcircd-sip2.la lib/libcircd-util.la \
	$(OPENSSL_LIBS) $(JSONC_LIBS) $(CMOCKA_LIBS) -lpthread
TESTS += tests/sip2/test_sip2_plugin
EXTRA_DIST += plugins/sip2/README.md

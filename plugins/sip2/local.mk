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

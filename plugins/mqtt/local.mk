# plugins/mqtt: upstream publishing transactions to an MQTT broker (libmosquitto)
if ENABLE_MQTT
plugins_LTLIBRARIES += plugins/mqtt.la
plugins_mqtt_la_SOURCES = \
	plugins/mqtt/mqtt-plugin.h \
	plugins/mqtt/mqtt.c \
	plugins/mqtt/session.c \
	plugins/mqtt/payload.c
plugins_mqtt_la_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(OPENSSL_CFLAGS)
plugins_mqtt_la_LDFLAGS = $(CIRCD_PLUGIN_LINK)
plugins_mqtt_la_LIBADD = lib/libcircd-util.la -lmosquitto $(OPENSSL_LIBS) $(JSONC_LIBS)
endif
EXTRA_DIST += plugins/mqtt/README.md

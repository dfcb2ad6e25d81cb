# plugins/modbus: a register-mapped device over Modbus TCP/RTU (libmodbus),
# its map profiles, and the scriptable device simulator its tests run against.
if ENABLE_MODBUS
plugins_LTLIBRARIES += plugins/modbus.la
plugins_modbus_la_SOURCES = plugins/modbus/modbus.c plugins/modbus/map.c plugins/modbus/map.h
plugins_modbus_la_CFLAGS = $(AM_CFLAGS) $(LIBMODBUS_CFLAGS)
plugins_modbus_la_LDFLAGS = $(CIRCD_PLUGIN_LINK)
plugins_modbus_la_LIBADD = lib/libcircd-util.la $(LIBMODBUS_LIBS) -lm

modbusmapdir = $(pkgdatadir)/modbus
dist_modbusmap_DATA = etc/modbus/bookdrop-sorter.map etc/modbus/gate.map \
	etc/modbus/bin-levels.map

check_PROGRAMS += tests/emulators/modbus_sim tests/unit/test_plugin_modbus
tests_emulators_modbus_sim_SOURCES = tests/emulators/modbus_sim.c
tests_emulators_modbus_sim_CFLAGS = $(AM_CFLAGS) $(LIBMODBUS_CFLAGS)
tests_emulators_modbus_sim_LDADD = $(LIBMODBUS_LIBS)

TESTS += tests/unit/test_plugin_modbus
tests_unit_test_plugin_modbus_SOURCES = tests/unit/test_plugin_modbus.c
tests_unit_test_plugin_modbus_CPPFLAGS = $(FAKEHOST_TEST_CPPFLAGS)
tests_unit_test_plugin_modbus_LDADD = $(FAKEHOST_TEST_LDADD)
endif

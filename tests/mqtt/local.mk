# tests/mqtt: the mqtt upstream's stories against a real mosquitto broker on
# 127.0.0.1 (python3; skipped, exit 77, when mosquitto is not installed).
EXTRA_DIST += tests/mqtt/mqtt_lib.py
if ENABLE_MQTT
TESTS += tests/mqtt/test_mqtt_fleet.py tests/mqtt/test_mqtt_tls.py tests/mqtt/test_mqtt_hang.py \
	tests/mqtt/test_mqtt_sigkill.py tests/mqtt/test_mqtt_auth.py
endif
EXTRA_DIST += tests/mqtt/test_mqtt_fleet.py tests/mqtt/test_mqtt_tls.py tests/mqtt/test_mqtt_hang.py \
	tests/mqtt/test_mqtt_sigkill.py tests/mqtt/test_mqtt_auth.py

# The plugin through the fake host, without a broker: options, password
# files, answers while the broker is unreachable.
if ENABLE_MQTT
check_PROGRAMS += tests/mqtt/test_plugin_mqtt
TESTS += tests/mqtt/test_plugin_mqtt
tests_mqtt_test_plugin_mqtt_SOURCES = tests/mqtt/test_plugin_mqtt.c
tests_mqtt_test_plugin_mqtt_CPPFLAGS = $(FAKEHOST_TEST_CPPFLAGS)
tests_mqtt_test_plugin_mqtt_LDADD = $(FAKEHOST_TEST_LDADD)
endif

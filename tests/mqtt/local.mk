# tests/mqtt: the mqtt upstream's stories against a real mosquitto broker on
# 127.0.0.1 (python3; skipped, exit 77, when mosquitto is not installed).
EXTRA_DIST += tests/mqtt/mqtt_lib.py
if ENABLE_MQTT
TESTS += tests/mqtt/test_mqtt_fleet.py tests/mqtt/test_mqtt_tls.py tests/mqtt/test_mqtt_hang.py
endif
EXTRA_DIST += tests/mqtt/test_mqtt_fleet.py tests/mqtt/test_mqtt_tls.py tests/mqtt/test_mqtt_hang.py

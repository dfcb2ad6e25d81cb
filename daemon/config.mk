# daemon/config.mk: the config module (libcircd-config.la), its tests and fuzz target

# daemon/control.mk: the control socket server (libcircd-control.la) and its tests

#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: a reader on the network, driven by the template plugin through the
daemon's own streams (host API 1.4).

circd runs plugins/example as device ex1 with device = tcp:127.0.0.1:PORT;
this test is the reader, a TCP listener on 127.0.0.1.  circd connects, a tag
line becomes an event of ex1; the reader is unplugged (the connection drops,
new ones are refused) and ex1 shows "offline" in circctl status with the
reason; plugged back in, the plugin connects again by itself and the next
tag is seen.  circd stops
cleanly, with no stream left open."""
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from circdtest import PLUGIN_DIR, Skip, check, main, wait_for  # noqa: E402


def device(h, name):
    for d in h.status()["devices"]:
        if d["name"] == name:
            return d
    raise AssertionError("no device %s in status" % name)


def listen(port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(2)
    sock.settimeout(10)
    return sock


def story(h):
    if not os.path.exists(os.path.join(PLUGIN_DIR, "example.so")):
        raise Skip("plugins/example is not built")
    listener = listen(0)
    port = listener.getsockname()[1]
    h.config(devices=[{"name": "ex1", "plugin": "example",
                       "device": "tcp:127.0.0.1:%d" % port}],
             stations=[{"name": "returns", "role": "bookdrop", "devices": ["ex1"]}])
    h.start()

    conn, _ = listener.accept()
    check(True, "circd connected to the reader at 127.0.0.1:%d" % port)
    wait_for(lambda: device(h, "ex1")["health"] == "ok", 5, "ex1 ok")
    conn.sendall(b"E004015012345678\n")
    wait_for(lambda: device(h, "ex1")["events"] >= 1, 5, "ex1's first event")
    check(True, "a tag line over TCP is an event of ex1")

    # The reader is unplugged: the connection drops and new ones are refused.
    conn.close()
    listener.close()
    wait_for(lambda: device(h, "ex1")["health"] == "offline", 5, "ex1 offline")
    # End of file, or a reset when the bookdrop's re-secure request was
    # still unread on the reader's side of the connection.
    check("end of file" in h.last_log() or "Connection reset by peer" in h.last_log(),
          "the log says why: end of file / connection reset")

    # Plugged back in: the plugin connects again by itself (it retries each second).
    listener = listen(port)
    conn, _ = listener.accept()
    wait_for(lambda: device(h, "ex1")["health"] == "ok", 5, "ex1 ok again")
    conn.sendall(b"E004015012345679\n")
    wait_for(lambda: device(h, "ex1")["events"] >= 2, 5, "ex1's second event")
    check(True, "reconnected: the next tag is seen")

    rc = h.stop()
    check(rc == 0, "circd exits 0 on SIGTERM (got %d)" % rc)
    check("left open" not in h.last_log(), "no stream left open after destroy()")
    conn.close()
    listener.close()


if __name__ == "__main__":
    main(story)

#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: clients of the control socket misbehave — unknown commands, bad
JSON, oversized requests, and clients that hang up mid-request or before
reading their answer.  Each mistake gets {"ok": false, "error": ...} (a
protocol error then closes that connection, control.h), and circd keeps
serving everybody else and keeps working."""
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from circdtest import check, main, wait_for  # noqa: E402


def connect(h):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(os.path.join(h.run_dir, "control.sock"))
    return s


def read_lines(s, n):
    """Read n answer lines (fewer if the server closes)."""
    buf = b""
    while buf.count(b"\n") < n:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    return [json.loads(x) for x in buf.split(b"\n") if x.strip()]


def closed_by_server(s):
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def refused(h, raw, what, closes):
    s = connect(h)
    try:
        try:
            s.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may close before taking all of an oversized request
        ans = read_lines(s, 1)
        check(len(ans) == 1 and ans[0].get("ok") is False and ans[0].get("error"),
              "%s: {\"ok\": false} with a reason: %s" % (what, ans[0].get("error") if ans else ans))
        if closes:
            check(closed_by_server(s), "%s: the connection is closed after the error" % what)
        return ans[0]
    finally:
        s.close()


def story(h):
    h.simple_config()
    h.start()
    pid = h.pid()

    # Unknown command: an answer, and the connection stays usable.
    s = connect(h)
    s.sendall(b'{"cmd":"frobnicate"}\n')
    a = read_lines(s, 1)[0]
    check(a["ok"] is False and "frobnicate" in a["error"], "unknown command refused, naming it: %s" % a["error"])
    s.sendall(b'{"cmd":"status"}\n')
    a = read_lines(s, 1)[0]
    check(a["ok"] is True and a["state"] == "running", "the same connection still answers status")
    # Pipelining: three requests in one write, three answers in order.
    s.sendall(b'{"cmd":"status"}\n{"cmd":"nope"}\n{"cmd":"exceptions"}\n')
    a = read_lines(s, 3)
    check([x["ok"] for x in a] == [True, False, True] and "exceptions" in a[2],
          "pipelined requests are answered in order")
    s.close()

    refused(h, b'{not json\n', "bad JSON", closes=True)
    refused(h, b'{"cmd":"status"} trailing\n', "trailing garbage", closes=True)
    refused(h, b'[1, 2, 3]\n', "not an object", closes=True)
    refused(h, b'{"command":"status"}\n', "no cmd", closes=True)
    refused(h, b'{"cmd":5}\n', "cmd not a string", closes=True)
    refused(h, b'{"cmd":"st\x00atus"}\n', "NUL byte", closes=True)
    refused(h, b'\xff\xfe{"cmd":"status"}\n', "not UTF-8", closes=True)
    big = b'{"cmd":"status","pad":"' + b"x" * (70 * 1024) + b'"}\n'
    a = refused(h, big, "a 70 KiB request", closes=True)
    check("too large" in a["error"], "... says it is too large")
    refused(h, b'{"cmd":"sim","device":"nosuch","line":"tag uid=E0 item=X"}\n', "sim on an unknown device",
            closes=False)
    refused(h, b'{"cmd":"journal","limit":0}\n', "journal with limit 0", closes=False)
    refused(h, b'{"cmd":"journal","since":"yesterday"}\n', "journal with a bad time", closes=False)

    # A last request without a newline, then end of input: still answered.
    s = connect(h)
    s.sendall(b'{"cmd":"status"}')
    s.shutdown(socket.SHUT_WR)
    a = read_lines(s, 1)
    check(a and a[0]["ok"] is True, "a request ended by EOF instead of a newline is answered")
    s.close()

    # Clients that hang up: mid-request, right after a request (never
    # reading the answer), and after a request with a big answer.
    for i in range(20):
        s = connect(h)
        s.sendall(b'{"cmd":"sta')
        s.close()
    for i in range(20):
        s = connect(h)
        s.sendall(b'{"cmd":"status"}\n{"cmd":"metrics"}\n')
        s.close()
    for i in range(5):
        h.inject("drop1", "tag uid=E00406000000000%d item=HANG%d dwell=5" % (i, i))
    wait_for(lambda: h.jsonl_count() == 5, 10, "5 returns in jsonl")
    s = connect(h)
    s.sendall(b'{"cmd":"export"}\n' * 50)  # a lot of output nobody reads
    time.sleep(0.1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()  # reset

    # Many idle connections at once do not block anyone.
    idle = [connect(h) for _ in range(50)]
    try:
        st = h.status()
        check(st["state"] == "running", "status answers with 50 idle clients connected")
    finally:
        for s in idle:
            s.close()

    check(h.running() and h.pid() == pid, "circd survived all of it (same pid)")
    h.inject("drop1", "tag uid=E004060000000010 item=AFTER dwell=5")
    wait_for(lambda: h.jsonl_count() == 6, 10, "a return after all that still reaches jsonl")
    errs = [ln for ln in h.log_text().splitlines() if ln.startswith(("<0>", "<1>", "<2>", "<3>"))]
    check(not errs, "no error in circd's log (%s)" % errs[:3])
    rc = h.stop()
    check(rc == 0, "exit 0 on SIGTERM")


if __name__ == "__main__":
    main(story)

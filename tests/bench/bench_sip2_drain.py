#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""SIP2 drain benchmark (make bench).  Prints figures; asserts nothing about time.

10,000 returns (sim, speed 0) are journaled while the ILS is down (the sip2
upstream points at a closed port on 127.0.0.1); then the ACS emulator
(tests/emulators/acs.py, with its --log) is started on that port and the
time until all 10,000 checkins are at the ACS is measured:
  - drain rate: from the first to the last 09 the ACS received (its log);
  - end to end: from the emulator's start until all deliveries are done
    (includes the reconnect backoff).
Reference, measured in the same run: a second emulator instance (same
fixture, same logging) driven by a minimal client written here, apart from
lib/sip2: login, then 10,000 09 checkins sent one after the other on one
connection, each waiting for its 10.  Goal: circd >= 0.8 of the raw rate.

BENCH_SIP2_N overrides the count."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sip2"))
from story_lib import (ACS, configure, free_port, item_id, make_fixture,  # noqa: E402
                       upstream_status)
import circdtest  # noqa: E402

N = int(os.environ.get("BENCH_SIP2_N", "10000"))


def cksum(data: bytes) -> bytes:
    # SIP2 2.00 error detection: two's complement of the byte sum, 4 hex digits
    return b"%04X" % ((-sum(data)) & 0xFFFF)


def frame(body: str, seq: int) -> bytes:
    data = (body + "AY%dAZ" % (seq % 10)).encode()
    return data + cksum(data) + b"\r"


def raw_client(port, n):
    """Login, then n checkins one at a time; returns checkins per second."""
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = [b""]

    def ask(body, seq):
        s.sendall(frame(body, seq))
        while b"\r" not in buf[0]:
            chunk = s.recv(65536)
            if not chunk:
                raise RuntimeError("the ACS closed the connection")
            buf[0] += chunk
        line, buf[0] = buf[0].split(b"\r", 1)
        return line.decode("utf-8", "replace")

    if not ask("9300CNcircd|COs3cret|CPmain|", 0).startswith("941"):
        raise RuntimeError("raw client: login refused")
    date = time.strftime("%Y%m%d    %H%M%S")
    t0 = time.monotonic()
    for i in range(n):
        r = ask("09N%s%sAPmain|AOmain|AB%s|AC|" % (date, date, item_id(i)), i + 1)
        if not r.startswith("101"):
            raise RuntimeError("raw client: checkin %d answered %r" % (i, r))
    dt = time.monotonic() - t0
    s.close()
    return n / dt


def count_09(path):
    try:
        with open(path, "rb") as f:
            return f.read().count(b'"id": "09"')
    except FileNotFoundError:
        return 0


def main():
    if not os.access(circdtest.CIRCD_BIN, os.X_OK):
        sys.exit("no circd binary at %s (build first)" % circdtest.CIRCD_BIN)
    h = circdtest.Harness("bench-sip2")
    try:
        fixture = make_fixture(h, N)
        port = free_port()  # nobody listens there yet
        configure(h, port, N, speed=0, upstream_opts={"reconnect_max_ms": 100})
        t0 = time.monotonic()
        h.start(log_level="notice")
        circdtest.wait_for(lambda: h.status()["backlog"]["pending"] >= N, 120,
                           "a backlog of %d" % N, interval=0.05)
        t_fill = time.monotonic() - t0

        acs = ACS("--port", str(port), fixture=fixture)
        t_up = time.time()
        m0 = time.monotonic()
        circdtest.wait_for(lambda: count_09(acs.log) >= N, 600, "%d checkins at the ACS" % N,
                           interval=0.02)
        circdtest.wait_for(lambda: upstream_status(h)["done"] >= N, 60, "all done",
                           interval=0.02)
        e2e = time.monotonic() - m0
        msgs = acs.messages()
        c09 = [m for m in msgs if m["id"] == "09"]
        n17 = sum(1 for m in msgs if m["id"] == "17")
        items = [m["fields"]["AB"][0] for m in c09]
        ok = items == [item_id(i) for i in range(N)]
        first, last = c09[0]["t"], c09[-1]["t"]
        drain = (N - 1) / (last - first) if last > first else float("inf")
        h.stop()
        acs.stop()

        ref_acs = ACS(fixture=fixture)
        raw = raw_client(ref_acs.port, N)
        ref_acs.stop()

        print("sip2 drain: %d checkins backlogged while the ACS was down, then it was started" % N)
        print("  backlog filled in             %8.2f s" % t_fill)
        print("  ACS start -> first 09         %8.2f s   (reconnect and forwarder backoff)"
              % (first - t_up))
        print("  circd drain (first..last 09)  %8.0f tx/s  (%d 17 item information first, for"
              " maybe-sent ones)" % (drain, n17))
        print("  circd end to end              %8.0f tx/s  (ACS start -> all %d done in %.2f s)"
              % (N / e2e, N, e2e))
        print("  raw client, one connection    %8.0f tx/s  (09 -> 10, sequential, same emulator)"
              % raw)
        print("  ratio drain / raw             %8.2f      (goal >= 0.8: %s)"
              % (drain / raw, "met" if drain / raw >= 0.8 else "NOT met"))
        print("  ratio end to end / raw        %8.2f" % (N / e2e / raw))
        print("  every item once, in order at the ACS: %s" % ("yes" if ok else "NO"))
        if not ok:
            sys.exit(1)
    finally:
        h.close()
        circdtest._cleanup_all()


if __name__ == "__main__":
    main()

# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared pieces of the SIP2 end-to-end stories (tests/sip2/story_*.py):
the real circd with a sim reader, a bookdrop station and the sip2 upstream,
against tests/emulators/acs.py on 127.0.0.1.

Not a test itself.  Builds on tests/integration/circdtest.py (the daemon
harness) and tests/sip2/acs_harness.py (the emulator child)."""
import json
import os
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)

from circdtest import Failure, Skip, check, log, main, wait_for  # noqa: E402,F401
from acs_harness import ACS, SRC  # noqa: E402,F401

UPSTREAM = "ils"


def item_id(i, prefix="IT"):
    return "%s%05d" % (prefix, i)


def make_fixture(h, n, prefix="IT", name="acs-fixture.json"):
    """tests/emulators/acs-stories.json plus n items checked out to p1
    (status 04); every even one is in collection ADULT (sort bin B1)."""
    with open(os.path.join(SRC, "tests", "emulators", "acs-stories.json")) as f:
        fx = json.load(f)
    for i in range(n):
        it = {"title": "Story book %d" % i, "status": "04", "patron": "p1", "location": "main"}
        if i % 2 == 0:
            it["collection"] = "ADULT"
        fx["items"][item_id(i, prefix)] = it
    return h.write(name, json.dumps(fx))


def fixture_item(i):
    return {"title": "Story book %d" % i, "sort_bin": "B1" if i % 2 == 0 else None}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def returns_scenario(n, interval_ms=1, prefix="IT"):
    return ("0 repeat count=%d interval=%d tag uid=E00401%%010d item=%s%%05d dwell=1\n"
            % (n, interval_ms, prefix))


def sip2_upstream(h, port, **opts):
    pw = h.path("acs.password")
    if not os.path.exists(pw):
        h.write(pw, "s3cret\n")
        os.chmod(pw, 0o600)
    up = {"name": UPSTREAM, "plugin": "sip2", "host": "127.0.0.1", "port": port,
          "login_user": "circd", "password_file": pw, "location_code": "main",
          "institution": "main", "connect_timeout_ms": 500, "request_timeout_ms": 500,
          "reconnect_min_ms": 20, "reconnect_max_ms": 200, "keepalive_s": 0}
    up.update(opts)
    return up


def configure(h, port, n, interval_ms=1, speed=None, upstream_opts=None, extra="",
              prefix="IT"):
    """One sim reader drop1 playing n returns, bookdrop 'returns', sip2 'ils'."""
    dev = {"name": "drop1", "plugin": "sim",
           "scenario": h.scenario("drop1.scn", returns_scenario(n, interval_ms, prefix))}
    if speed is not None:
        dev["speed"] = float(speed)
    st = {"name": "returns", "role": "bookdrop", "devices": ["drop1"]}
    return h.config([dev], [st], [sip2_upstream(h, port, **(upstream_opts or {}))], extra=extra)


def upstream_status(h):
    for u in h.status()["upstreams"]:
        if u["name"] == UPSTREAM:
            return u
    raise Failure("no upstream %s in status" % UPSTREAM)


def deliveries(h):
    """[(txn id, item, event_time_usec, state, attempts, maybe_sent, response dict|None)]
    in transaction-id order."""
    rows = h.query("SELECT t.id, t.item_id, t.event_time_usec, d.state, d.attempts,"
                   " d.maybe_sent, d.response FROM transactions t JOIN deliveries d"
                   " ON d.txn_id = t.id WHERE d.upstream = ? ORDER BY t.id", UPSTREAM)
    return [r[:6] + (json.loads(r[6]) if r[6] else None,) for r in rows]


def checkins(acs):
    """Every 09 the emulator received, in order: dicts with item, no_block,
    transaction_date, return_date, conn, checksum."""
    out = []
    for m in acs.messages("09"):
        raw = m["raw"]
        out.append({"item": m["fields"].get("AB", [""])[0], "no_block": raw[2:3],
                    "transaction_date": raw[3:21], "return_date": raw[21:39],
                    "conn": m["conn"], "checksum": m["checksum"], "t": m.get("t")})
    return out


def sip_date(usec):
    return time.strftime("%Y%m%d    %H%M%S", time.localtime(usec // 1000000))


def wait_done(h, n, timeout, what=None):
    return wait_for(lambda: upstream_status(h)["done"] >= n, timeout,
                    what or "%d deliveries done" % n, interval=0.1)


def wait_log(h, text, timeout, what=None):
    return wait_for(lambda: text in h.last_log(), timeout, what or repr(text), interval=0.05)

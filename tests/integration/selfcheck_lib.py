# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared pieces of the self-check stories (test_selfcheck*.py): the real
circd with two sim devices (the pad's reader and a card reader), a
selfcheck station, the sip2 upstream against tests/emulators/acs.py with
tests/emulators/acs-selfcheck.json, and a jsonl copy.  Not a test itself."""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "sip2"))

from circdtest import CIRCCTL_BIN, Failure, check, log, wait_for  # noqa: E402,F401
from acs_harness import ACS  # noqa: E402,F401

PIN = "Qz4711"


def sip2_upstream(h, port):
    pw = h.write("acs.password", "s3cret\n")
    os.chmod(pw, 0o600)
    return {"name": "ils", "plugin": "sip2", "host": "127.0.0.1", "port": port,
            "login_user": "circd", "password_file": pw, "location_code": "main",
            "institution": "main", "connect_timeout_ms": 500, "request_timeout_ms": 1000,
            "reconnect_min_ms": 20, "reconnect_max_ms": 200, "keepalive_s": 0}


def kiosk(name, pad, card, **opts):
    st = {"name": name, "role": "selfcheck", "devices": [pad, card],
          "upstreams": ["ils", "out"], "ils": "ils"}
    st.update(opts)
    return st


def configure(h, port, stations, devices):
    return h.config([{"name": d, "plugin": "sim"} for d in devices], stations,
                    [sip2_upstream(h, port),
                     {"name": "out", "plugin": "jsonl", "path": h.out_path}])


def op(h, station, name, **args):
    return h.ctl("station", station=station, op=name, **args)


def op_ok(h, station, name, **args):
    r = op(h, station, name, **args)
    if r.get("ok") is not True:
        raise Failure("station %s op %s %s answered %s" % (station, name, args, r))
    return r


def status(h, station):
    return op_ok(h, station, "status")


def wait_state(h, station, pred, what, timeout=10):
    """Poll status (as a kiosk does) until pred(status) holds."""
    last = {}

    def probe():
        last["s"] = status(h, station)
        return pred(last["s"])
    try:
        wait_for(probe, timeout, what)
    except Failure:
        raise Failure("%s; last status: %s" % (what, json.dumps(last.get("s"))))
    return last["s"]


def item(st, item_id, kind="checkout"):
    for it in st.get("items", []):
        if it["item_id"] == item_id and it["kind"] == kind:
            return it
    return None


def settled(st, ids):
    """Every one of ids is in the session and no longer pending."""
    return all(item(st, i) and item(st, i)["state"] != "pending" for i in ids)


def circctl(h, *args, stdin=None):
    """Run circctl against this harness's daemon: (exit code, stdout, stderr)."""
    sock = os.path.join(h.run_dir, "control.sock")
    p = subprocess.run([CIRCCTL_BIN, "--socket", sock] + list(args), input=stdin,
                       capture_output=True, text=True, timeout=20)
    return p.returncode, p.stdout, p.stderr


def secret_nowhere(h, secret):
    """The PIN is in no file circd wrote: journal (with WAL), log, jsonl."""
    for name in os.listdir(h.state_dir):
        with open(os.path.join(h.state_dir, name), "rb") as f:
            check(secret.encode() not in f.read(), "the PIN is in %s" % name)
    check(secret not in h.log_text(), "the PIN is in circd's log")
    if os.path.exists(h.out_path):
        with open(h.out_path) as f:
            check(secret not in f.read(), "the PIN is in the jsonl copy")

# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared pieces of the bookdrop stories (tests/integration/test_bookdrop_*.py):
the real circd with a sim reader at the return slot, the modbus plugin
talking to tests/emulators/modbus_sim as the sorter and fill-level unit
(etc/modbus/bookdrop-sorter.map), and the sip2 upstream against
tests/emulators/acs.py.  Not a test itself."""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "sip2"))

from circdtest import Failure, _children, check, log, wait_for  # noqa: E402,F401
from acs_harness import ACS, SRC  # noqa: E402,F401

BUILD = os.path.abspath(os.environ.get("top_builddir") or os.path.join(HERE, "..", "..", "build"))
MAP = os.path.abspath(os.path.join(SRC, "etc", "modbus", "bookdrop-sorter.map"))

# Sorter positions: the map's fill_bin<N> and the holding register the
# sorter_bin output writes.
BINS = ["B1 = 1", "B2 = 2", "H = 6", "T = 7", "X = 0"]
RULES = ["hold -> H", "transit -> T", "sort-bin", "collection CHILD* -> 3",
         "call-number 8* -> 4", "media 005 -> 5", "location ANNEX -> T", "default -> 1"]


class ModbusSim:
    """tests/emulators/modbus_sim on 127.0.0.1, driven over its stdin."""

    def __init__(self, h):
        self.binary = os.path.join(BUILD, "tests", "emulators", "modbus_sim")
        if not os.access(self.binary, os.X_OK):
            raise Failure("no modbus_sim at %s (make check builds it)" % self.binary)
        self.log_path = h.path("modbus.log")
        self.proc = subprocess.Popen([self.binary, "--port", "0", "--log", self.log_path],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        _children.add(self.proc)
        first = self.proc.stdout.readline().split()
        if len(first) != 2 or first[0] != "port":
            raise Failure("modbus_sim said %r" % first)
        self.port = int(first[1])

    def cmd(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        if answer != "ok":
            raise Failure("modbus_sim %r: %r" % (line, answer))

    def fill(self, position, percent):
        self.cmd("set input_reg %d %d" % (10 + position, percent))

    def writes(self):
        """[(table, addr, value)] the client wrote, in order."""
        try:
            with open(self.log_path) as f:
                return [(a, int(b), int(c)) for a, b, c in (l.split() for l in f if l.strip())]
        except FileNotFoundError:
            return []

    def bins_selected(self):
        return [v for t, a, v in self.writes() if t == "holding" and a == 0]

    def intake_writes(self):
        return [v for t, a, v in self.writes() if t == "coil" and a == 3]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        _children.discard(self.proc)


def fixture(h, items, holds=(), transits=None, name="acs-bookdrop.json"):
    with open(os.path.join(SRC, "tests", "emulators", "acs-stories.json")) as f:
        fx = json.load(f)
    fx["items"].update(items)
    fx["holds"] = list(holds)
    fx["transits"] = dict(transits or {})
    fx["patrons"]["p2"] = {"name": "Bo Waiting"}
    path = h.write(name, json.dumps(fx))
    return path


def start_acs(h, fixture_path, *extra):
    # acs_harness resolves the fixture relative to tests/emulators: give it
    # an absolute path (os.path.join keeps an absolute second part).
    return ACS(*extra, fixture=fixture_path)


def sip2_upstream(h, port, **opts):
    pw = h.path("acs.password")
    if not os.path.exists(pw):
        h.write(pw, "s3cret\n")
        os.chmod(pw, 0o600)
    up = {"name": "ils", "plugin": "sip2", "host": "127.0.0.1", "port": port,
          "login_user": "circd", "password_file": pw, "location_code": "main",
          "institution": "main", "connect_timeout_ms": 300, "request_timeout_ms": 500,
          "reconnect_min_ms": 20, "reconnect_max_ms": 200, "keepalive_s": 0}
    up.update(opts)
    return up


def configure(h, acs_port, mb=None, station_opts=None, sorter_opts=None, extra=""):
    """drop1 (sim reader), sorter1 (modbus, when mb is given), station
    'returns', upstream 'ils' (sip2)."""
    devices = [{"name": "drop1", "plugin": "sim"}]
    st = {"name": "returns", "role": "bookdrop", "devices": ["drop1"], "debounce_ms": 200,
          "sort": RULES, "bins": BINS, "exception_bin": "X", "sort_timeout_ms": 2000,
          "command_timeout_ms": 1500, "read_window_ms": 300, "set_window_ms": 800}
    if mb is not None:
        so = {"name": "sorter1", "plugin": "modbus", "map": MAP, "port": mb.port,
              "poll_ms": 20, "timeout_ms": 200, "max_timeouts": 50,
              "reconnect_min_ms": 20, "reconnect_max_ms": 200}
        so.update(sorter_opts or {})
        devices.append(so)
        st["devices"].append("sorter1")
        st["sorter"] = "sorter1"
    st.update(station_opts or {})
    return h.config(devices, [st], [sip2_upstream(h, acs_port)],
                    extra="security = { afi_in_stock = 0x07; afi_on_loan = 0xC2; eas = true; };\n"
                    + extra)


def events(h, type_, station="returns"):
    rows = h.query("SELECT id, device, detail FROM events WHERE type = ? ORDER BY id", type_)
    out = []
    for i, dev, d in rows:
        x = json.loads(d) if d else {}
        if x.get("station") == station:
            x["_id"] = i
            x["_device"] = dev
            out.append(x)
    return out


def sorts(h):
    return {e["item_id"] or ("uid?%d" % e["_id"]): e for e in events(h, "sort")}


def wait_sorted(h, n, timeout=15):
    return wait_for(lambda: len(events(h, "sort")) >= n and events(h, "sort"), timeout,
                    "%d sort decisions" % n, interval=0.05)


def station_exceptions(h):
    return events(h, "station-exception")


def station_ctl(h, op, **args):
    return h.ctl("station", station="returns", op=op, **args)


def wait_device_ok(h, name, timeout=10):
    def ok():
        for d in h.status()["devices"]:
            if d["name"] == name and d.get("health") == "ok":
                return True
        return False
    wait_for(ok, timeout, "device %s ok" % name, interval=0.05)


def circctl(h, *args):
    from circdtest import CIRCCTL_BIN
    return subprocess.run([CIRCCTL_BIN, "-s", os.path.join(h.run_dir, "control.sock")] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=20)

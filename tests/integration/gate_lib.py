# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared pieces of the gate stories (tests/integration/test_gate_*.py):
tag memory, the gate's control answers, alarms in the journal and the
jsonl sink, and the Modbus device simulator (tests/emulators/modbus_sim).

Not a test itself.  Builds on circdtest.py."""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "sip2"))

from circdtest import CIRCCTL_BIN, Failure, Skip, _children, _tempdirs  # noqa: E402,F401

BUILDDIR = os.environ.get("top_builddir") or os.path.join(HERE, "..", "..", "build")
SRCDIR = os.environ.get("top_srcdir") or os.path.join(HERE, "..", "..")


def tag_memory(item, isil="DK-710100"):
    """ISO 28560-3 user memory for item, as hex (circctl's own encoder)."""
    out = subprocess.run([CIRCCTL_BIN, "tag", "encode", "--model", "28560-3", "--id", item,
                          "--isil", isil], stdout=subprocess.PIPE, check=True, timeout=10)
    return out.stdout.decode().replace(" ", "").strip()


def counts(h, gate):
    return h.ctl_ok("station", station=gate, op="counts")


def latency(h, gate, reset=False):
    args = {"reset": True} if reset else {}
    return h.ctl_ok("station", station=gate, op="latency", **args)


def alarms(h, gate=None):
    """Alarm transactions in the journal: [(id, item_id, detail dict)] in id order."""
    rows = h.query("SELECT id, station, item_id, detail FROM transactions WHERE kind = 'alarm'"
                   " ORDER BY id")
    return [(r[0], r[2], json.loads(r[3])) for r in rows if gate is None or r[1] == gate]


def verdicts(h, gate=None):
    """alarm-verdict events: [detail dict] in order."""
    rows = h.query("SELECT detail FROM events WHERE type = 'alarm-verdict' ORDER BY id")
    out = [json.loads(r[0]) for r in rows]
    return [v for v in out if gate is None or v["station"] == gate]


def sim_alarm_lines(h, uid):
    """How often a sim device logged an alarm command for uid (hex, lower case)."""
    return h.last_log().count("alarm uid=%s value=" % uid.lower())


class ModbusSim:
    """tests/emulators/modbus_sim on a free 127.0.0.1 port; killed with the test."""

    def __init__(self):
        binary = os.path.join(BUILDDIR, "tests", "emulators", "modbus_sim")
        if not os.access(binary, os.X_OK):
            raise Skip("no modbus_sim at %s (make check builds it)" % binary)
        self.dir = tempfile.mkdtemp(prefix="circd-gate-modbus-")
        _tempdirs.add(self.dir)
        self.log = os.path.join(self.dir, "writes.log")
        self.proc = subprocess.Popen([binary, "--log", self.log], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE)
        _children.add(self.proc)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("port "):
            raise Failure("modbus_sim said %r instead of its port" % line)
        self.port = int(line.split()[1])

    def cmd(self, line):
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().decode().strip()
        if answer != "ok":
            raise Failure("modbus_sim: %r answered %r" % (line, answer))

    def writes(self):
        """[(table, addr, value)] the client wrote, in order."""
        try:
            with open(self.log) as f:
                return [(p[0], int(p[1]), int(p[2])) for p in
                        (line.split() for line in f) if len(p) == 3]
        except FileNotFoundError:
            return []

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        _children.discard(self.proc)

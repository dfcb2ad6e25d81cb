#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: a gate whose alarm light and people-counter beams are on a Modbus
I/O module (etc/modbus/gate.map, played by tests/emulators/modbus_sim over
TCP on 127.0.0.1), and whose RFID reader is a sim device.

Two people come in, then a patron walks out carrying an unborrowed book
and a borrowed one: the out-beam fires, the unborrowed book's tag (AFI 07)
switches the alarm coil on for alarm_ms and off again, the borrowed one
(AFI C2) writes nothing; the alarm is journaled with direction "out"; the
counts say 2 in, 1 out.  Then the I/O module starts answering every
request with a Modbus exception: the next alarm cannot be sounded, which is
counted (alarm_output_failures) and logged -- and still journaled.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gate_lib  # noqa: E402
from circdtest import check, main, wait_for  # noqa: E402

ALARM_MS = 300


def story(h):
    io = gate_lib.ModbusSim()
    gate_map = os.path.join(gate_lib.SRCDIR, "etc", "modbus", "gate.map")
    h.config(
        devices=[{"name": "reader", "plugin": "sim"},
                 {"name": "io", "plugin": "modbus", "map": gate_map, "host": "127.0.0.1",
                  "port": io.port, "poll_ms": 20, "timeout_ms": 200, "max_timeouts": 1,
                  "reconnect_min_ms": 20, "reconnect_max_ms": 100}],
        stations=[{"name": "exit", "role": "gate", "devices": ["reader", "io"], "mode": "afi",
                   "alarm_device": "io", "alarm_ms": ALARM_MS}])
    h.start()
    wait_for(lambda: any(d["name"] == "io" and d["health"] == "ok" for d in h.status()["devices"]),
             10, "the I/O module to be connected")

    def pulse(addr):
        io.cmd("set discrete %d 1" % addr)
        time.sleep(0.1)  # five polls: the module holds the input for a while
        io.cmd("set discrete %d 0" % addr)
        time.sleep(0.1)

    pulse(0)  # pass_in
    pulse(0)
    wait_for(lambda: gate_lib.counts(h, "exit")["passes"]["in"] == 2, 5, "2 people in")
    pulse(1)  # pass_out
    wait_for(lambda: gate_lib.counts(h, "exit")["passes"]["out"] == 1, 5, "1 person out")

    h.inject("reader", "tag-seen uid=E0040300000000A1 item=UNBORROWED afi=07")
    h.inject("reader", "tag-seen uid=E0040300000000B2 item=BORROWED afi=C2")
    wait_for(lambda: ("coil", 0, 0) in io.writes(), 5, "the alarm coil switched on and off")
    w = [x for x in io.writes() if x[0] == "coil"]
    check(w == [("coil", 0, 1), ("coil", 0, 0)],
          "the alarm coil (coil 0) went on, then off, and nothing else was written (%s)" % w)
    c = gate_lib.counts(h, "exit")
    check(c["passes"] == {"in": 2, "out": 1, "unknown": 0}, "counts: 2 in, 1 out (%s)" % c["passes"])
    check(c["alarms"] == 1 and c["silent"] == 1, "one alarm, one silent read (%s)" % c)
    a = gate_lib.alarms(h, "exit")
    check(len(a) == 1 and a[0][1] == "UNBORROWED" and a[0][2]["direction"] == "out",
          "the unborrowed book's alarm is journaled with direction out (%s)" % a)
    metrics = h.ctl_ok("metrics")["text"]
    check('circd_gate_passes_total{station="exit",direction="in"} 2' in metrics and
          'circd_gate_passes_total{station="exit",direction="out"} 1' in metrics and
          'circd_alarms_total{station="exit"} 1' in metrics and
          'circd_gate_decision_seconds_count{station="exit"} 2' in metrics,
          "metrics: passes per direction, alarms, decision latency histogram")

    # The I/O module goes bad: every request answered with exception 04.
    io.cmd("fault exception 4 on")
    h.inject("reader", "tag-seen uid=E0040300000000C3 item=SECOND afi=07")
    wait_for(lambda: gate_lib.counts(h, "exit")["alarm_output_failures"] == 1, 5,
             "the failed alarm to be counted")
    check("did not sound on io" in h.last_log(), "the failed alarm is logged")
    check([x[1] for x in gate_lib.alarms(h, "exit")] == ["UNBORROWED", "SECOND"],
          "and journaled all the same")
    io.cmd("fault exception 4 off")
    rc = h.stop()
    check(rc == 0, "circd exits 0")
    io.stop()


if __name__ == "__main__":
    main(story)

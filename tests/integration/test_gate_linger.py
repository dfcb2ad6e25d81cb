#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: a busy afternoon at the exit, no library system.

- People pass the beams: three in, two out, counted per direction; an alarm
  takes the direction of the last pass within direction_window_ms, or
  "unknown" when nobody passed recently.
- A patron stands in the gate with an unborrowed book for a second: the
  reader reports the tag 11 times, the gate alarms once (alarm_debounce_ms);
  the same book read again after the debounce alarms again.
- Tags whose memory is garbage (not any data model) or blank: with the
  default policy (undecodable = "afi") they alarm when the AFI says in stock
  and stay silent when it says on loan; a cache gate with undecodable =
  "alarm" alarms even for the on-loan AFI, one with "silent" never does.
  Each alarm is journaled with reason "undecodable" and the decoder's error.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gate_lib  # noqa: E402
from circdtest import check, main, wait_for  # noqa: E402

GARBAGE = "5A5A5A5A0123456789ABCDEF00112233445566778899AABBCCDDEEFF00112233"
BLANK = "00" * 32
LINGER = "E0040200000000D1"

# Times in ms.  The exit gate's debounce is 1500 ms, its direction window 1000 ms.
EXIT = """\
0    gate-pass dir=in
+50  gate-pass dir=in
+50  gate-pass dir=in
+50  gate-pass dir=out
+50  tag-seen uid=%(linger)s item=LINGER1 afi=07
+100 repeat count=10 interval=100 tag-seen uid=%(linger)s item=LINGER1 afi=07
+900 gate-pass dir=out
+100 tag-seen uid=%(linger)s item=LINGER1 afi=07
+100 tag-gone uid=%(linger)s
+1500 tag uid=E0040200000000E1 mem=%(garbage)s afi=07 dwell=50
+100 tag uid=E0040200000000E2 mem=%(garbage)s afi=C2 dwell=50
+100 tag uid=E0040200000000E3 mem=%(blank)s afi=07 dwell=50
""" % {"linger": LINGER, "garbage": GARBAGE, "blank": BLANK}

# Two cache gates that see the same garbage: one alarms, one stays silent.
CACHE = """\
0    tag uid=E0040200000000E1 mem=%(garbage)s afi=07 dwell=50
+100 tag uid=E0040200000000E2 mem=%(garbage)s afi=C2 dwell=50
""" % {"garbage": GARBAGE}


def story(h):
    h.config(
        devices=[{"name": "r_exit", "plugin": "sim", "scenario": h.scenario("exit.scn", EXIT),
                  "start_delay_ms": 300},
                 {"name": "r_loud", "plugin": "sim", "scenario": h.scenario("c1.scn", CACHE),
                  "start_delay_ms": 300},
                 {"name": "r_quiet", "plugin": "sim", "scenario": h.scenario("c2.scn", CACHE),
                  "start_delay_ms": 300}],
        stations=[{"name": "exit", "role": "gate", "devices": ["r_exit"], "mode": "afi",
                   "alarm_debounce_ms": 1500, "direction_window_ms": 1000},
                  {"name": "loud", "role": "gate", "devices": ["r_loud"], "mode": "cache",
                   "undecodable": "alarm"},
                  {"name": "quiet", "role": "gate", "devices": ["r_quiet"], "mode": "cache",
                   "undecodable": "silent"}])
    h.start()
    wait_for(lambda: h.device_events("r_exit") >= 23, 15, "the exit scenario to be played")
    wait_for(lambda: h.device_events("r_quiet") >= 4 and h.device_events("r_loud") >= 4, 5,
             "the cache gates' scenarios")

    c = gate_lib.counts(h, "exit")
    check(c["passes"] == {"in": 3, "out": 2, "unknown": 0},
          "people counted: 3 in, 2 out (%s)" % c["passes"])
    passes = h.query("SELECT detail FROM events WHERE type = 'gate-pass' AND device = 'r_exit'")
    check(len(passes) == 5, "the core journaled 5 gate-pass events (%d)" % len(passes))

    exit_alarms = gate_lib.alarms(h, "exit")
    linger = [a for a in exit_alarms if a[1] == "LINGER1"]
    check(len(linger) == 2, "the lingering book, read 12 times, alarmed twice: once when it "
          "came, once after the 1.5 s debounce (%d)" % len(linger))
    check(c["debounced"] == 10, "10 reads of it were debounced (%d)" % c["debounced"])
    check(linger[0][2]["direction"] == "out",
          "its first alarm has the direction of the pass 50 ms before: out (%s)"
          % linger[0][2]["direction"])
    check(linger[1][2]["direction"] == "out",
          "its second alarm the direction of the pass 100 ms before: out (%s)"
          % linger[1][2]["direction"])
    check(gate_lib.sim_alarm_lines(h, LINGER) == 2, "the reader sounded 2 alarms for it")

    undecodable = [a for a in exit_alarms if a[1] == ""]
    uids = sorted(a[2].get("tag_error", "") + ":" + str(a[2]["afi"]) for a in undecodable)
    check(uids == ["blank:7", "unknown-format:7"],
          "exit gate: garbage and blank tags with AFI 07 alarm, the garbage one with AFI C2 "
          "does not (%s)" % uids)
    check(all(a[2]["reason"] == "undecodable" and a[2]["direction"] == "unknown"
              for a in undecodable),
          "their alarms say reason undecodable, direction unknown (nobody passed within 1 s)")
    uid_rows = h.query("SELECT uid FROM transactions WHERE kind = 'alarm' AND item_id = ''"
                       " AND station = 'exit' ORDER BY id")
    check([r[0] for r in uid_rows] == ["e0040200000000e1", "e0040200000000e3"],
          "the journal keeps their UIDs (%s)" % uid_rows)
    check(c["undecodable"] == 3, "3 undecodable reads counted (%d)" % c["undecodable"])

    loud = gate_lib.alarms(h, "loud")
    check(len(loud) == 2 and all(a[2]["reason"] == "undecodable" for a in loud),
          "cache gate with undecodable=alarm alarms for both garbage tags (%d)" % len(loud))
    check(gate_lib.alarms(h, "quiet") == [] and gate_lib.counts(h, "quiet")["silent"] == 2,
          "cache gate with undecodable=silent stays silent")
    check(h.ctl_ok("exceptions")["exceptions"] == [], "no exceptions: alarms are not circulation")
    rc = h.stop()
    check(rc == 0, "circd exits 0")


if __name__ == "__main__":
    main(story)

#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: the gate PC loses power (SIGKILL) just after an alarm.  When circd
comes back, the reader re-delivers what it had reported (the sim replays its
scenario with the same device event ids).  The alarm that already sounded
and was journaled must not sound again, and is in the journal once; a tag
the gate had not seen before the crash still alarms."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gate_lib  # noqa: E402
from circdtest import check, main, wait_for  # noqa: E402

FIRST = "E0040400000000A1"
LATER = "E0040400000000B2"
SCN = """\
0 tag uid=%s item=FIRST afi=07 dwell=100
""" % FIRST


def story(h):
    dev = {"name": "reader", "plugin": "sim", "scenario": h.scenario("g.scn", SCN),
           "start_delay_ms": 200}
    st = {"name": "exit", "role": "gate", "devices": ["reader"], "mode": "afi"}
    h.config([dev], [st])
    h.start()
    wait_for(lambda: len(gate_lib.alarms(h, "exit")) == 1, 10, "the alarm to be committed")
    check(gate_lib.sim_alarm_lines(h, FIRST) == 1, "the alarm sounded")
    rc = h.kill()
    check(rc == -9, "circd killed (%d)" % rc)

    h.start()
    wait_for(lambda: h.device_events("reader") >= 2, 10, "the scenario replayed after the restart")
    h.inject("reader", "tag-seen uid=%s item=LATER afi=07" % LATER)
    wait_for(lambda: len(gate_lib.alarms(h, "exit")) == 2, 10, "the new tag's alarm")
    check(gate_lib.sim_alarm_lines(h, FIRST) == 0,
          "after the restart the re-delivered tag did not sound again")
    check(gate_lib.sim_alarm_lines(h, LATER) == 1, "the new tag did")
    check([a[1] for a in gate_lib.alarms(h, "exit")] == ["FIRST", "LATER"],
          "the journal has each alarm once")
    rc = h.stop()
    check(rc == 0, "circd exits 0")


if __name__ == "__main__":
    main(story)

#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: a bin's fill-level sensor reports 150 %.

The sorter unit (tests/emulators/modbus_sim, etc/modbus/bookdrop-sorter.map)
reports bin 3 at 150 %: implausible, logged as such, and treated as full.
The intake is locked (INTAKE 0 on its coil), staff are alerted (a
"bin-full" station exception, MESSAGE_ID in the log), and a children's book
that belongs in bin 3 goes to the exception bin instead (reason bin-full).
75 % is not empty enough (hysteresis); at 10 % the intake opens again and
the next children's book goes to bin 3.  The daemon never stops."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bookdrop_lib import (ModbusSim, check, circctl, configure, events, fixture, station_ctl,  # noqa: E402
                          station_exceptions, wait_device_ok, wait_for, wait_sorted)
from circdtest import main  # noqa: E402

ITEMS = {"KB%d" % i: {"title": "Kids %d" % i, "status": "04", "patron": "p1", "location": "main",
                      "collection": "CHILDREN"} for i in range(3)}


def locked(h):
    return station_ctl(h, "status")["intake_locked"]


def story(h):
    from bookdrop_lib import start_acs
    acs = start_acs(h, fixture(h, ITEMS))
    mb = ModbusSim(h)
    try:
        configure(h, acs.port, mb)
        h.start()
        wait_device_ok(h, "sorter1")
        h.inject("drop1", "tag uid=E0040150000C0000 item=KB0 dwell=50")
        check(wait_sorted(h, 1)[-1]["bin"] == "3", "a children's book goes to bin 3")
        wait_for(lambda: mb.intake_writes() == [1], 5, "the intake opened after the checkin")

        mb.fill(3, 150)
        wait_for(lambda: locked(h), 5, "the intake locked")
        wait_for(lambda: mb.intake_writes()[-1:] == [0], 5, "INTAKE 0 written to the intake coil")
        ex = [e for e in station_exceptions(h) if e["reason"] == "bin-full"]
        check(len(ex) == 1 and ex[0]["bin"] == "3" and ex[0]["percent"] == 150 and ex[0].get("implausible"),
              "one bin-full exception for bin 3 at 150 %%, marked implausible (%s)" % ex)
        log = h.last_log()
        check("implausible" in log and "treated as full" in log, "the implausible value is logged")
        check("bin-full; see circctl exceptions" in log, "staff are alerted in the log")
        out = circctl(h, "exceptions")
        check("bin-full" in out.stdout, "circctl exceptions shows bin-full")
        st = circctl(h, "station", "returns", "status")
        check(st.returncode == 0 and "locked" in st.stdout and "FULL" in st.stdout,
              "circctl station returns status says locked, bin 3 FULL:\n%s" % st.stdout)

        h.inject("drop1", "tag uid=E0040150000C0001 item=KB1 dwell=50")
        e = wait_sorted(h, 2)[-1]
        check(e["bin"] == "X" and e["reason"] == "bin-full" and e["wanted"] == "3",
              "the next children's book goes to the exception bin, not the full bin 3 (%s)" % e)
        time.sleep(0.2)
        check(mb.intake_writes()[-1] == 0, "a checkin while locked does not open the intake (%s)"
              % mb.intake_writes())

        mb.fill(3, 75)
        time.sleep(0.3)
        check(locked(h), "75 % is not below the resume level: still locked")
        mb.fill(3, 10)
        wait_for(lambda: not locked(h), 5, "the intake unlocked after emptying")
        wait_for(lambda: mb.intake_writes()[-1:] == [1], 5, "INTAKE 1 written")
        notes = [(x["locked"], x["bin"]) for x in events(h, "intake")]
        check(notes == [(True, "3"), (False, "3")], "intake lock and unlock journaled (%s)" % notes)
        # Staff emptied the bin: they close the exception with a note.
        sid = "S%d" % ex[0]["_id"]
        d = circctl(h, "exceptions", "dismiss", sid, "--note", "bin 3 emptied")
        check(d.returncode == 0, "circctl exceptions dismiss %s (%s%s)" % (sid, d.stdout, d.stderr))
        listed = [x["id"] for x in h.ctl_ok("exceptions")["station_exceptions"]]
        check(ex[0]["_id"] not in listed and listed, "it is no longer listed, the others are (%s)" % listed)
        again = circctl(h, "exceptions", "dismiss", sid, "--note", "twice")
        check(again.returncode == 1, "dismissing it twice is an error (%d)" % again.returncode)
        h.inject("drop1", "tag uid=E0040150000C0002 item=KB2 dwell=50")
        check(wait_sorted(h, 3)[-1]["bin"] == "3", "bin 3 takes books again")
        check(h.running(), "the daemon survived")
        check(h.stop() == 0, "circd exits 0")
    finally:
        mb.stop()
        acs.stop()


if __name__ == "__main__":
    main(story, timeout=60)

#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: the Modbus sorter misbehaves.

First the sorter unit stops answering (tests/emulators/modbus_sim drops
every request): the bin command for a returned book times out and becomes a
"sorter-timeout" station exception.  Then it answers every request with
Modbus exception 4 (server device failure): "sorter-failed".  The checkins
are journaled and reach the ILS all the same, the tags are re-secured, and
once the sorter is well again the next book is sorted without a new
exception.  The daemon survives all of it."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bookdrop_lib import (ModbusSim, check, configure, events, fixture, log, start_acs,  # noqa: E402
                          station_exceptions, wait_device_ok, wait_for, wait_sorted)
from circdtest import main  # noqa: E402

ITEMS = {"SF%d" % i: {"title": "Book %d" % i, "status": "04", "patron": "p1", "location": "main"}
         for i in range(3)}


def sorter_exceptions(h):
    return [e for e in station_exceptions(h) if e["reason"].startswith("sorter-")]


def story(h):
    acs = start_acs(h, fixture(h, ITEMS))
    mb = ModbusSim(h)
    try:
        configure(h, acs.port, mb)
        h.start()
        wait_device_ok(h, "sorter1")

        log("the sorter stops answering")
        mb.cmd("fault timeout on")
        h.inject("drop1", "tag uid=E0040150000D0000 item=SF0 dwell=50")
        wait_sorted(h, 1)
        wait_for(lambda: sorter_exceptions(h), 8, "a sorter exception")
        ex = sorter_exceptions(h)
        check(len(ex) == 1 and ex[0]["reason"] == "sorter-timeout" and ex[0]["item_id"] == "SF0"
              and ex[0]["bin"] == "1", "a sorter-timeout station exception for SF0, bin 1 (%s)" % ex)

        log("the sorter answers with exception 4")
        mb.cmd("fault timeout off")
        mb.cmd("fault exception 4 on")
        h.inject("drop1", "tag uid=E0040150000D0001 item=SF1 dwell=50")
        wait_sorted(h, 2)
        wait_for(lambda: len(sorter_exceptions(h)) >= 2, 8, "a second sorter exception")
        ex = sorter_exceptions(h)[-1]
        check(ex["reason"] == "sorter-failed" and ex["item_id"] == "SF1",
              "a sorter-failed station exception for SF1 (%s)" % ex)
        check("exception" in ex.get("detail", "").lower() or "failure" in ex.get("detail", "").lower(),
              "the device's reason is kept (%s)" % ex.get("detail"))

        log("the sorter is well again")
        mb.cmd("fault exception 4 off")
        wait_device_ok(h, "sorter1", timeout=15)
        h.inject("drop1", "tag uid=E0040150000D0002 item=SF2 dwell=50")
        wait_sorted(h, 3)
        wait_for(lambda: 1 in mb.bins_selected(), 5, "the sorter took bin 1")
        time.sleep(0.3)
        check(len(sorter_exceptions(h)) == 2, "no new sorter exception")
        check(h.query("SELECT count(*) FROM deliveries WHERE upstream='ils' AND state='done'")[0][0] == 3,
              "all three checkins reached the ILS")
        check(len([e for e in events(h, "resecure") if e["verified"]]) == 3,
              "all three tags re-secured")
        check(h.running() and h.status()["state"] == "running", "the daemon survived")
        check(h.stop() == 0, "circd exits 0")
    finally:
        mb.stop()
        acs.stop()


if __name__ == "__main__":
    main(story, timeout=60)

#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: the library system goes down mid-shift.

Two books come back while the ACS answers and are sorted by its answers.
Then the ACS process is killed.  The return slot keeps accepting: four more
books are journaled, sorted to the default bin (reason "ils-offline") within
sort_timeout_ms, the sorter is told so and the tags are re-secured locally.
The ACS comes back on the same port: the backlog of four checkins replays,
in order, with SIP2's no-block flag, and the late answers move no book."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bookdrop_lib import (ModbusSim, check, configure, events, fixture, log, start_acs,  # noqa: E402
                          wait_device_ok, wait_for, wait_sorted)
from circdtest import main  # noqa: E402

ITEMS = {"OF%d" % i: {"title": "Book %d" % i, "status": "04", "patron": "p1", "location": "main",
                      "collection": "ADULT" if i < 2 else "X"} for i in range(6)}


def story(h):
    fx = fixture(h, ITEMS)
    acs = start_acs(h, fx)
    port = acs.port
    mb = ModbusSim(h)
    acs2 = None
    try:
        configure(h, port, mb, station_opts={"sort_timeout_ms": 1000})
        h.start()
        wait_device_ok(h, "sorter1")
        for i in range(2):
            h.inject("drop1", "tag uid=E0040150000B000%d item=OF%d dwell=50" % (i, i))
            wait_sorted(h, i + 1)
        s = events(h, "sort")
        check([e["bin"] for e in s] == ["B1", "B1"] and all(e["reason"] == "sort-bin" for e in s),
              "online: sorted by the ILS's bin (%s)" % [(e["bin"], e["reason"]) for e in s])

        log("the ACS goes down")
        acs.stop()
        t0 = time.monotonic()
        for i in range(2, 6):
            h.inject("drop1", "tag uid=E0040150000B000%d item=OF%d dwell=50" % (i, i))
            time.sleep(0.1)
        wait_sorted(h, 6, timeout=10)
        took = time.monotonic() - t0
        s = events(h, "sort")[2:]
        check([e["item_id"] for e in s] == ["OF2", "OF3", "OF4", "OF5"],
              "offline: all four returns were sorted (%s) in %.1f s" % ([e["item_id"] for e in s], took))
        check(all(e["bin"] == "1" and e["reason"] == "ils-offline" for e in s),
              "offline: to the default bin, reason ils-offline (%s)" % [(e["bin"], e["reason"]) for e in s])
        wait_for(lambda: len(mb.bins_selected()) >= 6, 5, "six sorter commands")
        check(mb.bins_selected() == [1, 1, 1, 1, 1, 1], "the sorter got position 1 each time (%s)"
              % mb.bins_selected())
        wait_for(lambda: len(events(h, "resecure")) >= 6, 5, "six re-secure results")
        check(all(e["verified"] for e in events(h, "resecure")), "re-secured locally, verified")
        pend = h.query("SELECT count(*) FROM deliveries WHERE upstream='ils' AND state IN"
                       " ('pending','inflight')")[0][0]
        check(pend == 4, "the four checkins wait in the journal (%d)" % pend)

        log("the ACS comes back")
        acs2 = start_acs(h, fx, "--port", str(port))
        wait_for(lambda: h.query("SELECT count(*) FROM deliveries WHERE upstream='ils' AND"
                                 " state='done'")[0][0] == 6, 20, "the backlog replayed", interval=0.1)
        got = [m["fields"]["AB"][0] for m in acs2.messages("09")]
        check(got == ["OF2", "OF3", "OF4", "OF5"], "replayed in order (%s)" % got)
        check(all(m["raw"][2] == "Y" for m in acs2.messages("09")), "with no-block = Y")
        time.sleep(0.3)
        check(len(events(h, "sort")) == 6, "the late answers sorted nothing again")
        check(h.stop() == 0, "circd exits 0")
    finally:
        mb.stop()
        acs.stop()
        if acs2:
            acs2.stop()


if __name__ == "__main__":
    main(story, timeout=60)

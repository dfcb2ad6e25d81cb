#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: 200 returns while the ACS refuses every connection (nothing can
have reached it: no session, no login), then it comes back.  All 200 are
checked in, once each, in order, and since none of them can have been sent
before, none is preceded by a 17 item information: "maybe sent" is for what
was handed over before a crash or lost on the wire, not for what the plugin
answered RETRY "ACS not connected" without sending."""
import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from story_lib import (ACS, check, checkins, configure, deliveries, item_id, log,  # noqa: E402
                       main, make_fixture, upstream_status, wait_done, wait_for)

N = 200


def story(h):
    acs = ACS(fixture=make_fixture(h, N), faults={"refuse_connections": True})
    configure(h, acs.port, N, speed=0)
    h.start()
    wait_for(lambda: h.status()["counters"]["transactions"] == N, 10, "%d returns journaled" % N)
    wait_for(lambda: upstream_status(h)["state"] == "down", 10, "the upstream to be down")
    check(not acs.messages(), "nothing reached the ACS during the outage")
    acs.set_faults({})
    wait_done(h, N, 20)
    rows = deliveries(h)
    items = [c["item"] for c in checkins(acs)]
    check(items == [r[1] for r in rows] and sorted(items) == [item_id(i) for i in range(N)],
          "all %d checked in once each, in order" % N)
    check(collections.Counter(r[3] for r in rows) == {"done": N}, "all done")
    maybe = sum(1 for r in rows if r[5])
    n17 = len(acs.messages("17"))
    log("%d deliveries flagged maybe sent, %d 17s at the ACS" % (maybe, n17))
    check(n17 == 0, "no 17 item information for returns that were never sent (%d 17s, %d"
          " deliveries flagged maybe sent)" % (n17, maybe))
    check(h.stop() == 0, "circd exits 0 on SIGTERM")


if __name__ == "__main__":
    main(story, timeout=60)

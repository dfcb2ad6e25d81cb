#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story (a): 500 books are returned while the ILS is online.

The ACS emulator receives 500 checkins (09), each item once, in the order
the returns were journaled (its --log); every delivery ends 'done' in the
journal with the ACS's answer fields: the title, and the sort bin CL B1 for
the items the fixture puts in collection ADULT (none for the others)."""
import collections
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from story_lib import (ACS, check, checkins, configure, deliveries, fixture_item,  # noqa: E402
                       item_id, log, main, make_fixture, wait_done)

N = 500


def story(h):
    acs = ACS(fixture=make_fixture(h, N))
    configure(h, acs.port, N, speed=0)
    t0 = time.monotonic()
    h.start()
    wait_done(h, N, 30)
    elapsed = time.monotonic() - t0
    time.sleep(0.2)  # a late duplicate would show here

    rows = deliveries(h)
    got = checkins(acs)
    items = [c["item"] for c in got]
    check(len(rows) == N, "the journal holds %d transactions (%d)" % (N, len(rows)))
    check(sorted(r[1] for r in rows) == [item_id(i) for i in range(N)],
          "the journal holds each of the %d returned items" % N)
    check(len(items) == N, "the ACS received %d checkins (%d)" % (N, len(items)))
    dup = [i for i, c in collections.Counter(items).items() if c > 1]
    check(not dup, "no item was checked in twice at the ACS (%s)" % dup[:5])
    check(items == [r[1] for r in rows], "the checkins arrived in journal (transaction-id) order")
    check(all(c["checksum"] == "ok" for c in got), "every 09 carried a good AY/AZ checksum")
    check(all(c["no_block"] == "N" for c in got), "online returns are posted with no block = N")
    states = collections.Counter(r[3] for r in rows)
    check(states == {"done": N}, "every delivery is done (%s)" % dict(states))
    bad = []
    for r in rows:
        want = fixture_item(int(r[1][2:]))
        resp = r[6] or {}
        if resp.get("title") != want["title"] or resp.get("sort_bin") != want["sort_bin"] \
                or resp.get("ok") is not True:
            bad.append((r[1], resp.get("title"), resp.get("sort_bin")))
    check(not bad, "each delivery holds the ACS's answer: ok, title and sort bin CL where the"
          " fixture gives one (%d wrong, e.g. %s)" % (len(bad), bad[:3]))
    check(h.stop() == 0, "circd exits 0 on SIGTERM")
    log("MEASURED: %d returns to the ACS in %.2f s" % (N, elapsed))


if __name__ == "__main__":
    main(story, timeout=60)

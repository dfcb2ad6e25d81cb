#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story (c): 1,000 books are returned and circd is killed with SIGKILL ten
times at random moments while it forwards them to the ACS (each answer
delayed 1 ms so that the forwarding lasts), restarted each time on the same
state directory.

No return is lost (the journal holds 1,000, all 'done', and the ACS got a
checkin for each) and no item is checked in twice at the ACS: a delivery
that may have been sent before a kill is re-sent as maybe_sent, and the
plugin asks 17 item information first and does not post a 09 when the item
is already back (the emulator's log counts 09 per item).  The random seed is
printed; CIRCD_STORY_SEED=N repeats a run."""
import collections
import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from story_lib import (ACS, check, checkins, configure, deliveries, item_id, log,  # noqa: E402
                       main, make_fixture, upstream_status, wait_done, wait_for)

N = 1000
KILLS = 10


def story(h):
    seed = int(os.environ.get("CIRCD_STORY_SEED") or time.time_ns() % 1000000)
    rng = random.Random(seed)
    log("seed %d (CIRCD_STORY_SEED=%d repeats this run)" % (seed, seed))
    acs = ACS(fixture=make_fixture(h, N), faults={"delay_ms": 1})
    configure(h, acs.port, N, speed=0)
    t0 = time.monotonic()
    inflight_at_kill = 0
    for k in range(KILLS):
        h.start()
        before = len(acs.messages("09"))
        # a random moment once this run has started posting
        wait_for(lambda: len(acs.messages("09")) > before, 10,
                 "run %d to post a checkin" % (k + 1), interval=0.005)
        time.sleep(rng.uniform(0.0, 0.1))
        rc = h.kill()
        check(rc == -signal.SIGKILL, "kill %d: circd killed with SIGKILL" % (k + 1))
        n09 = len(acs.messages("09"))
        inflight = h.query("SELECT count(*) FROM deliveries WHERE state = 'inflight'")[0][0]
        done = h.query("SELECT count(*) FROM deliveries WHERE state = 'done'")[0][0]
        inflight_at_kill += inflight
        check(n09 < N, "kill %d came while forwarding: %d checkins at the ACS, %d done, %d"
              " inflight" % (k + 1, n09, done, inflight))
    h.start()
    wait_done(h, N, 40)
    elapsed = time.monotonic() - t0
    time.sleep(0.3)  # a late double post would show here
    check(upstream_status(h)["backlog"] == 0, "the backlog is empty")
    check(h.stop() == 0, "the last run exits 0 on SIGTERM")

    rows = deliveries(h)
    got = [c["item"] for c in checkins(acs)]
    per_item = collections.Counter(got)
    twice = sorted(i for i, c in per_item.items() if c > 1)
    check(len(rows) == N and sorted(r[1] for r in rows) == [item_id(i) for i in range(N)],
          "the journal holds each of the %d returns once (%d rows)" % (N, len(rows)))
    states = collections.Counter(r[3] for r in rows)
    check(states == {"done": N}, "no return lost: every delivery is done (%s)" % dict(states))
    check(set(got) == set(item_id(i) for i in range(N)),
          "every returned item was checked in at the ACS (%d missing)"
          % (N - len(set(got))))
    check(not twice, "no item was checked in twice at the ACS (%d were: %s)"
          % (len(twice), twice[:5]))
    first = []
    seen = set()
    for i in got:
        if i not in seen:
            seen.add(i)
            first.append(i)
    check(first == [r[1] for r in rows], "the checkins reached the ACS in journal order")
    applied = [r for r in rows if r[6] and r[6].get("already_applied")]
    maybe = [r for r in rows if r[5]]
    n17 = len(acs.messages("17"))
    check(n17 >= len(applied), "each 'already applied' answer came from a 17 at the ACS"
          " (%d 17s, %d already applied)" % (n17, len(applied)))
    log("MEASURED: %d kills; %d deliveries inflight at the kills; %d re-sent as maybe sent, %d"
        " 17 item information at the ACS, %d answered already_applied (a 09 saved); %d runs"
        " in %.1f s" % (KILLS, inflight_at_kill, len(maybe), n17, len(applied), h.runs, elapsed))


if __name__ == "__main__":
    main(story, timeout=80)

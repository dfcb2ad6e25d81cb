#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story (b): the ILS goes away while 1,000 books are returned.

For the first half of the returns the ACS first refuses connections
(emulator fault refuse_connections: accept and reset), then blackholes them
(fault hang: accepts, reads, never answers; story_outage_drop.py does the
same with an iptables DROP rule on the port).  Then it comes back.

  - during the outage the backlog's size and age show in {"cmd":"status"}
    and in sd_notify STATUS=, and with journal.backlog_soft_limit = 50 the
    alert "backlog of N transactions is over the soft limit" is logged;
  - after recovery all 1,000 checkins reach the ACS, in journal order, once
    each, every delivery 'done';
  - the replayed ones (retried: attempts > 1, or maybe sent) carry no block
    = Y, the live ones N; every 09's return date is the journal's event
    time to the second (its transaction date is when it was sent)."""
import collections
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from story_lib import (ACS, check, checkins, configure, deliveries, item_id, log,  # noqa: E402
                       main, make_fixture, sip_date, upstream_status, wait_done, wait_for)

N = 1000
HALF = N // 2
STATUS_RE = re.compile(r"backlog (\d+) \(oldest (\d+)s\)")


def outage_story(h, blackhole_on, blackhole_off, variant, strict_noblock=False):
    """blackhole_on(acs) / blackhole_off(acs) make and end phase 2."""
    acs = ACS(fixture=make_fixture(h, N), faults={"refuse_connections": True})
    configure(h, acs.port, N, interval_ms=3,
              extra="journal = { backlog_soft_limit = 50; };\n")
    t0 = time.monotonic()
    h.start()

    def txns():
        return h.status()["counters"]["transactions"]

    wait_for(lambda: txns() >= HALF // 2, 20, "%d returns journaled" % (HALF // 2))
    log("phase 1 (refused) -> phase 2 (%s) at %d returns" % (variant, txns()))
    blackhole_on(acs)
    # What was on the wire before the rule is not "heard behind it": a
    # connection the kernel completed while the ACS was still refusing
    # sits in its accept queue with the login in it, and is served as soon
    # as the refusal ends (a slow, sanitized circd makes that likely).
    time.sleep(0.5)
    t_hang = time.time()
    try:
        seen = {"status": None, "notify": None}

        def backlog_visible():
            st = h.status()
            u = upstream_status(h)
            if st["backlog"]["pending"] > 0 and st["backlog"]["oldest_age_sec"] >= 1 \
                    and u["backlog"] > 0 and u["oldest_age_sec"] >= 1:
                seen["status"] = (st["backlog"], u["backlog"], u["oldest_age_sec"], u["health"],
                                  u["state"])
            for _, f, _ in h.notify.all():
                m = STATUS_RE.search(f.get("STATUS", ""))
                if m and int(m.group(1)) > 50 and int(m.group(2)) >= 1:
                    seen["notify"] = f["STATUS"]
            return seen["status"] and seen["notify"] and txns() >= HALF
        wait_for(backlog_visible, 20, "the backlog (size and age) in status and STATUS=",
                 interval=0.1)
    finally:
        blackhole_off(acs)
    acs.set_faults({})
    t_up = time.time()
    log("ACS back at %d returns (%.1f s after start)" % (txns(), time.monotonic() - t0))
    check(True, "during the outage status showed the backlog: %s (upstream backlog %d, oldest"
          " %d s, health %s, state %s)" % seen["status"])
    check(True, "during the outage STATUS= showed it: %r" % seen["notify"])
    hung = [m for m in acs.messages() if m["t"] >= t_hang and m["t"] < t_up]
    if "hang" in variant:
        check(hung, "the blackholed ACS got connections and requests it never answered (%d: %s)"
              % (len(hung), sorted(set(m["id"] for m in hung))))
    else:
        check(not hung, "behind the DROP rule the ACS heard nothing")
    check("backlog of " in h.last_log() and "transactions is over the soft limit" in h.last_log(),
          "the alert 'backlog of N transactions is over the soft limit' was logged")

    wait_done(h, N, 40)
    elapsed = time.monotonic() - t0
    time.sleep(0.2)
    rows = deliveries(h)
    got = checkins(acs)
    items = [c["item"] for c in got]
    check(len(rows) == N, "the journal holds %d transactions" % N)
    check(sorted(items) == [item_id(i) for i in range(N)],
          "all %d returns reached the ACS (%d checkins)" % (N, len(items)))
    dup = [i for i, c in collections.Counter(items).items() if c > 1]
    check(not dup, "each item was checked in once (%d twice)" % len(dup))
    check(items == [r[1] for r in rows], "the checkins arrived in journal order")
    check(min(c["t"] for c in got) >= t_up - 0.5,
          "nothing was checked in while the ACS was away")
    states = collections.Counter(r[3] for r in rows)
    check(states == {"done": N}, "every delivery is done (%s)" % dict(states))

    by_item = {c["item"]: c for c in got}
    replayed = [r for r in rows if r[4] > 1 or r[5]]
    # Y for every return not sent live: retried, maybe sent, or journaled
    # while the ACS was away; N for those journaled once it was answering
    # again (a grace of 2 s around its return, where either is right).
    def expected_nb(r):
        if r[4] > 1 or r[5] or r[2] / 1e6 < t_up:
            return "Y"
        return "N" if r[2] / 1e6 > t_up + 2 else by_item[r[1]]["no_block"]
    wrong_nb = [r[1] for r in rows if by_item[r[1]]["no_block"] != expected_nb(r)]
    check(replayed, "some returns were replayed after failed attempts (%d)" % len(replayed))
    check(not wrong_nb, "replays carry no block = Y, live checkins N (%d wrong: %s)"
          % (len(wrong_nb), wrong_nb[:5]))
    wrong_date = [(r[1], by_item[r[1]]["return_date"], sip_date(r[2])) for r in rows
                  if by_item[r[1]]["return_date"] != sip_date(r[2])]
    check(not wrong_date, "every 09's return date is the journal's event time to the second"
          " (%d wrong: %s)" % (len(wrong_date), wrong_date[:3]))
    early = [r[1] for r in replayed
             if by_item[r[1]]["transaction_date"] < by_item[r[1]]["return_date"]]
    check(not early, "a replay's transaction date is not before its return date")
    # Every return journaled while the ACS was away is a replay (no block Y),
    # whether or not it was attempted during the outage.
    outage_live = [r for r in rows if r[2] / 1e6 < t_up and by_item[r[1]]["no_block"] != "Y"]
    if strict_noblock:
        check(not outage_live, "every return journaled while the ACS was away is replayed with"
              " no block = Y (%d went out as live checkins with N)" % len(outage_live))
    u = upstream_status(h)
    check(u["backlog"] == 0 and h.status()["backlog"]["pending"] == 0, "the backlog is empty")
    wait_for(lambda: any(STATUS_RE.search(f.get("STATUS", "")) and
                         STATUS_RE.search(f["STATUS"]).group(1) == "0"
                         for _, f, _ in h.notify.all()[-3:]), 5, "STATUS= with backlog 0")
    check(h.stop() == 0, "circd exits 0 on SIGTERM")
    log("MEASURED (%s): %d replayed with no block Y; %d returned during the outage but first"
        " sent after it, live (no block N); all %d at the ACS %.1f s after start, %.1f s after"
        " recovery" % (variant, len(replayed), len(outage_live), N, elapsed,
                       time.time() - t_up))


def hang_on(acs):
    # accept, read, never answer: a blackholed ILS
    acs.set_faults({"hang": True})


def story(h):
    outage_story(h, hang_on, lambda acs: None, "refused, then hang")


if __name__ == "__main__":
    main(story, timeout=80)

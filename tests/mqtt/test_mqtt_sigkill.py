#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: the branch's circd is killed with SIGKILL twice while it publishes
600 returns to the fleet broker, then stopped cleanly (SIGTERM) once, and
restarted each time on the same state directory (the sim replays its
scenario; the core drops what it already journaled).  The clean stop
answers everything it published (acknowledged before circd exits), so only
transactions inflight at a kill may arrive twice.

Each kill leaves the broker's last will 'offline' on the status topic; each
restart resumes the MQTT session and says 'online' again.  In the end every
transaction the journal holds reached the consumer at least once; a
transaction arrives twice only if it was inflight at a kill (it is published
again after the restart: at-least-once), and no delivery is left pending.
The duplicates are counted and printed."""
import collections
import json
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mqtt_lib import Broker, Subscriber  # noqa: E402
from circdtest import check, log, main, wait_for  # noqa: E402

N = 600
KILL_AT = (150, 350)
STOP_AT = 450
SITE = "branch9"


def story(h):
    broker = Broker(h)
    broker.start()
    status = "circd/%s/status" % SITE
    sub = Subscriber(broker.port, "central-consumer", ["circd/#"])
    check(sub.subscribed.wait(5), "the consumer is subscribed")
    h.scenario("drop1.scn", "0 repeat count=%d interval=3 tag uid=E00401%%010d item=BOOK%%05d "
               "dwell=1\n" % N)
    h.config([{"name": "drop1", "plugin": "sim", "scenario": h.path("drop1.scn")}],
             [{"name": "returns", "role": "bookdrop", "devices": ["drop1"]}],
             [{"name": "fleet", "plugin": "mqtt", "host": "127.0.0.1", "port": broker.port,
               "site": SITE}])

    def checkin_ids(ms):
        return [json.loads(m.payload)["id"] for m in ms if m.topic.endswith("/checkin")]

    def statuses():
        return [m.payload.decode() for m in sub.snapshot() if m.topic == status]

    inflight_at_kill = set()
    t0 = time.monotonic()
    for k, at in enumerate(KILL_AT):
        h.start()
        sub.wait(lambda ms: len(checkin_ids(ms)) >= at, 15, "%d returns at the consumer" % at)
        n_status = len(statuses())
        rc = h.kill()
        check(rc == -signal.SIGKILL, "kill %d: circd killed with SIGKILL after %d arrived"
              % (k + 1, len(checkin_ids(sub.snapshot()))))
        inflight_at_kill |= {r[0] for r in h.query(
            "SELECT txn_id FROM deliveries WHERE state = 'inflight'")}
        wait_for(lambda: statuses()[n_status:] == ["offline"], 5, "the last will after kill %d" % (k + 1))
        check(True, "kill %d: the broker published the last will 'offline'" % (k + 1))

    n_status = len(statuses())
    h.start()
    wait_for(lambda: statuses()[n_status:] == ["online"], 5, "'online' after the restart")
    check("resumed session" in h.last_log(), "the restart resumed the MQTT session")

    # A clean stop in the middle: what was in flight is acknowledged and
    # answered before circd exits, so nothing is left inflight to be sent twice.
    sub.wait(lambda ms: len(checkin_ids(ms)) >= STOP_AT, 15, "%d returns at the consumer" % STOP_AT)
    n_status = len(statuses())
    check(h.stop() == 0, "SIGTERM mid-burst: exit 0")
    m = re.search(r"stopped: (\d+) published, (\d+) acknowledged, \d+ not acknowledged in time, "
                  r"(\d+) unanswered", h.last_log())
    check(m and m.group(1) == m.group(2) and m.group(3) == "0",
          "a clean stop answers everything it published (%s)" % (m.group(0) if m else "no log line"))
    # (the core may still journal a return after SIGTERM and hand it over
    # when the worker no longer takes any: inflight, but never published)
    wait_for(lambda: statuses()[n_status:] == ["offline"], 5, "'offline' after the clean stop")
    check(True, "a clean stop says 'offline' itself")
    h.start()
    wait_for(lambda: h.query("SELECT count(*) FROM transactions")[0][0] >= N, 15,
             "all %d journaled" % N)
    ids = {r[0] for r in h.query("SELECT id FROM transactions")}
    sub.wait(lambda ms: set(checkin_ids(ms)) >= ids, 15, "every transaction at the consumer")
    wait_for(lambda: h.status()["backlog"]["pending"] == 0, 10, "the backlog to drain")
    time.sleep(0.3)  # a late duplicate would show up here
    check(h.stop() == 0, "the last run exits 0 on SIGTERM")

    count = collections.Counter(checkin_ids(sub.snapshot()))
    dups = sorted(i for i, c in count.items() if c > 1)
    check(len(ids) == N and set(count) == ids,
          "all %d transactions arrived at least once, none missing, none unknown" % N)
    check(set(dups) <= inflight_at_kill,
          "only transactions inflight at a kill arrived twice (%d of %d inflight; others: %s)"
          % (len(dups), len(inflight_at_kill), sorted(set(dups) - inflight_at_kill)))
    check(max(count.values()) <= 1 + len(KILL_AT), "none more often than once per kill + 1")
    states = dict(h.query("SELECT state, count(*) FROM deliveries GROUP BY state"))
    check(states == {"done": N}, "every delivery is done (%s)" % states)
    log("MEASURED: %d messages for %d transactions, %d duplicates (inflight at the kills: %d), "
        "%.1f s" % (sum(count.values()), N, len(dups), len(inflight_at_kill), time.monotonic() - t0))
    sub.close()
    broker.stop()


if __name__ == "__main__":
    main(story, timeout=50)

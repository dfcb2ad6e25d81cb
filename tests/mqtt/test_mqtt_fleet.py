#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: a branch publishes its circulation to the library system's MQTT
broker, and the broker goes away for a while.

1,000 returns come in through the book drop (the sim plugin, one every
5 ms).  A central consumer (a persistent-session QoS 1 subscriber) reads
circd/#.  After 300 of them have arrived the broker is stopped (SIGTERM),
kept down ~2 s, and started again with the same persistence directory.
Returns keep being journaled meanwhile; status says the upstream is offline
and why.  In the end every transaction the journal holds reached the
consumer at least once (duplicates are counted and printed: MQTT QoS 1 is
at-least-once, consumers de-duplicate on (site_id, id)), each payload says
schema 1 and carries the transaction's fields with its original event time,
the same as the jsonl sink got.  The status topic holds "online" (retained)
while circd runs and, after circd is SIGKILLed, its last will "offline"."""
import collections
import datetime
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mqtt_lib import Broker, Subscriber, retained  # noqa: E402
from circdtest import check, log, main, wait_for  # noqa: E402

N = 1000
SITE = "branch7"


def iso_ms(text):
    """'2026-11-28T19:04:05.123Z' as milliseconds since the epoch."""
    t = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return (t - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)) // datetime.timedelta(milliseconds=1)


def story(h):
    broker = Broker(h)
    broker.start()
    status_topic = "circd/%s/status" % SITE
    sub = Subscriber(broker.port, "central-consumer", ["circd/#"])
    check(sub.subscribed.wait(5), "the central consumer is subscribed (persistent session)")

    h.simple_config("0 repeat count=%d interval=5 tag uid=E00401%%010d item=BOOK%%04d dwell=3\n" % N)
    # a second upstream, the jsonl sink, holds what the journal handed over
    h.config([{"name": "drop1", "plugin": "sim", "scenario": h.path("drop1.scn")}],
             [{"name": "returns", "role": "bookdrop", "devices": ["drop1"]}],
             [{"name": "fleet", "plugin": "mqtt", "host": "127.0.0.1", "port": broker.port,
               "site": SITE, "publish_timeout_ms": 4000, "reconnect_min_ms": 200,
               "reconnect_max_ms": 1000},
              {"name": "out", "plugin": "jsonl", "path": h.out_path, "fsync": False}])
    t0 = time.monotonic()
    h.start()

    def checkins(msgs):
        return [m for m in msgs if m.topic.endswith("/checkin")]

    sub.wait(lambda ms: any(m.topic == status_topic and m.payload == b"online" for m in ms), 5,
             "circd's status 'online'")
    check(retained(broker.port, status_topic) == "online", "the status topic holds 'online', retained")

    sub.wait(lambda ms: len(checkins(ms)) >= 300, 20, "300 returns at the consumer")
    log("300 returns arrived after %.1f s; stopping the broker" % (time.monotonic() - t0))
    broker.stop(signal.SIGTERM)
    t_down = time.monotonic()
    wall_down = time.time()
    at_stop = len(checkins(sub.snapshot()))

    def fleet():
        return next(u for u in h.status()["upstreams"] if u["name"] == "fleet")
    u = wait_for(lambda: (lambda x: x if x["health"] == "offline" else None)(fleet()), 3,
                 "status to show the mqtt upstream offline")
    check(u["reason"] != "", "status says why: %r (state %s)" % (u["reason"], u["state"]))
    t1 = h.status()["counters"]["transactions"]
    time.sleep(max(0.0, 2.0 - (time.monotonic() - t_down)))
    t2 = h.status()["counters"]["transactions"]
    check(t2 > t1, "returns keep being journaled while the broker is down (%d -> %d)" % (t1, t2))
    backlog = fleet()["backlog"]
    broker.start()
    t_up = time.monotonic()
    wall_up = time.time()
    log("broker down %.1f s; %d had arrived at the stop, backlog %d" % (t_up - t_down, at_stop, backlog))

    wait_for(lambda: h.status()["counters"]["transactions"] >= N, 20, "all %d returns journaled" % N)
    ids = [r[0] for r in h.query("SELECT id FROM transactions WHERE kind = 'checkin' ORDER BY id")]
    check(len(ids) == N, "the journal holds %d checkins (ids %d..%d)" % (len(ids), ids[0], ids[-1]))

    def all_arrived(msgs):
        got = {json.loads(m.payload)["id"] for m in checkins(msgs)}
        return got >= set(ids)
    sub.wait(all_arrived, 25, "every transaction id at the consumer")
    t_all = time.monotonic()
    wait_for(lambda: fleet()["backlog"] == 0 and fleet()["health"] == "ok", 10,
             "the mqtt backlog to drain and health ok")
    log("all arrived %.1f s after the broker came back" % (t_all - t_up))

    msgs = checkins(sub.snapshot())
    payloads = [json.loads(m.payload) for m in msgs]
    count = collections.Counter(p["id"] for p in payloads)
    dups = sorted(i for i, c in count.items() if c > 1)
    check(set(count) == set(ids), "every id 1..%d arrived at least once, none missing, none unknown"
          % N)
    log("MEASURED: %d messages for %d transactions: %d duplicates %s; dup flag on %d"
        % (len(msgs), N, len(msgs) - N, dups[:20], sum(m.dup for m in msgs)))
    check(all(p["schema"] == 1 for p in payloads), "every payload says schema 1")
    check(all(m.topic == "circd/%s/returns/checkin" % SITE for m in msgs),
          "topic circd/<site>/<station>/<kind>")
    check(all(p["site_id"] == SITE and p["site"] == "Test mqtt_fleet" for p in payloads),
          "payloads name the site (site_id for the topic, site as configured)")

    # The same fields as the journal handed the jsonl sink; the original event time.
    wait_for(lambda: h.jsonl_count() >= N, 10, "the jsonl sink to have all")
    lines = {x["id"]: x for x in h.jsonl()}
    same = ("id", "kind", "site", "station", "device", "item_id", "uid", "event_time", "created")
    bad = [p["id"] for p in payloads if any(p.get(k) != lines[p["id"]].get(k) for k in same)]
    check(not bad, "each payload carries the journal's fields and event time (%d differ)" % len(bad))
    ev = {r[0]: r[1] for r in h.query("SELECT id, event_time_usec FROM transactions")}
    during = [(m, p) for m, p in zip(msgs, payloads) if wall_down <= ev[p["id"]] / 1e6 < wall_up]
    wrong = [p["id"] for m, p in during if not (m.at >= t_up and p["replay"] and
                                               iso_ms(p["event_time"]) == ev[p["id"]] // 1000)]
    check(during and not wrong,
          "%d returns made while the broker was down arrived after it was back, flagged replay, "
          "with their original event time (wrong: %s)" % (len(during), wrong[:10]))

    # The branch goes offline hard: the broker publishes its last will.
    n_before = len(sub.snapshot())
    h.kill()
    m = sub.wait(lambda ms: next((x for x in ms[n_before:] if x.topic == status_topic), None), 5,
                 "the last will on the status topic")
    check(m.payload == b"offline", "after SIGKILL of circd the consumer sees the last will 'offline'")
    check(retained(broker.port, status_topic) == "offline", "... and it is retained")
    sub.close()
    broker.stop()
    log("MEASURED: story %.1f s; broker outage %.1f s; drained %.1f s after restart"
        % (time.monotonic() - t0, t_up - t_down, t_all - t_up))


if __name__ == "__main__":
    main(story, timeout=60)

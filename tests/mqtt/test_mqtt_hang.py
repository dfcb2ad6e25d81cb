#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story (QoS 2): the fleet broker hangs (SIGSTOP: connections stay open, nothing is
acknowledged) during 300 returns, and comes back 2 s later (SIGCONT).

circd answers the unacknowledged publishes RETRY after publish_timeout_ms
(500 ms here), says so in status (OFFLINE, "... not acknowledged within
500 ms"), drops the connection and tries again (the hung broker does not
answer the CONNECT: connect_timeout_ms).  When the broker is back every
return reaches the consumer at least once (duplicates counted: the hung
broker still had the first copies in its socket buffers), and every
delivery in the journal is done, the retried ones with more than one
attempt.  QoS 2 here (the fleet story is QoS 1): the acknowledgement that
counts is PUBCOMP, and the client keeps its packet ids across the retry."""
import collections
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mqtt_lib import Broker, Subscriber  # noqa: E402
from circdtest import check, log, main, wait_for  # noqa: E402

N = 300


def story(h):
    broker = Broker(h)
    broker.start()
    sub = Subscriber(broker.port, "central-consumer", ["circd/+/+/checkin"])
    check(sub.subscribed.wait(5), "the consumer is subscribed")
    h.scenario("drop1.scn", "0 repeat count=%d interval=5 tag uid=E00401%%010d item=BOOK%%04d "
               "dwell=3\n" % N)
    h.config([{"name": "drop1", "plugin": "sim", "scenario": h.path("drop1.scn")}],
             [{"name": "returns", "role": "bookdrop", "devices": ["drop1"]}],
             [{"name": "fleet", "plugin": "mqtt", "host": "127.0.0.1", "port": broker.port,
               "site": "branch3", "qos": 2, "publish_timeout_ms": 500, "connect_timeout_ms": 1000,
               "reconnect_min_ms": 200, "reconnect_max_ms": 500}])
    h.start()
    sub.wait(lambda ms: len(ms) >= 100, 10, "100 returns at the consumer")

    broker.proc.send_signal(signal.SIGSTOP)
    t_stop = time.monotonic()
    log("broker hung (SIGSTOP) after %d messages" % len(sub.snapshot()))
    try:
        def fleet():
            return h.status()["upstreams"][0]
        u = wait_for(lambda: (lambda x: x if "not acknowledged" in x["reason"] else None)(fleet()),
                     3, "status to say the publishes were not acknowledged")
        check(u["health"] == "offline", "status: %s, %r (%.1f s after the hang)"
              % (u["health"], u["reason"], time.monotonic() - t_stop))
        time.sleep(max(0.0, 2.0 - (time.monotonic() - t_stop)))
    finally:
        broker.proc.send_signal(signal.SIGCONT)
    t_cont = time.monotonic()

    wait_for(lambda: h.status()["counters"]["transactions"] >= N, 10, "all returns journaled")
    ids = {r[0] for r in h.query("SELECT id FROM transactions")}

    def all_there(ms):
        return {json.loads(m.payload)["id"] for m in ms} >= ids
    sub.wait(all_there, 20, "every transaction at the consumer")
    log("all arrived %.1f s after the broker woke up" % (time.monotonic() - t_cont))
    wait_for(lambda: h.status()["upstreams"][0]["backlog"] == 0, 10, "the backlog to drain")
    count = collections.Counter(json.loads(m.payload)["id"] for m in sub.snapshot())
    dups = sorted(i for i, c in count.items() if c > 1)
    check(set(count) == ids, "all %d returns arrived at least once, none missing" % len(ids))
    log("MEASURED: %d messages for %d transactions, %d duplicates (%s...)"
        % (sum(count.values()), len(ids), len(dups), dups[:10]))
    states = dict(h.query("SELECT state, count(*) FROM deliveries GROUP BY state"))
    retried = h.query("SELECT count(*) FROM deliveries WHERE attempts > 1")[0][0]
    check(states == {"done": len(ids)}, "every delivery is done (%s)" % states)
    check(retried > 0, "%d needed more than one attempt" % retried)
    check(h.stop() == 0, "exit 0 on SIGTERM")
    sub.close()
    broker.stop()


if __name__ == "__main__":
    main(story, timeout=45)

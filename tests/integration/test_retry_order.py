#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: the upstream's storage disappears for a while (the directory the
jsonl sink writes into is moved away — the journal, elsewhere, is fine) while
300 returns come in, one every 10 ms.

Returns keep being journaled while the sink fails (its writes fail with
ENOENT: the plugin answers RETRY); status shows the upstream down or
degraded and the backlog growing.  When the directory is back, everything
arrives, in transaction-id order, none missing, none twice (a failed batch
is truncated away, so a retry is not a duplicate), and no delivery is left
pending."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from circdtest import check, log, main, wait_for  # noqa: E402

N = 300


def story(h):
    sink = h.path("sink")
    moved = h.path("sink.moved")
    os.mkdir(sink)
    h.out_path = os.path.join(sink, "out.jsonl")
    h.simple_config("0 repeat count=%d interval=10 tag uid=E00401%%010d item=BOOK%%04d dwell=5\n" % N)
    h.start()
    wait_for(lambda: h.jsonl_count() >= 40, 10, "40 returns in jsonl")

    # The sink's directory goes away.
    os.rename(sink, moved)
    t_out = time.monotonic()
    before = h.jsonl_count(os.path.join(moved, "out.jsonl"))
    log("sink moved away after %d lines" % before)

    def upstream():
        return h.status()["upstreams"][0]

    u = wait_for(lambda: (lambda x: x if x["state"] == "down" or x["health"] != "ok" else None)(upstream()),
                 5, "the upstream to be reported down or degraded")
    check(True, "status shows the upstream %s / %s: %s" % (u["state"], u["health"], u["last_error"]))
    check("No such file" in u["last_error"], "... with the reason (%r)" % u["last_error"])
    b1 = h.status()["backlog"]["pending"]
    t1 = h.status()["counters"]["transactions"]
    time.sleep(0.6)
    b2 = h.status()["backlog"]["pending"]
    t2 = h.status()["counters"]["transactions"]
    check(t2 > t1, "returns keep being journaled while the sink fails (%d -> %d)" % (t1, t2))
    check(b2 > b1 > 0, "the backlog grows (%d -> %d)" % (b1, b2))
    check(any(ln.startswith("<5>") and "upstream unavailable" in ln for ln in h.log_text().splitlines()),
          "the log says the upstream is unavailable and when it is retried")

    # Back.
    os.mkdir(sink)
    t_back = time.monotonic()
    log("sink back after %.1f s, backlog %d" % (t_back - t_out, b2))
    wait_for(lambda: h.jsonl_count() + h.jsonl_count(os.path.join(moved, "out.jsonl")) >= N, 30,
             "all %d returns in the two files" % N)
    log("all delivered %.1f s after the sink came back" % (time.monotonic() - t_back))
    wait_for(lambda: h.status()["backlog"]["pending"] == 0, 10, "the backlog to drain")
    u = upstream()
    check(u["state"] == "up" and u["health"] == "ok", "the upstream is up and ok again (%s/%s)"
          % (u["state"], u["health"]))
    time.sleep(0.3)
    rc = h.stop()
    check(rc == 0, "exit 0 on SIGTERM")

    lines = h.jsonl(os.path.join(moved, "out.jsonl")) + h.jsonl()
    ids = [x["id"] for x in lines]
    check(len(lines) == N, "exactly %d lines in the two files (%d)" % (N, len(lines)))
    check(ids == sorted(set(ids)), "in transaction-id order, none twice")
    check([x["item_id"] for x in lines] == ["BOOK%04d" % i for i in range(N)],
          "every book, in the order they were dropped")
    check(any(x["replay"] for x in lines), "the retried ones are flagged replay")
    states = dict(h.query("SELECT state, count(*) FROM deliveries GROUP BY state"))
    check(states == {"done": N}, "every delivery is done (%s)" % states)
    att = h.query("SELECT max(attempts) FROM deliveries")[0][0]
    log("MEASURED: outage %.1f s, backlog peaked >= %d, max attempts per delivery %d"
        % (t_back - t_out, b2, att))


if __name__ == "__main__":
    main(story)

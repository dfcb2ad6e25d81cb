#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: 200 books are dropped into the return slot, one every 10 ms.
Meanwhile, at a second reader of the same bookdrop, one book lingers in the
field for 5 s (reported every 500 ms), one flickers (gone and back within
the debounce time) and one is returned twice, 4 s apart (longer than the
debounce: a real second return).

Every return becomes exactly one checkin in the jsonl sink, in transaction-id
order; lingering and flickering count once; the journal agrees and every
delivery ends 'done'."""
import collections
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from circdtest import check, log, main, wait_for  # noqa: E402

N = 200

BURST = "0 repeat count=%d interval=10 tag uid=E00401%%010d item=BOOK%%04d dwell=5\n" % N

# Times in ms.  The bookdrop's debounce is 3000 ms (its default).
FIELD = """\
# lingering: seen at 0, reported again every 500 ms for 5 s, then gone
0 tag-seen uid=E0040200000000A1 item=LINGER1
+500 repeat count=10 interval=500 tag-seen uid=E0040200000000A1 item=LINGER1
+100 tag-gone uid=E0040200000000A1
"""
# flickering: seen, gone 300 ms later, back 200 ms later, twice
FLICKER = """\
0 tag-seen uid=E0040200000000F1 item=FLICKER1
+300 tag-gone uid=E0040200000000F1
+200 tag-seen uid=E0040200000000F1 item=FLICKER1
+300 tag-gone uid=E0040200000000F1
+100 tag-seen uid=E0040200000000F1 item=FLICKER1
+300 tag-gone uid=E0040200000000F1
"""
# a second return of the same book, 4 s after the first one left
AGAIN = """\
0 tag uid=E0040200000000B1 item=AGAIN1 dwell=200
+4000 tag uid=E0040200000000B1 item=AGAIN1 dwell=200
"""


def story(h):
    h.config(
        devices=[
            {"name": "drop1", "plugin": "sim", "scenario": h.scenario("burst.scn", BURST)},
            {"name": "drop2", "plugin": "sim", "scenario": h.scenario("field.scn", FIELD)},
            {"name": "drop3", "plugin": "sim", "scenario": h.scenario("flicker.scn", FLICKER)},
            {"name": "drop4", "plugin": "sim", "scenario": h.scenario("again.scn", AGAIN)},
        ],
        stations=[{"name": "returns", "role": "bookdrop", "debounce_ms": 3000,
                   "devices": ["drop1", "drop2", "drop3", "drop4"]}])
    t0 = time.monotonic()
    h.start()

    expected = N + 4  # 200 books, LINGER1, FLICKER1, AGAIN1 twice
    wait_for(lambda: h.jsonl_count() >= N, 15, "%d lines in jsonl" % N)
    log("200 burst returns in jsonl after %.2f s" % (time.monotonic() - t0))
    # The field scenario ends ~5.1 s in; then give a late duplicate time to show.
    wait_for(lambda: h.jsonl_count() >= expected, 15, "%d lines in jsonl" % expected)
    wait_for(lambda: h.device_events("drop2") >= 12, 10, "the lingering tag's scenario to end")
    time.sleep(0.5)
    st = h.status()
    check(st["backlog"]["pending"] == 0, "status shows no backlog (%s)" % st["backlog"])
    events = {d["name"]: d["events"] for d in st["devices"]}
    check(events["drop1"] == 2 * N, "drop1 reported %d events (seen + gone per book)" % events["drop1"])
    check(events["drop2"] == 12, "drop2 (lingering) reported 12 events: 11 seen, 1 gone (%d)"
          % events["drop2"])
    rc = h.stop()
    check(rc == 0, "circd exits 0 on SIGTERM (got %d)" % rc)

    lines = h.jsonl()
    ids = [x["id"] for x in lines]
    items = collections.Counter(x["item_id"] for x in lines)
    check(len(lines) == expected, "jsonl has exactly %d checkins (got %d)" % (expected, len(lines)))
    check(all(x["kind"] == "checkin" for x in lines), "every line is a checkin")
    check(ids == sorted(ids) and len(set(ids)) == len(ids), "jsonl is in transaction-id order, no id twice")
    books = ["BOOK%04d" % i for i in range(N)]
    check(all(items[b] == 1 for b in books), "each of the 200 books is in jsonl exactly once")
    burst_order = [x["item_id"] for x in lines if x["item_id"].startswith("BOOK")]
    check(burst_order == books, "the burst arrives in the order the books were dropped")
    check(items["LINGER1"] == 1, "the lingering tag (seen 11 times over 5 s) counts once (%d)" % items["LINGER1"])
    check(items["FLICKER1"] == 1, "the flickering tag (back within debounce) counts once (%d)" % items["FLICKER1"])
    check(items["AGAIN1"] == 2, "a book returned again after the debounce counts twice (%d)" % items["AGAIN1"])
    check(set(items) == set(books) | {"LINGER1", "FLICKER1", "AGAIN1"}, "no other item appears")
    check(all(x["station"] == "returns" and x["replay"] is False for x in lines),
          "all from station 'returns', none flagged replay")

    jids = [r[0] for r in h.query("SELECT id FROM transactions ORDER BY id")]
    check(jids == ids, "the journal holds exactly the transactions that are in jsonl")
    states = dict(h.query("SELECT state, count(*) FROM deliveries GROUP BY state"))
    check(states == {"done": expected}, "every delivery is 'done' (%s)" % states)
    log("story took %.1f s" % (time.monotonic() - t0))


if __name__ == "__main__":
    main(story)

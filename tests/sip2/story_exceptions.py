#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story (f): 20 books are returned while the ACS refuses connections; when
it is back it refuses two of the replayed checkins (emulator fault
ok0_items: 10 with ok = 0 and the screen message "Item cannot be checked
in").

  - the two land in {"cmd":"exceptions"} (reason 'rejected', upstream
    'ils', the ILS's screen message), the other 18 are done, and the two
    did not hold up the returns after them;
  - staff fix the first at the ILS (the item leaves ok0_items through the
    emulator's control file) and {"cmd":"exceptions-retry","id":N} sends it
    again: the ACS accepts it, the delivery is done with the ACS's answer,
    and it leaves the list;
  - the second is dismissed with {"cmd":"exceptions-dismiss","id":N,
    "note":...}: it leaves the list, the journal keeps it 'dismissed' with
    the note, and nothing more is sent for it."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from story_lib import (ACS, check, checkins, configure, deliveries, item_id, log,  # noqa: E402
                       main, make_fixture, upstream_status, wait_for)

N = 20
FIX, DISMISS = item_id(3), item_id(7)


def exceptions(h):
    return h.ctl_ok("exceptions")["exceptions"]


def story(h):
    acs = ACS(fixture=make_fixture(h, N),
              faults={"refuse_connections": True, "ok0_items": [FIX, DISMISS]})
    configure(h, acs.port, N, speed=0)
    h.start()
    wait_for(lambda: h.status()["counters"]["transactions"] == N, 10, "%d returns journaled" % N)
    wait_for(lambda: upstream_status(h)["state"] == "down", 10, "the upstream to be down")
    acs.set_faults({"ok0_items": [FIX, DISMISS]})
    wait_for(lambda: (lambda u: u["done"] + u["rejected"] == N)(upstream_status(h)), 20,
             "all %d answered" % N, interval=0.05)
    rows = {r[1]: r for r in deliveries(h)}
    check(all(r[3] == "done" for i, r in rows.items() if i not in (FIX, DISMISS)),
          "the other %d returns are done" % (N - 2))
    nb = {c["item"]: c["no_block"] for c in checkins(acs)}
    check(nb.get(FIX) == "Y" and nb.get(DISMISS) == "Y",
          "the two refused were replays (no block %s and %s)" % (nb.get(FIX), nb.get(DISMISS)))
    exc = exceptions(h)
    by_item = {e["item_id"]: e for e in exc}
    check(sorted(by_item) == [FIX, DISMISS], "exceptions lists the two refused returns (%s)"
          % [e["item_id"] for e in exc])
    for item in (FIX, DISMISS):
        e = by_item[item]
        check(e["reason"] == "rejected" and e["upstream"] == "ils" and e["kind"] == "checkin"
              and e["message"] == "Item cannot be checked in" and e["id"] == rows[item][0],
              "%s: transaction %d, rejected by 'ils' with the ILS's screen message (%s)"
              % (item, rows[item][0], e))
    first = [c["item"] for c in checkins(acs)]
    check(first.count(FIX) == 1 and first.count(DISMISS) == 1,
          "each refused checkin was sent once, not retried by itself")
    check(first.index(DISMISS) < first.index(item_id(N - 1)),
          "the refusals did not hold up the returns after them")

    # staff fix the item at the ILS, then retry
    acs.set_faults({"ok0_items": [DISMISS]})
    r = h.ctl_ok("exceptions-retry", id=by_item[FIX]["id"])
    check(r["id"] == by_item[FIX]["id"], "exceptions-retry answers with the id")
    wait_for(lambda: [x for x in deliveries(h) if x[1] == FIX][0][3] == "done", 10,
             "the retried checkin to be done")
    row = [x for x in deliveries(h) if x[1] == FIX][0]
    check((row[6] or {}).get("ok") is True and (row[6] or {}).get("title"),
          "the retried checkin is done with the ACS's answer (%s)" % (row[6] or {}).get("title"))
    check(checkins(acs)[-1]["item"] == FIX and [c["item"] for c in checkins(acs)].count(FIX) == 2,
          "the ACS got it a second time, last")
    check([e["item_id"] for e in exceptions(h)] == [DISMISS], "it left the exceptions list")

    # the other is dismissed with a note
    note = "book damaged, sent to repair"
    r = h.ctl_ok("exceptions-dismiss", id=by_item[DISMISS]["id"], note=note)
    check(r["id"] == by_item[DISMISS]["id"], "exceptions-dismiss answers with the id")
    check(exceptions(h) == [], "the exceptions list is empty")
    st = h.query("SELECT state, note FROM deliveries WHERE txn_id = ? AND upstream = 'ils'",
                 by_item[DISMISS]["id"])
    check(st == [("dismissed", note)], "the journal keeps it dismissed with the note (%s)" % st)
    time.sleep(0.3)
    check([c["item"] for c in checkins(acs)].count(DISMISS) == 1,
          "nothing more was sent for the dismissed one")
    bad = h.ctl("exceptions-retry", id=by_item[DISMISS]["id"])
    check(bad.get("ok") is False, "retrying a dismissed one is refused (%s)" % bad.get("error"))
    check(h.stop() == 0, "circd exits 0 on SIGTERM")
    log("MEASURED: %d checkins at the ACS for %d returns (2 refused, 1 retried)"
        % (len(checkins(acs)), N))


if __name__ == "__main__":
    main(story, timeout=60)

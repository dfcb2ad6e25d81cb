#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: a book with an unreadable label (the reader sees the tag's UID
but no item id) is dropped between two ordinary returns.  The upstream
(jsonl with reject_without_item = true) answers REJECTED.

The rejection becomes an exception for staff: {"cmd":"exceptions"} lists
it; the returns around it are not held up.  {"cmd":"exceptions-retry"} sends
it again: rejected again, still listed, one more attempt.  Staff dismiss it
with a note ({"cmd":"exceptions-dismiss","note":...}): it leaves the list and
the journal keeps the note."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from circdtest import check, main, wait_for  # noqa: E402

NOTE = "handled at desk"


def exceptions(h):
    return h.ctl_ok("exceptions")["exceptions"]


def story(h):
    h.simple_config(jsonl_opts={"reject_without_item": True})
    h.start()
    h.inject("drop1", "tag uid=E004050000000001 item=GOOD1 dwell=20")
    h.inject("drop1", "tag-seen uid=E0040500000000C1")
    h.inject("drop1", "tag-gone uid=E0040500000000C1")
    h.inject("drop1", "tag uid=E004050000000002 item=GOOD2 dwell=20")
    wait_for(lambda: h.jsonl_count() == 2, 10, "the two good returns in jsonl")
    check([x["item_id"] for x in h.jsonl()] == ["GOOD1", "GOOD2"],
          "the rejected return did not hold up the one after it")

    exc = wait_for(lambda: exceptions(h), 5, "an exception to be listed")
    check(len(exc) == 1, "exactly one exception is listed (%s)" % exc)
    e = exc[0]
    txn = h.query("SELECT id, item_id, uid FROM transactions WHERE uid = 'e0040500000000c1'")
    check(len(txn) == 1 and txn[0][1] == "", "the unreadable book was journaled, without item id (%s)" % txn)
    tid = txn[0][0]
    check(e["id"] == tid and e["item_id"] == "" and e["upstream"] == "out",
          "the exception is that transaction, upstream 'out' (%s)" % e)
    check(e["reason"] == "rejected" and "item" in e["message"],
          "reason 'rejected', with the upstream's message (%r)" % e["message"])
    check(e["attempts"] == 1, "after one attempt")
    check(any("rejected" in ln and ln.startswith("<4>") for ln in h.log_text().splitlines()),
          "a warning about the rejection is in the log")
    st = h.status()
    check(st["upstreams"][0]["rejected"] == 1 and st["backlog"]["pending"] == 0,
          "status: 1 rejected, no backlog")

    # Retry: rejected again, still listed, one more attempt.
    r = h.ctl_ok("exceptions-retry", id=tid)
    check(r.get("id") == tid, "exceptions-retry answers ok with the id")
    exc = wait_for(lambda: [x for x in exceptions(h) if x["attempts"] == 2], 10,
                   "the retried exception to come back rejected")
    check(len(exceptions(h)) == 1 and exc[0]["id"] == tid and exc[0]["reason"] == "rejected",
          "after the retry it is rejected again and still listed (attempts 2)")
    check(h.jsonl_count() == 2, "the retried transaction did not reach jsonl")

    # Dismiss with a note.
    r = h.ctl_ok("exceptions-dismiss", id=tid, note=NOTE)
    check(r.get("id") == tid, "exceptions-dismiss answers ok with the id")
    check(exceptions(h) == [], "the dismissed exception is no longer listed")
    row = h.query("SELECT state, note, attempts FROM deliveries WHERE txn_id = ?", tid)
    check(row == [("dismissed", NOTE, 2)], "the journal keeps it as dismissed with the note (%s)" % row)

    # Wrong ids are refused.
    for cmd, args in (("exceptions-retry", {"id": tid}), ("exceptions-dismiss", {"id": 999999}),
                      ("exceptions-retry", {})):
        r = h.ctl(cmd, **args)
        check(r.get("ok") is False and r.get("error"), "%s %s is refused: %s" % (cmd, args, r.get("error")))

    journal = h.ctl_ok("journal", limit=10)["transactions"]
    mine = [x for x in journal if x["id"] == tid]
    check(mine and mine[0]["upstreams"]["out"].get("note") == NOTE and mine[0]["state"] == "dismissed",
          "the control 'journal' command shows the note too")
    rc = h.stop()
    check(rc == 0, "exit 0 on SIGTERM")
    row = h.query("SELECT state, note FROM deliveries WHERE txn_id = ?", tid)
    check(row == [("dismissed", NOTE)], "the note survives the stop")


if __name__ == "__main__":
    main(story)

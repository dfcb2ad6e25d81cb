#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: a self-check session with one blocked item.

A kiosk (selfcheck station) with a pad reader and a card reader, the ILS
behind SIP2 (tests/emulators/acs.py, fixture acs-selfcheck.json):
 - a blocked patron is refused at begin, with the ILS's reason; a wrong PIN
   is refused too;
 - Ada begins with her PIN (circctl selfcheck ... --pin-stdin): 63 says who
   she is, her fine and her loans;
 - three books on the pad: two are lent (11 ok) and their tags set on loan
   (AFI 0xC2, EAS off; read back from the tag); the third is on hold for
   someone else and fails with the ILS's screen message;
 - a barcode-only item that is not for loan fails with the ILS's reason;
 - she renews a book she has (29) and ends the session (35); the receipt
   lists titles and due dates; the journal has the checkouts with her
   patron id and one "selfcheck-session" event; her PIN is in no file
   circd wrote;
 - a patron whose charge privileges are denied may renew, but a book on
   the pad fails with "patron blocked";
 - a card read by the card reader begins a session by itself."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from circdtest import check, log, main  # noqa: E402
from selfcheck_lib import (ACS, PIN, circctl, configure, item, kiosk, op, op_ok,  # noqa: E402
                           secret_nowhere, settled, status, wait_state)


def story(h):
    acs = ACS(fixture="acs-selfcheck.json")
    # circd -t refuses a broken selfcheck station, naming the line
    configure(h, acs.port, [kiosk("kiosk", "pad1", "card1", offline="maybe", card_format="oct",
                                  ils="nowhere")], ["pad1", "card1"])
    rc = h.run_to_exit(args=["-t"])
    text = h.log_text()
    check(rc != 0 and 'offline must be "refuse" or "accept", not "maybe"' in text and
          "card_format must be hex" in text and 'ils "nowhere" is not one of its upstreams' in text
          and "circd.conf:" in text, "circd -t: %d %s" % (rc, text[-800:]))

    configure(h, acs.port, [kiosk("kiosk", "pad1", "card1")], ["pad1", "card1"])
    h.start()

    # a blocked patron: refused at begin with what the ILS says
    r = op_ok(h, "kiosk", "begin", patron="p3")
    check(r["state"] in ("starting", "refused"), "begin answers the session's state: %s" % r)
    st = wait_state(h, "kiosk", lambda s: s["state"] != "starting", "p3's check answered")
    check(st["state"] == "refused", "blocked patron refused: %s" % st)
    check(st["reason"] == "Your account is blocked: please see staff", "the ILS's reason: %s" % st)

    # a wrong PIN
    op_ok(h, "kiosk", "begin", patron="p1", pin="0000")
    st = wait_state(h, "kiosk", lambda s: s["state"] != "starting", "wrong PIN answered")
    check(st["state"] == "refused" and "PIN" in st["reason"], "wrong PIN refused: %s" % st)

    # Ada, through circctl with the PIN on standard input
    code, out, err = circctl(h, "selfcheck", "kiosk", "begin", "--patron", "p1", "--pin-stdin",
                             stdin=PIN + "\n")
    check(code == 0, "circctl selfcheck begin: %d %s %s" % (code, out, err))
    st = wait_state(h, "kiosk", lambda s: s["state"] == "active", "Ada's session active")
    p = st["patron"]
    check(p["name"] == "Ada Reader" and p["fee_amount"] == "2.50" and p["charged"] == 1,
          "patron information shown: %s" % p)
    check(st["offline"] is False, "online session")
    # she cannot begin twice
    r = op(h, "kiosk", "begin", patron="p2")
    check(r.get("ok") is False and "already" in r.get("error", ""), "one session at a time: %s" % r)

    for uid, it in (("E0040100000000A1", "S1"), ("E0040100000000A2", "S2"),
                    ("E0040100000000A3", "S3")):
        h.inject("pad1", "tag-seen uid=%s item=%s afi=07 eas=1" % (uid, it))
    st = wait_state(h, "kiosk", lambda s: settled(s, ["S1", "S2", "S3"]), "three items settled")
    for i in ("S1", "S2"):
        x = item(st, i)
        check(x["state"] == "ok" and x["security"] == "on-loan", "%s lent and un-secured: %s" % (i, x))
        check(x["title"] and x["due_date"], "%s has title and due date: %s" % (i, x))
    x = item(st, "S3")
    check(x["state"] == "failed" and x["reason"] == "Item on hold for another patron",
          "S3 fails with the ILS's reason: %s" % x)

    # read-back: the tags now say on loan (the sim reader keeps what was written)
    h.inject("pad1", "tag-seen uid=E0040100000000A1 item=S1")
    st = wait_state(h, "kiosk", lambda s: item(s, "S1")["tags"][0].get("afi") == 0xC2,
                    "S1's tag read back on loan")
    check(item(st, "S1")["tags"][0]["eas"] is False, "S1's EAS off: %s" % item(st, "S1"))
    check(len(st["items"]) == 3, "a tag seen again is not a second item: %s" % st["items"])
    check("write-afi uid=e0040100000000a3" not in h.log_text() and
          "set-eas uid=e0040100000000a3" not in h.log_text(), "S3's tag left secured")

    # a barcode typed at the kiosk: not for loan
    code, out, err = circctl(h, "selfcheck", "kiosk", "checkout", "S4")
    check(code == 0, "circctl selfcheck checkout: %d %s %s" % (code, out, err))
    st = wait_state(h, "kiosk", lambda s: settled(s, ["S4"]), "S4 settled")
    check(item(st, "S4")["state"] == "failed" and item(st, "S4")["reason"] == "Item not for loan",
          "S4 fails with the ILS's reason: %s" % item(st, "S4"))

    # renew what she has
    code, out, err = circctl(h, "selfcheck", "kiosk", "renew", "R1")
    check(code == 0, "circctl selfcheck renew: %d %s %s" % (code, out, err))
    st = wait_state(h, "kiosk", lambda s: item(s, "R1", "renew") and
                    item(s, "R1", "renew")["state"] != "pending", "R1 renewed")
    check(item(st, "R1", "renew")["state"] == "ok" and item(st, "R1", "renew")["due_date"],
          "renewal ok with a due date: %s" % item(st, "R1", "renew"))

    code, out, err = circctl(h, "selfcheck", "kiosk", "status")
    check(code == 0 and "S3" in out and "Item on hold for another patron" in out,
          "circctl selfcheck status shows the reason: %s" % out)

    code, out, err = circctl(h, "selfcheck", "kiosk", "end", "--json")
    check(code == 0, "circctl selfcheck end: %d %s %s" % (code, out, err))
    receipt = json.loads(out)
    lent = {x["item_id"]: x for x in receipt["items"]}
    check(set(lent) == {"S1", "S2", "R1"}, "receipt items: %s" % receipt)
    check(lent["S1"]["title"] == "The first book" and lent["S1"]["due_date"], "receipt: %s" % lent)
    check({x["item_id"] for x in receipt["failed"]} == {"S3", "S4"}, "receipt failures: %s" % receipt)
    check(status(h, "kiosk")["state"] == "ended", "session ended")

    # what the ILS heard
    wait_state(h, "kiosk", lambda s: len(acs.messages("35")) == 1, "35 sent")
    ad = [m["fields"].get("AD") for m in acs.messages("63")]
    check(ad == [None, ["0000"], [PIN]], "the PINs reached the ILS in 63 AD only: %s" % ad)
    check(len(acs.messages("11")) == 4 and len(acs.messages("29")) == 1, "11 x4, 29 x1")

    # the journal: checkouts with the patron, the session event
    rows = h.query("SELECT t.item_id, t.patron_id, d.state FROM transactions t JOIN deliveries d"
                   " ON d.txn_id = t.id AND d.upstream = 'ils' WHERE t.station = 'kiosk'"
                   " ORDER BY t.id")
    check(rows == [("S1", "p1", "done"), ("S2", "p1", "done"), ("S3", "p1", "rejected"),
                   ("S4", "p1", "rejected"), ("R1", "p1", "done")], "journal: %s" % rows)
    kinds = h.query("SELECT kind FROM transactions WHERE station = 'kiosk' ORDER BY id")
    check([k for (k,) in kinds] == ["checkout"] * 4 + ["renew"], "kinds: %s" % kinds)
    ev = [json.loads(d) for (d,) in h.query(
        "SELECT detail FROM events WHERE type = 'selfcheck-session'")]
    check(len(ev) == 1 and ev[0]["station"] == "kiosk" and ev[0]["patron"] == "p1" and
          ev[0]["items_ok"] == 3 and ev[0]["items_failed"] == 2 and ev[0]["offline"] is False,
          "selfcheck-session event: %s" % ev)
    refused = [json.loads(d)["reason"] for (d,) in h.query(
        "SELECT detail FROM events WHERE type = 'selfcheck-refused' ORDER BY id")]
    check(len(refused) == 2, "two refusals noted: %s" % refused)

    # renewals only: charge privileges denied
    op_ok(h, "kiosk", "begin", patron="p4")
    st = wait_state(h, "kiosk", lambda s: s["state"] != "starting", "p4 checked")
    check(st["state"] == "active" and st.get("renew_only") is True, "p4 may renew: %s" % st)
    h.inject("pad1", "tag-seen uid=E0040100000000A5 item=S5")
    st = wait_state(h, "kiosk", lambda s: settled(s, ["S5"]), "S5 settled")
    check(item(st, "S5")["state"] == "failed" and
          item(st, "S5")["reason"].startswith("patron blocked: Overdue items"),
          "S5 refused locally: %s" % item(st, "S5"))
    op_ok(h, "kiosk", "end")
    check(len(acs.messages("11")) == 4, "no 11 for a blocked patron")

    # a patron card (by barcode, as a card reader with a barcode reports it)
    h.inject("card1", "card barcode=p2")
    st = wait_state(h, "kiosk", lambda s: s["state"] == "active" and s["patron"]["id"] == "p2",
                    "the card began p2's session")
    check(st["patron"]["name"] == "Bo Borrower", "p2 checked: %s" % st)
    op_ok(h, "kiosk", "end")

    secret_nowhere(h, PIN)
    h.stop()
    log("self-check story done")


if __name__ == "__main__":
    main(story, timeout=60)

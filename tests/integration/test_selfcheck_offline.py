#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: self-check while the library system is down.

Two kiosks share one ILS that refuses every connection:
 - "strict" (offline = "refuse") turns the patron away with the reason;
 - "kiosk" (offline = "accept", offline_max_items = 2) begins the session
   offline: two books are lent provisionally (journaled, tags set on loan),
   the third fails with "offline limit reached", a renewal fails (it needs
   the ILS); the session event says offline.
When the ILS is back the two checkouts replay with SIP2's no-block flag
and the ILS records them."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from circdtest import check, log, main, wait_for  # noqa: E402
from selfcheck_lib import ACS, configure, item, kiosk, op, op_ok, settled, wait_state  # noqa: E402


def story(h):
    acs = ACS(fixture="acs-selfcheck.json", faults={"refuse_connections": True})
    configure(h, acs.port,
              [kiosk("kiosk", "pad1", "card1", offline="accept", offline_max_items=2),
               kiosk("strict", "pad2", "card2", offline="refuse")],
              ["pad1", "card1", "pad2", "card2"])
    h.start()

    op_ok(h, "strict", "begin", patron="p1")
    st = wait_state(h, "strict", lambda s: s["state"] != "starting", "strict answered")
    check(st["state"] == "refused" and st["reason"].startswith("the library system is offline"),
          "refuse mode refuses: %s" % st)

    op_ok(h, "kiosk", "begin", patron="p1")
    st = wait_state(h, "kiosk", lambda s: s["state"] != "starting", "kiosk answered")
    check(st["state"] == "active" and st["offline"] is True, "accept mode begins offline: %s" % st)
    for uid, it in (("E0040100000000B1", "S1"), ("E0040100000000B2", "S2"),
                    ("E0040100000000B5", "S5")):
        h.inject("pad1", "tag-seen uid=%s item=%s afi=07 eas=1" % (uid, it))
    st = wait_state(h, "kiosk", lambda s: settled(s, ["S1", "S2", "S5"]) and
                    item(s, "S2")["state"] == "ok", "three items settled")
    for i in ("S1", "S2"):
        x = item(st, i)
        check(x["state"] == "ok" and x["provisional"] is True and x["confirmed"] is False and
              x["security"] == "on-loan", "%s lent provisionally and un-secured: %s" % (i, x))
    x = item(st, "S5")
    check(x["state"] == "failed" and x["reason"].startswith("offline limit reached"),
          "the third is over the limit: %s" % x)
    op_ok(h, "kiosk", "renew", item="R1")
    st = wait_state(h, "kiosk", lambda s: item(s, "R1", "renew")["state"] == "failed", "renew failed")
    check("library system" in item(st, "R1", "renew")["reason"], "renewal needs the ILS: %s" % st)
    r = op_ok(h, "kiosk", "end")
    check(r["offline"] is True and {x["item_id"] for x in r["items"]} == {"S1", "S2"} and
          all(x.get("provisional") for x in r["items"]), "receipt: provisional loans: %s" % r)
    ev = [json.loads(d) for (d,) in h.query(
        "SELECT detail FROM events WHERE type = 'selfcheck-session'")]
    check(len(ev) == 1 and ev[0]["offline"] is True and ev[0]["items_ok"] == 2 and
          ev[0]["items_failed"] == 2 and ev[0]["items_provisional"] == 2, "session event: %s" % ev)
    check(acs.messages("11") == [], "nothing reached the ILS while it was down")

    # a second offline session of the same patron: the limit counts the
    # unconfirmed loans in the journal, not the session
    op_ok(h, "kiosk", "begin", patron="p1")
    wait_state(h, "kiosk", lambda s: s["state"] == "active", "second offline session")
    h.inject("pad1", "tag-seen uid=E0040100000000B6 item=S6")
    st = wait_state(h, "kiosk", lambda s: settled(s, ["S6"]), "S6 settled")
    check(item(st, "S6")["reason"].startswith("offline limit reached"), "still limited: %s" % st)
    op_ok(h, "kiosk", "end")

    log("the ILS comes back")
    acs.set_faults({})
    wait_for(lambda: h.query("SELECT count(*) FROM deliveries d JOIN transactions t ON t.id ="
                             " d.txn_id WHERE d.upstream = 'ils' AND d.state = 'done'"
                             " AND t.kind = 'checkout'")[0][0] == 2, 40, "the loans replayed")
    msgs = acs.messages("11")
    check(sorted(m["fields"]["AB"][0] for m in msgs) == ["S1", "S2"], "11 for S1, S2: %s" % msgs)
    check(all(m["raw"][3] == "Y" for m in msgs), "replayed with no block = Y: %s" %
          [m["raw"][:24] for m in msgs])
    check(all(m["fields"]["AA"] == ["p1"] for m in msgs), "for the patron")
    check(op(h, "strict", "status")["state"] == "refused", "strict kept its refusal")
    h.stop()


if __name__ == "__main__":
    main(story, timeout=70)

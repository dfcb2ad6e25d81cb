#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story (d): the line to the ACS is bad while 400 books are returned.

The emulator, in turns, answers with a wrong checksum (corrupt_checksum),
with garbage bytes (garbage), with 96 "please resend" instead of processing
(resend_96), and sends half an answer and closes (close_mid_response).

  - circd resends (97 for an unreadable answer, the same message after a
    96) and reconnects, and keeps running;
  - every return is processed by the ACS exactly once, in order.  The
    emulator logs every 09 it *received*: one it answered 96 to (not
    processed) shows as the same message again right after it on the same
    connection, so those are counted out;
  - a checkin whose answer was cut off is re-sent after the reconnect as
    maybe sent: 17 first, and the item is already back, so no second 09;
  - the upstream's health is DEGRADED after an answer that needed a resend
    and OK again after a clean one ({"cmd":"status"}), and both changes
    are logged."""
import collections
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from story_lib import (ACS, check, configure, deliveries, item_id, log, main,  # noqa: E402
                       make_fixture, upstream_status, wait_done, wait_for)

N = 400
PHASES = [(40, {"corrupt_checksum": 2}), (90, {"garbage": 2}), (140, {"resend_96": 2}),
          (190, {"close_mid_response": 1}), (250, {"corrupt_checksum": 1, "garbage": 1})]


def processed_checkins(acs):
    """The 09s the ACS processed, in order: drop one that the ACS answered
    with 96 (its log records that answer right after the message)."""
    recs = acs.log_records()
    nxt = {}
    out, answered_96 = [], 0
    for k in range(len(recs) - 1, -1, -1):
        m = recs[k]
        following = nxt.get(m["conn"])
        nxt[m["conn"]] = m
        if m.get("id") != "09":
            continue
        if following is not None and following.get("answer") == "96":
            answered_96 += 1
            continue
        out.append(m["fields"]["AB"][0])
    out.reverse()
    return out, answered_96


def story(h):
    acs = ACS(fixture=make_fixture(h, N + 2))
    configure(h, acs.port, N, interval_ms=2, upstream_opts={"request_timeout_ms": 1500})
    t0 = time.monotonic()
    h.start()
    for at, faults in PHASES:
        wait_for(lambda: len(acs.messages("09")) >= at, 20, "%d checkins at the ACS" % at,
                 interval=0.005)
        acs.set_faults(faults)
        log("at %d checkins: faults %s" % (at, faults))
    wait_done(h, N, 30)
    check(h.running(), "circd is still running after the bad answers")

    # health: one answer that needed a resend -> DEGRADED, a clean one -> OK
    acs.set_faults({"corrupt_checksum": 1})
    h.inject("drop1", "tag uid=E004020000000001 item=%s dwell=1" % item_id(N))
    wait_done(h, N + 1, 10)
    u = wait_for(lambda: (lambda x: x if x["health"] == "degraded" else None)(upstream_status(h)),
                 5, "health DEGRADED after an answer that needed a resend")
    check(True, "after an answer that needed a resend the upstream is DEGRADED (%s)"
          % u["last_error"])
    acs.set_faults({})
    h.inject("drop1", "tag uid=E004020000000002 item=%s dwell=1" % item_id(N + 1))
    wait_done(h, N + 2, 10)
    wait_for(lambda: upstream_status(h)["health"] == "ok", 5, "health OK after a clean answer")
    check(True, "after a clean answer it is OK again")
    text = h.last_log()
    i_deg = text.find("ils: degraded")
    check(i_deg >= 0 and text.find("ils: ok", i_deg) > i_deg,
          "the log shows the upstream going DEGRADED and then OK")
    elapsed = time.monotonic() - t0
    time.sleep(0.2)

    rows = deliveries(h)
    want = [item_id(i) for i in range(N + 2)]
    got, answered_96 = processed_checkins(acs)
    msgs = acs.messages()
    n97 = sum(1 for m in msgs if m["id"] == "97")
    conns = len(set(m["conn"] for m in msgs))
    check(n97 >= 1, "circd asked the ACS to resend unreadable answers (%d 97s)" % n97)
    check(answered_96 >= 1, "circd resent what the ACS answered 96 to (%d)" % answered_96)
    check(conns >= 2, "circd reconnected after the answer cut in half (%d connections)" % conns)
    per_item = collections.Counter(got)
    twice = sorted(i for i, c in per_item.items() if c > 1)
    check(sorted(per_item) == want, "every return was processed by the ACS (%d of %d)"
          % (len(per_item), len(want)))
    check(not twice, "none was processed twice (%s)" % twice[:5])
    check(got == [r[1] for r in rows], "in journal order")
    states = collections.Counter(r[3] for r in rows)
    check(states == {"done": N + 2}, "every delivery is done (%s)" % dict(states))
    applied = sum(1 for r in rows if r[6] and r[6].get("already_applied"))
    check(h.stop() == 0, "circd exits 0 on SIGTERM")
    log("MEASURED: %d 97s, %d resends after 96, %d connections, %d checkins found already"
        " applied by 17 after the reconnect; %.1f s" % (n97, answered_96, conns, applied, elapsed))


if __name__ == "__main__":
    main(story, timeout=60)

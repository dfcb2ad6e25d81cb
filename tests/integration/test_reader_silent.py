#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: both readers stop answering for a while (`fault silent 20`).

The real circd with the feig plugin (feig_emulator.py over a pty pair), the
3m810 plugin (m3m_emulator.py over loopback TCP) and a sim device at one
bookdrop (debounce 0).  A book lies on each reader all along.  Then each
emulator leaves its next 20 requests unanswered.

Each plugin says so as it defines it: feig turns DEGRADED after three
missing answers in a row and stays so (the port is still there: a silent
FEIG reader is not "offline"); 3m810 takes `max_timeouts` (3) silent
requests in a row for a pulled cable: OFFLINE, with the reason and the
device-offline MESSAGE_ID, and reconnects with backoff.  Meanwhile the sim
device's returns go on.  When the readers answer again both are ok by
themselves; the lingering books were never reported gone (no second
checkin), and new books through both readers are checkins."""
import collections
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from readers_lib import (MSGID_DEVICE_OFFLINE, check, checkins, circctl, device,  # noqa: E402
                         encode_item, health_lines, log, PtyReader, start_circd,
                         TcpReader, wait_checkin, wait_for, wait_health)
from circdtest import main  # noqa: E402

SILENT = 20



def story(h):
    feig = PtyReader(h, "feig", "feig_emulator.py")
    m3m = TcpReader(h, "m3m", "m3m_emulator.py")
    readers = {"feig1": feig, "m3m1": m3m}
    h.config(
        devices=[
            {"name": "feig1", "plugin": "feig", "port": feig.port(), "poll_ms": 20,
             "gone_after": 2},
            # 100 ms per unanswered request keeps the story short; 3 in a row
            # (the default max_timeouts) count as a pulled cable
            {"name": "m3m1", "plugin": "3m810", "port": m3m.port(), "poll_ms": 20,
             "gone_after": 2, "timeout_ms": 100},
            {"name": "drop1", "plugin": "sim"},
        ],
        stations=[{"name": "returns", "role": "bookdrop", "debounce_ms": 0,
                   "devices": ["feig1", "m3m1", "drop1"]}])
    journal = start_circd(h)
    for name in ("feig1", "m3m1", "drop1"):
        wait_health(h, name, "ok", 5)
    check(True, "feig1 (pty), m3m1 (TCP) and drop1 (sim) are ok")
    feig.add("E004010000F0A000", "F-LINGER")
    m3m.add("E00401000030A000", "M-LINGER")
    wait_checkin(h, "F-LINGER")
    wait_checkin(h, "M-LINGER")
    check(True, "a book lies on each reader, checked in")

    base = {d: r.counter("faults_taken") for d, r in readers.items()}
    t0 = time.monotonic()
    for r in readers.values():
        r.say("fault silent %d" % SILENT)

    d = wait_health(h, "feig1", "degraded", 3)
    log("feig1 degraded %.2f s into the silence" % (time.monotonic() - t0))
    m = re.match(r"reader answers badly or not at all \(bad frames 0, timeouts (\d+), "
                 r"RF errors 0\)$", d["reason"])
    check(m and int(m.group(1)) >= 3,
          "feig1 is DEGRADED, the silence counted as timeouts (not bad frames) in its "
          "reason: %r" % d["reason"])
    d = wait_health(h, "m3m1", "offline", 3)
    log("m3m1 offline %.2f s into the silence" % (time.monotonic() - t0))
    check(d["reason"].startswith("no answer to 3 requests in a row"),
          "m3m1 is OFFLINE: %r" % d["reason"])
    rc, text = circctl(h, "status", "--json")
    js = {x["name"]: x for x in json.loads(text)["devices"]}
    check(rc == 1 and js["feig1"]["health"] == "degraded" and js["m3m1"]["health"] == "offline"
          and js["drop1"]["health"] == "ok",
          "circctl status --json (exit %d): feig1 degraded, m3m1 offline, drop1 ok" % rc)
    if journal:
        off = journal.find(lambda e: e.get("MESSAGE_ID") == MSGID_DEVICE_OFFLINE)
        check(off and all(e.get("CIRCD_DEVICE") == "m3m1" for e in off) and
              off[0]["MESSAGE"].startswith("m3m1: offline: no answer to 3 requests in a row"),
              "device-offline entries for m3m1 only: %s" % [e["MESSAGE"] for e in off])

    # The sim device is not held up by the silent readers.
    for i in range(1, 4):
        h.inject("drop1", "tag uid=E00401000050000%d dsfid=06 block_size=4 mem=%s dwell=30"
                 % (i, encode_item("S-%04d" % i)))
        c = wait_checkin(h, "S-%04d" % i, timeout=3)
        check(c["device"] == "drop1", "S-%04d at drop1 is a checkin while the readers are silent"
              % i)
    left = base["feig1"] + SILENT - feig.counter("faults_taken")
    check(left > 0, "all that while feig1's reader was still silent (%d requests to go)" % left)

    wait_for(lambda: all(r.counter("faults_taken") == base[dv] + SILENT
                         for dv, r in readers.items()), 15, "both silences to end")
    wait_health(h, "feig1", "ok", 3)
    wait_health(h, "m3m1", "ok", 8)
    log("both readers ok again %.2f s after the silence began" % (time.monotonic() - t0))
    fh, mh = health_lines(h, "feig1"), health_lines(h, "m3m1")
    check([re.sub(r" \(bad frames 0, timeouts \d+, RF errors 0\)$", "", l) for l in fh] ==
          ["feig1: ok: reader answers", "feig1: degraded: reader answers badly or not at all",
           "feig1: ok: reader answers"],
          "feig1: ok, degraded, ok (never offline): %s" % fh)
    check(mh[-1] == "m3m1: ok: reader answers" and
          [l.split(":")[1] for l in mh] == [" ok", " offline", " ok"],
          "m3m1: ok, offline, ok: %s" % mh)

    # New books through both readers; the lingering ones never left.
    feig.add("E004010000F0B001", "F-AFTER")
    m3m.add("E00401000030B001", "M-AFTER")
    wait_checkin(h, "F-AFTER")
    wait_checkin(h, "M-AFTER")
    check(True, "new books through feig1 and m3m1 are checkins")
    for dv in readers:
        check(device(h, dv)["events"] == 2,
              "%s reported 2 tags seen, none gone (the lingering book was not lost)" % dv)
    for r in readers.values():
        for uid in r.state()[0]:
            r.remove(uid)
    wait_for(lambda: all(device(h, dv)["events"] == 4 for dv in readers), 5,
             "the books to leave")
    rc = h.stop()
    check(rc == 0, "circd exits 0 on SIGTERM (got %d)" % rc)
    items = collections.Counter(x["item_id"] for x in checkins(h))
    want = {"F-LINGER", "M-LINGER", "F-AFTER", "M-AFTER", "S-0001", "S-0002", "S-0003"}
    check(set(items) == want and all(v == 1 for v in items.values()),
          "each of the %d books is exactly one checkin (%s)" % (len(want), dict(items)))
    states = dict(h.query("SELECT state, count(*) FROM deliveries GROUP BY state"))
    check(states == {"done": len(want)}, "every delivery is done (%s)" % states)
    feig.stop()
    m3m.stop()


if __name__ == "__main__":
    main(story)

#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: a reader's cable is pulled and put back, and nobody else notices.

One return slot with three readers: a FEIG reader on a serial line (the
real feig plugin, tests/emulators/feig_emulator.py on a pty pair behind a
stable symlink), a 3M 810 behind a serial-to-Ethernet converter (the real
3m810 plugin, m3m_emulator.py on loopback TCP) and a sim device.  Tags carry
ISO 28560-2 memory made by `circctl tag encode`; every return becomes one
checkin with the decoded item id.

1. The FEIG cable is pulled (emulator killed, pty closed, device node
   gone): `circctl status` and `--json` show feig1 "offline" with the
   reason, the log has the offline line with MESSAGE_ID device-offline, and
   meanwhile returns at the 3M reader and the sim device are journaled and
   forwarded while their health stays ok.  The cable goes back (a new pty
   behind the same symlink): feig1 is ok again by itself and a book through
   it is a checkin.
2. The same with a TCP connection the 3M converter drops and refuses for a
   while (emulator `unplug 1500`: an end of file), and
3. with a connection reset on the way (an RST from a relay in front of the
   converter, then refused with RSTs for a second).

At the end: every book exactly once in the jsonl sink and the journal,
every delivery done, and each reader reported each tag seen once and gone
once (no false departure or second arrival across the outages)."""
import collections
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from readers_lib import (MSGID_DEVICE_OFFLINE, check, checkins, circctl, device,  # noqa: E402
                         encode_item, health, health_lines, log, PtyReader,
                         ResetProxy, start_circd, TcpReader, wait_checkin, wait_for,
                         wait_health)
from circdtest import main  # noqa: E402



def story(h):
    feig = PtyReader(h, "feig", "feig_emulator.py")
    m3m = TcpReader(h, "m3m", "m3m_emulator.py")
    net = ResetProxy(m3m.tcp_port)  # the network between circd and the converter
    h.config(
        devices=[
            {"name": "feig1", "plugin": "feig", "port": feig.port(), "poll_ms": 20,
             "gone_after": 2},
            {"name": "m3m1", "plugin": "3m810", "port": "tcp:127.0.0.1:%d" % net.port, "poll_ms": 20,
             "gone_after": 2, "timeout_ms": 200},
            {"name": "drop1", "plugin": "sim"},
        ],
        # debounce 0: a false departure and return would be a second checkin
        stations=[{"name": "returns", "role": "bookdrop", "debounce_ms": 0,
                   "devices": ["feig1", "m3m1", "drop1"]}])
    journal = start_circd(h)
    for name in ("feig1", "m3m1", "drop1"):
        wait_health(h, name, "ok", 5)
    check(True, "feig1 (pty), m3m1 (TCP) and drop1 (sim) are ok")

    n = collections.Counter()  # tags through each reader
    uids = {"feig1": 0xE004010000F00000, "m3m1": 0xE004010000300000, "drop1": 0xE004010000500000}

    def book(dev, item, wait=True):
        """One book through a reader: in the field, a checkin, out again."""
        n[dev] += 1
        uid = "%016X" % (uids[dev] + n[dev])
        if dev == "drop1":
            h.inject("drop1", "tag uid=%s dsfid=06 block_size=4 mem=%s dwell=60"
                     % (uid, encode_item(item)))
        else:
            r = feig if dev == "feig1" else m3m
            r.add(uid, item)
        if not wait:
            return uid
        c = wait_checkin(h, item)
        check(c["device"] == dev and c["station"] == "returns",
              "%s through %s is a checkin (txn %d)" % (item, dev, c["id"]))
        if dev != "drop1":
            r.remove(uid)
        return uid

    book("feig1", "F-0001")
    book("m3m1", "M-0001")
    book("drop1", "S-0001")

    # ---- 1. the FEIG cable is pulled ----
    before = {name: len(health_lines(h, name)) for name in ("m3m1", "drop1")}
    t_pull = time.monotonic()
    feig.unplug()
    d = wait_health(h, "feig1", "offline", 3)
    log("feig1 offline %.2f s after the pull: %s" % (time.monotonic() - t_pull, d["reason"]))
    check(d["reason"] != "", "status gives feig1 a reason: %r" % d["reason"])
    rc, text = circctl(h, "status")
    row = [l for l in text.splitlines() if "feig1" in l]
    check(rc == 1 and row and "offline" in row[0],
          "circctl status exits 1 (degraded) and shows feig1 offline: %r" % row)
    rc, text = circctl(h, "status", "--json")
    js = {x["name"]: x for x in json.loads(text)["devices"]}
    check(js["feig1"]["health"] == "offline" and js["feig1"]["reason"] == d["reason"],
          "circctl status --json: feig1 offline, reason %r" % js["feig1"]["reason"])
    check(js["m3m1"]["health"] == "ok" and js["drop1"]["health"] == "ok",
          "circctl status --json: m3m1 and drop1 ok")
    wait_for(lambda: any(l.startswith("feig1: offline: ") for l in health_lines(h, "feig1")), 2,
             "the offline line in the log")
    check(True, "the log says: %s" % [l for l in health_lines(h, "feig1") if "offline" in l][0])
    if journal:
        off = journal.find(lambda e: e.get("MESSAGE_ID") == MSGID_DEVICE_OFFLINE and
                           e.get("CIRCD_DEVICE") == "feig1")
        check(len(off) == 1 and off[0]["MESSAGE"].startswith("feig1: offline") and
              off[0]["PRIORITY"] == "4" and off[0].get("CIRCD_PLUGIN") == "feig",
              "one journal entry MESSAGE_ID=%s, CIRCD_DEVICE=feig1, PRIORITY=4: %s"
              % (MSGID_DEVICE_OFFLINE, [e["MESSAGE"] for e in off]))

    # Meanwhile the other two readers go on as if nothing happened.
    for i in range(2, 5):
        book("m3m1", "M-%04d" % i)
        book("drop1", "S-%04d" % i)
        check(health(h, "m3m1") == "ok" and health(h, "drop1") == "ok",
              "m3m1 and drop1 still ok")
    check(health(h, "feig1") == "offline", "feig1 still offline (it is still unplugged)")

    # ---- the cable goes back in ----
    time.sleep(max(0.0, t_pull + 1.0 - time.monotonic()))
    t_plug = time.monotonic()
    feig.plug()
    wait_health(h, "feig1", "ok", 8)
    log("feig1 ok again %.2f s after the cable went back" % (time.monotonic() - t_plug))
    check(health_lines(h, "feig1")[-1].startswith("feig1: ok"), "the log says feig1: ok")
    book("feig1", "F-0002")
    for name in ("m3m1", "drop1"):
        check(len(health_lines(h, name)) == before[name],
              "no health change of %s in the log while feig1 was away" % name)

    # ---- 2. the 3M converter drops the TCP connection ----
    before = {name: len(health_lines(h, name)) for name in ("feig1", "drop1")}
    t_pull = time.monotonic()
    m3m.say("unplug 1500")
    d = wait_health(h, "m3m1", "offline", 3)
    log("m3m1 offline %.2f s after the drop: %s" % (time.monotonic() - t_pull, d["reason"]))
    check(d["reason"] != "", "status gives m3m1 a reason: %r" % d["reason"])
    rc, text = circctl(h, "status")
    row = [l for l in text.splitlines() if "m3m1" in l]
    check(rc == 1 and row and "offline" in row[0], "circctl status shows m3m1 offline: %r" % row)
    if journal:
        off = journal.find(lambda e: e.get("MESSAGE_ID") == MSGID_DEVICE_OFFLINE and
                           e.get("CIRCD_DEVICE") == "m3m1")
        check(len(off) >= 1 and off[0]["MESSAGE"].startswith("m3m1: offline"),
              "journal entry MESSAGE_ID=%s for m3m1: %s" % (MSGID_DEVICE_OFFLINE,
                                                           [e["MESSAGE"] for e in off]))
    for i in range(3, 5):
        book("feig1", "F-%04d" % i)
        book("drop1", "S-%04d" % (i + 2))
    check(health(h, "feig1") == "ok" and health(h, "drop1") == "ok",
          "feig1 and drop1 ok while m3m1 is away")
    wait_health(h, "m3m1", "ok", 8)
    log("m3m1 ok again %.2f s after the drop" % (time.monotonic() - t_pull))
    book("m3m1", "M-0005")
    for name in ("feig1", "drop1"):
        check(len(health_lines(h, name)) == before[name],
              "no health change of %s in the log while m3m1 was away" % name)

    # ---- 3. the network resets the connection (RST, not an end of file) ----
    before = {name: len(health_lines(h, name)) for name in ("feig1", "drop1")}
    n_off = len([l for l in health_lines(h, "m3m1") if "offline" in l])
    t_pull = time.monotonic()
    net.reset(1000)
    d = wait_health(h, "m3m1", "offline", 3)
    log("m3m1 offline %.2f s after the reset: %s" % (time.monotonic() - t_pull, d["reason"]))
    check("reset" in d["reason"].lower(), "status gives the reset as m3m1's reason: %r"
          % d["reason"])
    if journal:
        off = journal.find(lambda e: e.get("MESSAGE_ID") == MSGID_DEVICE_OFFLINE and
                           e.get("CIRCD_DEVICE") == "m3m1")
        check(len(off) == n_off + 1 and "reset" in off[-1]["MESSAGE"].lower(),
              "a new device-offline journal entry for m3m1: %r" % off[-1]["MESSAGE"])
    book("feig1", "F-0005")
    book("drop1", "S-0007")
    wait_health(h, "m3m1", "ok", 8)
    log("m3m1 ok again %.2f s after the reset (%d RSTs sent)" % (time.monotonic() - t_pull,
                                                                net.resets))
    book("m3m1", "M-0006")
    for name in ("feig1", "drop1"):
        check(len(health_lines(h, name)) == before[name],
              "no health change of %s in the log while m3m1 was reset" % name)

    # ---- the books, once each ----
    total = sum(n.values())
    wait_for(lambda: h.status()["backlog"]["pending"] == 0, 5, "an empty backlog")
    time.sleep(0.3)  # a late duplicate would show now (poll 20 ms, gone after 2)
    st = h.status()
    for dev in ("feig1", "m3m1"):
        ev = device(h, dev, st)["events"]
        check(ev == 2 * n[dev], "%s reported %d events: each of its %d tags seen once, gone once"
              % (dev, ev, n[dev]))
    rc = h.stop()
    check(rc == 0, "circd exits 0 on SIGTERM (got %d)" % rc)
    lines = checkins(h)
    items = collections.Counter(x["item_id"] for x in lines)
    check(len(lines) == total and all(v == 1 for v in items.values()),
          "each of the %d books is exactly one checkin (%s)" % (total, dict(items)))
    check(all(x["device"] == {"F": "feig1", "M": "m3m1", "S": "drop1"}[x["item_id"][0]]
              for x in lines), "each checkin names the reader the book went through")
    jids = [r[0] for r in h.query("SELECT id FROM transactions ORDER BY id")]
    check(jids == [x["id"] for x in lines], "the journal holds exactly the forwarded checkins")
    states = dict(h.query("SELECT state, count(*) FROM deliveries GROUP BY state"))
    check(states == {"done": total}, "every delivery is done (%s)" % states)
    net.close()
    feig.stop()
    m3m.stop()


if __name__ == "__main__":
    main(story)

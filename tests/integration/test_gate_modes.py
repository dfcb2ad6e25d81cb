#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: a patron walks out through the gate with three books in the bag,
at four gates that each decide in another mode (afi, eas, cache,
afi-then-cache), with the library system (ACS emulator, SIP2) behind them.

- GA0001 was on loan and has just been returned at this site's book drop:
  it is in stock again and its tag was re-secured (AFI 07, EAS on).  It
  must not leave: every gate alarms.
- GB0002 is on loan, its tag was flipped at checkout (AFI C2, EAS off):
  every gate is silent.
- GC0003 is on loan too, but its tag was NOT flipped (AFI 07, EAS on) --
  the self-check's write did not take.  The tag-only gates (afi, eas) alarm,
  the cache gates know better and are silent.

The cache learns GA0001 from this site's own checkin and GB0002/GC0003 from
17 lookups (`item --refresh`).  Alarms are journaled (kind "alarm", with
gate, direction, mode, reason), sounded on the reader (the sim logs the
command), and verified by the ILS with a 17 where verify_alarms is on:
GA0001 is a true alarm, GC0003 at the afi gate a false one.  The eas gate
has verify_alarms = false: its alarms reach the jsonl sink but not the ILS.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gate_lib  # noqa: E402
from circdtest import check, log, main, wait_for  # noqa: E402
from story_lib import ACS, sip2_upstream, wait_done  # noqa: E402

GATES = {  # station: (reader, mode, extra options)
    "g_afi": ("r_afi", "afi", {}),
    "g_eas": ("r_eas", "eas", {"verify_alarms": False}),
    "g_cache": ("r_cache", "cache", {}),
    "g_atc": ("r_atc", "afi-then-cache", {}),
}
A, B, C = "GA0001", "GB0002", "GC0003"
UID = {A: "E0040100000000A1", B: "E0040100000000B2", C: "E0040100000000C3"}
# what each gate must do with each book
EXPECT_ALARM = {
    "g_afi": {A, C}, "g_eas": {A, C}, "g_cache": {A}, "g_atc": {A},
}
EXPECT_REASON = {
    ("g_afi", A): "afi-secured", ("g_afi", C): "afi-secured",
    ("g_eas", A): "eas-on", ("g_eas", C): "eas-on",
    ("g_cache", A): "cache-not-on-loan", ("g_atc", A): "afi-secured",
}


def fixture(h):
    with open(os.path.join(gate_lib.SRCDIR, "tests", "emulators", "acs-stories.json")) as f:
        fx = json.load(f)
    for item, title in ((A, "The returned one"), (B, "The borrowed one"), (C, "The unflipped one")):
        fx["items"][item] = {"title": title, "status": "04", "patron": "p1", "location": "main"}
    return h.write("acs-gate.json", json.dumps(fx))


def story(h):
    acs = ACS(fixture=fixture(h))
    mem = {item: gate_lib.tag_memory(item) for item in (A, B, C)}
    devices = [{"name": "drop1", "plugin": "sim"}]
    stations = [{"name": "returns", "role": "bookdrop", "devices": ["drop1"]}]
    for gate, (reader, mode, extra) in GATES.items():
        devices.append({"name": reader, "plugin": "sim"})
        st = {"name": gate, "role": "gate", "devices": [reader], "mode": mode}
        st.update(extra)
        stations.append(st)
    upstreams = [sip2_upstream(h, acs.port),
                 {"name": "out", "plugin": "jsonl", "path": h.out_path}]
    h.config(devices, stations, upstreams)
    h.start()

    # GA0001 comes back through the book drop: checkin, answered by the ILS.
    h.inject("drop1", "tag uid=%s mem=%s afi=07 eas=1 dwell=50" % (UID[A], mem[A]))
    wait_done(h, 1, 10, "the checkin of %s answered by the ILS" % A)
    # GB0002 and GC0003: the cache learns them from 17 lookups.
    for item in (B, C):
        check(h.ctl_ok("item", item=item, refresh=True)["refresh"] == "queued",
              "17 lookup of %s queued" % item)
    wait_for(lambda: len(h.query("SELECT 1 FROM items WHERE item_id IN (?, ?) AND"
                                 " circulation_status = '04'", B, C)) == 2,
             10, "the items table to know %s and %s are charged" % (B, C))
    row = h.query("SELECT circulation_status FROM items WHERE item_id = ?", A)
    check(row == [("09",)], "the items table has %s as 09 (checked in here): %s" % (A, row))

    # The patron walks out through every gate.
    for gate, (reader, _, _) in GATES.items():
        h.inject(reader, "gate-pass dir=out")
        h.inject(reader, "tag-seen uid=%s mem=%s afi=07 eas=1" % (UID[A], mem[A]))
        h.inject(reader, "tag-seen uid=%s mem=%s afi=C2 eas=0" % (UID[B], mem[B]))
        h.inject(reader, "tag-seen uid=%s mem=%s afi=07 eas=1" % (UID[C], mem[C]))
    wait_for(lambda: all(gate_lib.counts(h, g)["reads"] >= 3 for g in GATES), 10, "every gate saw 3 tags")
    wait_for(lambda: sum(len(v) for v in EXPECT_ALARM.values()) <= len(gate_lib.alarms(h)),
             10, "the alarms in the journal")

    for gate, (reader, mode, _) in GATES.items():
        got = gate_lib.alarms(h, gate)
        items = sorted(a[1] for a in got)
        check(items == sorted(EXPECT_ALARM[gate]),
              "%s (mode %s) alarms for %s and no other book (%s)"
              % (gate, mode, sorted(EXPECT_ALARM[gate]), items))
        for _, item, d in got:
            check(d["gate"] == gate and d["mode"] == mode and d["direction"] == "out" and
                  d["reason"] == EXPECT_REASON[(gate, item)] and "afi" in d and "eas" in d,
                  "%s: the alarm for %s is journaled with gate, mode, direction out, reason %s, "
                  "afi, eas" % (gate, item, EXPECT_REASON[(gate, item)]))
        c = gate_lib.counts(h, gate)
        check(c["passes"]["out"] == 1 and c["alarms"] == len(EXPECT_ALARM[gate]) and
              c["silent"] == 3 - len(EXPECT_ALARM[gate]),
              "%s counts 1 person out, %d alarms, %d silent (%s)"
              % (gate, len(EXPECT_ALARM[gate]), 3 - len(EXPECT_ALARM[gate]), c))

    # The alarm reached the reader (the sim logs each command it takes).
    wait_for(lambda: gate_lib.sim_alarm_lines(h, UID[A]) == 4, 5, "4 alarm commands for A")
    check(gate_lib.sim_alarm_lines(h, UID[B]) == 0, "no alarm command for the borrowed book")
    check(gate_lib.sim_alarm_lines(h, UID[C]) == 2, "2 alarm commands for C (afi, eas gates)")

    # Verification: a 17 per verified alarm; verdicts as events.
    wait_for(lambda: len(gate_lib.verdicts(h)) >= 4, 10, "4 alarm verdicts")
    v = {(x["station"], x["item_id"]): x["verdict"] for x in gate_lib.verdicts(h)}
    check(v == {("g_afi", A): "true", ("g_afi", C): "false", ("g_cache", A): "true",
                ("g_atc", A): "true"},
          "verdicts: A true at every verifying gate, C false at the afi gate, none from "
          "the eas gate (%s)" % v)
    c17 = {}
    for m in acs.messages("17"):
        item = m["fields"].get("AB", [""])[0]
        c17[item] = c17.get(item, 0) + 1
    check(c17.get(A) == 3, "the ILS was asked about %s 3 times: afi, cache, atc gates (%s)"
          % (A, c17))
    check(c17.get(C) == 2, "and about %s twice: the refresh and the afi gate's alarm (%s)"
          % (C, c17))
    ca = gate_lib.counts(h, "g_afi")["verdicts"]
    check(ca == {"true": 1, "false": 1, "unknown": 0}, "g_afi counts 1 true, 1 false alarm (%s)" % ca)

    # Every alarm is in the jsonl sink, the eas gate's too.
    wait_for(lambda: len([x for x in h.jsonl() if x["kind"] == "alarm"]) == 6, 10,
             "6 alarms in jsonl")
    eas = [x for x in h.jsonl() if x["kind"] == "alarm" and x["station"] == "g_eas"]
    check(len(eas) == 2 and all(x["detail"]["verify"] is False for x in eas),
          "the eas gate's 2 alarms are in jsonl, marked verify=false")
    ils = h.query("SELECT count(*) FROM deliveries d JOIN transactions t ON t.id = d.txn_id"
                  " WHERE t.station = 'g_eas' AND d.upstream = 'ils'")[0][0]
    check(ils == 0, "no delivery of the eas gate's alarms to the ILS (%d)" % ils)
    exc = h.ctl_ok("exceptions")["exceptions"]
    check(exc == [], "no exceptions (%s)" % exc)

    # circctl gate, the real client.
    out = __import__("subprocess").run(
        [gate_lib.CIRCCTL_BIN, "-s", os.path.join(h.run_dir, "control.sock"), "gate", "g_afi"],
        stdout=__import__("subprocess").PIPE, timeout=10).stdout.decode()
    log(out)
    check("people out" in out and "2 (verified: 1 true, 1 false, 0 unknown)" in out,
          "circctl gate g_afi shows the counts and verdicts")
    rc = h.stop()
    check(rc == 0, "circd exits 0")
    acs.stop()


if __name__ == "__main__":
    main(story)

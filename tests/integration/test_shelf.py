#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: a shelf reader with three antennas inventories the stacks.

Shelves A1 (call 000-199.99, antenna 1), A2 (200-399, antenna 2) and L1
(home location ANNEX, antenna 3) are read by a simulated multiplexed reader
whose arrivals and departures we play with `circctl sim`; the call numbers,
home locations and loans come from the library system (the ACS emulator
answers the station's 17 lookups over SIP2), one from the tag's own memory
(ISO 28560-2 shelf location).

  - a 250s book on A1 is misplaced, and a main-library book on L1 too;
  - a book read at the edge of A1 and A2 (a cross-read) is not misplaced;
  - a book that the ILS says is on loan sits on A2: on-shelf-loaned;
  - a book taken from A1 comes back a while later, not checked out:
    in-library use;
  - a book taken from A1 stays away past missing_after: missing;
  - a book missing from one inventory cycle only (a flicker) is nothing;
  - a tag whose memory says "050 TAG" on A2 is misplaced without asking
    the ILS;
and each of these is journaled once (more cycles add nothing), shown by
`circctl shelf report`, in a table and as JSON.
"""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "sip2"))

from circdtest import CIRCCTL_BIN, Failure, check, log, main, wait_for  # noqa: E402
from acs_harness import ACS  # noqa: E402

CYCLE_MS = 250
CYCLES = 4          # a tag gone for 1 s has left
MISSING_AFTER = 3   # seconds

ITEMS = {
    "S1": {"title": "Belongs on A1", "status": "03", "location": "main", "call_number": "100.5 ABC"},
    "S2": {"title": "Misplaced", "status": "03", "location": "main", "call_number": "250 DEF"},
    "S3": {"title": "Goes missing", "status": "03", "location": "main", "call_number": "150 GHI"},
    "S4": {"title": "Read in the library", "status": "03", "location": "main",
           "call_number": "120 JKL"},
    "S5": {"title": "On loan", "status": "04", "patron": "p1", "location": "main",
           "call_number": "300 MNO"},
    "S6": {"title": "Flickers", "status": "03", "location": "main", "call_number": "110 PQR"},
    "S7": {"title": "Annex book", "status": "03", "location": "ANNEX", "call_number": "900 STU"},
    "S8": {"title": "Main book in the annex", "status": "03", "location": "main",
           "call_number": "901 VWX"},
}


def uid(n):
    return "E0040150000000%02d" % n


def circctl(h, *args):
    r = subprocess.run([CIRCCTL_BIN, "-s", os.path.join(h.run_dir, "control.sock")]
                       + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def shelf_events(h):
    rows = h.query("SELECT detail FROM events WHERE type = 'shelf' ORDER BY id")
    return [json.loads(r[0]) for r in rows]


def anomalies(h):
    return sorted((e["shelf"], e["item_id"], e["anomaly"]) for e in shelf_events(h))


def report(h):
    return h.ctl_ok("station", station="stacks", op="report")


def shelf_of(rep, name):
    for s in rep["shelves"]:
        if s["shelf"] == name:
            return s
    raise Failure("no shelf %s in %s" % (name, rep))


def story(h):
    fixture = {
        "institution": "main", "library_name": "Main Library",
        "login": {"user": "circd", "password": "s3cret"},
        "timeout_period": "050", "retries_allowed": "003", "offline_ok": "Y",
        "items": ITEMS, "patrons": {"p1": {"name": "Ada Reader"}},
        "holds": [], "transits": {}, "sort_rules": [],
    }
    acs = ACS(fixture=h.write("acs-shelf.json", json.dumps(fixture)))
    try:
        run(h, acs)
    finally:
        acs.stop()


def run(h, acs):
    pw = h.write("acs.password", "s3cret\n")
    os.chmod(pw, 0o600)
    dev = {"name": "stacks1", "plugin": "sim"}
    st = {"name": "stacks", "role": "shelf", "devices": ["stacks1"],
          "shelves": ["A1 antenna=1 call=000-199.99",
                      "A2 antenna=2 call=200-399",
                      "L1 antenna=3 location=ANNEX"],
          "cycle_ms": CYCLE_MS, "cycles": CYCLES, "missing_after": "%ds" % MISSING_AFTER}
    up = {"name": "ils", "plugin": "sip2", "host": "127.0.0.1", "port": acs.port,
          "login_user": "circd", "password_file": pw, "location_code": "main",
          "institution": "main", "connect_timeout_ms": 500, "request_timeout_ms": 1000,
          "reconnect_min_ms": 20, "reconnect_max_ms": 200, "keepalive_s": 0}
    h.config([dev], [st], [up])
    rc = h.run_to_exit(["-t"])
    check(rc == 0, "circd -t accepts the shelf station (%s)" % rc)
    h.start()

    def seen(n, item, antenna):
        h.inject("stacks1", "tag-seen uid=%s antenna=%d item=%s" % (uid(n), antenna, item))

    def gone(n, antenna):
        h.inject("stacks1", "tag-gone uid=%s antenna=%d" % (uid(n), antenna))

    # First inventory: everything is on the shelves.
    for n, item, ant in ((1, "S1", 1), (2, "S2", 1), (3, "S3", 1), (4, "S4", 1), (5, "S5", 2),
                         (6, "S6", 1), (7, "S7", 3), (8, "S8", 3)):
        seen(n, item, ant)
    seen(1, "S1", 2)  # S1 is also read by antenna 2: a cross-read, not misplaced on A2
    mem = subprocess.run([CIRCCTL_BIN, "tag", "encode", "--model", "28560-2",
                          "--id", "T9", "--shelf", "050 TAG"], stdout=subprocess.PIPE,
                         check=True).stdout.decode().split()
    h.inject("stacks1", "tag-seen uid=%s antenna=2 dsfid=06 block_size=4 mem=%s"
             % (uid(9), "".join(mem)))

    want = [("A1", "S2", "misplaced"), ("A2", "S5", "on-shelf-loaned"), ("A2", "T9", "misplaced"),
            ("L1", "S8", "misplaced")]
    wait_for(lambda: anomalies(h) == want, 10, "the first anomalies %s (have %s)"
             % (want, anomalies(h)))
    t9 = [e for e in shelf_events(h) if e["item_id"] == "T9"][0]
    check(t9["call_number"] == "050 TAG" and t9["station"] == "stacks" and t9["shelf_rule"] ==
          "call 200..399", "T9's call number came from its tag: %s" % t9)
    s2 = [e for e in shelf_events(h) if e["item_id"] == "S2"][0]
    check(s2["call_number"] == "250 DEF" and s2["antenna"] == 1 and s2["uid"] == uid(2).lower(),
          "S2's note: %s" % s2)
    lookups = [m["fields"]["AB"][0] for m in acs.messages("17")]
    check("T9" not in lookups and "S2" in lookups,
          "the ILS was asked about the tags without a call number, not T9: %s" % lookups)

    rep = report(h)
    a1 = shelf_of(rep, "A1")
    check(a1["present"] == 5 and a1["belonging"] == 4, "A1 holds 5 tags, 4 belong: %s" % a1)
    check([x["item_id"] for x in a1["misplaced"]] == ["S2"], "A1's misplaced: %s" % a1)
    a2 = shelf_of(rep, "A2")
    check([x["item_id"] for x in a2["on_shelf_loaned"]] == ["S5"], "A2's loaned: %s" % a2)
    check(a2["present"] == 3, "A2 reads S1 (cross-read), S5 and T9: %s" % a2)

    # A flicker: S6 missing from one inventory cycle only.
    gone(6, 1)
    time.sleep(CYCLE_MS / 1000.0)
    seen(6, "S6", 1)
    # S4 is taken from the shelf and brought back after it has left (1 s).
    gone(4, 1)
    # S3 is taken and not brought back.
    gone(3, 1)
    wait_for(lambda: shelf_of(report(h), "A1")["away"] == 2, 5, "S3 and S4 have left A1")
    seen(4, "S4", 1)
    wait_for(lambda: ("A1", "S4", "in-library-use") in anomalies(h), 5, "S4's in-library use")
    wait_for(lambda: ("A1", "S3", "missing") in anomalies(h), MISSING_AFTER + 5, "S3 missing")

    # Several more cycles: nothing new, nothing twice, nothing for the flicker.
    time.sleep(4 * CYCLE_MS / 1000.0)
    want = sorted(want + [("A1", "S4", "in-library-use"), ("A1", "S3", "missing")])
    got = anomalies(h)
    check(got == want, "each anomaly once, none for the flicker or the cross-read:\n  got  %s\n"
          "  want %s" % (got, want))
    use = [e for e in shelf_events(h) if e["anomaly"] == "in-library-use"][0]
    check(1 <= use["away_s"] <= MISSING_AFTER and "left" in use, "in-library use: %s" % use)

    rep = report(h)
    a1 = shelf_of(rep, "A1")
    check([x["item_id"] for x in a1["missing"]] == ["S3"], "A1's missing: %s" % a1)
    check(a1["noted"] == {"misplaced": 1, "on-shelf-loaned": 0, "missing": 1, "in-library-use": 1},
          "A1's totals: %s" % a1["noted"])

    # circctl shelf report: the table and the JSON.
    rc, out, err = circctl(h, "shelf", "report")
    log(out)
    check(rc == 0, "circctl shelf report: %d %s" % (rc, err))
    for text in ("stacks", "A1", "call 000..199.99", "location ANNEX", "misplaced", "S2", "250 DEF",
                 "missing", "S3", "on-shelf-loaned", "S5", "S8"):
        check(text in out, "the report shows %r" % text)
    rc, out, err = circctl(h, "shelf", "report", "--station", "stacks", "--json")
    check(rc == 0, "circctl shelf report --json: %d %s" % (rc, err))
    js = json.loads(out)
    check(isinstance(js, list) and js[0]["station"] == "stacks" and
          shelf_of(js[0], "L1")["misplaced"][0]["item_id"] == "S8", "JSON report: %s" % out[:400])
    rc, out, err = circctl(h, "shelf", "report", "--station", "nosuch")
    check(rc == 1 and "nosuch" in err, "an unknown station is an error: %d %r" % (rc, err))
    h.stop()


if __name__ == "__main__":
    main(story)

#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: an evening at the sorting return slot.

The real circd with a sim reader at the slot, the modbus plugin driving
tests/emulators/modbus_sim as the sorter (etc/modbus/bookdrop-sorter.map)
and the sip2 upstream against the ACS emulator.  One by one come back: a
book another patron is waiting for (hold bin H, and re-secured: the next
read of the tag shows AFI 0x07), one in transit (T), one the ILS sorts
itself (CL B1), a children's book (collection rule), a novel (call-number
rule), a DVD (media rule), one from the annex (location rule), an ordinary
book (default), disc 1 of a 2-disc set without disc 2, a tag with garbage
memory and a drop with no tag at all (the last three: exception bin X).
Every decision is journaled as a "sort" event with its reason, the sorter
is told each bin's position, the intake is opened after each checkin's
commit, and the receipt carries the ILS's title and print lines."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bookdrop_lib import (ModbusSim, check, circctl, configure, events, fixture, log,  # noqa: E402
                          start_acs, station_ctl, station_exceptions, wait_device_ok,
                          wait_for, wait_sorted)
from circdtest import main  # noqa: E402

PART1 = "110201333030313233343500000000000000002DDC444535323600000000000000000000"

ITEMS = {
    "H1": {"title": "Held Book", "status": "04", "patron": "p1", "location": "main",
           "print_lines": ["HOLD FOR Bo Waiting", "Pick up within 7 days"]},
    "T1": {"title": "Travelling Book", "status": "04", "patron": "p1", "location": "main"},
    "A1": {"title": "Adult Book", "status": "04", "patron": "p1", "collection": "ADULT",
           "location": "main"},
    "K1": {"title": "Kids Book", "status": "04", "patron": "p1", "collection": "CHILDREN",
           "location": "main"},
    "N1": {"title": "A Novel", "status": "04", "patron": "p1", "call_number": "823.914 ROW",
           "location": "main"},
    "M1": {"title": "A Film", "status": "04", "patron": "p1", "media": "005", "location": "main"},
    "L1": {"title": "Annex Book", "status": "04", "patron": "p1", "location": "ANNEX"},
    "D1": {"title": "Plain Book", "status": "04", "patron": "p1", "location": "main"},
    "30012345": {"title": "Two Discs", "status": "04", "patron": "p1", "location": "main"},
}

# (inject line, key in sorts, expected bin, expected reason, sorter position)
RETURNS = [
    ("tag uid=E0040150000A0001 item=H1 afi=C2 eas=0 dwell=100", "H1", "H", "hold", 6),
    ("tag uid=E0040150000A0002 item=T1 afi=C2 eas=0 dwell=100", "T1", "T", "transit", 7),
    ("tag uid=E0040150000A0003 item=A1 dwell=100", "A1", "B1", "sort-bin", 1),
    ("tag uid=E0040150000A0004 item=K1 dwell=100", "K1", "3", "collection", 3),
    ("tag uid=E0040150000A0005 item=N1 dwell=100", "N1", "4", "call-number", 4),
    ("tag uid=E0040150000A0006 item=M1 dwell=100", "M1", "5", "media", 5),
    ("tag uid=E0040150000A0007 item=L1 dwell=100", "L1", "T", "location", 7),
    ("tag uid=E0040150000A0008 item=D1 dwell=100", "D1", "1", "default", 1),
    ("tag uid=E0040150000A0009 block_size=4 mem=%s dwell=100" % PART1, "30012345", "X",
     "incomplete-set", 0),
    ("tag uid=E0040150000A000A block_size=4 mem=5a17c3e8ff0012345b9a0b0c0d0e0f10 dwell=100",
     "", "X", None, 0),
    ("drop", "", "X", "no-tag", 0),
]


def story(h):
    acs = start_acs(h, fixture(h, ITEMS, holds=[{"item": "H1", "patron": "p2", "pickup": "main"}],
                               transits={"T1": "BRANCH2"}))
    mb = ModbusSim(h)
    try:
        configure(h, acs.port, mb)
        h.start()
        wait_device_ok(h, "sorter1")
        receipt_checked = False
        for n, (line, key, want_bin, want_reason, pos) in enumerate(RETURNS, 1):
            if line == "drop":
                time.sleep(0.4)  # past read_window_ms: no tag can pair with it
            h.inject("drop1", line)
            ev = wait_sorted(h, n)[-1]
            log("%s -> bin %s (%s)" % (key or line[:30], ev["bin"], ev["reason"]))
            if key:
                check(ev["item_id"] == key, "return %d is item %s" % (n, key))
            check(ev["bin"] == want_bin, "%s goes to bin %s (%s)" % (key or line[:20], want_bin, ev["bin"]))
            if want_reason:
                check(ev["reason"] == want_reason, "reason %s (%s)" % (want_reason, ev["reason"]))
            else:
                check(ev["reason"] in ("unreadable", "unknown-format"),
                      "garbage memory: reason %s" % ev["reason"])
            wait_for(lambda: len(mb.bins_selected()) >= n, 5, "the sorter's bin for return %d" % n)
            check(mb.bins_selected()[n - 1] == pos,
                  "the sorter was told position %d (%s)" % (pos, mb.bins_selected()))
            if key == "H1" and not receipt_checked:
                rc = station_ctl(h, "receipt", last=True)
                check(rc.get("ok") is True, "a receipt is there (%s)" % rc)
                r = rc["receipt"]
                check(r["title"] == "Held Book" and r["bin"] == "H" and r["item_id"] == "H1",
                      "receipt: title, item and bin (%s)" % r)
                check(r["print_lines"] == ITEMS["H1"]["print_lines"],
                      "receipt: the ILS's print lines (AG) (%s)" % r["print_lines"])
                check(r["time"][:2] == "20", "receipt: the return's time (%s)" % r["time"])
                receipt_checked = True

        # Re-secured with read-back: every tagged one, verified.
        wait_for(lambda: len(events(h, "resecure")) >= 10, 10, "10 re-secure results")
        rs = events(h, "resecure")
        check(all(e["verified"] and e["afi"] == 7 and e["eas"] is True for e in rs),
              "every tag re-secured to AFI 0x07, EAS on, verified (%s)" % rs[:2])
        # The hold book's tag, read again, shows what was written.
        h.inject("drop1", "tag uid=E0040150000A0001 item=H1 dwell=100")
        wait_for(lambda: len(h.query("SELECT id FROM transactions WHERE item_id='H1'")) == 2, 5,
                 "H1 read a second time")
        import json
        d = json.loads(h.query("SELECT detail FROM transactions WHERE item_id='H1' ORDER BY id DESC")[0][0])
        check(d.get("afi") == 7, "the tag now reads AFI 0x07 (was 0xC2): %s" % d.get("afi"))

        # The intake was opened after each checkin was committed.
        check(mb.intake_writes().count(1) >= 10, "INTAKE 1 after every checkin (%s)" % mb.intake_writes())
        # Exceptions for staff: the three exception-bin items.
        reasons = sorted(e["reason"] for e in station_exceptions(h))
        check("no-tag" in reasons and "incomplete-set" in reasons and len(reasons) == 3,
              "station exceptions: %s" % reasons)
        out = circctl(h, "exceptions")
        check(out.returncode == 0 and "no-tag" in out.stdout and "incomplete-set" in out.stdout,
              "circctl exceptions lists them:\n%s" % out.stdout)
        out = circctl(h, "station", "returns", "receipt", "--last")
        check(out.returncode == 0 and "Bin" in out.stdout, "circctl station returns receipt --last:\n%s"
              % out.stdout)
        m = h.ctl_ok("metrics")["text"]
        check('circd_returns_by_bin_total{station="returns",bin="H"} 1\n' in m and
              'circd_returns_by_bin_total{station="returns",bin="X"} 3\n' in m,
              "returns per bin are counted in the metrics")
        check(h.stop() == 0, "circd exits 0")
    finally:
        mb.stop()
        acs.stop()


if __name__ == "__main__":
    main(story, timeout=60)

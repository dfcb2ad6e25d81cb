#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: the library adds a second upstream (a nightly export file) to a
site whose bookdrop station names no upstreams — conf.h: "NULL/0 = every
configured upstream" — and reloads with SIGHUP.

A return after the reload must reach both upstreams, exactly as it would
after a fresh start with the same config file.  (Returns are played by the
sim's scenario, 0.3 s and 2.5 s after start: no control socket needed.)"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from circdtest import check, main, wait_for  # noqa: E402

SCENARIO = """\
300 tag uid=E004030000000001 item=BEFORE1 dwell=20
2500 tag uid=E004030000000002 item=AFTER1 dwell=20
"""


def config(h, second):
    ups = [{"name": "out", "plugin": "jsonl", "path": h.out_path}]
    if second:
        ups.append({"name": "export", "plugin": "jsonl", "path": h.path("export.jsonl")})
    h.config([{"name": "drop1", "plugin": "sim", "scenario": h.scenario("s.scn", SCENARIO)}],
             [{"name": "returns", "role": "bookdrop", "devices": ["drop1"]}], ups)


def story(h):
    export = h.path("export.jsonl")
    config(h, False)
    t0 = time.monotonic()
    h.start()
    wait_for(lambda: h.jsonl_count() == 1, 5, "BEFORE1 in out.jsonl")
    config(h, True)
    mark = h.notify.count()
    h.signal(signal.SIGHUP)
    i, _ = h.notify.wait_key("RELOADING", "1", timeout=5, start=mark)
    h.notify.wait_key("READY", "1", timeout=5, start=i + 1)
    check(time.monotonic() - t0 < 2.3, "the reload was done before the second return")
    wait_for(lambda: h.jsonl_count() == 2, 6, "AFTER1 in out.jsonl")
    time.sleep(0.5)
    check([x["item_id"] for x in h.jsonl()] == ["BEFORE1", "AFTER1"], "out.jsonl has both returns")
    got = [x["item_id"] for x in h.jsonl(export)]
    check(got == ["AFTER1"], "the new upstream 'export' got the return made after the reload (%s)" % got)
    states = h.query("SELECT t.item_id, d.upstream FROM deliveries d JOIN transactions t ON t.id = d.txn_id"
                     " WHERE t.item_id = 'AFTER1' ORDER BY d.upstream")
    check(states == [("AFTER1", "export"), ("AFTER1", "out")], "the journal has a delivery per upstream")
    rc = h.stop()
    check(rc == 0, "exit 0 on SIGTERM")


if __name__ == "__main__":
    main(story)

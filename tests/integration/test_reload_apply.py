#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: the library adds a second return slot.  The administrator adds a
sim device drop2, a bookdrop station 'returns2' for it that feeds a new
jsonl upstream 'out2' (its own file), and reloads (SIGHUP).

The reload is applied: RELOADING=1, READY=1; status lists the new device,
station and upstream; the unchanged device drop1 keeps running (its event
counter is not reset) and its returns still go to 'out' only; drop2's
returns go to 'out2' only.  A control "reload" does the same."""
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from circdtest import check, main, wait_for  # noqa: E402


def config(h, second):
    devices = [{"name": "drop1", "plugin": "sim"}]
    stations = [{"name": "returns", "role": "bookdrop", "devices": ["drop1"], "upstreams": ["out"]}]
    upstreams = [{"name": "out", "plugin": "jsonl", "path": h.out_path}]
    if second:
        devices.append({"name": "drop2", "plugin": "sim"})
        stations.append({"name": "returns2", "role": "bookdrop", "devices": ["drop2"],
                         "upstreams": ["out2"]})
        upstreams.append({"name": "out2", "plugin": "jsonl", "path": h.path("out2.jsonl")})
    h.config(devices, stations, upstreams)


def story(h):
    out2 = h.path("out2.jsonl")
    config(h, False)
    h.start()
    h.inject("drop1", "tag uid=E004030000000001 item=ONE1 dwell=20")
    wait_for(lambda: h.jsonl_count() == 1, 10, "the first return in out.jsonl")
    wait_for(lambda: h.device_events("drop1") == 2, 5, "drop1 counted 2 events")

    config(h, True)
    mark = h.notify.count()
    h.signal(signal.SIGHUP)
    i, _ = h.notify.wait_key("RELOADING", "1", timeout=5, start=mark)
    h.notify.wait_key("READY", "1", timeout=5, start=i + 1)
    check(True, "RELOADING=1 then READY=1")
    wait_for(lambda: "reload done" in h.last_log(), 5, "'reload done' in the log")
    check(h.running(), "circd is running after the reload")

    st = h.status()  # the use-after-free of bug #1 shows here
    names = {d["name"]: d for d in st["devices"]}
    check(set(names) == {"drop1", "drop2"}, "status lists drop1 and drop2")
    check(names["drop1"]["plugin"] == "sim" and names["drop2"]["plugin"] == "sim",
          "status names their plugin (sim)")
    check(names["drop1"]["events"] == 2, "drop1 kept running: its event counter was not reset (%d)"
          % names["drop1"]["events"])
    check({s["name"] for s in st["stations"]} == {"returns", "returns2"}, "status lists both stations")
    check({u["name"] for u in st["upstreams"]} == {"out", "out2"}, "status lists out and out2")

    h.inject("drop1", "tag uid=E004030000000002 item=ONE2 dwell=20")
    h.inject("drop2", "tag uid=E004030000000003 item=TWO1 dwell=20")
    wait_for(lambda: h.jsonl_count() == 2 and h.jsonl_count(out2) == 1, 10,
             "ONE2 in out.jsonl and TWO1 in out2.jsonl")
    check([x["item_id"] for x in h.jsonl()] == ["ONE1", "ONE2"], "out.jsonl: drop1's returns only")
    check([x["item_id"] for x in h.jsonl(out2)] == ["TWO1"], "out2.jsonl: drop2's return only")
    wait_for(lambda: h.device_events("drop1") == 4, 5, "drop1's counter to go on (4)")
    wait_for(lambda: h.device_events("drop2") == 2, 5, "drop2's counter at 2")

    # The control socket's reload, with nothing changed: everything stays.
    r = h.ctl("reload")
    check(r.get("ok") is True, "control reload answers ok (%s)" % r)
    check(h.device_events("drop1") == 4 and h.device_events("drop2") == 2,
          "nothing restarted by an unchanged reload")
    rc = h.stop()
    check(rc == 0, "exit 0 on SIGTERM (%d)" % rc)


if __name__ == "__main__":
    main(story)

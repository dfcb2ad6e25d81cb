#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: circd under a service manager that speaks sd_notify.

The harness plays systemd: it binds NOTIFY_SOCKET and sets WATCHDOG_USEC=1 s
(and WATCHDOG_PID to circd's own pid, as systemd does).  circd sends
READY=1 once the journal is open, STATUS= lines about devices and backlog,
WATCHDOG=1 about every half period, RELOADING=1 with MONOTONIC_USEC= and then
READY=1 on SIGHUP, STOPPING=1 on SIGTERM, and exits 0."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from circdtest import check, log, main  # noqa: E402

WATCHDOG_USEC = 1000000


def story(h):
    h.simple_config("0 repeat count=5 interval=50 tag uid=E00401%010d item=BOOK%04d dwell=10\n")
    # sh -c 'WATCHDOG_PID=$$ exec circd ...': $$ is the pid circd will have.
    h.start(env={"WATCHDOG_USEC": str(WATCHDOG_USEC)},
            wrap='WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$@"', wait_ready=False)
    i_ready, _ = h.notify.wait_key("READY", "1", timeout=10)
    journal = os.path.join(h.state_dir, "journal.db")
    check(os.path.exists(journal), "READY=1 arrives when the journal already exists")
    check(h.query("PRAGMA user_version")[0][0] >= 1, "... and its schema is in place")
    msgs = h.notify.all()
    check(all("STOPPING" not in f and "RELOADING" not in f for _, f, _ in msgs[:i_ready]),
          "nothing but STATUS= before READY=1")

    _, f = h.notify.wait(lambda f: "STATUS" in f and "backlog" in f["STATUS"], 5, "STATUS= with backlog")
    log("STATUS=%s" % f["STATUS"])
    check("devices" in f["STATUS"] and "backlog" in f["STATUS"], "STATUS= mentions devices and backlog")

    # Watchdog: WATCHDOG=1 about every WATCHDOG_USEC/2.
    t_start = time.monotonic()
    time.sleep(2.6)
    pings = [t for t, f, _ in h.notify.all() if f.get("WATCHDOG") == "1" and t >= t_start]
    check(len(pings) >= 3, "WATCHDOG=1 keeps coming with WATCHDOG_USEC=1 s (%d in 2.6 s)" % len(pings))
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    check(max(gaps) < WATCHDOG_USEC / 1e6, "no gap between pings reaches the watchdog period (max %.2f s)" % max(gaps))
    check(h.jsonl_count() == 5, "the five returns went through meanwhile")

    # Reload: RELOADING=1 with MONOTONIC_USEC (CLOCK_MONOTONIC, as ours), then READY=1.
    mark = h.notify.count()
    before = time.monotonic_ns() // 1000
    h.signal(signal.SIGHUP)
    i_rel, f = h.notify.wait_key("RELOADING", "1", timeout=5, start=mark)
    after = time.monotonic_ns() // 1000
    check("MONOTONIC_USEC" in f, "RELOADING=1 comes with MONOTONIC_USEC=")
    mono = int(f["MONOTONIC_USEC"])
    check(before <= mono <= after, "MONOTONIC_USEC is CLOCK_MONOTONIC at the reload (%d in [%d, %d])"
          % (mono, before, after))
    h.notify.wait_key("READY", "1", timeout=5, start=i_rel + 1)
    check(h.running(), "circd keeps running after the reload")
    # (status after a reload is test_reload_apply's business)

    # Stop: STOPPING=1, exit 0.
    mark = h.notify.count()
    rc = h.stop()
    h.notify.wait_key("STOPPING", "1", timeout=2, start=mark)
    check(True, "STOPPING=1 on SIGTERM")
    check(rc == 0, "exit code 0 on SIGTERM (got %d)" % rc)
    late = [f for _, f, _ in h.notify.all()[mark:] if "READY" in f]
    check(not late, "no READY=1 after STOPPING=1")


if __name__ == "__main__":
    main(story)

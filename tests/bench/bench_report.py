#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Statistics benchmark (make bench).  Prints figures; asserts nothing about time.

A month of a busy branch is written into a real circd's journal (30 days:
2,000 returns with their sort events, 6,000 gate passes, 50 alarms with
verdicts, 100 shelf anomalies and 300 self-check checkouts a day; about
330,000 rows), then report-data and stats are timed over the control
socket.  These run on circd's query thread (daemon/ctl_query.h), so they
are how long a client waits, no longer how long everything else waits
(tests/bench/bench_gate.py --with-report-load measures that).  The
reference, measured in the same run: one plain scan counting every row of
transactions and events with Python's sqlite3 on the same file.
"""
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import circdtest  # noqa: E402
import reportseed  # noqa: E402

DAYS = int(os.environ.get("BENCH_REPORT_DAYS", "30"))
BASE = reportseed.MONTH_BASE_USEC
DAY = reportseed.DAY_USEC


def seed(path):
    return reportseed.seed_month(path, DAYS)


def timed(h, cmd, **args):
    best = None
    for _ in range(3):
        t0 = time.monotonic()
        r = h.ctl_ok(cmd, **args)
        dt = time.monotonic() - t0
        best = dt if best is None else min(best, dt)
    return best, r


def main():
    h = circdtest.Harness("bench-report")
    try:
        h.simple_config()
        h.start()
        h.stop()
        path = os.path.join(h.state_dir, "journal.db")
        rows = seed(path)
        h.start(log_level="warning")
        iso = lambda usec: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(usec / 1e6))
        since, until = iso(BASE), iso(BASE + DAYS * DAY)
        day_since, day_until = iso(BASE + (DAYS - 1) * DAY), iso(BASE + DAYS * DAY)

        t0 = time.monotonic()
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        ref_rows = sum(db.execute("SELECT count(*) FROM %s" % t).fetchone()[0]
                       for t in ("transactions", "events", "deliveries"))
        db.close()
        t_ref = time.monotonic() - t0

        print("journal: %d seeded rows over %d days (%d rows in all)" % (rows, DAYS, ref_rows))
        t, r = timed(h, "report-data", since=day_since, until=day_until, by="hour", utc=True)
        print("report-data, last day by hour:   %7.1f ms  (%d returns)"
              % (t * 1000, r["returns"]["total"]))
        t, r = timed(h, "report-data", since=since, until=until, by="day", utc=True)
        print("report-data, %d days by day:     %7.1f ms  (%d returns, %d gate passes)"
              % (DAYS, t * 1000, r["returns"]["total"], r["gate_passes"]["total"]))
        t, r = timed(h, "stats", since=since, until=until, by="day")
        print("stats, %d days by day:           %7.1f ms" % (DAYS, t * 1000))
        print("reference: count(*) of every table with python sqlite3: %7.1f ms" % (t_ref * 1000))
        h.stop()
    finally:
        h.close()
        circdtest._cleanup_all()


if __name__ == "__main__":
    main()

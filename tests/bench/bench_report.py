#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Statistics benchmark (make bench).  Prints figures; asserts nothing about time.

A month of a busy branch is written into a real circd's journal (30 days:
2,000 returns with their sort events, 6,000 gate passes, 50 alarms with
verdicts, 100 shelf anomalies and 300 self-check checkouts a day; about
330,000 rows), then report-data and stats are timed over the control
socket.  Control commands run on the core's thread, so these times are how
long a report holds up everything else (gate decisions included).  The
reference, measured in the same run: one plain scan counting every row of
transactions and events with Python's sqlite3 on the same file.
"""
import calendar
import json
import os
import random
import sqlite3
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import circdtest  # noqa: E402

DAYS = int(os.environ.get("BENCH_REPORT_DAYS", "30"))
BASE = calendar.timegm((2026, 2, 1, 0, 0, 0)) * 1000000
DAY = 86400 * 1000000


def seed(path):
    rnd = random.Random(7)
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    txns, dels, events = [], [], []
    tid = db.execute("SELECT coalesce(max(id), 0) FROM transactions").fetchone()[0]
    for d in range(DAYS):
        day0 = BASE + d * DAY + 9 * 3600 * 1000000  # opening hours 09-19
        span = 10 * 3600 * 1000000

        def at():
            return day0 + rnd.randrange(span)
        for _ in range(2000):
            tid += 1
            t = at()
            txns.append((tid, "checkin", "returns", "drop1", "R%d" % tid, None, t, t))
            dels.append((tid, "ils", "done", t))
            events.append(("drop1", "sort", t, json.dumps({"station": "returns", "txn": tid,
                                                          "bin": rnd.choice("ABCDEH")})))
        for _ in range(50):
            tid += 1
            t = at()
            txns.append((tid, "alarm", "gate", "gate1", "A%d" % tid, None, t, t))
            events.append(("gate", "alarm-verdict", t + 1000000, json.dumps(
                {"station": "gate", "txn": tid, "verdict": rnd.choice(["true", "false"])})))
        for _ in range(300):
            tid += 1
            t = at()
            txns.append((tid, "checkout", "kiosk", "pad1", "C%d" % tid, "P1", t, t))
            dels.append((tid, "ils", rnd.choice(["done"] * 9 + ["rejected"]), t))
        for _ in range(6000):
            events.append(("gate1", "gate-pass", at(),
                           json.dumps({"direction": rnd.choice(["in", "out"])})))
        for _ in range(100):
            events.append(("shelf1", "shelf", at(), json.dumps(
                {"station": "stacks", "anomaly": rnd.choice(["misplaced", "missing"])})))
    db.executemany("INSERT INTO transactions(id, kind, station, device, item_id, patron_id,"
                   " event_time_usec, created_usec) VALUES (?,?,?,?,?,?,?,?)", txns)
    db.executemany("INSERT INTO deliveries(txn_id, upstream, state, updated_usec)"
                   " VALUES (?,?,?,?)", dels)
    db.executemany("INSERT INTO events(device, type, time_usec, detail) VALUES (?,?,?,?)",
                   events)
    db.commit()
    db.close()
    return len(txns) + len(dels) + len(events)


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

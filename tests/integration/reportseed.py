# SPDX-License-Identifier: LGPL-2.1-or-later
"""reportseed — a journal with known station facts, for the report stories.

seed(path) writes, with plain SQL into the journal circd created (while circd
is stopped), four hours of a small library, 2026-03-02 08:00-12:00 UTC, in
the data conventions of daemon/station.h, and returns what the report must
say about it (EXPECTED).  Rows just outside the period, a station fact whose
detail is not JSON, deliveries to an upstream that is not configured and
hostile strings (bin, exception reason) are part of it.

seed_month(path, days) writes a busy branch instead, for the benchmark and
the "report while the branch works" story: per day (opening hours 09-19
UTC, from 2026-02-01) 2,000 returns with their sort events, 6,000 gate
passes, 50 alarms with verdicts, 100 shelf anomalies and 300 self-check
checkouts; about 11,000 rows a day.
"""
import calendar
import json
import random
import sqlite3

SINCE = "2026-03-02T08:00:00Z"
UNTIL = "2026-03-02T12:00:00Z"
BASE_USEC = calendar.timegm((2026, 3, 2, 8, 0, 0)) * 1000000
MIN = 60 * 1000000

HOSTILE_BIN = "<b>bold</b>"
HOSTILE_REASON = "<img src=x onerror=alert(2)>"

# What report-data must answer for [SINCE, UNTIL) by hour (UTC).
EXPECTED = {
    "periods": ["2026-03-02T08:00", "2026-03-02T09:00", "2026-03-02T10:00", "2026-03-02T11:00"],
    "returns": {"total": 9, "sorted": 8, "per_period": [3, 1, 5, 0],
                "by_bin": [{"bin": "B1", "count": 5}, {"bin": "H", "count": 2},
                           {"bin": HOSTILE_BIN, "count": 1}]},
    "alarms": {"total": 5, "true": 2, "false": 1, "unknown": 2,
               "per_period": {"true": [1, 0, 0, 1], "false": [1, 0, 0, 0],
                              "unknown": [0, 1, 0, 1]}},
    "gate_passes": {"total": 11, "in": 6, "out": 4, "unknown_direction": 1,
                    "per_period": {"in": [4, 0, 2, 0], "out": [1, 0, 3, 0]}},
    "shelf": {"total": 7, "by_anomaly": [{"anomaly": "misplaced", "count": 3},
                                         {"anomaly": "in-library-use", "count": 2},
                                         {"anomaly": "missing", "count": 1},
                                         {"anomaly": "on-shelf-loaned", "count": 1}]},
    "selfcheck": {"transactions": 6, "checkouts": 5, "renewals": 1, "succeeded": 3,
                  "failed": 2, "pending": 1, "success_rate": 0.6, "sessions": 2,
                  "items_ok": 3, "items_failed": 2},
    "exceptions": {"open": 2, "station": 3,
                   "station_by_reason": [{"reason": "incomplete set", "count": 2},
                                         {"reason": HOSTILE_REASON, "count": 1}]},
    "malformed_events": 1,
}


def seed(path):
    db = sqlite3.connect(path, timeout=10)
    ids = {}

    def txn(kind, station, device, at_min, item, patron=None, deliveries=(), detail=None,
            at_usec=None):
        t = BASE_USEC + at_min * MIN if at_usec is None else at_usec
        cur = db.execute(
            "INSERT INTO transactions(kind, station, device, item_id, uid, patron_id,"
            " event_time_usec, created_usec, detail) VALUES (?,?,?,?,?,?,?,?,?)",
            (kind, station, device, item, "E0040100%08X" % (len(ids) + 1), patron, t, t,
             json.dumps(detail or {})))
        tid = cur.lastrowid
        for upstream, state in deliveries:
            db.execute("INSERT INTO deliveries(txn_id, upstream, state, attempts, updated_usec,"
                       " message) VALUES (?,?,?,?,?,?)",
                       (tid, upstream, state, 1, t, "refused" if state == "rejected" else None))
        ids[item] = tid
        return tid

    def event(type_, device, at_min, detail, raw=None):
        db.execute("INSERT INTO events(device, type, time_usec, detail) VALUES (?,?,?,?)",
                   (device, type_, BASE_USEC + at_min * MIN,
                    raw if raw is not None else json.dumps(detail)))

    # Returns: 3 in the first hour, 1 in the second, 5 in the third; one
    # a microsecond before the period and one at its end (both left out).
    ok = [("ils", "done")]
    for i, m in enumerate([5, 20, 50, 70, 125, 130, 140, 150, 170]):
        item = "R%03d" % i
        tid = txn("checkin", "returns", "drop1", m, item,
                  deliveries=[("ils", "rejected")] if i == 6 else ok)
        if i < 8:
            bin_ = ["H", "H", HOSTILE_BIN, "B1", "B1", "B1", "B1", "B1"][i]
            event("sort", "drop1", m, {"station": "returns", "txn": tid, "item_id": item,
                                       "bin": bin_, "reason": "rule"})
    event("sort", "drop1", 171, None, raw="not json {")
    txn("checkin", "returns", "drop1", 0, "EARLY", deliveries=ok, at_usec=BASE_USEC - 1)
    txn("checkin", "returns", "drop1", 240, "LATE", deliveries=ok)
    event("sort", "drop1", 240, {"station": "returns", "txn": 0, "item_id": "LATE", "bin": "H"})

    # Alarms and their verdicts (the latest counts; none = unknown).
    a1 = txn("alarm", "gate", "gate1", 10, "A1", detail={"gate": "gate1", "direction": "out"})
    a2 = txn("alarm", "gate", "gate1", 20, "A2")
    txn("alarm", "gate", "gate1", 65, "A3")
    a4 = txn("alarm", "gate", "gate1", 190, "A4")
    a5 = txn("alarm", "gate", "gate1", 200, "A5")
    for tid, item, verdict, m in [(a1, "A1", "false", 11), (a2, "A2", "false", 21),
                                  (a1, "A1", "true", 12), (a4, "A4", "unknown", 191),
                                  (str(a5), "A5", "true", 201)]:
        event("alarm-verdict", "gate", m, {"station": "gate", "txn": tid, "item_id": item,
                                           "verdict": verdict})

    # People through the gate (the core's gate-pass events).
    for m, d in [(1, "in"), (2, "in"), (3, "in"), (4, "in"), (5, "out"),
                 (121, "in"), (122, "in"), (123, "out"), (124, "out"), (125, "out"),
                 (126, None)]:
        event("gate-pass", "gate1", m, {"direction": d} if d else {"name": "beam"})

    # Shelf anomalies.
    for m, kind in [(30, "misplaced"), (31, "misplaced"), (32, "misplaced"), (33, "missing"),
                    (34, "in-library-use"), (35, "in-library-use"), (36, "on-shelf-loaned")]:
        event("shelf", "shelf1", m, {"station": "stacks", "shelf": "A1", "item_id": "S%d" % m,
                                     "anomaly": kind})

    # Self-check: checkouts and a renewal with a patron.
    txn("checkout", "kiosk", "pad1", 15, "C1", patron="P1", deliveries=ok)
    txn("checkout", "kiosk", "pad1", 75, "C2", patron="P1", deliveries=ok + [("file", "done")])
    txn("checkout", "kiosk", "pad1", 80, "C3", patron="P1", deliveries=[("ils", "rejected")])
    txn("renew", "kiosk", "pad1", 130, "C4", patron="P2", deliveries=ok)
    txn("checkout", "kiosk", "pad1", 140, "C5", patron="P2", deliveries=[("ils", "pending")])
    txn("checkout", "kiosk", "pad1", 145, "C7", patron="P2", deliveries=[("ils", "dismissed")])
    txn("checkout", "desk", "desk1", 150, "C6", deliveries=ok)  # no patron: not self-check
    event("selfcheck-session", "kiosk", 16, {"station": "kiosk", "patron": "P1", "items_ok": 2,
                                             "items_failed": 1})
    event("selfcheck-session", "kiosk", 146, {"station": "kiosk", "patron": "P2", "items_ok": 1,
                                              "items_failed": 1})

    # Station exceptions.
    for m, reason in [(40, "incomplete set"), (41, "incomplete set"), (42, HOSTILE_REASON)]:
        event("station-exception", "returns", m, {"station": "returns", "item_id": "X%d" % m,
                                                  "reason": reason})
    db.commit()
    db.close()
    return ids


MONTH_BASE_USEC = calendar.timegm((2026, 2, 1, 0, 0, 0)) * 1000000
DAY_USEC = 86400 * 1000000


def seed_month(path, days=30):
    """A busy branch's days (see the top); returns the number of rows written."""
    rnd = random.Random(7)
    db = sqlite3.connect(path, timeout=10)
    db.execute("PRAGMA synchronous=OFF")
    txns, dels, events = [], [], []
    tid = db.execute("SELECT coalesce(max(id), 0) FROM transactions").fetchone()[0]
    for d in range(days):
        day0 = MONTH_BASE_USEC + d * DAY_USEC + 9 * 3600 * 1000000  # opening hours 09-19
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

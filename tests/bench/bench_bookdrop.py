#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Book-drop benchmark (make bench).  Prints figures; asserts nothing about time.

N returns (default 2,000; BENCH_BOOKDROP_N) come through the whole book-drop
path as fast as the sim reader can hand them over: sim reader -> decode ->
checkin journaled -> INTAKE over Modbus -> sip2 upstream -> ACS emulator
(tests/emulators/acs.py) answers 10 -> sort rule chain -> SELECT_BIN over
Modbus TCP to tests/emulators/modbus_sim (written and read back) -> AFI and
EAS re-secured on the reader with read-back -> "resecure" journaled.
sort_timeout_ms is a minute, so every book is sorted by the ILS's answer.

  - returns per minute, end to end: from the first checkin's event time to
    the last return whose sorter and re-secure commands were acknowledged;
  - per-return latency (event -> all commands acknowledged): p50, p99, max.
Reference, measured in the same run: the ACS emulator's raw rate answering
09 checkins from a minimal client (one connection, one at a time; the
client of bench_sip2_drain.py), in checkins per minute.  The ratio says how
much of the ILS's own pace the station keeps."""
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "sip2"))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from story_lib import ACS, item_id, make_fixture, returns_scenario, sip2_upstream  # noqa: E402
from bench_sip2_drain import raw_client  # noqa: E402
import circdtest  # noqa: E402
from bookdrop_lib import MAP, ModbusSim  # noqa: E402

N = int(os.environ.get("BENCH_BOOKDROP_N", "2000"))


def pct(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, int(round(p / 100.0 * (len(sorted_values) - 1))))
    return sorted_values[k]


def main():
    if not os.access(circdtest.CIRCD_BIN, os.X_OK):
        sys.exit("no circd binary at %s (build first)" % circdtest.CIRCD_BIN)
    h = circdtest.Harness("bench-bookdrop")
    mb = None
    acs = None
    try:
        fixture = make_fixture(h, N)
        acs = ACS(fixture=fixture)
        mb = ModbusSim(h)
        dev = {"name": "drop1", "plugin": "sim", "speed": 0.0, "start_delay_ms": 1500,
               "scenario": h.scenario("drop1.scn", returns_scenario(N, 1))}
        sorter = {"name": "sorter1", "plugin": "modbus", "map": MAP, "port": mb.port,
                  "poll_ms": 50, "timeout_ms": 500}
        st = {"name": "returns", "role": "bookdrop", "devices": ["drop1", "sorter1"],
              "sorter": "sorter1", "sort_timeout_ms": 60000, "command_timeout_ms": 60000,
              "bins": ["B1 = 1", "X = 0"], "exception_bin": "X",
              "sort": ["hold -> 6", "transit -> 7", "sort-bin", "default -> 2"]}
        h.config([dev, sorter], [st], [sip2_upstream(h, acs.port)])
        h.start(log_level="notice")
        circdtest.wait_for(lambda: h.query("SELECT count(*) FROM events WHERE type='resecure'")[0][0] >= N,
                           600, "%d returns sorted and re-secured" % N, interval=0.05)
        rows = h.query("SELECT t.event_time_usec, e.time_usec FROM events e JOIN transactions t"
                       " ON t.id = json_extract(e.detail, '$.txn') WHERE e.type = 'resecure'")
        reasons = dict(h.query("SELECT json_extract(detail, '$.reason'), count(*) FROM events"
                               " WHERE type = 'sort' GROUP BY 1"))
        writes = len(mb.bins_selected())
        first = min(r[0] for r in rows)
        last = max(r[1] for r in rows)
        lat = sorted((b - a) / 1000.0 for a, b in rows)
        per_min = N / ((last - first) / 1e6) * 60
        h.stop()
        acs.stop()
        acs = None

        ref = ACS(fixture=fixture)
        raw = raw_client(ref.port, N) * 60
        ref.stop()

        print("bookdrop: %d returns, sim reader -> journal -> sip2 -> ACS emulator -> sort ->"
              " Modbus sorter ack + re-secure" % N)
        print("  end to end                    %10.0f returns/min  (%.2f s for %d)"
              % (per_min, (last - first) / 1e6, N))
        print("  latency event -> acks         p50 %.1f ms, p99 %.1f ms, max %.1f ms"
              % (pct(lat, 50), pct(lat, 99), lat[-1]))
        print("                                (all %d arrive in one burst: their INTAKE and"
              " SELECT_BIN writes queue at the one Modbus unit)" % N)
        print("  sorter commands acknowledged  %10d" % writes)
        print("  sort reasons                  %s" % json.dumps(reasons, sort_keys=True))
        print("  ACS raw 09 rate (reference)   %10.0f checkins/min (one client, sequential)" % raw)
        print("  ratio returns / raw 09        %10.2f" % (per_min / raw))
        if writes < N or reasons.get("ils-offline"):
            sys.exit("not every return was sorted by the ILS's answer")
    finally:
        if mb:
            mb.stop()
        if acs:
            acs.stop()
        h.close()
        circdtest._cleanup_all()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: the readers answer with garbage while books go through.

The real circd with the feig plugin (feig_emulator.py over a pty pair), the
3m810 plugin (m3m_emulator.py over loopback TCP) and a sim device at one
bookdrop (debounce 0: a false departure would be a second checkin).  A book
lies on each reader all along; then, three times, both emulators spoil
their next answers — `fault garbage 5`, `fault badcrc 5`, `fault truncated
3` — and in the middle of each storm a new book arrives at each reader (and
one at the sim device).

No crash; every new book is exactly one checkin; the lingering books are
neither gone nor back (each reader reported each tag seen once, gone once);
every spoiled answer is counted where the plugins count them, as a bad
frame (bytes came, but no good answer: feig counts a garbage or truncated
answer so, not as a timeout): both in their debug lines "(bad frames N,
timeouts N...); resynchronising", in the reason of their DEGRADED state
(after three in a row) and in the totals they log when they stop; 3m810's
also in `circctl metrics` (circd_device_errors_total) and `circctl status`.
Then the readers are ok again by themselves."""
import collections
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from readers_lib import (CIRCCTL_BIN, check, checkins, device, encode_item,  # noqa: E402
                         health_lines, log, log_text, PtyReader, start_circd, TcpReader,
                         wait_checkin, wait_for, wait_health)
from circdtest import main  # noqa: E402

STORMS = (("garbage", 5), ("badcrc", 5), ("truncated", 3))

# the plugins' per-error debug lines (feig_reader.c / m3m_reader.c count_error())
FEIG_COUNT = re.compile(r"^<7>(?:[\w-]+: )(.*) \(bad frames (\d+), timeouts (\d+)\); resynchronising$")
M3M_COUNT = re.compile(r"^<7>(?:[\w-]+: )(.*) \(bad frames (\d+), timeouts (\d+), stray bytes (\d+)\); "
                       r"resynchronising$")
FEIG_TOTALS = re.compile(r"^<6>(?:[\w-]+: )bad frames (\d+), timeouts (\d+), RF errors (\d+)$")
M3M_TOTALS = re.compile(r"^<6>(?:[\w-]+: )bad frames (\d+), timeouts (\d+), stray bytes (\d+), "
                        r"reader errors (\d+)$")


def matches(h, rx):
    return [m for m in (rx.match(l) for l in log_text(h).splitlines()) if m]



def story(h):
    feig = PtyReader(h, "feig", "feig_emulator.py")
    m3m = TcpReader(h, "m3m", "m3m_emulator.py")
    readers = {"feig1": feig, "m3m1": m3m}
    h.config(
        devices=[
            {"name": "feig1", "plugin": "feig", "port": feig.port(), "poll_ms": 20,
             "gone_after": 2},
            {"name": "m3m1", "plugin": "3m810", "port": m3m.port(), "poll_ms": 20,
             "gone_after": 2},
            {"name": "drop1", "plugin": "sim"},
        ],
        stations=[{"name": "returns", "role": "bookdrop", "debounce_ms": 0,
                   "devices": ["feig1", "m3m1", "drop1"]}])
    start_circd(h)
    for name in ("feig1", "m3m1", "drop1"):
        wait_health(h, name, "ok", 5)
    check(True, "feig1 (pty), m3m1 (TCP) and drop1 (sim) are ok")

    # A book lies on each reader all along.
    feig.add("E004010000F0A000", "F-LINGER")
    m3m.add("E00401000030A000", "M-LINGER")
    wait_checkin(h, "F-LINGER")
    wait_checkin(h, "M-LINGER")
    check(True, "the lingering books are checked in")

    books = []
    for k, (kind, count) in enumerate(STORMS, 1):
        base = {d: r.counter("faults_taken") for d, r in readers.items()}
        t0 = time.monotonic()
        for r in readers.values():
            r.say("fault %s %d" % (kind, count))
        # a new book at each reader once the storm has begun
        wait_for(lambda: all(r.counter("faults_taken") > base[d] for d, r in readers.items()),
                 3, "both storms to begin")
        uids = {"feig1": "E004010000F0B%03d" % k, "m3m1": "E00401000030B%03d" % k}
        feig.add(uids["feig1"], "F-%s" % kind)
        m3m.add(uids["m3m1"], "M-%s" % kind)
        h.inject("drop1", "tag uid=E004010000500%03d dsfid=06 block_size=4 mem=%s dwell=60"
                 % (k, encode_item("S-%s" % kind)))
        books += ["F-%s" % kind, "M-%s" % kind, "S-%s" % kind]
        for item in books[-3:]:
            wait_checkin(h, item, timeout=8)
        wait_for(lambda: all(r.counter("faults_taken") == base[d] + count
                             for d, r in readers.items()), 8, "every spoiled answer sent")
        log("%s x%d: storms over and books in after %.2f s" % (kind, count, time.monotonic() - t0))
        for d, r in readers.items():
            r.remove(uids[d])
        wait_for(lambda: all(device(h, d)["events"] == 1 + 2 * k for d in readers), 5,
                 "the new books to leave (events %s)" % {d: device(h, d)["events"] for d in readers})
        for d in ("feig1", "m3m1", "drop1"):
            wait_health(h, d, "ok", 3)
        check(True, "after %s x%d: the new books are in, all three devices ok" % (kind, count))

    # ---- what was counted, where ----
    st = h.status()
    for d in readers:
        ev = device(h, d, st)["events"]
        check(ev == 1 + 2 * len(STORMS), "%s reported %d events: the lingering book seen once, "
              "each new book seen and gone once" % (d, ev))
    # Exact where only the injected faults can produce a line (a bad CRC,
    # a bad BCC, an incomplete answer); at least where a slow moment of a
    # loaded machine could add one (a timeout).
    feig_lines = matches(h, FEIG_COUNT)
    kinds = collections.Counter(m.group(1) for m in feig_lines)
    check(kinds["bad CRC"] == 5 and kinds["incomplete or garbled answer"] == 8 and
          set(kinds) <= {"bad CRC", "incomplete or garbled answer", "no answer"},
          "feig logged each spoiled answer: 5 bad CRCs, the 5 garbage and 3 truncated "
          "answers as 'incomplete or garbled answer', not as 'no answer' (%s)" % dict(kinds))
    bad, timeouts = int(feig_lines[-1].group(2)), int(feig_lines[-1].group(3))
    check(bad == 13 and timeouts == kinds["no answer"],
          "feig's totals count every one of them as a bad frame: bad frames %d, timeouts %d "
          "(only real silences)" % (bad, timeouts))
    fh = health_lines(h, "feig1")
    degraded = [re.sub(r"timeouts \d+", "timeouts N", l) for l in fh
                if l.startswith("feig1: degraded")]
    check(degraded == ["feig1: degraded: reader answers badly or not at all (bad frames %d, "
                       "timeouts N, RF errors 0)" % n for n in (3, 8, 13)] and
          fh.count("feig1: ok: reader answers") == 4,
          "feig1 went DEGRADED in each storm (3 errors in a row), the counts in its reason, "
          "and ok after it: %s" % fh)

    m3m_lines = matches(h, M3M_COUNT)
    check([m.group(1) for m in m3m_lines] == ["bad BCC"] * 5 +
          ["incomplete or garbled answer"] * 3,
          "3m810 logged 5 bad BCCs and 3 incomplete answers: %s"
          % [m.group(0) for m in m3m_lines])
    check(m3m_lines[0].group(2) == "6" and m3m_lines[0].group(4) == "40",
          "the 3m810 plugin found the answers behind the 5 garbage prefixes and counted "
          "them (bad frames 5, stray bytes 40 before the first bad BCC) without a line of "
          "their own: %s" % m3m_lines[0].group(0))
    mh = health_lines(h, "m3m1")
    degraded = [re.sub(r"timeouts \d+", "timeouts N", l) for l in mh
                if l.startswith("m3m1: degraded")]
    check(degraded == ["m3m1: degraded: reader answers badly or not at all (bad frames 8, "
                       "timeouts N)",
                       "m3m1: degraded: reader answers badly or not at all (bad frames 13, "
                       "timeouts N)"],
          "m3m1 went DEGRADED in the badcrc and truncated storms, the counts in its reason: %s"
          % degraded)
    check(mh[-1] == "m3m1: ok: reader answers", "m3m1 is ok at the end: %s" % mh)

    # ... and given to the core (host->set_counters(), ABI 1.5): `circctl
    # metrics` and `circctl status` show the same totals the plugin logs.
    sock = os.path.join(h.run_dir, "control.sock")
    out = subprocess.run([CIRCCTL_BIN, "-s", sock, "metrics"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=10)
    check(out.returncode == 0, "circctl metrics runs (%s)" % out.stderr.decode().strip())
    errs = {m.group(1, 2): float(m.group(3)) for m in re.finditer(
        r'^circd_device_errors_total\{device="([^"]*)",kind="([^"]*)"\} (\S+)$',
        out.stdout.decode(), re.M)}
    check(errs.get(("m3m1", "bad_frame"), 0) > 0 and errs[("m3m1", "bad_frame")] == 13 and
          errs.get(("m3m1", "device_error")) == 0,
          "circctl metrics: m3m1's bad_frame count is 13 (as its log says), no device errors "
          "(%s)" % {k: v for k, v in errs.items() if k[0] == "m3m1"})
    check(all((d, k) in errs for d in ("feig1", "m3m1", "drop1")
              for k in ("bad_frame", "timeout", "device_error")),
          "every device has the three circd_device_errors_total series")
    m3m_errors = device(h, "m3m1")["errors"]
    check(m3m_errors["bad_frame"] == 13 and
          m3m_errors["timeout"] == errs[("m3m1", "timeout")],
          "the status answer (circctl status --json): m3m1's errors are the same (%s)" % m3m_errors)
    out = subprocess.run([CIRCCTL_BIN, "-s", sock, "status"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=10)
    row = [l for l in out.stdout.decode().splitlines() if l.strip().startswith("m3m1 ")]
    check(len(row) == 1 and "bad_frame=13" in row[0],
          "circctl status: m3m1's row shows bad_frame=13 (%s)" % row)

    rc = h.stop()
    check(rc == 0, "circd exits 0 on SIGTERM (got %d)" % rc)
    tot = matches(h, FEIG_TOTALS)
    check(len(tot) == 1 and tot[0].group(1, 3) == ("13", "0") and
          int(tot[0].group(2)) == timeouts,
          "feig's totals at stop: 13 bad frames (5 garbage, 5 bad CRCs, 3 truncated), "
          "%d timeouts, no RF errors: %s" % (timeouts, [m.group(0) for m in tot]))
    tot = matches(h, M3M_TOTALS)
    check(len(tot) == 1 and tot[0].group(1, 3, 4) == ("13", "40", "0"),
          "3m810's totals at stop: 13 bad frames (5 garbage answers, each with a false start "
          "byte, 5 bad BCCs, 3 truncated), 40 stray bytes (8 per garbage answer): %s"
          % [m.group(0) for m in tot])
    lines = checkins(h)
    items = collections.Counter(x["item_id"] for x in lines)
    want = ["F-LINGER", "M-LINGER"] + books
    check(sorted(items) == sorted(want) and all(v == 1 for v in items.values()),
          "each of the %d books is exactly one checkin (%s)" % (len(want), dict(items)))
    states = dict(h.query("SELECT state, count(*) FROM deliveries GROUP BY state"))
    check(states == {"done": len(want)}, "every delivery is done (%s)" % states)
    feig.stop()
    m3m.stop()


if __name__ == "__main__":
    main(story)

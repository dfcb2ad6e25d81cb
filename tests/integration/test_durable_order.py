#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: the journal's fsync runs on its own thread; nothing may leave
before it.

circd runs under strace (-f -y) while 300 returns play (one every 2 ms) into
a bookdrop station with a jsonl upstream.  The trace is one total order of
the syscalls of all of circd's threads (strace prints a syscall's entry
before the kernel runs it and its exit after it returned, so "A's exit is
printed before B's entry" means A finished before B began).  Observables:

  (CIRCD_TRACE_DURABILITY=1 turns on the two debug lines below.)
  commit marker    the main thread's debug line "journal: commit N written
                   [, transactions up to X]", written right after SQLite's
                   COMMIT returned (so after the WAL frames were written:
                   checked, a pwrite64 to journal.db-wal precedes each
                   marker of a batch that inserted transactions);
  WAL sync         fdatasync()/fsync() of journal.db-wal, entry and exit;
  hand-over        the forwarder's debug line "out: handing over K
                   transaction(s), A..B, of commit N (durable)", written
                   right before the transactions go into the upstream's
                   queue (the hand-over IS the acknowledgement to an
                   upstream);
  receipt          the jsonl plugin's write() of the lines to out.jsonl.

Asserted: every hand-over of commit N comes after a WAL sync that BEGAN
after commit N's marker and ENDED (returned 0) before the hand-over; every
transaction id in out.jsonl was written after a WAL sync that began after
the commit that inserted it (the first marker with "up to X" >= id) and
ended before the write; and all 300 arrive.  Under a build that released
actions at commit time (before the sync), both fail."""
import os
import re
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from circdtest import check, log, main, wait_for  # noqa: E402

N = 300
LINE = re.compile(r"^(\d+)\s+[\d:.]+\s+(.*)$")
RESUMED = re.compile(r"^<\.\.\. (\w+) resumed>.*= (-?\d+)")
COMMIT = re.compile(r"journal: commit (\d+) written(?:, transactions up to (\d+))?")
HANDOVER = re.compile(r"out: handing over (\d+) transaction\(s\), (\d+)\.\.(\d+), of commit (\d+)")


def parse(path):
    """Events in trace order: (index, kind, data)."""
    events = []
    open_calls = {}  # pid -> (kind, entry index) of an unfinished WAL sync
    with open(path, errors="replace") as f:
        lines = f.read().splitlines()
    for i, raw in enumerate(lines):
        m = LINE.match(raw)
        if not m:
            continue
        pid, rest = m.group(1), m.group(2)
        r = RESUMED.match(rest)
        if r:
            if pid in open_calls and r.group(1) in ("fdatasync", "fsync"):
                entry = open_calls.pop(pid)
                events.append((i, "sync", (entry, int(r.group(2)))))
            continue
        if rest.startswith(("fdatasync(", "fsync(")) and "journal.db-wal>" in rest:
            if "<unfinished ...>" in rest:
                open_calls[pid] = i
            else:
                rc = int(rest.rsplit("= ", 1)[1].split()[0])
                events.append((i, "sync", (i, rc)))
        elif rest.startswith("pwrite64(") and "journal.db-wal>" in rest:
            events.append((i, "walwrite", None))
        elif rest.startswith("write(2<"):
            c = COMMIT.search(rest)
            if c:
                events.append((i, "commit", (int(c.group(1)), int(c.group(2)) if c.group(2) else None)))
            hm = HANDOVER.search(rest)
            if hm:
                events.append((i, "handover", (int(hm.group(2)), int(hm.group(3)), int(hm.group(4)))))
        elif rest.startswith("write(") and "out.jsonl>" in rest:
            ids = [int(x) for x in re.findall(r'\\"id\\": ?(\d+)', rest)]
            events.append((i, "receipt", ids))
    return events


def synced_between(syncs, after, before):
    """A successful WAL sync whose entry is after `after` and exit before `before`."""
    return any(entry > after and exit_ < before and rc == 0 for entry, exit_, rc in syncs)


def story(h):
    strace = shutil.which("strace")
    check(strace is not None, "strace is installed (quickstart installs it)")
    trace = h.path("trace.txt")
    h.simple_config("0 repeat count=%d interval=2 tag uid=E00401%%010d item=BOOK%%05d dwell=1\n" % N)
    # LeakSanitizer cannot run under ptrace: no leak check in this one run.
    asan = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS", ""), "detect_leaks=0"]))
    h.start(env={"CIRCD_TRACE_DURABILITY": "1", "ASAN_OPTIONS": asan}, prefix=[strace, "-f", "-tt", "-y", "-s", "65536", "-o", trace,
                    "-e", "trace=fdatasync,fsync,write,pwrite64,sendto,sendmsg"], timeout=30)
    wait_for(lambda: h.jsonl_count() >= N, 25, "all %d returns in jsonl" % N)
    # strace is h.proc; circd is its child.
    children = open("/proc/%d/task/%d/children" % (h.proc.pid, h.proc.pid)).read().split()
    check(len(children) == 1, "circd runs under strace (%s)" % children)
    os.kill(int(children[0]), signal.SIGTERM)
    rc = h.wait_exit(timeout=20)
    check(rc == 0, "circd stops cleanly (exit %s)" % rc)

    events = parse(trace)
    syncs = [(d[0], i, d[1]) for i, k, d in events if k == "sync"]
    commits = {}  # seq -> (index, up to)
    last_walwrite = -1
    prev_commit = -1
    for i, k, d in events:
        if k == "walwrite":
            last_walwrite = i
        elif k == "commit":
            commits[d[0]] = (i, d[1])
            if d[1] is not None:
                check(prev_commit < last_walwrite < i,
                      "commit %d (up to txn %d) wrote the WAL before its marker" % (d[0], d[1]))
            prev_commit = i
    handovers = [(i, d) for i, k, d in events if k == "handover"]
    receipts = [(i, d) for i, k, d in events if k == "receipt"]
    log("trace: %d commits, %d WAL syncs, %d hand-overs, %d jsonl writes" %
        (len(commits), len(syncs), len(handovers), len(receipts)))
    check(len(handovers) > 0 and len(syncs) > 0 and len(commits) > 0, "the trace shows the observables")

    bad = []
    for i, (first, last, seq) in handovers:
        ci = commits.get(seq)
        if ci is None or not synced_between(syncs, ci[0], i):
            bad.append((first, last, seq))
    check(not bad, "every hand-over follows a WAL sync that began after its commit (violations: %s)" % bad[:5])

    marks = sorted((up, i) for i, up in ((c[0], c[1]) for c in commits.values()) if up is not None)
    seen = set()
    bad = []
    for i, ids in receipts:
        for tid in ids:
            seen.add(tid)
            ci = next((ix for up, ix in marks if up >= tid), None)
            if ci is None or not synced_between(syncs, ci, i):
                bad.append(tid)
    check(not bad, "every transaction reached jsonl after a WAL sync that began after its commit (violations: %s)" % bad[:5])
    check(len(seen) == N, "all %d transactions reached jsonl (%d)" % (N, len(seen)))


if __name__ == "__main__":
    main(story)

#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: the administrator points Prometheus at circd.

circd runs with metrics = { listen = "127.0.0.1:<port>"; }.  60 books are
returned at drop1; drop2 reports two gate passes and then goes offline.
GET /metrics (HTTP) and the control command "metrics" (what circctl metrics
prints) tell the same story: 60 checkins, every event counted by device and
type, every delivery done, no backlog, the upstream up, drop2 offline, and
histograms that a Prometheus server accepts (cumulative buckets, +Inf equal
to _count, HELP and TYPE once per family, label values escaped).

Then the upstream's storage disappears (the jsonl sink's directory is moved
away: the plugin answers RETRY) while 20 more books come back: the backlog
gauges show them and how old the oldest is, retries are counted, the
upstream is down; when the directory is back the backlog drains to 0.

Wrong requests get 404 / 405 / 400 / 431 and the connection closes.  Ten
clients that connect and send half a request and never finish, and one that
asks and never reads, do not hold up returns or other scrapes; the idle ones
are closed after the idle timeout (10 s).  A reload moves the listener to
another port; with the port taken circd runs without the listener."""
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from circdtest import CIRCCTL_BIN, Failure, check, log, main, wait_for  # noqa: E402

N = 60
MORE = 20

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def unescape(v):
    return re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n" else m.group(1), v)


def parse(text):
    """Text format 0.0.4 -> ({(name, frozenset(labels)): value}, {family: type}).
    Strict: every sample belongs to a family declared by # TYPE before it,
    HELP and TYPE appear once per family, values are floats."""
    samples, types, helps = {}, {}, set()
    check_lines = text.endswith("\n") or text == ""
    if not check_lines:
        raise Failure("exposition does not end with a newline")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            if name in helps:
                raise Failure("HELP twice for %s" % name)
            helps.add(name)
            continue
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ")
            if name in types:
                raise Failure("TYPE twice for %s" % name)
            if typ not in ("counter", "gauge", "histogram"):
                raise Failure("unknown type %r" % typ)
            types[name] = typ
            continue
        if not line or line.startswith("#"):
            raise Failure("unexpected line %r" % line)
        m = SAMPLE.match(line)
        if not m:
            raise Failure("not a sample line: %r" % line)
        name, _, body, value = m.groups()
        labels = {}
        if body:
            pos = 0
            while pos < len(body):
                lm = LABEL.match(body, pos)
                if not lm:
                    raise Failure("bad labels in %r" % line)
                labels[lm.group(1)] = unescape(lm.group(2))
                pos = lm.end()
        family = name
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and name[:-len(suffix)] in types and \
                    types[name[:-len(suffix)]] == "histogram":
                family = name[:-len(suffix)]
        if family not in types:
            raise Failure("sample %s before its # TYPE" % name)
        key = (name, frozenset(labels.items()))
        if key in samples:
            raise Failure("sample twice: %r" % line)
        samples[key] = float(value)
    return samples, types


def get(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def series(samples, name):
    return {k[1]: v for k, v in samples.items() if k[0] == name}


def check_histograms(samples, types):
    """Buckets cumulative and increasing in le, +Inf present and == _count."""
    n = 0
    for fam, typ in types.items():
        if typ != "histogram":
            continue
        groups = {}
        for (name, labels), v in samples.items():
            if name == fam + "_bucket":
                d = dict(labels)
                le = d.pop("le")
                groups.setdefault(frozenset(d.items()), []).append((float(le), v))
        for labels, buckets in groups.items():
            buckets.sort()
            counts = [c for _, c in buckets]
            if counts != sorted(counts):
                raise Failure("%s%s: buckets not cumulative: %s" % (fam, dict(labels), buckets))
            if not math.isinf(buckets[-1][0]):
                raise Failure("%s: no +Inf bucket" % fam)
            count = samples.get((fam + "_count", labels))
            total = samples.get((fam + "_sum", labels))
            if count is None or total is None:
                raise Failure("%s: _count or _sum missing" % fam)
            if buckets[-1][1] != count:
                raise Failure("%s: +Inf bucket %s != _count %s" % (fam, buckets[-1][1], count))
            if count and total < 0:
                raise Failure("%s: negative _sum" % fam)
            n += 1
    return n


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ipv6_loopback_port():
    """A free port on ::1, or None without IPv6 loopback."""
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0))
        port = s.getsockname()[1]
        s.close()
        return port
    except OSError:
        return None


def raw(port, data, timeout=5):
    """Send raw bytes, read the whole answer (the server closes)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        buf = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return buf
            buf += chunk
    finally:
        s.close()


def story(h):
    port = free_port()
    url = "http://127.0.0.1:%d/metrics" % port
    sink = h.path("sink")
    moved = h.path("sink.moved")
    os.mkdir(sink)
    h.out_path = os.path.join(sink, "out.jsonl")
    h.config(
        devices=[
            {"name": "drop1", "plugin": "sim", "scenario": h.scenario(
                "drop1.scn", "0 repeat count=%d interval=10 tag uid=E00407%%010d item=BOOK%%04d dwell=5\n" % N)},
            {"name": "drop2", "plugin": "sim", "scenario": h.scenario(
                "drop2.scn", "0 gate-pass dir=in\n+10 gate-pass dir=out\n+10 offline duration=600000\n")},
        ],
        stations=[{"name": "returns", "role": "bookdrop", "devices": ["drop1", "drop2"]}],
        upstreams=[{"name": "out", "plugin": "jsonl", "path": h.out_path}],
        extra='metrics = { listen = "127.0.0.1:%d"; };\n' % port)
    h.start()
    check("metrics: listening on http://127.0.0.1:%d/metrics" % port in h.last_log(),
          "circd says where the metrics are")

    wait_for(lambda: h.jsonl_count() >= N, 15, "%d returns in jsonl" % N)

    def scrape():
        with urllib.request.urlopen(url, timeout=5) as r:
            check_ct = r.headers.get("Content-Type")
            body = r.read().decode()
            return r.status, check_ct, body

    def scraped():
        return parse(scrape()[2])

    wait_for(lambda: get(scraped()[0], "circd_deliveries_done_total", upstream="out") == N, 10,
             "%d deliveries done in the metrics" % N)
    # The last tags leave the field (tag-gone) a dwell after their return.
    wait_for(lambda: get(scraped()[0], "circd_events_total", device="drop1", type="tag-gone") == N,
             10, "%d tag-gone events in the metrics" % N)
    status, ctype, text = scrape()
    check(status == 200, "GET /metrics answers 200")
    check(ctype == "text/plain; version=0.0.4; charset=utf-8", "as text format 0.0.4 (%s)" % ctype)
    s, types = parse(text)
    check(True, "the exposition parses: %d samples in %d families" % (len(s), len(types)))

    check(get(s, "circd_transactions_total", station="returns", kind="checkin") == N,
          "circd_transactions_total{station=returns,kind=checkin} is %d" % N)
    check(get(s, "circd_events_total", device="drop1", type="tag-seen") == N and
          get(s, "circd_events_total", device="drop1", type="tag-gone") == N,
          "circd_events_total counts drop1's %d tag-seen and %d tag-gone" % (N, N))
    check(get(s, "circd_events_total", device="drop2", type="gate-pass") == 2,
          "... and drop2's 2 gate passes")
    check(get(s, "circd_deliveries_done_total", upstream="out") == N, "every delivery done")
    check(get(s, "circd_backlog", upstream="out") == 0 and
          get(s, "circd_backlog_oldest_seconds", upstream="out") == 0, "no backlog, no oldest age")
    for state in ("pending", "inflight", "rejected", "dead"):
        check(get(s, "circd_deliveries", upstream="out", state=state) == 0,
              "circd_deliveries{state=%s} is 0" % state)
    check(get(s, "circd_upstream_up", upstream="out") == 1, "the upstream is up")
    check(get(s, "circd_upstream_retries_total", upstream="out") == 0, "no retries yet")
    check(get(s, "circd_upstream_reconnects_total", upstream="out") == 0, "no reconnects")
    check(get(s, "circd_duplicates_total") == 0, "no duplicates")
    health1 = {dict(k)["state"]: v for k, v in series(s, "circd_device_health").items()
               if dict(k)["device"] == "drop1"}
    check(health1 == {"starting": 0, "ok": 1, "degraded": 0, "offline": 0, "failed": 0},
          "drop1's health is ok (one 1 among the five states)")
    check(get(s, "circd_device_up", device="drop1") == 1, "circd_device_up{drop1} is 1")
    # The plugins' error counters (host->set_counters(), ABI 1.5): every
    # device has every series from the start, at 0 while nothing went wrong.
    for dev in ("drop1", "drop2"):
        errs = {dict(k)["kind"]: v for k, v in series(s, "circd_device_errors_total").items()
                if dict(k)["device"] == dev}
        check(errs == {"bad_frame": 0, "timeout": 0, "device_error": 0},
              "%s's circd_device_errors_total: the three kinds, at 0 (%r)" % (dev, errs))
        check(get(s, "circd_device_reconnects_total", device=dev) == 0,
              "%s's circd_device_reconnects_total is 0" % dev)
    check(types.get("circd_device_errors_total") == "counter" and
          types.get("circd_device_reconnects_total") == "counter",
          "the device error families are counters")
    wait_for(lambda: get(scraped()[0], "circd_device_health", device="drop2", state="offline") == 1,
             5, "drop2 shown offline")
    check(True, "drop2's health is offline")
    commits = get(s, "circd_journal_commits_total")
    commit_count = get(s, "circd_journal_commit_seconds_count")
    check(commits > 0 and 0 < commit_count <= commits,
          "commits counted (%d) and timed (%d)" % (commits, commit_count))
    e2c = get(s, "circd_event_to_commit_seconds_count")
    check(e2c >= 2 * N + 2, "every event's time to commit is measured (%d)" % e2c)
    check(check_histograms(s, types) == 2, "both histograms: buckets cumulative, +Inf == _count")
    check(get(s, "circd_start_time_seconds") > 1.6e9, "the start time is there")
    check("circd_alarms_total" not in types and "circd_gate_decision_seconds" not in types,
          "no alarms or gate decisions: those families are not shown without data")
    check(types["circd_events_total"] == "counter" and types["circd_backlog"] == "gauge",
          "counters are counters, gauges gauges")

    # The control socket (what circctl metrics prints) renders the same text.
    r = h.ctl_ok("metrics")
    cs, ctypes = parse(r["text"])
    check(set(ctypes) == set(types), "the control command has the same families")
    check(get(cs, "circd_transactions_total", station="returns", kind="checkin") == N and
          get(cs, "circd_deliveries_done_total", upstream="out") == N,
          "... and the same counts")
    if os.access(CIRCCTL_BIN, os.X_OK):
        out = subprocess.run([CIRCCTL_BIN, "-s", os.path.join(h.run_dir, "control.sock"), "metrics"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        if out.returncode == 0:
            ps, _ = parse(out.stdout.decode())
            check(get(ps, "circd_transactions_total", station="returns", kind="checkin") == N,
                  "circctl metrics prints it")
        else:
            log("circctl metrics: %s (not checked)" % out.stderr.decode().strip())

    # Wrong requests.
    try:
        urllib.request.urlopen("http://127.0.0.1:%d/other" % port, timeout=5)
        raise Failure("GET /other did not fail")
    except urllib.error.HTTPError as e:
        check(e.code == 404, "GET /other answers 404")
    a = raw(port, b"GET /metrics?x=1 HTTP/1.0\r\n\r\n")
    check(a.startswith(b"HTTP/1.1 200 OK\r\n") and b"circd_backlog" in a,
          "an HTTP/1.0 request (with a query string) gets the metrics")
    a = raw(port, b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    check(a.startswith(b"HTTP/1.1 200 OK\r\n") and a.endswith(b"\r\n\r\n"),
          "HEAD gets the headers only")
    a = raw(port, b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
    check(a.startswith(b"HTTP/1.1 405 ") and b"Allow: GET, HEAD" in a, "POST answers 405")
    for bad in (b"GARBAGE\r\n\r\n", b"GET /metrics\r\n\r\n", b"GET /metrics HTTP/2.0\r\n\r\n",
                b"GET  /metrics HTTP/1.1\r\n\r\n", b"GET metrics HTTP/1.1\r\n\r\n",
                b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", b"GET /\x00 HTTP/1.1\r\n\r\n"):
        a = raw(port, bad)
        check(a.startswith(b"HTTP/1.1 400 "), "%r answers 400" % bad[:24])
    a = raw(port, b"GET /metrics HTTP/1.1\r\nX-Long: " + b"a" * 10000 + b"\r\n\r\n")
    check(a.startswith(b"HTTP/1.1 431 "), "a request head over 8 KiB answers 431")

    # The upstream's storage goes away while 20 more books come back.
    os.rename(sink, moved)
    for i in range(MORE):
        h.inject("drop1", "tag uid=E00408%010d item=LATE%04d dwell=5" % (i, i))
    wait_for(lambda: get(scraped()[0], "circd_backlog", upstream="out") == MORE, 10,
             "a backlog of %d in the metrics" % MORE)
    time.sleep(1.1)
    s, types = scraped()
    check(get(s, "circd_backlog", upstream="out") == MORE, "circd_backlog shows the %d waiting" % MORE)
    open_ = get(s, "circd_deliveries", upstream="out", state="pending") + \
        get(s, "circd_deliveries", upstream="out", state="inflight")
    check(open_ == MORE, "pending + inflight deliveries add up to the backlog (%d)" % open_)
    check(get(s, "circd_backlog_oldest_seconds", upstream="out") >= 1.0,
          "the oldest is over a second old (%.2f s)" % get(s, "circd_backlog_oldest_seconds", upstream="out"))
    check(get(s, "circd_upstream_retries_total", upstream="out") >= 1,
          "the retries are counted (%d)" % get(s, "circd_upstream_retries_total", upstream="out"))
    check(get(s, "circd_upstream_up", upstream="out") == 0, "the upstream is down")
    check(get(s, "circd_transactions_total", station="returns", kind="checkin") == N + MORE,
          "the returns were journaled all the same (%d)" % (N + MORE))
    os.mkdir(sink)
    wait_for(lambda: get(scraped()[0], "circd_backlog", upstream="out") == 0, 40,
             "the backlog to drain")
    s, _ = scraped()
    check(get(s, "circd_deliveries_done_total", upstream="out") == N + MORE,
          "after the outage every delivery is done (%d)" % (N + MORE))
    check(get(s, "circd_upstream_up", upstream="out") == 1, "and the upstream is up again")

    # Slow clients: ten send half a request and wait; one asks and never reads.
    t_idle = time.monotonic()
    idle = []
    for _ in range(10):
        c = socket.create_connection(("127.0.0.1", port), timeout=5)
        c.sendall(b"GET /metr")
        idle.append(c)
    mute = socket.create_connection(("127.0.0.1", port), timeout=5)
    mute.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    mute.sendall(b"GET /metrics HTTP/1.1\r\n\r\n")
    before = h.jsonl_count()
    t0 = time.monotonic()
    for i in range(10):
        h.inject("drop1", "tag uid=E00409%010d item=SLOW%04d dwell=5" % (i, i))
    wait_for(lambda: h.jsonl_count() >= before + 10, 5, "10 returns while slow clients hang on")
    check(True, "10 returns reach the upstream in %.2f s while 11 clients hang on"
          % (time.monotonic() - t0))
    t0 = time.monotonic()
    status, _, _ = scrape()
    check(status == 200 and time.monotonic() - t0 < 2, "another scrape is served meanwhile (%.3f s)"
          % (time.monotonic() - t0))
    for c in idle:
        c.settimeout(max(0.1, 14 - (time.monotonic() - t_idle)))
        try:
            data = c.recv(100)
        except socket.timeout:
            raise Failure("an idle client was not closed within 14 s")
        if data:
            raise Failure("an idle client got an answer to half a request: %r" % data)
        c.close()
    check(True, "the idle clients were closed after %.1f s (idle timeout 10 s)" % (time.monotonic() - t_idle))
    mute.close()
    check(h.running(), "circd is still running")

    # A reload moves the listener to another port (IPv6 loopback when there is one).
    v6 = ipv6_loopback_port()
    if v6:
        port2, where, host = v6, "[::1]:%d" % v6, "[::1]"
    else:
        port2 = free_port()
        where, host = "127.0.0.1:%d" % port2, "127.0.0.1"
    text = open(h.config_path).read().replace("127.0.0.1:%d" % port, where)
    h.write(h.config_path, text)
    mark = h.notify.count()
    h.signal(signal.SIGHUP)
    h.notify.wait_key("READY", "1", timeout=10, start=mark)
    with urllib.request.urlopen("http://%s:%d/metrics" % (host, port2), timeout=5) as r:
        check(r.status == 200, "after a reload the metrics are served at %s" % where)
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        raise Failure("the old port still accepts connections")
    except ConnectionRefusedError:
        check(True, "and no longer on the old one")
    rc = h.stop()
    check(rc == 0, "circd exits 0 (%d)" % rc)

    # The port is taken: circd says so and runs without the listener.
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port3 = taken.getsockname()[1]
    h.write(h.config_path, re.sub(r'listen = "[^"]*"', 'listen = "127.0.0.1:%d"' % port3,
                                  open(h.config_path).read()))
    h.start()
    check("metrics: cannot listen on 127.0.0.1:%d" % port3 in h.last_log(),
          "with the port taken circd logs that it cannot listen")
    r = h.ctl_ok("metrics")
    check("circd_transactions_total" in r["text"] or "circd_backlog" in r["text"],
          "and still runs, metrics through circctl")
    taken.close()
    check(h.stop() == 0, "circd exits 0")


if __name__ == "__main__":
    main(story, timeout=90)

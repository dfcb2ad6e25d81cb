#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""circctl against a FAKE circd.

FakeCircd below is not circd and shares no code with it: it is a small
Unix-socket server (Python standard library only) that speaks the control
protocol of daemon/control.h -- one JSON object per line each way -- and
answers each request with a canned reply chosen by its "cmd".  It records
every request, so the tests can check what circctl sent as well as what it
printed and how it exited.
"""
import csv
import datetime
import io
import json
import os
import shutil
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import unittest

CIRCCTL = os.environ.get("CIRCCTL_BIN") or os.path.join(
    os.environ.get("top_builddir", "."), "circctl")
# daemon/control.c serving canned answers (tests/unit/control_canned_server.c).
CANNED_SERVER = os.path.join(os.environ.get("top_builddir", "."),
                             "tests", "unit", "control_canned_server")

STATUS_HEALTHY = {
    "ok": True, "site": "Central Library", "version": "0.1.0", "uptime_sec": 7500,
    "state": "running",
    "devices": [
        {"name": "drop1", "plugin": "sim", "health": "ok", "reason": "", "events": 42,
         "errors": {"bad_frame": 0, "timeout": 0, "device_error": 0, "reconnects": 0}},
        {"name": "gate1", "plugin": "feig", "health": "ok", "reason": "", "events": 7,
         "errors": {"bad_frame": 3, "timeout": 1, "device_error": 0, "reconnects": 2}},
    ],
    "stations": [
        {"name": "returns", "role": "bookdrop", "devices": ["drop1", "gate1"],
         "transactions": 12},
    ],
    "upstreams": [
        {"name": "ils", "plugin": "sip2", "state": "up", "backlog": 0, "oldest_age_sec": 0,
         "done": 12, "rejected": 0, "dead": 0, "last_error": ""},
    ],
    "backlog": {"pending": 0, "oldest_age_sec": 0},
}

TRANSACTIONS = [
    {"id": 1, "time": "2026-11-28T18:06:00.123Z", "kind": "checkin", "station": "returns",
     "device": "drop1", "item_id": "39001234", "uid": "e004010012345678", "state": "done",
     "upstreams": {"ils": {"state": "done", "attempts": 1, "message": ""}}},
    {"id": 2, "time": "2026-11-28T18:07:30.000Z", "kind": "checkin", "station": "returns",
     "device": "drop1", "item_id": 'Harry, "the" Potter', "uid": "e0040100aa",
     "state": "pending",
     "upstreams": {"ils": {"state": "done", "attempts": 1, "message": ""},
                   "mqtt": {"state": "pending", "attempts": 0, "message": ""}}},
    {"id": 3, "time": "2026-11-28T18:08:00.000Z", "kind": "checkout", "station": "desk",
     "device": "pad1", "item_id": "line\nbreak", "uid": "", "state": "rejected",
     "upstreams": {}},
]

ITEM_ROW = {
    "item_id": "39001234", "circulation_status": "04", "security": "02",
    "title": "C\u00e1liz de plata", "call_number": "863 CAL", "home_location": "main",
    "due_date": "20261212    235900", "last_seen_where": "returns",
    "last_seen": "2026-11-28T18:06:00.123Z", "updated": "2026-11-28T18:06:01.000Z",
}


class FakeCircd:
    """A fake circd control server: canned answers per "cmd", requests recorded.

    answers maps a cmd to a dict (sent as is), a callable(request) -> dict,
    or None (close the connection without answering).  A cmd not in the map
    gets the real daemon's "unknown command" error."""

    def __init__(self, path, answers):
        self.path = path
        self.answers = answers
        self.requests = []
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                for raw in self.rfile:
                    request = json.loads(raw)
                    fake.requests.append(request)
                    answer = fake.answers.get(request["cmd"], KeyError)
                    if answer is KeyError:
                        answer = {"ok": False,
                                  "error": "unknown command '%s'" % request["cmd"]}
                    elif callable(answer):
                        answer = answer(request)
                    if answer is None:
                        return
                    self.wfile.write(json.dumps(answer).encode() + b"\n")
                    self.wfile.flush()

        self.server = socketserver.ThreadingUnixStreamServer(path, Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


class CircctlTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="circctl-test-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.sock = os.path.join(self.tmp, "control.sock")
        self.fake = None

    def serve(self, answers):
        self.fake = FakeCircd(self.sock, answers)
        self.addCleanup(self.fake.close)
        return self.fake

    def run_circctl(self, *args, env=None, socket_path=None, text=True, **kwargs):
        full_env = dict(os.environ)
        full_env.pop("CIRCD_SOCKET", None)
        full_env.update(env or {})
        cmd = [CIRCCTL]
        if socket_path is not False:
            cmd += ["-s", socket_path or self.sock]
        if not text:
            # Bytes in, str out, line ends untouched (CSV's CRLF).
            r = subprocess.run(cmd + list(args), capture_output=True, env=full_env,
                               timeout=20, **kwargs)
            r.stdout, r.stderr = r.stdout.decode(), r.stderr.decode()
            return r
        return subprocess.run(cmd + list(args), capture_output=True, text=True,
                              env=full_env, timeout=20, **kwargs)

    def assertExit(self, result, code):
        self.assertEqual(result.returncode, code,
                         "exit %d, stdout:\n%s\nstderr:\n%s"
                         % (result.returncode, result.stdout, result.stderr))

    # ---- status -------------------------------------------------------------

    def status_with(self, **changes):
        answer = json.loads(json.dumps(STATUS_HEALTHY))
        for key, value in changes.items():
            answer[key] = value
        return answer

    def test_status_healthy_table(self):
        self.serve({"status": STATUS_HEALTHY})
        r = self.run_circctl("status")
        self.assertExit(r, 0)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0], "Central Library: circd 0.1.0, running, up 2h 05m")
        self.assertIn("Devices:", lines)
        self.assertRegex(r.stdout, r"\n  NAME +PLUGIN +HEALTH +EVENTS +ERRORS +REASON\n")
        # the error counters: only those above 0, "-" when none
        self.assertRegex(r.stdout, r"\n  drop1 +sim +ok +42 +- +-\n")
        self.assertRegex(r.stdout,
                         r"\n  gate1 +feig +ok +7 +bad_frame=3 timeout=1 reconnects=2 +-\n")
        self.assertRegex(r.stdout, r"\n  returns +bookdrop +drop1,gate1 +12\n")
        self.assertRegex(r.stdout, r"\n  ils +sip2 +up +0 +- +12 +0 +0 +-\n")
        self.assertIn("Backlog: empty", r.stdout)
        self.assertEqual(self.fake.requests, [{"cmd": "status"}])

    def test_status_degraded(self):
        degraded_device = self.status_with(devices=[
            {"name": "drop1", "plugin": "sim", "health": "degraded", "reason": "slow",
             "events": 1}])
        self.serve({"status": degraded_device})
        self.assertExit(self.run_circctl("status"), 1)

        ups = json.loads(json.dumps(STATUS_HEALTHY["upstreams"]))
        ups[0].update(state="down", backlog=17, oldest_age_sec=750,
                      last_error="connect: Connection refused")
        self.fake.answers["status"] = self.status_with(
            upstreams=ups, backlog={"pending": 17, "oldest_age_sec": 750})
        r = self.run_circctl("status")
        self.assertExit(r, 1)
        self.assertRegex(r.stdout, r"ils +sip2 +down +17 +12m 30s .*connect: Connection refused")
        self.assertIn("Backlog: 17 pending, oldest 12m 30s ago", r.stdout)

    def test_status_down(self):
        failed = self.status_with(devices=[
            {"name": "drop1", "plugin": "sim", "health": "failed", "reason": "no device",
             "events": 0},
            {"name": "gate1", "plugin": "feig", "health": "ok", "reason": "", "events": 0}])
        self.serve({"status": failed})
        self.assertExit(self.run_circctl("status"), 2)
        self.fake.answers["status"] = self.status_with(devices=[
            {"name": "drop1", "plugin": "sim", "health": "offline", "reason": "unplugged",
             "events": 0}])
        self.assertExit(self.run_circctl("status"), 2)
        self.fake.answers["status"] = self.status_with(state="stopping")
        self.assertExit(self.run_circctl("status"), 2)

    def test_status_error_answer_is_unknown(self):
        self.serve({"status": {"ok": False, "error": "shutting down"}})
        r = self.run_circctl("status")
        self.assertExit(r, 3)
        self.assertIn("shutting down", r.stderr)

    def test_status_json(self):
        self.serve({"status": STATUS_HEALTHY})
        for args in (["--json", "status"], ["status", "--json"], ["status", "-j"]):
            r = self.run_circctl(*args)
            self.assertExit(r, 0)
            self.assertEqual(json.loads(r.stdout), STATUS_HEALTHY)

    # ---- reaching the daemon ------------------------------------------------

    def test_not_running(self):
        missing = os.path.join(self.tmp, "nothing.sock")
        r = self.run_circctl("status", socket_path=missing)
        self.assertExit(r, 3)
        self.assertIn("circd is not running (no socket at %s)" % missing, r.stderr)

    def test_stale_socket(self):
        s = socket.socket(socket.AF_UNIX)
        s.bind(self.sock)
        s.close()
        r = self.run_circctl("journal")
        self.assertExit(r, 3)
        self.assertIn("circd is not running", r.stderr)
        self.assertIn(self.sock, r.stderr)

    def test_permission_denied(self):
        # The socket sits in a directory nobody may search.  (A socket's own
        # mode is not enforced everywhere, e.g. in some sandboxes.)  Root
        # passes any permission check, so as root ask as "nobody" instead.
        os.chmod(self.tmp, 0o755)
        locked = os.path.join(self.tmp, "locked")
        os.mkdir(locked)
        self.sock = os.path.join(locked, "control.sock")
        self.serve({"status": STATUS_HEALTHY})
        os.chmod(locked, 0)
        self.addCleanup(os.chmod, locked, 0o755)
        as_user = {}
        if os.geteuid() == 0:
            nobody = 65534
            as_user = {"user": nobody, "group": nobody, "extra_groups": []}
            try:
                probe = subprocess.run([CIRCCTL, "--version"], capture_output=True, **as_user)
            except PermissionError:
                probe = None  # the build tree lies in a directory nobody may enter
            if probe is None or probe.returncode != 0:
                self.skipTest("running as root and %s cannot run as uid %d: EACCES not "
                              "tested" % (CIRCCTL, nobody))
        r = self.run_circctl("status", **as_user)
        if r.returncode == 0:
            self.skipTest("this system let the connection through: EACCES not tested")
        self.assertExit(r, 3)
        self.assertIn("permission denied on %s: add your user to the circd group" % self.sock,
                      r.stderr)

    def test_socket_from_environment_and_option(self):
        self.serve({"reload": {"ok": True}})
        r = self.run_circctl("reload", socket_path=False, env={"CIRCD_SOCKET": self.sock})
        self.assertExit(r, 0)
        self.assertEqual(r.stdout, "Reload requested.\n")
        # -s wins over the environment.
        r = self.run_circctl("reload", env={"CIRCD_SOCKET": "/nonexistent/x.sock"})
        self.assertExit(r, 0)
        r = self.run_circctl("reload", "-s", "/nonexistent/y.sock", socket_path=False,
                             env={"CIRCD_SOCKET": self.sock})
        self.assertExit(r, 3)
        self.assertIn("/nonexistent/y.sock", r.stderr)

    def test_daemon_closes_without_answer(self):
        self.serve({"status": None})
        r = self.run_circctl("status")
        self.assertExit(r, 3)
        self.assertIn("without an answer", r.stderr)

    def test_error_answer(self):
        self.serve({})
        r = self.run_circctl("metrics")
        self.assertExit(r, 1)
        self.assertEqual(r.stderr, "circctl: unknown command 'metrics'\n")
        r = self.run_circctl("--json", "metrics")
        self.assertExit(r, 1)
        self.assertEqual(json.loads(r.stdout),
                         {"ok": False, "error": "unknown command 'metrics'"})

    # ---- journal ------------------------------------------------------------

    def test_journal_table_and_request(self):
        fake = self.serve({"journal": {"ok": True, "transactions": TRANSACTIONS}})
        r = self.run_circctl("journal", "--limit", "20", "--station", "returns",
                             "--kind", "checkin", "--state", "done", "--item", "39001234",
                             "--since", "2026-11-28T18:00", "--until", "2026-11-29")
        self.assertExit(r, 0)
        lines = r.stdout.splitlines()
        self.assertRegex(lines[0], r"^ID +TIME +KIND +STATION +ITEM +STATE$")
        self.assertRegex(lines[1], r"^1 +2026-11-28T18:06:00.123Z +checkin +returns "
                                   r"+39001234 +done$")
        # Several upstreams: each one's state.
        self.assertRegex(lines[2], r'^2 .*Harry, "the" Potter +ils:done mqtt:pending$')
        # A control character from the journal does not reach the terminal.
        self.assertRegex(lines[3], r"^3 .*line\?break +rejected$")
        self.assertEqual(fake.requests, [{
            "cmd": "journal", "limit": 20, "station": "returns", "kind": "checkin",
            "state": "done", "item": "39001234", "since": "2026-11-28T18:00",
            "until": "2026-11-29"}])

    def test_relative_times_become_utc(self):
        fake = self.serve({"journal": {"ok": True, "transactions": []}})
        before = datetime.datetime.now(datetime.timezone.utc)
        r = self.run_circctl("journal", "--since", "-2h", "--until=-30m")
        after = datetime.datetime.now(datetime.timezone.utc)
        self.assertExit(r, 0)
        self.assertEqual(r.stdout, "No transactions.\n")
        req = fake.requests[0]
        for key, delta in (("since", datetime.timedelta(hours=2)),
                           ("until", datetime.timedelta(minutes=30))):
            self.assertRegex(req[key], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            t = datetime.datetime.strptime(req[key], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                tzinfo=datetime.timezone.utc)
            self.assertLessEqual(before - delta - datetime.timedelta(seconds=1), t)
            self.assertLessEqual(t, after - delta + datetime.timedelta(seconds=1))
        r = self.run_circctl("stats", "--since", "-7d")
        t = datetime.datetime.strptime(fake.requests[-1]["since"], "%Y-%m-%dT%H:%M:%S.%fZ")
        days = (datetime.datetime.utcnow() - t).total_seconds() / 86400
        self.assertAlmostEqual(days, 7, places=3)

    def test_accepted_absolute_times(self):
        fake = self.serve({"journal": {"ok": True, "transactions": []}})
        for t in ("2026-11-28", "2026-11-28T18:00", "2026-11-28T18:00Z",
                  "2026-11-28T18:00:05", "2026-11-28T18:00:05.250Z", "2026-11-28T18:00+01:00"):
            self.assertExit(self.run_circctl("journal", "--since", t), 0)
            self.assertEqual(fake.requests[-1]["since"], t)

    def test_journal_usage_errors(self):
        fake = self.serve({"journal": {"ok": True, "transactions": []}})
        for args in (["--state", "lost"], ["--limit", "0"], ["--limit", "ten"],
                     ["--since", "yesterday"], ["--since", "2026-13-01"], ["--until", "-2x"],
                     ["extra"], ["--bogus"], ["--limit"]):
            r = self.run_circctl("journal", *args)
            self.assertExit(r, 2)
            self.assertIn("circctl", r.stderr)
        self.assertEqual(fake.requests, [])

    # ---- export -------------------------------------------------------------

    def test_export_csv(self):
        fake = self.serve({"export": {"ok": True, "transactions": TRANSACTIONS}})
        r = self.run_circctl("export", "--format", "csv", "--since", "2026-11-01",
                             text=False)
        self.assertExit(r, 0)
        self.assertEqual(fake.requests, [{"cmd": "export", "since": "2026-11-01"}])
        self.assertTrue(r.stdout.startswith(
            "id,time,kind,station,device,item_id,uid,state\r\n"))
        # RFC 4180: the comma and quotes are quoted, the quote doubled.
        self.assertIn(',"Harry, ""the"" Potter",', r.stdout)
        rows = list(csv.reader(io.StringIO(r.stdout, newline="")))
        self.assertEqual(rows[0], ["id", "time", "kind", "station", "device", "item_id",
                                   "uid", "state"])
        self.assertEqual(len(rows), 4)
        self.assertEqual(rows[2][5], 'Harry, "the" Potter')
        self.assertEqual(rows[3][5], "line\nbreak")
        self.assertEqual(rows[1], ["1", "2026-11-28T18:06:00.123Z", "checkin", "returns",
                                   "drop1", "39001234", "e004010012345678", "done"])

    def test_export_jsonl_to_file(self):
        self.serve({"export": {"ok": True, "transactions": TRANSACTIONS}})
        out = os.path.join(self.tmp, "export.jsonl")
        r = self.run_circctl("export", "--format", "jsonl", "-o", out)
        self.assertExit(r, 0)
        self.assertEqual(r.stdout, "")
        with open(out) as f:
            lines = f.read().splitlines()
        self.assertEqual([json.loads(line) for line in lines], TRANSACTIONS)

    def test_export_failure_leaves_no_file(self):
        self.serve({"export": {"ok": False, "error": "journal locked"}})
        out = os.path.join(self.tmp, "export.csv")
        r = self.run_circctl("export", "-o", out)
        self.assertExit(r, 1)
        self.assertIn("journal locked", r.stderr)
        self.assertFalse(os.path.exists(out))
        self.assertExit(self.run_circctl("export", "--format", "xml"), 2)

    def test_export_write_failure_keeps_the_old_file(self):
        # The file cannot grow past 64 bytes: the export's write fails half
        # way, and the file from last time is still there, untouched.
        import resource
        import signal

        def small_files():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))
        self.serve({"export": {"ok": True, "transactions": TRANSACTIONS}})
        out = os.path.join(self.tmp, "export.jsonl")
        with open(out, "w") as f:
            f.write("last week")
        r = self.run_circctl("export", "--format", "jsonl", "-o", out, preexec_fn=small_files)
        self.assertExit(r, 1)
        self.assertIn("writing %s failed" % out, r.stderr)
        with open(out) as f:
            self.assertEqual(f.read(), "last week")
        self.assertEqual(sorted(os.listdir(self.tmp)), ["control.sock", "export.jsonl"])

    def test_export_events(self):
        events = [
            {"id": 7, "time": "2026-11-28T18:06:01.000Z", "type": "sort", "device": "drop1",
             "station": "returns", "item_id": "39001234",
             "detail": {"station": "returns", "bin": "H, \"hold\"", "txn": 1}},
            {"id": 8, "time": "2026-11-28T18:07:00.000Z", "type": "sort", "device": "drop1",
             "station": "", "item_id": "", "detail_text": "not json {"},
        ]
        fake = self.serve({"events": {"ok": True, "events": events}})
        r = self.run_circctl("export", "--what", "events", "--type", "sort,shelf", text=False)
        self.assertExit(r, 0)
        self.assertEqual(fake.requests, [{"cmd": "events", "type": "sort,shelf"}])
        rows = list(csv.reader(io.StringIO(r.stdout, newline="")))
        self.assertEqual(rows[0], ["id", "time", "type", "device", "station", "item_id",
                                   "detail"])
        self.assertEqual(json.loads(rows[1][6])["bin"], 'H, "hold"')
        self.assertEqual(rows[2][6], "not json {")
        r = self.run_circctl("export", "-w", "events", "--format", "jsonl")
        self.assertEqual([json.loads(x) for x in r.stdout.splitlines()], events)
        self.assertExit(self.run_circctl("export", "--what", "items"), 2)
        self.assertExit(self.run_circctl("export", "--type", "sort"), 2)

    # ---- report -------------------------------------------------------------

    REPORT = {
        "ok": True, "site": "<Main> & 'Co'", "generated": "2026-11-28T20:00:00.000Z",
        "by": "hour", "timezone": "UTC", "since": "2026-11-28T18:00:00.000Z",
        "until": "2026-11-28T20:00:00.000Z", "since_label": "2026-11-28 18:00",
        "until_label": "2026-11-28 20:00",
        "periods": ["2026-11-28T18:00", "2026-11-28T19:00"],
        "returns": {"total": 4, "per_period": [3, 1], "sorted": 1,
                    "by_bin": [{"bin": "</svg><script>x()</script>", "count": 1}]},
        "alarms": {"total": 0, "true": 0, "false": 0, "unknown": 0,
                   "per_period": {"true": [0, 0], "false": [0, 0], "unknown": [0, 0]}},
        "gate_passes": {"total": 0, "in": 0, "out": 0, "unknown_direction": 0,
                        "per_period": {"in": [0, 0], "out": [0, 0]}},
        "shelf": {"total": 0, "by_anomaly": []},
        "selfcheck": {"transactions": 0, "succeeded": 0, "failed": 0, "pending": 0,
                      "success_rate": None, "sessions": 0, "items_ok": 0, "items_failed": 0},
        "exceptions": {"open": 1, "station": 0, "station_by_reason": []},
        "malformed_events": 0,
    }

    def test_report_html(self):
        fake = self.serve({"report-data": self.REPORT})
        out = os.path.join(self.tmp, "r.html")
        r = self.run_circctl("report", "--html", out, "--since", "2026-11-28T18:00Z",
                             "--until", "2026-11-28T20:00Z")
        self.assertExit(r, 0)
        self.assertEqual(r.stdout, "Report written to %s\n" % out)
        self.assertEqual(fake.requests, [{"cmd": "report-data", "since": "2026-11-28T18:00Z",
                                          "until": "2026-11-28T20:00Z", "by": "auto"}])
        with open(out) as f:
            page = f.read()
        self.assertIn("<title>Circulation report \u2014 &lt;Main&gt; &amp; &#39;Co&#39;</title>",
                      page)
        self.assertIn("&lt;/svg&gt;&lt;script&gt;x()&lt;/script&gt;", page)
        self.assertNotIn("<script", page)
        self.assertEqual(page.count('class="bar"'), 2 + 1)  # two hours, one bin
        # alarms, gate passes, shelf, self-check, station exceptions
        self.assertEqual(page.count("No data in this period."), 5)
        self.assertIn('<div class="n">\u2013</div><div class="l">Self-check success', page)
        self.assertEqual(sorted(os.listdir(self.tmp)), ["control.sock", "r.html"])

        # Defaults: the last 24 hours, sent as UTC times; --utc and --title.
        r = self.run_circctl("report", "--html", "-", "--utc", "--by", "day", "--title", "T&T")
        self.assertExit(r, 0)
        self.assertIn("<strong>T&amp;T</strong>", r.stdout)
        req = fake.requests[-1]
        self.assertRegex(req["since"], r"Z$")
        self.assertRegex(req["until"], r"Z$")
        self.assertEqual((req["utc"], req["by"]), (True, "day"))
        r = self.run_circctl("report", "--json")
        self.assertEqual(json.loads(r.stdout)["site"], "<Main> & 'Co'")

    def test_report_failure_keeps_the_old_file(self):
        self.serve({"report-data": {"ok": False, "error": "journal query failed: disk I/O"}})
        out = os.path.join(self.tmp, "r.html")
        with open(out, "w") as f:
            f.write("last week")
        r = self.run_circctl("report", "--html", out)
        self.assertExit(r, 1)
        self.assertIn("disk I/O", r.stderr)
        with open(out) as f:
            self.assertEqual(f.read(), "last week")
        self.assertEqual(sorted(os.listdir(self.tmp)), ["control.sock", "r.html"])

    def test_report_usage(self):
        fake = self.serve({"report-data": self.REPORT})
        for args in ([], ["--html"], ["--html", ""], ["--html", "x", "--by", "week"],
                     ["--html", "x", "extra"], ["--html", "x", "--since", "yesterday"]):
            r = self.run_circctl("report", *args)
            self.assertExit(r, 2)
            self.assertIn("circctl", r.stderr)
        self.assertEqual(fake.requests, [])

    # ---- stats, exceptions, sim, reload, metrics -----------------------------

    def test_stats(self):
        rows = [{"period": "2026-11-28T18:00", "station": "returns", "kind": "checkin",
                 "count": 31},
                {"period": "2026-11-28T19:00", "station": "returns", "kind": "checkin",
                 "count": 4}]
        fake = self.serve({"stats": {"ok": True, "rows": rows}})
        r = self.run_circctl("stats", "--by", "hour")
        self.assertExit(r, 0)
        self.assertRegex(r.stdout, r"^PERIOD +STATION +KIND +COUNT\n2026-11-28T18:00 +returns"
                                   r" +checkin +31\n")
        self.assertIn("Total: 35", r.stdout)
        self.assertEqual(fake.requests[-1], {"cmd": "stats", "by": "hour"})
        self.assertExit(self.run_circctl("stats"), 0)
        self.assertEqual(fake.requests[-1], {"cmd": "stats", "by": "day"})
        self.assertExit(self.run_circctl("stats", "--by", "week"), 2)

    def test_exceptions(self):
        listing = {"ok": True, "exceptions": [
            {"id": 42, "time": "2026-11-28T18:07:30.000Z", "station": "returns",
             "item_id": "39001234", "upstream": "ils", "reason": "rejected",
             "message": "Item not checked out"}]}
        fake = self.serve({"exceptions": listing, "exceptions-retry": {"ok": True},
                           "exceptions-dismiss": {"ok": True}})
        for args in (["exceptions"], ["exceptions", "list"]):
            r = self.run_circctl(*args)
            self.assertExit(r, 0)
            self.assertRegex(r.stdout, r"^ID +TIME +STATION +ITEM +UPSTREAM +REASON +MESSAGE\n"
                                       r"42 +2026-11-28T18:07:30.000Z +returns +39001234 +ils"
                                       r" +rejected +Item not checked out\n$")
        r = self.run_circctl("exceptions", "retry", "42")
        self.assertExit(r, 0)
        self.assertEqual(r.stdout, "Exception 42 queued for retry.\n")
        r = self.run_circctl("exceptions", "dismiss", "42", "--note", "damaged, withdrawn")
        self.assertExit(r, 0)
        self.assertEqual(fake.requests[-2:], [
            {"cmd": "exceptions-retry", "id": 42},
            {"cmd": "exceptions-dismiss", "id": 42, "note": "damaged, withdrawn"}])
        n = len(fake.requests)
        for args in (["dismiss", "42"], ["retry"], ["retry", "abc"], ["retry", "1", "2"],
                     ["frob", "1"], ["retry", "1", "--note", "x"]):
            self.assertExit(self.run_circctl("exceptions", *args), 2)
        self.assertEqual(len(fake.requests), n)

    def test_sim(self):
        fake = self.serve({"sim": lambda req: {"ok": True} if req["device"] == "drop1"
                           else {"ok": False, "error": "no device '%s'" % req["device"]}})
        r = self.run_circctl("sim", "drop1", "tag uid=e004 item=1", "-gone uid=e004")
        self.assertExit(r, 0)
        self.assertEqual(r.stdout, "")
        self.assertEqual(fake.requests, [
            {"cmd": "sim", "device": "drop1", "line": "tag uid=e004 item=1"},
            {"cmd": "sim", "device": "drop1", "line": "-gone uid=e004"}])
        r = self.run_circctl("sim", "drop9", "tag uid=1")
        self.assertExit(r, 1)
        self.assertIn("no device 'drop9'", r.stderr)
        self.assertExit(self.run_circctl("sim", "drop1"), 2)

    def test_metrics_and_reload(self):
        text = "# TYPE circd_backlog gauge\ncircd_backlog{upstream=\"ils\"} 3\n"
        self.serve({"metrics": {"ok": True, "text": text}, "reload": {"ok": True}})
        r = self.run_circctl("metrics")
        self.assertExit(r, 0)
        self.assertEqual(r.stdout, text)
        r = self.run_circctl("reload")
        self.assertExit(r, 0)

    # ---- item ---------------------------------------------------------------

    def test_item_table(self):
        fake = self.serve({"item": {"ok": True, "item": ITEM_ROW}})
        r = self.run_circctl("item", "39001234")
        self.assertExit(r, 0)
        self.assertEqual(r.stdout.splitlines(), [
            "item           39001234",
            "status         charged (04)",
            "security       3M Tattle-Tape (02)",
            "title          C\u00e1liz de plata",
            "call number    863 CAL",
            "home location  main",
            "due date       2026-12-12 23:59",
            "last seen      returns, 2026-11-28T18:06:00.123Z",
            "updated        2026-11-28T18:06:01.000Z"])
        self.assertEqual(fake.requests, [{"cmd": "item", "item": "39001234"}])
        # every status code in words; an unknown one as it came; free-text due dates
        for code, words in (("03", "available"), ("08", "waiting on hold shelf"),
                            ("10", "in transit"), ("13", "missing"), ("77", "77")):
            fake.answers["item"] = {"ok": True, "item": dict(
                ITEM_ROW, circulation_status=code, due_date="12/12/2026")}
            r = self.run_circctl("item", "39001234")
            self.assertIn("\nstatus         %s%s\n" % (words, "" if code == "77"
                                                         else " (%s)" % code), r.stdout)
            self.assertIn("\ndue date       12/12/2026\n", r.stdout)

    def test_item_unknown_and_json(self):
        self.serve({"item": {"ok": True, "item": None}})
        r = self.run_circctl("item", "4711")
        self.assertExit(r, 0)
        self.assertEqual(r.stdout, "Item 4711 is not known here.\n")
        r = self.run_circctl("item", "4711", "--json")
        self.assertExit(r, 0)
        self.assertEqual(json.loads(r.stdout), {"ok": True, "item": None})

    def item_server(self, answers_after_refresh, refresh="queued"):
        """The first answer (to the refresh) is ITEM_ROW; polls then get
        answers_after_refresh one by one (the last repeats)."""
        polls = []

        def answer(req):
            if req.get("refresh"):
                return {"ok": True, "item": ITEM_ROW, "refresh": refresh}
            polls.append(req)
            return answers_after_refresh[min(len(polls), len(answers_after_refresh)) - 1]
        if self.fake:
            self.fake.answers["item"] = answer
            self.fake.requests.clear()
            return self.fake, polls
        return self.serve({"item": answer}), polls

    def test_item_refresh(self):
        fresh = dict(ITEM_ROW, circulation_status="03", due_date="",
                     updated="2026-11-28T18:09:00.500Z")
        same = {"ok": True, "item": ITEM_ROW}
        fake, polls = self.item_server([same, same, {"ok": True, "item": fresh}])
        r = self.run_circctl("item", "39001234", "--refresh", "--upstream", "ils")
        self.assertExit(r, 0)
        self.assertIn("status         available (03)\n", r.stdout)
        self.assertIn("updated        2026-11-28T18:09:00.500Z\n", r.stdout)
        self.assertEqual(fake.requests[0], {"cmd": "item", "item": "39001234",
                                            "refresh": True, "upstream": "ils"})
        self.assertEqual(len(polls), 3)
        self.assertTrue(all(p == {"cmd": "item", "item": "39001234"} for p in polls))
        # --json prints the fresh answer
        fake, polls = self.item_server([{"ok": True, "item": fresh}])
        r = self.run_circctl("item", "39001234", "-r", "--json")
        self.assertExit(r, 0)
        self.assertEqual(json.loads(r.stdout), {"ok": True, "item": fresh})
        self.assertNotIn("upstream", fake.requests[0])

    def test_item_refresh_first_record(self):
        # unknown here until the ILS answers
        fresh = dict(ITEM_ROW, circulation_status="03")
        polls = []

        def answer(req):
            if req.get("refresh"):
                return {"ok": True, "item": None, "refresh": "queued"}
            polls.append(req)
            return {"ok": True, "item": fresh if len(polls) > 1 else None}
        self.serve({"item": answer})
        r = self.run_circctl("item", "39001234", "--refresh")
        self.assertExit(r, 0)
        self.assertIn("status         available (03)\n", r.stdout)

    def test_item_refresh_timeout(self):
        fake, polls = self.item_server([{"ok": True, "item": ITEM_ROW}])
        start = time.monotonic()
        r = self.run_circctl("item", "39001234", "--refresh", "--wait", "0.6")
        self.assertLess(time.monotonic() - start, 5)
        self.assertExit(r, 1)
        self.assertIn("circctl: the library system did not answer about 39001234 within "
                      "0.6 s", r.stderr)
        # what is known locally is still shown
        self.assertIn("status         charged (04)\n", r.stdout)
        self.assertGreaterEqual(len(polls), 2)

    def test_item_refresh_lookup_failed(self):
        # a circd that reports how its last lookup ended stops the wait early
        failed = {"ok": True, "item": ITEM_ROW, "last_lookup": {
            "time": "2026-11-28T18:09:00.000Z", "status": "rejected",
            "message": "the ILS does not know item 39001234"}}
        fake, polls = self.item_server([failed])
        r = self.run_circctl("item", "39001234", "--refresh")
        self.assertExit(r, 1)
        self.assertEqual(len(polls), 1)
        self.assertIn("circctl: the lookup of 39001234 failed: the ILS does not know item "
                      "39001234", r.stderr)

    def test_item_refresh_refused(self):
        fake, polls = self.item_server([], refresh="no such upstream")
        r = self.run_circctl("item", "39001234", "--upstream", "nope")
        self.assertExit(r, 1)
        self.assertEqual(r.stderr, "circctl: circd has no upstream named 'nope'\n")
        self.assertEqual(polls, [])
        r = self.run_circctl("item", "39001234", "--refresh")
        self.assertExit(r, 1)
        self.assertEqual(r.stderr, "circctl: circd has no upstream to ask\n")
        # --wait 0: queue and return
        fake, polls = self.item_server([])
        r = self.run_circctl("item", "39001234", "--wait", "0")
        self.assertExit(r, 0)
        self.assertIn("Lookup queued", r.stdout)
        self.assertEqual(polls, [])
        self.assertTrue(fake.requests[0]["refresh"])

    def test_item_usage(self):
        fake = self.serve({"item": {"ok": True, "item": None}})
        for args in ([], ["a", "b"], [""], ["a", "--wait", "-1"], ["a", "--wait", "soon"],
                     ["a", "--wait", "601"], ["a", "--upstream", ""], ["a", "--frob"]):
            r = self.run_circctl("item", *args)
            self.assertExit(r, 2)
            self.assertIn("--help", r.stderr)
        self.assertEqual(fake.requests, [])

    # ---- usage --------------------------------------------------------------

    def test_usage(self):
        for args, code in ((["--help"], 0), (["help"], 0), (["help", "journal"], 0),
                           (["journal", "--help"], 0), (["exceptions", "-h"], 0),
                           ([], 2), (["frobnicate"], 2), (["--frob"], 2),
                           (["help", "frob"], 2), (["status", "extra"], 2),
                           (["status", "-s", ""], 2), (["-s"], 2)):
            r = self.run_circctl(*args, socket_path="/nonexistent/circd.sock")
            self.assertExit(r, code)
            if code == 2:
                self.assertIn("--help", r.stderr)
        r = self.run_circctl("--help", socket_path=False)
        self.assertIn("Exit status:", r.stdout)
        self.assertIn("\n  item BARCODE [--refresh]", r.stdout)
        self.assertIn("\n  upstream test NAME [-c CONFIG]", r.stdout)
        self.assertIn("degraded", r.stdout)
        r = self.run_circctl("help", "item", socket_path=False)
        self.assertIn("--wait SECONDS", r.stdout)
        r = self.run_circctl("--version", socket_path=False)
        self.assertExit(r, 0)
        self.assertRegex(r.stdout, r"^circctl \(circd\) \d+\.\d+")


@unittest.skipUnless(os.access(CANNED_SERVER, os.X_OK), "control_canned_server not built")
class CircctlWithRealServerTest(unittest.TestCase):
    """circctl against daemon/control.c itself (with canned handlers)."""

    ANSWERS = {
        "status": STATUS_HEALTHY,
        "journal": {"ok": True, "transactions": TRANSACTIONS},
        "export": {"ok": True, "transactions": TRANSACTIONS},
        "sim": {},
        "reload": {"ok": False, "error": "circd.conf:12: unknown plugin 'feg'"},
        "item": {"item": ITEM_ROW, "refresh": "no such upstream"},
    }

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="circctl-real-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.sock = os.path.join(self.tmp, "run", "control.sock")
        answers = os.path.join(self.tmp, "answers.json")
        with open(answers, "w") as f:
            json.dump(self.ANSWERS, f)
        # The server exits when its stdin closes: it cannot outlive us.
        self.server = subprocess.Popen([CANNED_SERVER, self.sock, answers],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       text=True)
        self.addCleanup(self.stop_server)
        self.assertEqual(self.server.stdout.readline(), "ready\n")

    def stop_server(self):
        self.server.stdin.close()
        self.server.wait(timeout=10)
        self.server.stdout.close()
        self.assertFalse(os.path.exists(self.sock), "control_free() left the socket")

    def run_circctl(self, *args):
        return subprocess.run([CIRCCTL, "-s", self.sock] + list(args), capture_output=True,
                              text=True, timeout=20)

    def next_request(self):
        return json.loads(self.server.stdout.readline())

    def test_status(self):
        r = self.run_circctl("status")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"\n  drop1 +sim +ok +42 +- +-\n")
        self.assertEqual(self.next_request(), {"cmd": "status"})
        r = self.run_circctl("--json", "status")
        self.assertEqual(json.loads(r.stdout), STATUS_HEALTHY)

    def test_journal_and_export(self):
        r = self.run_circctl("journal", "--since", "-2h", "--state", "done")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("ils:done mqtt:pending", r.stdout)
        req = self.next_request()
        self.assertEqual(req["state"], "done")
        self.assertRegex(req["since"], r"Z$")
        r = self.run_circctl("export", "--format", "jsonl")
        self.assertEqual([json.loads(line) for line in r.stdout.splitlines()], TRANSACTIONS)

    def test_errors(self):
        r = self.run_circctl("reload")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "circctl: circd.conf:12: unknown plugin 'feg'\n")
        r = self.run_circctl("metrics")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "circctl: unknown command 'metrics'\n")

    def test_item(self):
        r = self.run_circctl("item", "39001234")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("status         charged (04)\n", r.stdout)
        self.assertEqual(self.next_request(), {"cmd": "item", "item": "39001234"})
        r = self.run_circctl("item", "39001234", "--upstream", "ils")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(self.next_request(), {"cmd": "item", "item": "39001234",
                                               "refresh": True, "upstream": "ils"})

    def test_sim_sends_each_line(self):
        r = self.run_circctl("sim", "drop1", "tag uid=1", "tag uid=2")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([self.next_request()["line"] for _ in range(2)],
                         ["tag uid=1", "tag uid=2"])


if __name__ == "__main__":
    if not os.access(CIRCCTL, os.X_OK):
        print("circctl not built at %s" % CIRCCTL, file=sys.stderr)
        sys.exit(99)
    unittest.main(verbosity=2)

#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: the branch manager pulls a month's report while the branch works.

The journal holds a month of a busy branch (reportseed.seed_month: 30 days,
about 380,000 rows; a 30-day report takes circd about half a second).  The
manager's client asks for three 30-day reports in a row on one connection.
While circd works on them, the desk runs `circctl status` and a patron
returns a book at the slot: status answers before the first report does,
and the return is journaled (and counted in status) before the last report
is answered, because the reports run on circd's query thread, not on the
loop that serves the desk and the slot.  The reports still say exactly what
was seeded, and come back in the order asked.

Then the manager gives up in the middle of a month's export (closes the
connection): circd interrupts the query (its log says so) and the next
report is answered at once.  Last, circd is stopped (SIGTERM) in the middle
of a report: it exits promptly and cleanly, and the waiting client gets an
answer or a closed connection, never a hang."""
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from circdtest import CIRCCTL_BIN, check, log, main, wait_for  # noqa: E402
import reportseed  # noqa: E402

DAYS = 30
REPORTS = 3


def iso(usec):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(usec / 1e6))


SINCE = iso(reportseed.MONTH_BASE_USEC)
UNTIL = iso(reportseed.MONTH_BASE_USEC + DAYS * reportseed.DAY_USEC)
MONTH = {"since": SINCE, "until": UNTIL, "by": "day", "utc": True}


class Client:
    """One control connection; a thread reads its answers as they come and
    notes when each arrived (not when the story got round to it)."""

    def __init__(self, h):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(30)
        self.s.connect(os.path.join(h.run_dir, "control.sock"))
        self.answers = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        buf = b""
        try:
            while True:
                chunk = self.s.recv(1 << 20)
                if not chunk:
                    break
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    self.answers.put((json.loads(line), time.monotonic()))
        except OSError:
            pass
        self.answers.put((None, time.monotonic()))

    def send(self, cmd, **args):
        req = {"cmd": cmd}
        req.update(args)
        self.s.sendall((json.dumps(req) + "\n").encode())

    def answer(self, timeout=30):
        """The next answer, parsed, and when it arrived; None at EOF."""
        return self.answers.get(timeout=timeout)

    def close(self):
        try:
            self.s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.reader.join(10)
        self.s.close()


def circctl_status(h):
    r = subprocess.run([CIRCCTL_BIN, "-s", os.path.join(h.run_dir, "control.sock"), "--json",
                        "status"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
    # 0 ok, 1 degraded: both are answers.
    check(r.returncode in (0, 1), "circctl status answered (exit %d) %s"
          % (r.returncode, r.stderr.decode(errors="replace")))
    return json.loads(r.stdout)


def test(h):
    h.simple_config()
    h.start()
    h.stop()
    rows = reportseed.seed_month(os.path.join(h.state_dir, "journal.db"), DAYS)
    log("seeded %d rows over %d days" % (rows, DAYS))
    h.start(log_level="info")
    expected_returns = 2000 * DAYS
    expected_passes = 6000 * DAYS

    # ---- the desk and the slot while the reports run ----
    before = h.status()["counters"]["transactions"]
    manager = Client(h)
    t_asked = time.monotonic()
    for _ in range(REPORTS):
        manager.send("report-data", **MONTH)
    # The first report is under way (it takes hundreds of ms): with the
    # reports on the loop, everything below would wait for them.
    time.sleep(0.1)
    st = circctl_status(h)
    t_status = time.monotonic()
    check(st["site"] == "Test report_busy", "status answered: %s" % st.get("site"))
    h.inject("drop1", "tag uid=E004010000BB0001 item=BUSY1 dwell=50")
    wait_for(lambda: h.status()["counters"]["transactions"] > before, 20,
             "the return to be journaled")
    t_journaled = time.monotonic()

    answers = []
    for i in range(REPORTS):
        a, t = manager.answer()
        check(a is not None, "report %d: an answer before the connection closed" % (i + 1))
        check(a.get("ok") is True, "report %d answered ok: %s" % (i + 1, str(a)[:120]))
        check(a["returns"]["total"] == expected_returns and
              a["gate_passes"]["total"] == expected_passes and a["periods"][0] == SINCE[:10],
              "report %d: %d returns, %d gate passes, from %s" % (
                  i + 1, a["returns"]["total"], a["gate_passes"]["total"], a["periods"][0]))
        check(a["site"] == "Test report_busy", "report %d: site %r" % (i + 1, a["site"]))
        answers.append(t)
    manager.close()
    log("reports answered %s ms after asking; status after %.0f ms, the return journaled "
        "after %.0f ms" % (", ".join("%.0f" % ((t - t_asked) * 1000) for t in answers),
                           (t_status - t_asked) * 1000, (t_journaled - t_asked) * 1000))
    check(t_status < answers[0],
          "status (at %.0f ms) answered before the first report (at %.0f ms)"
          % ((t_status - t_asked) * 1000, (answers[0] - t_asked) * 1000))
    check(t_journaled < answers[-1],
          "the return journaled (at %.0f ms) before the last report answered (at %.0f ms)"
          % ((t_journaled - t_asked) * 1000, (answers[-1] - t_asked) * 1000))
    rows = h.query("SELECT count(*) FROM transactions WHERE item_id = 'BUSY1'")
    check(rows[0][0] == 1, "the return is in the journal once (%s)" % rows[0][0])

    # ---- a client that gives up ----
    # The longest query there is: every transaction of the month, with its
    # deliveries (seconds of work).
    quitter = Client(h)
    quitter.send("export", since=SINCE, until=UNTIL)
    time.sleep(0.1)
    quitter.close()
    wait_for(lambda: "export interrupted: the client went away" in h.log_text(), 10,
             "circd to interrupt the abandoned query")
    day = {"since": iso(reportseed.MONTH_BASE_USEC + (DAYS - 1) * reportseed.DAY_USEC),
           "until": UNTIL, "by": "hour", "utc": True}
    a = h.ctl_ok("report-data", **day)
    check(a["returns"]["total"] == 2000, "the next report: %d returns" % a["returns"]["total"])

    # ---- stopping in the middle of a report ----
    last = Client(h)
    last.send("report-data", **MONTH)
    time.sleep(0.1)
    t_stop = time.monotonic()
    h.signal(signal.SIGTERM)
    code = h.wait_exit(15)
    took = time.monotonic() - t_stop
    check(code == 0, "circd exited 0 after SIGTERM during a report (%s)" % code)
    a, _ = last.answer()
    check(a is None or a.get("ok") is True or a.get("error") == "circd is stopping",
          "the waiting client got the report, an error or EOF: %s" % str(a)[:120])
    last.close()
    log("stopped %.0f ms after SIGTERM; the waiting client got %s" % (
        took * 1000, "EOF" if a is None else ("the report" if a.get("ok") else a["error"])))


if __name__ == "__main__":
    main(test)

#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: `./quickstart demo` shows what the README says it shows.

Runs tools/circd-demo (the same script quickstart runs) in a directory of
its own and checks, in the journal it leaves behind and in its output:
returns sorted (a hold to the hold bin, an incomplete set to the exception
bin, the outage's returns to the default bin and replayed), re-secured, a
gate alarm judged true and a borrowed book let through, a misplaced book on
its shelf, a self-check session with one book lent and one refused, and
the HTML report written."""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from circdtest import check, log, main  # noqa: E402

SRC = os.environ.get("top_srcdir", ".")
BUILD = os.environ.get("top_builddir", ".")


def story(h):
    demo = tempfile.mkdtemp(prefix="circd-demo-test-")
    try:
        p = subprocess.run([os.path.join(SRC, "tools", "circd-demo"), BUILD],
                           env=dict(os.environ, CIRCD_DEMO_DIR=demo), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=120)
        out = p.stdout.decode(errors="replace")
        log("demo output: %d lines, exit %d" % (out.count("\n"), p.returncode))
        check(p.returncode == 0, "the demo exits 0\n" + out[-3000:])
        db = sqlite3.connect("file:%s/state/journal.db?mode=ro" % demo, uri=True)

        sorts = {}
        for (d,) in db.execute("SELECT detail FROM events WHERE type = 'sort'"):
            e = json.loads(d)
            sorts[e.get("item_id") or ""] = (e["bin"], e["reason"])
        check(sorts.get("30099999") == ("H", "hold"), "the held book went to the hold bin: %s"
              % (sorts.get("30099999"),))
        check(sorts.get("30012345") == ("X", "incomplete-set"),
              "the lone part of a set went to the exception bin: %s" % (sorts.get("30012345"),))
        offline = [i for i, (b, r) in sorts.items() if r == "ils-offline"]
        check(len(offline) == 3 and all(sorts[i][0] == "1" for i in offline),
              "the three returns during the outage went to the default bin: %s" % offline)
        resecured = db.execute("SELECT count(*) FROM events WHERE type = 'resecure'"
                               " AND json_extract(detail, '$.verified')").fetchone()[0]
        check(resecured >= 6, "returns re-secured and verified: %d" % resecured)
        replayed = sum(1 for line in open(os.path.join(demo, "acs-messages.jsonl"))
                       if json.loads(line).get("id") == "09"
                       and json.loads(line).get("raw", "")[2:3] == "Y")
        check(replayed == 3, "the outage's three returns were replayed with no-block (%d)" % replayed)

        alarms = db.execute("SELECT id, item_id FROM transactions WHERE kind = 'alarm'").fetchall()
        check([a[1] for a in alarms] == ["30054321"],
              "one gate alarm, for the book that was not borrowed: %s" % alarms)
        verdict = db.execute("SELECT json_extract(detail, '$.verdict') FROM events"
                             " WHERE type = 'alarm-verdict'").fetchall()
        check(verdict == [("true",)], "the library system says it was a true alarm: %s" % verdict)

        shelf = db.execute("SELECT json_extract(detail, '$.shelf'), json_extract(detail, '$.item_id'),"
                           " json_extract(detail, '$.anomaly') FROM events WHERE type = 'shelf'"
                           ).fetchall()
        check(("A1", "30054321", "misplaced") in shelf, "the misplaced book on shelf A1: %s" % shelf)

        loans = dict(db.execute(
            "SELECT t.item_id, d.state FROM transactions t JOIN deliveries d ON d.txn_id = t.id"
            " AND d.upstream = 'ils' WHERE t.kind = 'checkout'").fetchall())
        check(loans == {"30044444": "done", "30099999": "rejected"},
              "self-check: one book lent, the held one refused: %s" % loans)
        check("Item on hold for another patron" in out, "the kiosk shows the refusal's reason")

        report = os.path.join(demo, "report.html")
        check(os.path.exists(report) and "<svg" in open(report).read(),
              "the HTML report was written with its charts")
        check("report.html" in out.split("== done")[-1], "the demo says where the report is")
    finally:
        subprocess.run(["rm", "-rf", demo])


if __name__ == "__main__":
    main(story)

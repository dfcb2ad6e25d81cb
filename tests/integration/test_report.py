#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: the branch manager's report.

A library whose site name is hostile HTML returns two books at the slot and
counts five people at the gate (real circd, sim devices).  Four hours of
older station facts are then written into the same journal while circd is
stopped (tests/integration/reportseed.py: returns and their bins, alarms and
their verdicts, gate passes, shelf anomalies, self-check checkouts and
sessions, exceptions, a row that is not JSON, rows just outside the period).

circd, started again in Central European time, answers
report-data with exactly the seeded numbers (per hour in UTC, per hour in
local time, per day), stats carries the same series, `circctl export --what
events` exports the facts, and `circctl report --html` writes a page that is
well-formed, loads nothing from anywhere, escapes every hostile string, and
says "no data" for an empty period instead of drawing broken charts."""
import csv
import html.parser
import io
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from circdtest import CIRCCTL_BIN, check, log, main, wait_for  # noqa: E402
import reportseed  # noqa: E402
from reportseed import EXPECTED, HOSTILE_BIN, HOSTILE_REASON, SINCE, UNTIL  # noqa: E402

HOSTILE_SITE = '<script>alert(1)</script> & "Branch"'
HOSTILE_TITLE = "Week <i>9</i> & 'more'"

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
SVG_SELF_CLOSING_OK = {"rect", "line", "path", "circle"}


class Checker(html.parser.HTMLParser):
    """Well-formedness as a person reading the source means it: every
    element closed in order (void elements excepted), and what the page
    contains: start tags, the text of <title> and <h1>, attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.tags, self.attrs = [], [], [], []
        self.text = {}
        self.all_text = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)
        if tag not in VOID and tag not in SVG_SELF_CLOSING_OK:
            self.errors.append("<%s/> self-closed" % tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("</%s> closes %s at line %d" % (
                tag, self.stack[-1] if self.stack else "nothing", self.getpos()[0]))
            return
        self.stack.pop()

    def handle_data(self, data):
        if self.stack:
            self.text.setdefault(self.stack[-1], []).append(data)
        self.all_text.append(data)


def parse_page(text):
    c = Checker()
    c.feed(text)
    c.close()
    check(not c.errors, "the page is well-formed (%s)" % (c.errors[:3] or "every element closed"))
    check(not c.stack, "no element is left open (%s)" % c.stack)
    return c


def check_self_contained(text, c):
    low = text.lower()
    for needle in ("http:", "https:", "//", "<link", "<script", "@import", "url("):
        # "//" would be a protocol-relative URL; none in a self-contained page.
        check(needle not in low, "the page has no %r" % needle)
    check(not set(c.tags) & {"script", "link", "img", "iframe", "object", "embed", "image",
                             "use", "a"}, "no element that loads or links anything")
    check(not [k for k, _ in c.attrs if k in ("src", "href", "xlink:href", "srcset", "action")],
          "no attribute that points anywhere")
    check(not any(k.startswith("on") for k, _ in c.attrs), "no event-handler attribute")


def circctl(h, *args, check_rc=0):
    r = subprocess.run([CIRCCTL_BIN, "-s", os.path.join(h.run_dir, "control.sock")] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
    if check_rc is not None and r.returncode != check_rc:
        raise AssertionError("circctl %s exited %d: %s" % (" ".join(args), r.returncode,
                                                          r.stderr.decode(errors="replace")))
    return r


def subset(actual, expected, where=""):
    """Every key of expected is in actual with exactly that value."""
    for k, v in expected.items():
        if k not in actual:
            raise AssertionError("%s%s missing in %s" % (where, k, json.dumps(actual)[:300]))
        if isinstance(v, dict):
            subset(actual[k], v, where + k + ".")
        elif actual[k] != v:
            raise AssertionError("%s%s is %r, expected %r" % (where, k, actual[k], v))


def story(h):
    h.config(
        devices=[{"name": "drop1", "plugin": "sim"}, {"name": "gate1", "plugin": "sim"}],
        stations=[{"name": "returns", "role": "bookdrop", "devices": ["drop1"]}])
    with open(h.config_path) as f:
        conf = f.read()
    # libconfig strings take JSON's escapes.
    conf = conf.replace('site = "Test report";', "site = %s;" % json.dumps(HOSTILE_SITE))
    h.write(h.config_path, conf)

    # Live: two returns through the bookdrop, five people through the gate.
    h.start()
    live_since = time.time() - 1
    h.inject("drop1", "tag uid=E004010000000001 item=LIVE1 dwell=50")
    h.inject("drop1", "tag uid=E004010000000002 item=LIVE2 dwell=50")
    for d in ("in", "in", "in", "out", "out"):
        h.inject("gate1", "gate-pass dir=%s" % d)
    wait_for(lambda: h.jsonl_count() >= 2, 10, "two live returns in the sink")
    wait_for(lambda: h.query("SELECT count(*) FROM events WHERE type = 'gate-pass'")[0][0] >= 5,
             10, "five gate passes journaled")
    now_iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 60))
    live_iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(live_since - 60))
    r = h.ctl_ok("report-data", since=live_iso, until=now_iso, utc=True)
    check(r["returns"]["total"] == 2 and sum(r["returns"]["per_period"]) == 2,
          "the live returns are counted (%d)" % r["returns"]["total"])
    check((r["gate_passes"]["in"], r["gate_passes"]["out"]) == (3, 2),
          "the live gate passes: 3 in, 2 out")
    check(r["site"] == HOSTILE_SITE, "report-data names the site")
    check(h.stop() == 0, "circd stops cleanly")

    # The older facts, written into circd's own journal.
    reportseed.seed(os.path.join(h.state_dir, "journal.db"))

    # Central European time: UTC+1 in March, UTC+2 from the last Sunday of
    # March (POSIX TZ: offsets are west-positive).
    h.start(env={"TZ": "CET-1CEST,M3.5.0,M10.5.0/3"})
    r = h.ctl_ok("report-data", since=SINCE, until=UNTIL, by="hour", utc=True)
    subset(r, EXPECTED)
    log("report-data (UTC, by hour) is exactly the seeded journal")
    check(r["timezone"] == "UTC" and r["since"].startswith("2026-03-02T08:00:00"),
          "the period is given back")

    loc = h.ctl_ok("report-data", since=SINCE, until=UNTIL, by="hour")
    check(loc["periods"] == ["2026-03-02T09:00", "2026-03-02T10:00", "2026-03-02T11:00",
                             "2026-03-02T12:00"], "local periods are an hour later: %s"
          % loc["periods"])
    check(loc["returns"]["per_period"] == EXPECTED["returns"]["per_period"] and
          loc["alarms"]["per_period"] == EXPECTED["alarms"]["per_period"],
          "the same counts fall into the local hours")
    check(loc["timezone"] in ("CET (UTC+0100)", "CEST (UTC+0200)"),
          "the zone is named: %s" % loc["timezone"])
    check(loc["since_label"] == "2026-03-02 09:00", "the period's start in local time")
    # The night the clocks go forward has no 02:00.
    dst = h.ctl_ok("report-data", since="2026-03-29T00:00Z", until="2026-03-29T04:00Z")
    check(dst["periods"] == ["2026-03-29T01:00", "2026-03-29T03:00", "2026-03-29T04:00",
                             "2026-03-29T05:00"], "summer time skips 02:00: %s" % dst["periods"])
    dst = h.ctl_ok("report-data", since="2026-03-28T00:00Z", until="2026-03-30T00:00Z", by="day")
    check(dst["periods"] == ["2026-03-28", "2026-03-29", "2026-03-30"],
          "local days around the change: %s" % dst["periods"])

    day = h.ctl_ok("report-data", since=SINCE, until=UNTIL, by="day", utc=True)
    check(day["periods"] == ["2026-03-02"] and day["returns"]["per_period"] == [9] and
          day["gate_passes"]["per_period"] == {"in": [6], "out": [4]},
          "per day: one period with everything")
    auto = h.ctl_ok("report-data", since=SINCE, until=UNTIL, by="auto", utc=True)
    check(auto["by"] == "hour", "auto picks hours for four hours")

    # Open-ended: the periods are those with data only.
    allr = h.ctl_ok("report-data", utc=True)
    check(allr["returns"]["total"] == 9 + 2 + 2, "all time: seeded, outside and live returns")

    # Bad requests are refused with a reason, and circd carries on.
    bad = h.ctl("report-data", since="yesterday")
    check(bad["ok"] is False and "since" in bad["error"], "a bad time is refused: %s" % bad)
    bad = h.ctl("report-data", since=UNTIL, until=SINCE)
    check(bad["ok"] is False, "until before since is refused")
    bad = h.ctl("report-data", by="week")
    check(bad["ok"] is False and "by" in bad["error"], "an unknown unit is refused")
    check("left out" in h.last_log(), "the malformed row is logged")

    # stats carries the same series (in UTC by default).
    st = h.ctl_ok("stats", since=SINCE, until=UNTIL, by="hour")
    subset(st["series"], EXPECTED, "stats.series.")
    check(sum(x["count"] for x in st["rows"] if x["kind"] == "checkin") == 9,
          "stats rows still count transactions")
    out = circctl(h, "stats", "--by", "hour", "--since", SINCE, "--until", UNTIL).stdout.decode()
    check("returns 9, sorted 8; alarms 5 (true 2, false 1, unknown 2); gate passes in 6, out 4"
          in out and "success 60%" in out and "2 open, 3 station exceptions" in out,
          "circctl stats prints the series")

    # export --what events: the facts, as CSV and JSON lines.
    csv_path = h.path("events.csv")
    circctl(h, "export", "--what", "events", "--type", "sort,shelf", "--since", SINCE,
            "--until", UNTIL, "-o", csv_path)
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    check(len(rows) == 9 + 7, "16 sort and shelf events exported (%d)" % len(rows))
    bins = sorted(json.loads(x["detail"])["bin"] for x in rows if x["type"] == "sort"
                  and x["detail"].startswith("{"))
    check(bins.count("B1") == 5 and HOSTILE_BIN in bins, "the bins are in the detail column")
    check(any(x["detail"] == "not json {" for x in rows), "the malformed detail is kept as text")
    check({x["station"] for x in rows} >= {"returns", "stacks"}, "the station column is filled")
    jl = circctl(h, "export", "--what", "events", "--format", "jsonl", "--type", "alarm-verdict",
                 "--since", SINCE, "--until", UNTIL).stdout.decode().splitlines()
    check(len(jl) == 5 and all(json.loads(x)["type"] == "alarm-verdict" for x in jl),
          "five verdicts as JSON lines")
    r = circctl(h, "export", "--type", "sort", check_rc=2)
    check(b"--what events" in r.stderr, "--type without --what events is a usage error")

    # The HTML report.
    page_path = h.path("report.html")
    r = circctl(h, "report", "--html", page_path, "--since", SINCE, "--until", UNTIL,
                "--title", HOSTILE_TITLE, "--utc")
    with open(page_path, encoding="utf-8") as f:
        page = f.read()
    log("report: %d bytes" % len(page))
    c = parse_page(page)
    check_self_contained(page, c)
    check("<script>alert(1)" not in page and "<img src=x" not in page and "<b>bold" not in page
          and "<i>9" not in page, "no hostile string appears unescaped")
    title = c.text.get("title", [""])[0]  # the document's; the charts' titles follow
    check(title == HOSTILE_TITLE + " \u2014 " + HOSTILE_SITE, "the title reads as typed: %r" % title)
    check(HOSTILE_SITE in "".join(c.text.get("h1", [])), "the heading is the site name")
    text = " ".join(c.all_text)
    check(HOSTILE_BIN in text and HOSTILE_REASON in text, "hostile bin and reason shown as text")
    check("2026-03-02 08:00 to 2026-03-02 12:00 (UTC)" in text, "the period is in the subtitle")
    tiles = {}
    for sec in page.split('<div class="tile">')[1:]:
        parts = [p.split("<")[0] for p in sec.split('">')[1:4]]
        tiles[parts[1]] = parts[0]
    check(tiles == {"Returns": "9", "Gate alarms": "5", "Gate passes": "11",
                    "Shelf anomalies": "7", "Self-check success": "60%",
                    "Open exceptions": "2"}, "the summary tiles: %s" % tiles)
    for sec in ("returns-per-period", "returns-per-bin", "alarms", "gate-passes", "shelf",
                "selfcheck", "exceptions"):
        body = page.split('<section id="%s">' % sec)[1].split("</section>")[0]
        check('class="bar"' in body and "No data" not in body, "section %s has a chart" % sec)
    bars = page.split('<section id="returns-per-period">')[1].split("</section>")[0]
    check(bars.count('class="bar"') == 3, "three returns bars (one hour had none)")

    # An empty period: every chart says so.
    empty_path = h.path("empty.html")
    circctl(h, "report", "--html", empty_path, "--since", "2020-01-01T00:00Z",
            "--until", "2020-01-02T00:00Z")
    with open(empty_path, encoding="utf-8") as f:
        empty = f.read()
    parse_page(empty)
    check(empty.count("No data in this period.") == 7 and 'class="bar"' not in empty,
          "an empty period: seven 'no data' sections, no bars")

    # Refusals: no --html, a bad --by, an unreachable directory.
    check(circctl(h, "report", check_rc=2).returncode == 2, "report without --html is a usage error")
    check(circctl(h, "report", "--html", page_path, "--by", "week", check_rc=2).returncode == 2,
          "--by week is a usage error")
    r = circctl(h, "report", "--html", h.path("no", "such", "dir.html"), check_rc=1)
    check(b"cannot write" in r.stderr, "an unwritable path is reported")
    js = json.loads(circctl(h, "report", "--json", "--since", SINCE, "--until", UNTIL,
                            "--utc").stdout)
    check(js["returns"]["total"] == 9, "report --json prints the numbers")
    check(h.stop() == 0, "circd stops cleanly")


if __name__ == "__main__":
    main(story)

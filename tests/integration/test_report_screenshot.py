#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: the branch manager opens the report in a browser and sees the charts.

The seeded journal of reportseed.py goes through a real circd and `circctl
report --html`; Debian's chromium renders the page headless into a PNG.  The
PNG is decoded here (zlib and PNG's row filters, standard library only) and
the bars are found by their colours: each series has its own colour, so the
bars of a chart are the rectangles of that colour on a common baseline (the
legend's swatches are not on it).  Their heights and widths must be in the
proportions of the seeded counts, in the order of the periods, and the
charts in the order of the page.

Skips (77) only when chromium is not installed or cannot render even a
trivial page on this machine (the reason is printed)."""
import os
import shutil
import signal
import struct
import subprocess
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from circdtest import CIRCCTL_BIN, Failure, Skip, check, log, main  # noqa: E402
import reportseed  # noqa: E402
from reportseed import SINCE, UNTIL  # noqa: E402

# The series colours of tools/circctl-report.c.
RETURNS, BINS = (0x00, 0x72, 0xB2), (0x33, 0x22, 0x88)
ALARM_TRUE, ALARM_FALSE, ALARM_UNKNOWN = (0xD5, 0x5E, 0x00), (0x00, 0x9E, 0x73), (0x6E, 0x6E, 0x6E)
PASS_IN, PASS_OUT = (0xAA, 0x44, 0x99), (0x11, 0x77, 0x33)
SHELF = (0x88, 0x22, 0x55)
SC_OK, SC_FAILED, SC_PENDING = (0x01, 0x85, 0x71), (0xA6, 0x61, 0x1A), (0x8C, 0x8C, 0x8C)

WIDTH, HEIGHT = 1000, 2600
_browsers = []


def find_chromium():
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def screenshot(h, browser, url, png):
    """Headless chromium: one page into one PNG.  Its own profile and HOME
    in the test's directory; the whole process group is killed if it hangs."""
    home = h.path("browser-home")
    os.makedirs(home, exist_ok=True)
    env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=home, XDG_CACHE_HOME=home)
    argv = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1",
            "--user-data-dir=" + h.path("browser-profile"), "--screenshot=" + png,
            "--window-size=%d,%d" % (WIDTH, HEIGHT), url]
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, env=env, start_new_session=True)
    _browsers.append(p)
    try:
        out, _ = p.communicate(timeout=45)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        return None, "chromium did not finish within 45 s"
    finally:
        # Helpers it may have left behind in its group.
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if p.returncode != 0 or not os.path.exists(png):
        return None, "chromium exited %d: %s" % (p.returncode, out.decode(errors="replace")[-600:])
    return png, None


def read_png(path):
    """(width, height, rows of RGB bytes) of an 8-bit RGB or RGBA PNG."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise Failure("%s is not a PNG" % path)
    i, idat, hdr = 8, [], None
    while i < len(data):
        n, = struct.unpack(">I", data[i:i + 4])
        kind, body = data[i + 4:i + 8], data[i + 8:i + 8 + n]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        i += 12 + n
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise Failure("unexpected PNG format: depth %d, colour type %d, interlace %d"
                      % (depth, ctype, interlace))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    rows, prev, pos = [], bytearray(stride), 0
    for _ in range(h):
        ft, line = raw[pos], bytearray(raw[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        if ft == 1:
            for x in range(bpp, stride):
                line[x] = (line[x] + line[x - bpp]) & 255
        elif ft == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif ft == 3:
            for x in range(stride):
                left = line[x - bpp] if x >= bpp else 0
                line[x] = (line[x] + ((left + prev[x]) >> 1)) & 255
        elif ft == 4:
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                b = prev[x]
                c = prev[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        elif ft != 0:
            raise Failure("bad PNG filter %d" % ft)
        rows.append(bytes(line) if bpp == 3 else bytes(
            b for k in range(0, stride, 4) for b in line[k:k + 3]))
        prev = line
    return w, h, rows


class Image:
    def __init__(self, path):
        self.w, self.h, self.rows = read_png(path)

    def boxes(self, rgb):
        """Connected areas of exactly this colour: [(x0, y0, x1, y1, pixels)],
        x1/y1 exclusive.  Rows are scanned for runs; runs that touch the run
        above join its area."""
        needle = bytes(rgb)
        parent = {}

        def find(a):
            while parent[a] != a:
                parent[a] = parent[parent[a]]
                a = parent[a]
            return a

        areas = {}
        prev_runs = []
        for y, row in enumerate(self.rows):
            runs, x = [], 0
            while True:
                k = row.find(needle, x * 3)
                while k >= 0 and k % 3:
                    k = row.find(needle, k + 1)
                if k < 0:
                    break
                x0 = k // 3
                x1 = x0
                while x1 < self.w and row[x1 * 3:x1 * 3 + 3] == needle:
                    x1 += 1
                ident = (y, x0)
                parent[ident] = ident
                areas[ident] = [x0, y, x1, y + 1, x1 - x0]
                for (px0, px1, pid) in prev_runs:
                    if px0 < x1 and x0 < px1:
                        a, b = find(pid), find(ident)
                        if a != b:
                            parent[b] = a
                runs.append((x0, x1, ident))
                x = x1
            prev_runs = runs
        merged = {}
        for ident, (x0, y0, x1, y1, n) in areas.items():
            r = find(ident)
            m = merged.setdefault(r, [x0, y0, x1, y1, 0])
            m[0], m[1] = min(m[0], x0), min(m[1], y0)
            m[2], m[3] = max(m[2], x1), max(m[3], y1)
            m[4] += n
        return [tuple(m) for m in merged.values()]


def column_bars(img, colours):
    """Vertical bars of the given colours standing on one baseline (the
    bottom of the tallest of them): [(x0, colour name, height)] by x."""
    found = []
    for name, rgb in colours.items():
        for (x0, y0, x1, y1, n) in img.boxes(rgb):
            found.append((x0, y0, x1, y1, n, name))
    check(found, "bars of %s are on the page" % "/".join(colours))
    base = max(found, key=lambda b: b[3] - b[1])[3]
    bars = sorted((b[0], b[5], b[3] - b[1], b) for b in found if abs(b[3] - base) <= 1)
    for _, name, hgt, b in bars:
        area = (b[2] - b[0]) * (b[3] - b[1])
        check(b[4] >= 0.97 * area, "the %s bar at x=%d is a solid rectangle" % (name, b[0]))
    return base, [(x, name, hgt) for x, name, hgt, _ in bars]


def row_bars(img, rgb, min_height=15):
    """Horizontal bars (taller than a legend swatch), top to bottom: [(y0, width)]."""
    bars = sorted((b[1], b[2] - b[0], b) for b in img.boxes(rgb) if b[3] - b[1] >= min_height)
    return [(y, w) for y, w, _ in bars]


def proportional(sizes, counts, what, tolerance=2):
    check(len(sizes) == len(counts), "%s: %d bars for %d counts (%s)" % (what, len(sizes),
                                                                          len(counts), sizes))
    unit = max(sizes) / max(counts)
    ok = all(abs(s - c * unit) <= tolerance for s, c in zip(sizes, counts))
    check(ok, "%s: sizes %s are in the proportions %s" % (what, sizes, counts))


def story(h):
    browser = find_chromium()
    if not browser:
        raise Skip("chromium is not installed (Debian: apt-get install chromium; ./quickstart deps)")
    probe = h.write("probe.html", "<!DOCTYPE html><title>probe</title><p>probe</p>")
    _, why = screenshot(h, browser, "file://" + probe, h.path("probe.png"))
    if why:
        raise Skip("chromium cannot render a page on this machine: " + why)

    h.simple_config()
    h.start()
    check(h.stop() == 0, "circd created its journal")
    reportseed.seed(os.path.join(h.state_dir, "journal.db"))
    h.start()
    page = h.path("report.html")
    r = subprocess.run([CIRCCTL_BIN, "-s", os.path.join(h.run_dir, "control.sock"), "report",
                        "--html", page, "--since", SINCE, "--until", UNTIL, "--utc"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
    check(r.returncode == 0, "circctl report wrote %s (%s)" % (page, r.stdout.decode().strip()))
    h.stop()

    png, why = screenshot(h, browser, "file://" + page, h.path("report.png"))
    if why:
        raise Failure("chromium rendered the probe but not the report: " + why)
    img = Image(png)
    log("screenshot %dx%d" % (img.w, img.h))

    # Returns per hour: 3, 1, 5 (and nothing at 11:00).
    ret_base, bars = column_bars(img, {"returns": RETURNS})
    proportional([hgt for _, _, hgt in bars], [3, 1, 5], "returns per hour")

    # Alarms per hour: 08:00 true, false; 09:00 unknown; 11:00 true, unknown.
    al_base, bars = column_bars(img, {"true": ALARM_TRUE, "false": ALARM_FALSE,
                                      "unknown": ALARM_UNKNOWN})
    check([n for _, n, _ in bars] == ["true", "false", "unknown", "true", "unknown"],
          "alarm bars in period order: %s" % [n for _, n, _ in bars])
    check(len({hgt for _, _, hgt in bars}) == 1, "every alarm bar is one alarm high")
    # Side by side within a period (true, false, unknown); the periods'
    # starts are then 0, 0, 1, 3, 3 period widths from the first.
    bar_w = bars[1][0] - bars[0][0]
    slot = {"true": 0, "false": 1, "unknown": 2}
    starts = [x - bars[0][0] - slot[n] * bar_w for x, n, _ in bars]
    period_w = min(s for s in starts if s > 0)
    periods = [s / period_w for s in starts]
    check(all(abs(p - q) < 0.02 for p, q in zip(periods, [0, 0, 1, 3, 3])),
          "alarm bars stand in the periods 08, 08, 09, 11, 11 (%s)" % periods)

    # Gate passes: 08:00 in 4, out 1; 10:00 in 2, out 3.
    gp_base, bars = column_bars(img, {"in": PASS_IN, "out": PASS_OUT})
    check([n for _, n, _ in bars] == ["in", "out", "in", "out"], "in and out, in period order")
    proportional([hgt for _, _, hgt in bars], [4, 1, 2, 3], "gate passes")

    check(ret_base < al_base < gp_base, "returns, alarms, gate passes, top to bottom")

    # Horizontal bars: returns per bin, shelf anomalies, self-check.
    proportional([w for _, w in row_bars(img, BINS)], [5, 2, 1], "returns per bin")
    proportional([w for _, w in row_bars(img, SHELF)], [3, 2, 1, 1], "shelf anomalies")
    seg = [row_bars(img, c, min_height=30) for c in (SC_OK, SC_FAILED, SC_PENDING)]
    check(all(len(s) == 1 for s in seg), "one self-check bar with three parts")
    proportional([s[0][1] for s in seg], [3, 2, 1], "self-check succeeded/refused/pending")
    check(row_bars(img, BINS)[0][0] > ret_base and row_bars(img, SHELF)[0][0] > gp_base,
          "the bin chart follows the returns chart, shelves follow the gate")


if __name__ == "__main__":
    try:
        main(story)
    finally:
        for p in _browsers:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)

#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: an administrator mistypes the shelf model.  `circd -t` refuses it
with FILE:LINE and the reason for each bad shelf (and for a bad
missing_after, lookup, or a device that is not the station's), and a good
model passes."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from circdtest import check, log, main  # noqa: E402


def config(h, shelves, **extra):
    lines = ",\n    ".join('"%s"' % s.replace('"', '\\"') for s in shelves)
    st = ('{ name = "stacks"; role = "shelf"; devices = [ "r1" ];\n'
          '  shelves = [\n    %s ];\n' % lines)
    for k, v in extra.items():
        st += '  %s = "%s";\n' % (k, v)
    st += "}"
    text = h.config_text(devices=[{"name": "r1", "plugin": "sim"}], stations=[])
    text = text.replace("stations = ();", "stations = (\n%s\n);" % st)
    h.write(h.config_path, text)
    # the line the shelves option starts on
    return text.split("\n").index("  shelves = [") + 1


def story(h):
    line = config(h, ["A1 antenna=1 call=000-199.99", "A2 antenna=2 call=200-399",
                      "L1 antenna=3 location=ANNEX"])
    check(h.run_to_exit(["-t"]) == 0, "a good model passes circd -t")

    line = config(h, ["A1 antenna=1 call=000-199.99",
                      "A2 antenna=2 call=300-100",
                      "A3 antenna=1 call=200-399",
                      "L1 device=r9 antenna=3 location=ANNEX",
                      "X antenna=4 colour=red"],
                  missing_after="soon", lookup="sometimes")
    rc = h.run_to_exit(["-t"])
    out = h.last_log()
    log(out)
    check(rc != 0, "circd -t refuses a broken shelf model (rc %d)" % rc)
    where = "%s:%d: station 'stacks': shelves: " % (h.config_path, line)
    for reason in ("shelf 2 (\"A2 antenna=2 call=300-100\"): call range 300..100: '300' files after '100'",
                   "shelf 3 (\"A3 antenna=1 call=200-399\"): antenna 1 is already read by shelf 'A1'",
                   "shelf 5 (\"X antenna=4 colour=red\"): unknown key 'colour'",
                   "shelf 'L1' names device 'r9', which is not one of the station's devices"):
        check(where + reason in out, "circd -t says %r" % (where + reason))
    check("station 'stacks': missing_after 'soon' is not a duration" in out, "bad missing_after")
    check("station 'stacks': lookup 'sometimes' is none of never, unknown, always" in out,
          "bad lookup")

    config(h, [])
    rc = h.run_to_exit(["-t"])
    check(rc != 0 and "shelves: no shelf given" in h.last_log(), "an empty model is refused")


if __name__ == "__main__":
    main(story)

#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: an administrator saves a broken circd.conf and runs
`systemctl reload circd` (SIGHUP) — twice: once with a syntax error, once
with a station naming a device that does not exist.

Each time circd announces RELOADING=1 and then READY=1, logs the problem as
FILE:LINE: reason, refuses the new file and keeps running on the old one:
status answers, the device's event counter goes on, and returns injected
afterwards still reach the jsonl sink."""
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from circdtest import check, log, main, wait_for  # noqa: E402


def returns(h, first, n):
    for i in range(first, first + n):
        h.inject("drop1", "tag uid=E0040300000000%02X item=RET%03d dwell=20" % (i, i))


def refused_reload(h, text, expect_line, expect_words, what):
    h.write(h.config_path, text)
    mark = h.notify.count()
    log_before = len(h.log_text())
    h.signal(signal.SIGHUP)
    i, _ = h.notify.wait_key("RELOADING", "1", timeout=5, start=mark)
    h.notify.wait_key("READY", "1", timeout=5, start=i + 1)
    check(True, "%s: RELOADING=1 then READY=1" % what)
    wait_for(lambda: "reload refused" in h.log_text()[log_before:], 5, "'reload refused' in the log")
    new_log = h.log_text()[log_before:]
    want = "%s:%d:" % (h.config_path, expect_line)
    errs = [ln for ln in new_log.splitlines() if want in ln]
    check(errs, "%s: the log names %s (%s)" % (what, want, errs[:1]))
    check(all(w in " ".join(errs) for w in expect_words),
          "%s: the message says what is wrong: %s" % (what, errs[0]))
    check(h.running(), "%s: circd is still running" % what)


def story(h):
    good = h.simple_config()
    good_text = open(good).read()
    h.start()
    returns(h, 0, 3)
    wait_for(lambda: h.jsonl_count() == 3, 10, "3 returns in jsonl")
    wait_for(lambda: h.device_events("drop1") == 6, 5, "drop1 counted 6 events")

    # 1. A syntax error on line 5.
    lines = good_text.splitlines()
    bad = lines[:4] + ['log_level = = "info";'] + lines[4:]
    refused_reload(h, "\n".join(bad) + "\n", 5, ["syntax error"], "syntax error")
    st = h.status()
    check(st["state"] == "running" and st["site"] == "Test reload_refused",
          "status still answers, with the old site name")
    check(h.device_events("drop1") == 6, "drop1's event counter was kept (6)")
    returns(h, 3, 2)
    wait_for(lambda: h.jsonl_count() == 5, 10, "2 more returns in jsonl after the refused reload")

    # 2. A station naming a device that does not exist.
    bad2 = good_text.replace('[ "drop1" ]', '[ "drop1", "nosuchdevice" ]')
    check("nosuchdevice" in bad2, "(test setup: the second broken config names nosuchdevice)")
    n = [i + 1 for i, ln in enumerate(bad2.splitlines()) if "nosuchdevice" in ln][0]
    refused_reload(h, bad2, n, ["nosuchdevice"], "unknown device")
    check(h.status()["state"] == "running", "status still answers")
    check(h.device_events("drop1") == 10, "drop1's event counter goes on (10)")
    returns(h, 5, 2)
    wait_for(lambda: h.jsonl_count() == 7, 10, "2 more returns in jsonl after the second refused reload")

    items = [x["item_id"] for x in h.jsonl()]
    check(items == ["RET%03d" % i for i in range(7)], "all 7 returns in jsonl, in order")
    rc = h.stop()
    check(rc == 0, "exit 0 on SIGTERM")
    check(not re.search(r"^<[0-3]>", "\n".join(ln for ln in h.log_text().splitlines()
                                               if "circd.conf:" not in ln and "reload refused" not in ln),
                        re.M),
          "no other error in the log")


if __name__ == "__main__":
    main(story)

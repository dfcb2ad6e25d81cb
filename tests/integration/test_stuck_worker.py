#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: a reader plugin gets stuck in a blocking call, and the daemon does not.

circd runs a sim return slot (drop1) and tests/plugins/stuck.so (stuck1), a
test plugin that, on demand, blocks in open(2) of a FIFO instead of waiting
in host->wait().  The harness plays systemd with WATCHDOG_USEC=1 s.

While stuck1 is stuck: circd says which worker has not checked in and
withholds WATCHDOG=1 (so systemd would restart it), yet its main loop goes
on: returns at drop1 are journaled and forwarded, circctl status answers.
When the FIFO gets a writer, stuck1 is free again and the pings come back.
(tests/system/test-systemd-boot.sh shows the restart under a real systemd,
with a stuck upstream.)"""
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from circdtest import PLUGIN_DIR, Skip, check, conf_list, log, main, wait_for  # noqa: E402

WATCHDOG_S = 1.0
STUCK_SO = os.environ.get("STUCK_PLUGIN") or os.path.join(
    os.environ.get("top_builddir", "."), "tests", "plugins", ".libs", "stuck.so")


def pings(h, since):
    return [t for t, f, _ in h.notify.all() if f.get("WATCHDOG") == "1" and t >= since]


def story(h):
    if not os.path.exists(STUCK_SO):
        raise Skip("%s is not built" % STUCK_SO)
    # A plugin directory of our own: the daemon's two plus the stuck one.
    plugdir = h.path("plugins")
    os.mkdir(plugdir, 0o755)
    for so in (os.path.join(PLUGIN_DIR, "sim.so"), os.path.join(PLUGIN_DIR, "jsonl.so"), STUCK_SO):
        shutil.copy(so, plugdir)
        os.chmod(os.path.join(plugdir, os.path.basename(so)), 0o755)
    fifo, trigger = h.path("stall.fifo"), h.path("stall.now")
    os.mkfifo(fifo, 0o600)
    text = h.config_text(
        devices=[{"name": "drop1", "plugin": "sim"},
                 {"name": "stuck1", "plugin": "stuck", "trigger": trigger, "fifo": fifo}],
        stations=[{"name": "returns", "role": "bookdrop", "devices": ["drop1", "stuck1"]}])
    text = "\n".join('plugin_directory = "%s";' % plugdir if l.startswith("plugin_directory")
                     else l for l in text.split("\n"))
    h.write(h.config_path, text)
    h.start(env={"WATCHDOG_USEC": str(int(WATCHDOG_S * 1e6))},
            wrap='WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$@"', wait_ready=False)
    h.notify.wait_key("READY", "1", timeout=10)

    t0 = time.monotonic()
    wait_for(lambda: len(pings(h, t0)) >= 2, 3, "WATCHDOG=1 while every worker checks in")
    check(True, "WATCHDOG=1 comes while both workers check in")

    # stuck1 blocks in open(2), outside host->wait()
    open(trigger, "w").close()
    wait_for(lambda: "stuck: blocking in open" in h.last_log(), 3, "stuck1 to block")
    t_stall = time.monotonic()
    wait_for(lambda: "stuck1: worker has not checked in" in h.last_log(), 3 * WATCHDOG_S,
             "circd to notice the stuck worker")
    check(True, "circd logs: stuck1: worker has not checked in")

    # The main loop is not stalled: returns go through, circctl answers.
    for i in range(3):
        h.inject("drop1", "tag uid=E00407000000000%d item=STUCK%d dwell=5" % (i, i))
    wait_for(lambda: h.jsonl_count() == 3, 5, "three returns in the jsonl sink")
    check(True, "while stuck1 is stuck, drop1's three returns are journaled and forwarded")
    t = time.monotonic()
    names = [d["name"] for d in h.status()["devices"]]
    check("stuck1" in names and "drop1" in names,
          "circctl status answers in %.0f ms and lists both devices" % ((time.monotonic() - t) * 1000))

    # ... but the watchdog is withheld: systemd would restart circd.
    time.sleep(max(0.0, t_stall + 2.5 * WATCHDOG_S - time.monotonic()))
    late = pings(h, t_stall + WATCHDOG_S)
    check(not late, "no WATCHDOG=1 from one period after the stall on (%d pings)" % len(late))
    check(h.running(), "circd itself is still running")

    # A writer on the FIFO frees stuck1: the pings come back.
    fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)  # ENXIO if nobody is in open(2)
    os.close(fd)
    wait_for(lambda: "stuck: free again" in h.last_log(), 3, "stuck1 to be free")
    t_free = time.monotonic()
    wait_for(lambda: len(pings(h, t_free)) >= 1, 3 * WATCHDOG_S, "WATCHDOG=1 again")
    check(True, "stuck1 free again: WATCHDOG=1 is back")

    # Stuck again, and now SIGTERM: the stop is not held up by it.
    open(trigger, "w").close()
    wait_for(lambda: h.last_log().count("stuck: blocking in open") >= 2, 3, "stuck1 to block again")
    t = time.monotonic()
    rc = h.stop(timeout=20)
    took = time.monotonic() - t
    check(rc == 0, "exit 0 on SIGTERM while stuck1 is stuck (got %d)" % rc)
    check(took < 10, "the stop took %.1f s (a 5 s grace for the stuck worker)" % took)
    check("stuck1: worker did not stop within 5 s" in h.last_log(),
          "circd logs that it abandoned the stuck worker")


if __name__ == "__main__":
    main(story)

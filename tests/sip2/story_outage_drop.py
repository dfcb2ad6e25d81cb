#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story (b), iptables variant: as story_outage.py, but phase 2 of the
outage is an iptables DROP rule on the emulator's port on 127.0.0.1 (connect
times out, nothing comes back).  The rule matches only 127.0.0.1 -> that
port on lo, carries a comment naming this process, and is always removed
(finally, and again at exit).  Skipped (77) when iptables is not usable."""
import atexit
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from story_lib import Skip, log, main  # noqa: E402
from story_outage import outage_story  # noqa: E402


def rule(port):
    return ["INPUT", "-i", "lo", "-p", "tcp", "-s", "127.0.0.1", "-d", "127.0.0.1",
            "--dport", str(port), "-m", "comment", "--comment",
            "circd-story-outage-%d" % os.getpid(), "-j", "DROP"]


def iptables(*args):
    return subprocess.run(["iptables", "-w", "5"] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=15)


def usable():
    if not shutil.which("iptables"):
        return "iptables is not installed"
    if os.geteuid() != 0:
        return "not root: cannot add an iptables rule"
    r = iptables("-S", "INPUT")
    if r.returncode != 0:
        return "iptables does not work here: %s" % r.stdout.decode(errors="replace").strip()
    return None


class Drop:
    def __init__(self):
        self.port = None

    def on(self, acs):
        self.port = acs.port
        atexit.register(self.off, None)
        r = iptables("-I", *rule(self.port))
        if r.returncode != 0:
            self.port = None
            raise Skip("cannot add the DROP rule: %s" % r.stdout.decode(errors="replace").strip())
        log("iptables: DROP 127.0.0.1 -> 127.0.0.1:%d" % self.port)
        acs.set_faults({})  # the ACS itself is fine; the network eats everything

    def off(self, acs):
        if self.port is None:
            return
        while iptables("-D", *rule(self.port)).returncode == 0:
            pass  # until no copy is left
        log("iptables: rule removed")
        self.port = None


def story(h):
    why = usable()
    if why:
        raise Skip(why)
    d = Drop()
    try:
        outage_story(h, d.on, d.off, "refused, then iptables DROP")
    finally:
        d.off(None)


if __name__ == "__main__":
    main(story, timeout=80)

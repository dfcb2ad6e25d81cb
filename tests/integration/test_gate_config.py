#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: an administrator mistypes the gate's settings.  `circd -t` names
each mistake with FILE:LINE (a mode that does not exist, a fallback that
does not exist, an alarm device that is not one of the gate's devices) and
exits 1; circd refuses to start with that config; the corrected config
passes."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from circdtest import CIRCD_BIN, PLUGIN_DIR, check, main  # noqa: E402


def config(h, **opts):
    st = {"name": "exit", "role": "gate", "devices": ["reader"]}
    st.update(opts)
    return h.config([{"name": "reader", "plugin": "sim"}, {"name": "other", "plugin": "sim"}],
                    [st])


def line_of(h, text):
    with open(h.config_path) as f:
        for i, line in enumerate(f, 1):
            if text in line:
                return i
    return -1


def story(h):
    config(h, mode="afi-than-cache", undecodable="beep", cache_unknown="alarm",
           alarm_device="other")
    r = subprocess.run([CIRCD_BIN, "-t", "-c", h.config_path, "--plugin-dir", PLUGIN_DIR],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
    out = r.stdout.decode()
    print(out)
    check(r.returncode == 1, "circd -t exits 1 (%d)" % r.returncode)
    where = "%s:%d:" % (h.config_path, line_of(h, "afi-than-cache"))
    check(where + " station 'exit': mode 'afi-than-cache' is none of afi, eas, cache, "
          "afi-then-cache" in out, "the bad mode is named with FILE:LINE")
    check("undecodable 'beep' is none of afi, alarm, silent" in out, "the bad fallback is named")
    check("alarm_device 'other' is not one of the station's devices" in out,
          "an alarm device outside the gate is refused")
    check("cache_unknown" not in out, "a good value is not complained about")
    rc = h.run_to_exit(timeout=20)
    check(rc != 0, "circd refuses to start with it (%d)" % rc)

    config(h, mode="afi-then-cache", undecodable="silent", alarm_device="reader")
    r = subprocess.run([CIRCD_BIN, "-t", "-c", h.config_path, "--plugin-dir", PLUGIN_DIR],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
    check(r.returncode == 0, "the corrected config passes circd -t (%s)" % r.stdout.decode().strip())


if __name__ == "__main__":
    main(story)

#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: an administrator edits the sort rules and runs `circd -t`.

A good chain passes.  Each broken one is refused with FILE:LINE (the line
the option is on) and a reason naming the rule: an unknown condition, a
field rule without a pattern, a rule after `default`, a bin with no sorter
position, a sorter that is not one of the station's devices, a resume
level above the full level."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from circdtest import CIRCD_BIN, check, main  # noqa: E402


def conf(h, extra_station):
    text = ('site = "t";\nstate_directory = "%s";\nruntime_directory = "%s";\n'
            'plugin_directory = "%s";\n'
            'devices = ( { name = "drop1"; plugin = "sim"; } );\n'
            'upstreams = ( { name = "out"; plugin = "jsonl"; path = "%s"; } );\n'
            'stations = (\n  { name = "returns"; role = "bookdrop"; devices = [ "drop1" ];\n'
            '    bins = [ "H = 6", "T = 7" ];\n'
            '%s\n  }\n);\n' % (h.state_dir, h.run_dir, os.environ.get("CIRCD_PLUGIN_DIR") or
                               os.path.join(os.path.dirname(CIRCD_BIN), "plugins", ".libs"),
                               h.out_path, extra_station))
    return h.write("circd.conf", text)


def run_t(path):
    r = subprocess.run([CIRCD_BIN, "-t", "-c", path], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=20)
    return r.returncode, r.stdout


def story(h):
    good = ('    sort = [ "hold -> H", "transit -> T", "sort-bin",\n'
            '             "collection CHILD*, YA -> 3", "call-number 8* -> 4",\n'
            '             "media 005 -> 5", "location ANNEX -> T", "default -> 1" ];')
    rc, out = run_t(conf(h, good))
    check(rc == 0, "a good rule chain passes circd -t (%d: %s)" % (rc, out.strip()))
    cases = [  # (station lines, the option that is wrong, what the message names, why)
        ('    sort = [ "hold -> H", "colour red -> 3", "default -> 1" ];', "sort",
         "rule 2", "unknown condition 'colour'"),
        ('    sort = [ "collection -> 3", "default -> 1" ];', "sort", "rule 1", "needs a pattern"),
        ('    sort = [ "default -> 1", "hold -> H" ];', "sort", "rule 2", "after 'default'"),
        ('    sort = [ "hold -> HOLDS", "default -> 1" ];', "sort", "HOLDS", "no sorter position"),
        ('    sort = [ "default -> 1" ];\n    sorter = "nosuch";', "sorter", "sorter",
         "not one of the station's devices"),
        ('    bin_full_percent = 60;\n    bin_resume_percent = 80;', "bin_resume_percent",
         "bin_resume_percent", "below"),
        ('    sort = [ "hold -> H" ];\n    exception_bin = "REJ";', "exception_bin", "exception_bin",
         "no sorter position"),
    ]
    for text, key, where, why in cases:
        path = conf(h, text)
        rc, out = run_t(path)
        with open(path) as f:
            line = next(i for i, l in enumerate(f, 1) if l.lstrip().startswith(key + " ="))
        check(rc != 0, "refused: %s (exit %d)" % (text.strip(), rc))
        check(("%s:%d:" % (path, line)) in out, "it names %s:%d (%s)" % (os.path.basename(path), line,
                                                                          out.strip()))
        check(where in out and why in out, "and says why: %s / %s" % (where, why))


if __name__ == "__main__":
    main(story, timeout=30)

# SPDX-License-Identifier: LGPL-2.1-or-later
"""Start tests/emulators/acs.py on a free loopback port for one test and
make sure it dies with the test (atexit, and a kill on any exception)."""
import atexit
import os
import subprocess
import sys
import tempfile
import time

SRC = os.environ.get("top_srcdir", os.path.join(os.path.dirname(__file__), "..", ".."))


class ACS:
    def __init__(self, *extra, fixture="acs-basic.json", faults=None):
        self.dir = tempfile.mkdtemp(prefix="acs-test-")
        self.port_file = os.path.join(self.dir, "port")
        self.log = os.path.join(self.dir, "log.jsonl")
        self.control = os.path.join(self.dir, "control.json")
        cmd = [sys.executable, os.path.join(SRC, "tests", "emulators", "acs.py"),
               "--fixture", os.path.join(SRC, "tests", "emulators", fixture),
               "--port-file", self.port_file, "--log", self.log, "--control", self.control]
        if faults:
            self.set_faults(faults)
        self.proc = None
        self.proc = subprocess.Popen(cmd + list(extra))
        atexit.register(self.stop)
        deadline = time.time() + 10
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError("acs.py did not start")
            time.sleep(0.02)
        self.port = int(open(self.port_file).read())

    def set_faults(self, faults):
        import json
        tmp = self.control + ".tmp"
        with open(tmp, "w") as f:
            json.dump(faults, f)
        os.rename(tmp, self.control)
        # mtime granularity: make sure the next write is seen as a change
        st = os.stat(self.control)
        os.utime(self.control, ns=(st.st_atime_ns, st.st_mtime_ns + 1000))

    def messages(self, mid=None):
        recs = self._records()
        # Records without "id" are the emulator's own "not processed"
        # answers (96): see answers().
        return [r for r in recs if "id" in r and (mid is None or r["id"] == mid)]

    def log_records(self):
        """Everything in the log, in order: received messages ({"id": ...})
        and the answers that mean "not processed" ({"answer": "96"})."""
        return self._records()

    def _records(self):
        """The log's complete lines: the emulator may be half-way through
        writing the last one while a test reads."""
        import json
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(line) for line in f if line.endswith("\n") and line.strip()]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.dir:
            import shutil
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

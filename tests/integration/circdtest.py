# SPDX-License-Identifier: LGPL-2.1-or-later
"""circdtest — a small harness for circd's integration stories.

Each story starts the real circd binary (with the sim and jsonl plugins) in
a temporary directory and checks what comes out of it: the jsonl sink, the
journal (read-only sqlite3), the control socket, the sd_notify datagrams and
the exit code.  Python 3 standard library only.

Environment (exported by `make check`): CIRCD_BIN, CIRCD_PLUGIN_DIR,
top_srcdir, top_builddir, optionally CIRCCTL_BIN.  When they are missing the
build tree is guessed from this file's location (../../build).
CIRCD_TEST_KEEP=1 keeps the temporary directory for a post-mortem;
CIRCD_TEST_WRAP="valgrind -q --error-exitcode=99" runs circd under a tool.

A test is a function taking a Harness; run it with `main(fn)`:
exit 0 = pass, 1 = fail, 77 = skip (reason printed).  On failure the daemon's
log (stderr of every run) and the notify datagrams are printed.
"""
import atexit
import json
import os
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback

EXIT_PASS, EXIT_FAIL, EXIT_SKIP = 0, 1, 77

# Every child and temporary directory of this process, so that atexit and
# the signal handlers can clean up whatever happens.
_children = set()
_tempdirs = set()


def _cleanup_all():
    for p in list(_children):
        if p.poll() is None:
            try:
                p.kill()
                p.wait(timeout=5)
            except Exception:
                pass
        _children.discard(p)
    if os.environ.get("CIRCD_TEST_KEEP") != "1":
        for d in list(_tempdirs):
            shutil.rmtree(d, ignore_errors=True)
            _tempdirs.discard(d)


atexit.register(_cleanup_all)


class Skip(Exception):
    """Raise to skip the test (exit 77) with a reason."""


class Failure(AssertionError):
    pass


def _find_build():
    here = os.path.dirname(os.path.abspath(__file__))
    builddir = os.environ.get("top_builddir") or os.path.join(here, "..", "..", "build")
    circd = os.environ.get("CIRCD_BIN") or os.path.join(builddir, "circd")
    plugdir = os.environ.get("CIRCD_PLUGIN_DIR") or os.path.join(builddir, "plugins", ".libs")
    circctl = os.environ.get("CIRCCTL_BIN") or os.path.join(builddir, "circctl")
    return os.path.abspath(circd), os.path.abspath(plugdir), os.path.abspath(circctl)


CIRCD_BIN, PLUGIN_DIR, CIRCCTL_BIN = _find_build()


def log(msg):
    print("# " + msg, flush=True)


def check(cond, msg):
    """An assertion that reads like the story."""
    if not cond:
        raise Failure(msg)
    log("ok: " + msg)


def wait_for(pred, timeout, what, interval=0.02):
    """Poll pred() until it returns a true value (returned) or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise Failure("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)


# ---- config file ----------------------------------------------------------

def conf_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[ " + ", ".join(conf_value(x) for x in v) + " ]"
    return json.dumps(str(v))  # libconfig strings take the same escapes


def conf_group(d):
    return "{ " + " ".join("%s = %s;" % (k, conf_value(v)) for k, v in d.items()) + " }"


def conf_list(items):
    return "(\n  " + ",\n  ".join(conf_group(x) for x in items) + "\n)" if items else "()"


# ---- notify socket ----------------------------------------------------------

class NotifySocket:
    """An AF_UNIX datagram socket playing systemd's NOTIFY_SOCKET."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.1)
        self.messages = []  # (monotonic time, {key: value}, raw text)
        self.cond = threading.Condition()
        self.closed = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.closed:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            text = data.decode("utf-8", "replace")
            fields = {}
            for line in text.split("\n"):
                if "=" in line:
                    k, v = line.split("=", 1)
                    fields[k] = v
            with self.cond:
                self.messages.append((time.monotonic(), fields, text))
                self.cond.notify_all()

    def count(self):
        with self.cond:
            return len(self.messages)

    def wait(self, pred, timeout, what, start=0):
        """Wait for a datagram (index >= start) whose fields satisfy pred;
        returns (index, fields)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i in range(start, len(self.messages)):
                    if pred(self.messages[i][1]):
                        return i, self.messages[i][1]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure("timed out after %.1f s waiting for sd_notify %s" % (timeout, what))
                self.cond.wait(left)

    def wait_key(self, key, value=None, timeout=10, start=0):
        return self.wait(lambda f: key in f and (value is None or f[key] == value), timeout,
                         "%s=%s" % (key, value if value is not None else "*"), start)

    def all(self):
        with self.cond:
            return list(self.messages)

    def close(self):
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass


# ---- the harness ------------------------------------------------------------

class Harness:
    """One temporary site: state/run directories, a config, a circd child."""

    def __init__(self, name):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="circd-%s-" % name)
        _tempdirs.add(self.dir)
        self.state_dir = os.path.join(self.dir, "state")
        self.run_dir = os.path.join(self.dir, "run")
        os.mkdir(self.state_dir)
        os.mkdir(self.run_dir)
        self.config_path = os.path.join(self.dir, "circd.conf")
        self.log_path = os.path.join(self.dir, "circd.log")
        self.notify = NotifySocket(os.path.join(self.dir, "notify.sock"))
        self.proc = None
        self.runs = 0
        self.out_path = self.path("out.jsonl")

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    # -- files

    def write(self, name, text):
        p = name if os.path.isabs(name) else self.path(name)
        with open(p, "w") as f:
            f.write(text)
        return p

    def scenario(self, name, text):
        return self.write(name, text)

    def config_text(self, devices=(), stations=(), upstreams=None, state_directory=None,
                    extra=""):
        if upstreams is None:
            upstreams = [{"name": "out", "plugin": "jsonl", "path": self.out_path}]
        return ("site = \"Test %s\";\n" % self.name +
                "state_directory = %s;\n" % conf_value(state_directory or self.state_dir) +
                "runtime_directory = %s;\n" % conf_value(self.run_dir) +
                "plugin_directory = %s;\n" % conf_value(PLUGIN_DIR) +
                extra +
                "devices = %s;\n" % conf_list(devices) +
                "stations = %s;\n" % conf_list(stations) +
                "upstreams = %s;\n" % conf_list(upstreams))

    def config(self, *args, **kw):
        """Write circd.conf (see config_text) and return its path."""
        return self.write(self.config_path, self.config_text(*args, **kw))

    def simple_config(self, scenario_text=None, sim_opts=None, station_opts=None,
                      jsonl_opts=None, **kw):
        """One sim device drop1 (with an optional scenario), one bookdrop
        station 'returns', one jsonl upstream 'out' at self.out_path."""
        dev = {"name": "drop1", "plugin": "sim"}
        if scenario_text is not None:
            dev["scenario"] = self.scenario("drop1.scn", scenario_text)
        dev.update(sim_opts or {})
        st = {"name": "returns", "role": "bookdrop", "devices": ["drop1"]}
        st.update(station_opts or {})
        up = {"name": "out", "plugin": "jsonl", "path": self.out_path}
        up.update(jsonl_opts or {})
        return self.config([dev], [st], [up], **kw)

    # -- the daemon

    def start(self, args=(), env=None, wait_ready=True, timeout=10, preexec_fn=None,
              wrap=None, prefix=(), log_level="debug"):
        """Start circd -c circd.conf.  wrap: a shell snippet run by sh -c
        that must end in `exec "$@"` (circd's argv follows), e.g. to set
        WATCHDOG_PID=$$ or to mount something in a private namespace;
        prefix: argv put in front of it all (e.g. ["unshare", "-m"]).  Each
        of them execs, so the child's pid is circd's."""
        assert self.proc is None or self.proc.poll() is not None, "circd already running"
        argv = [CIRCD_BIN, "-c", self.config_path, "--log-target=stderr",
                "--log-level=" + log_level] + list(args)
        if wrap:
            argv = ["sh", "-c", wrap, "circd-wrap"] + argv
        argv = list(prefix) + argv
        # CIRCD_TEST_WRAP="valgrind -q --error-exitcode=99": run circd under
        # a tool that execs it in-process (the pid stays circd's).
        tool = os.environ.get("CIRCD_TEST_WRAP", "").split()
        if tool:
            i = argv.index(CIRCD_BIN)
            argv = argv[:i] + tool + argv[i:]
        e = dict(os.environ)
        for k in ("WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "JOURNAL_STREAM"):
            e.pop(k, None)
        e["NOTIFY_SOCKET"] = self.notify.path
        e.update(env or {})
        self.runs += 1
        with open(self.log_path, "a") as logf:
            logf.write("==== run %d: %s\n" % (self.runs, " ".join(argv)))
            logf.flush()
            self.notify_mark = self.notify.count()
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf,
                                         stderr=logf, env=e, cwd=self.dir,
                                         preexec_fn=preexec_fn)
        _children.add(self.proc)
        self.started_at = time.monotonic()
        if wait_ready:
            self.wait_ready(timeout)
        return self.proc

    def wait_ready(self, timeout=10):
        """Wait for READY=1 of the current run (fails early if circd exits)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                i, _ = self.notify.wait_key("READY", "1", timeout=0.1, start=self.notify_mark)
                return i
            except Failure:
                pass
            if self.proc.poll() is not None:
                raise Failure("circd exited with %d before READY=1" % self.proc.returncode)
            if time.monotonic() > deadline:
                raise Failure("no READY=1 within %.1f s" % timeout)

    def pid(self):
        return self.proc.pid

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if self.running():
            os.kill(self.proc.pid, sig)

    def wait_exit(self, timeout=15):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Failure("circd did not exit within %.1f s (killed)" % timeout)

    def stop(self, timeout=15):
        """SIGTERM and wait; returns the exit code."""
        self.signal(signal.SIGTERM)
        rc = self.wait_exit(timeout)
        _children.discard(self.proc)
        return rc

    def kill(self):
        """SIGKILL and reap."""
        self.signal(signal.SIGKILL)
        rc = self.proc.wait(timeout=10)
        _children.discard(self.proc)
        return rc

    def run_to_exit(self, args=(), timeout=15, **kw):
        """Start circd without waiting for READY and wait for it to exit."""
        self.start(args=args, wait_ready=False, **kw)
        rc = self.wait_exit(timeout)
        _children.discard(self.proc)
        return rc

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def last_log(self):
        """The log of the current (last) run only."""
        t = self.log_text()
        i = t.rfind("==== run ")
        return t[i:] if i >= 0 else t

    # -- control socket

    def ctl_raw(self, line, timeout=10):
        """Send one raw line; return the answer line (parsed JSON)."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(os.path.join(self.run_dir, "control.sock"))
            s.sendall(line if isinstance(line, bytes) else line.encode())
            buf = b""
            while b"\n" not in buf:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        finally:
            s.close()
        if not buf:
            raise Failure("control socket: connection closed without an answer to %r" % line)
        return json.loads(buf.split(b"\n", 1)[0].decode())

    def ctl(self, cmd, **args):
        req = {"cmd": cmd}
        req.update(args)
        return self.ctl_raw(json.dumps(req) + "\n")

    def ctl_ok(self, cmd, **args):
        r = self.ctl(cmd, **args)
        if r.get("ok") is not True:
            raise Failure("control %s %s answered %s" % (cmd, args, r))
        return r

    def status(self):
        return self.ctl_ok("status")

    def device_events(self, name):
        for d in self.status()["devices"]:
            if d["name"] == name:
                return d["events"]
        raise Failure("no device %s in status" % name)

    def inject(self, device, line):
        return self.ctl_ok("sim", device=device, line=line)

    # -- outputs

    def jsonl(self, path=None):
        """Every complete line of a jsonl sink, parsed (a missing file is empty)."""
        path = path or self.out_path
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        out = []
        # The last piece has no newline yet while circd is writing it.
        for raw in data.split(b"\n")[:-1]:
            if raw.strip():
                out.append(json.loads(raw))
        return out

    def jsonl_count(self, path=None):
        try:
            with open(path or self.out_path, "rb") as f:
                return f.read().count(b"\n")
        except FileNotFoundError:
            return 0

    def journal(self, state_dir=None):
        """A read-only sqlite3 connection to the journal (also while circd
        runs: WAL readers do not disturb the writer)."""
        p = os.path.join(state_dir or self.state_dir, "journal.db")
        if not os.path.exists(p):
            raise Failure("no journal at %s" % p)
        return sqlite3.connect("file:%s?mode=ro" % p, uri=True, timeout=10)

    def query(self, sql, *params):
        db = self.journal()
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc is not None:
            _children.discard(self.proc)
        self.notify.close()

    def dump(self):
        """What a person needs to see when a story fails."""
        print("---- circd log (%s) ----" % self.log_path)
        text = self.log_text()
        if len(text) > 60000:
            text = text[:20000] + "\n[... %d bytes cut ...]\n" % (len(text) - 40000) + text[-20000:]
        print(text)
        print("---- sd_notify datagrams ----")
        for t, _, raw in self.notify.all()[-60:]:
            print("%.3f %s" % (t, raw.replace("\n", " | ")))
        print("---- end ----", flush=True)


def unshare_mount_available():
    """Whether `unshare -m` with a bind mount works here (root, CAP_SYS_ADMIN)."""
    if not shutil.which("unshare") or not shutil.which("mount"):
        return "unshare or mount not installed"
    d = tempfile.mkdtemp(prefix="circd-unshare-probe-")
    try:
        r = subprocess.run(["unshare", "-m", "sh", "-c",
                            'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && '
                            '! touch "$1/x" 2>/dev/null', "probe", d],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10)
        if r.returncode != 0:
            return "unshare -m / mount not permitted here: %s" % r.stdout.decode(errors="replace").strip()
        return None
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main(test, name=None, timeout=55):
    """Run test(h) with a fresh Harness; exit with the automake code."""
    name = name or os.path.splitext(os.path.basename(sys.argv[0]))[0].replace("test_", "")
    if not os.access(CIRCD_BIN, os.X_OK):
        print("SKIP: no circd binary at %s (build first)" % CIRCD_BIN)
        sys.exit(EXIT_SKIP)

    def on_alarm(signum, frame):
        raise Failure("the story took more than %d s" % timeout)

    def on_term(signum, frame):
        raise SystemExit(EXIT_FAIL)  # atexit cleans up

    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    signal.alarm(timeout)
    h = Harness(name)
    t0 = time.monotonic()
    code = EXIT_FAIL
    try:
        test(h)
        code = EXIT_PASS
        print("PASS: %s (%.1f s)" % (name, time.monotonic() - t0))
    except Skip as e:
        code = EXIT_SKIP
        print("SKIP: %s: %s" % (name, e))
    except Exception as e:
        code = EXIT_FAIL
        traceback.print_exc(file=sys.stdout)
        print("FAIL: %s: %s (%.1f s)" % (name, e, time.monotonic() - t0))
        h.dump()
        if os.environ.get("CIRCD_TEST_KEEP") == "1":
            print("kept %s" % h.dir)
    finally:
        signal.alarm(0)
        h.close()
        _cleanup_all()
    sys.stdout.flush()
    sys.exit(code)

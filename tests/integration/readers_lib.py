# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared pieces of the reader fault stories (test_reader_*.py): the real
circd with the real feig and 3m810 plugins talking to their emulators
(tests/emulators/feig_emulator.py over a pty pair, m3m_emulator.py over
loopback TCP) next to a sim device, all at one bookdrop station.  Not a
test itself.

- PtyReader / TcpReader start an emulator, steer it through its --control
  file and read its --state file.  A pty reader sits behind a stable
  symlink (what the plugin's port names); unplug() kills the emulator and
  closes the pty (the plugin reads EIO), plug() makes a new pty and points
  the symlink at it, as tests/conformance does.
- JournalSocket plays journald for circd: an AF_UNIX datagram socket bound
  in the story's directory and bind-mounted over /run/systemd in a private
  mount namespace (unshare -m), so --log-target=journal sends its native
  entries, MESSAGE_ID and all, to the story.  Every entry is also appended
  to the harness log (so last_log() and the failure dump show it)."""
import array
import os
import re
import select
import socket
import struct
import subprocess
import sys
import threading
import time
import tty

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import circdtest  # noqa: E402
from circdtest import CIRCCTL_BIN, Failure, check, log, unshare_mount_available, wait_for  # noqa: E402,F401

SRCDIR = os.environ.get("top_srcdir") or os.path.join(HERE, "..", "..")
EMULATORS = os.path.join(SRCDIR, "tests", "emulators")
PYTHON3 = os.environ.get("PYTHON3") or sys.executable or "python3"

# daemon/log.h: a device went offline or failed
MSGID_DEVICE_OFFLINE = "5c1a7e0e0f2d4b44a6a0c1d7e9b2f303"


def encode_item(item_id, size=32):
    """Tag memory (hex) for an item, made by `circctl tag encode` (lib/tags):
    ISO 28560-2 (DSFID 0x06), padded to `size` bytes."""
    out = subprocess.run([CIRCCTL_BIN, "tag", "encode", "--model", "28560-2", "--id", item_id,
                          "--pad", str(size)], stdout=subprocess.PIPE, check=True).stdout
    return "".join(out.decode().split())


# ---- emulators ----------------------------------------------------------------

class Reader:
    """One reader emulator: its control and state files, its process."""

    def __init__(self, h, name, script):
        self.h = h
        self.name = name
        self.script = os.path.join(EMULATORS, script)
        self.control = h.path(name + ".control")
        self.state_path = h.path(name + ".state")
        self.proc = None
        open(self.control, "w").close()

    def _spawn(self, transport_args, pass_fds=(), stdout=subprocess.DEVNULL):
        argv = [PYTHON3, self.script] + list(transport_args) + [
            "--control", self.control, "--state", self.state_path]
        with open(self.h.path(self.name + ".stderr"), "a") as err:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout,
                                         stderr=err, pass_fds=pass_fds)
        circdtest._children.add(self.proc)

    def _kill(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait(timeout=5)
            circdtest._children.discard(self.proc)
            self.proc = None

    def say(self, line):
        """One control line, in one O_APPEND write (never half a line)."""
        fd = os.open(self.control, os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)

    def add(self, uid, item_id, afi="07"):
        self.say("add %s dsfid=06 afi=%s mem=%s" % (uid, afi, encode_item(item_id)))

    def remove(self, uid):
        self.say("remove %s" % uid)

    def state(self):
        """(uids in the field, counters) from the --state file."""
        try:
            with open(self.state_path) as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return [], {}
        uids, counters = [], {}
        for line in lines:
            if line.startswith("requests="):
                counters = {k: int(v) for k, v in (w.split("=") for w in line.split())}
            elif line.strip():
                uids.append(line.split()[0])
        return uids, counters

    def counter(self, name):
        return self.state()[1].get(name, -1)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        self._kill()


class PtyReader(Reader):
    """An emulator on the master side of a pty; the plugin opens the slave
    through the symlink self.link."""

    def __init__(self, h, name, script):
        super().__init__(h, name, script)
        self.link = h.path(name + ".tty")
        self.slave = None
        self.plug()

    def plug(self, field=()):
        """A new pty (a new /dev/pts/N) behind the same symlink and a fresh
        emulator holding `field` (control lines) in its RF field."""
        with open(self.control, "w") as f:  # the new emulator reads it from the start
            f.write("".join(line + "\n" for line in field))
        master, slave = os.openpty()
        tty.setraw(slave)
        # A slave stays open while plugged in: otherwise the master reads
        # EIO whenever the plugin has its side closed (between reconnects).
        self.slave = slave
        tmp = self.link + ".new"
        os.symlink(os.ttyname(slave), tmp)
        os.replace(tmp, self.link)
        try:
            self._spawn(["--pty-fd", str(master)], pass_fds=(master,))
        finally:
            os.close(master)  # the emulator's copy is the only one

    def unplug(self):
        """The cable is pulled: the emulator dies (its master closes, the
        plugin's reads fail with EIO) and the device node goes away."""
        self._kill()
        if self.slave is not None:
            os.close(self.slave)
            self.slave = None
        try:
            os.unlink(self.link)
        except FileNotFoundError:
            pass

    def stop(self):
        self.unplug()

    def port(self, spec="38400:8E1"):
        return "serial:%s:%s" % (self.link, spec)


class TcpReader(Reader):
    """An emulator listening on 127.0.0.1 (a serial-to-Ethernet converter)."""

    def __init__(self, h, name, script):
        super().__init__(h, name, script)
        self._spawn(["--tcp", "0"], stdout=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("TCP "):
            raise Failure("%s did not say 'TCP <port>' (%r)" % (script, line))
        self.tcp_port = int(line.split()[1])

    def port(self):
        return "tcp:127.0.0.1:%d" % self.tcp_port


class ResetProxy:
    """A loopback TCP relay in front of a TcpReader (the network between
    circd and a serial-to-Ethernet converter) that can reset the connection
    for real: reset(ms) closes the plugin's side with SO_LINGER 0 (an RST,
    the plugin reads ECONNRESET, not an end of file) and resets every new
    connection for `ms` ms."""

    def __init__(self, target_port):
        self.target = target_port
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.port = self.listener.getsockname()[1]
        self.pairs = []           # [plugin side, emulator side]
        self.refuse_until = 0.0
        self.reset_ms = None      # set by reset(), done by the relay thread
        self.resets = 0           # RSTs sent
        self.closed = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @staticmethod
    def _rst(s):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()

    def _drop(self, pair, rst=False):
        self.pairs.remove(pair)
        if rst:
            self._rst(pair[0])
            self.resets += 1
        else:
            pair[0].close()
        pair[1].close()

    def _run(self):
        while not self.closed:
            if self.reset_ms is not None:
                self.refuse_until = time.monotonic() + self.reset_ms / 1000.0
                self.reset_ms = None
                for pair in list(self.pairs):
                    self._drop(pair, rst=True)
            socks = [self.listener] + [s for pair in self.pairs for s in pair]
            try:
                ready, _, _ = select.select(socks, [], [], 0.02)
            except (OSError, ValueError):
                return
            for s in ready:
                if s is self.listener:
                    c, _ = self.listener.accept()
                    if time.monotonic() < self.refuse_until:
                        self._rst(c)
                        self.resets += 1
                        continue
                    try:
                        u = socket.create_connection(("127.0.0.1", self.target), timeout=2)
                    except OSError:
                        c.close()
                        continue
                    self.pairs.append([c, u])
                    continue
                pair = next((p for p in self.pairs if s in p), None)
                if pair is None:
                    continue  # dropped earlier in this round
                try:
                    data = s.recv(4096)
                    if data:
                        pair[1 if s is pair[0] else 0].sendall(data)
                except OSError:
                    data = b""
                if not data:
                    self._drop(pair)

    def reset(self, ms):
        self.reset_ms = ms

    def close(self):
        self.closed = True
        self.thread.join(timeout=2)
        for pair in list(self.pairs):
            self._drop(pair)
        self.listener.close()


# ---- journald stand-in ------------------------------------------------------------

def parse_journal_datagram(data):
    """The native journal protocol: KEY=VALUE lines, or KEY\\n, a 64-bit
    little-endian length, the value and \\n (for values with newlines)."""
    fields, i = {}, 0
    while i < len(data):
        nl = data.find(b"\n", i)
        if nl < 0:
            break
        line = data[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            fields[k.decode()] = v.decode("utf-8", "replace")
            i = nl + 1
        else:
            n = int.from_bytes(data[nl + 1:nl + 9], "little")
            fields[line.decode()] = data[nl + 9:nl + 9 + n].decode("utf-8", "replace")
            i = nl + 9 + n + 1
    return fields


class JournalSocket:
    def __init__(self, h):
        self.h = h
        self.root = h.path("journal-root")  # bind-mounted over /run/systemd
        os.makedirs(os.path.join(self.root, "journal"))
        self.path = os.path.join(self.root, "journal", "socket")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.settimeout(0.1)
        self.entries = []
        self.marks = 0   # settle() markers seen
        self.lock = threading.Lock()
        self.closed = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.closed:
            try:
                data, anc, _, _ = self.sock.recvmsg(1 << 20, socket.CMSG_SPACE(4 * 4))
            except socket.timeout:
                continue
            except OSError:
                return
            for level, kind, cdata in anc:
                # a large entry comes as a sealed memfd (SCM_RIGHTS)
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds = array.array("i")
                    fds.frombytes(cdata[:len(cdata) - len(cdata) % fds.itemsize])
                    for fd in fds:
                        with os.fdopen(fd, "rb") as f:
                            f.seek(0)
                            data = f.read()
            e = parse_journal_datagram(data)
            if "CIRCDTEST_MARK" in e:
                with self.lock:
                    self.marks += 1
                continue
            with self.lock:
                self.entries.append(e)
            extra = " [MESSAGE_ID=%s]" % e["MESSAGE_ID"] if "MESSAGE_ID" in e else ""
            with open(self.h.log_path, "a") as f:
                f.write("<%s>%s%s\n" % (e.get("PRIORITY", "?"), e.get("MESSAGE", ""), extra))

    def settle(self, timeout=5):
        """Wait until every entry sent so far is in: a marker datagram
        queues behind them (one receive queue, in order) and is seen last."""
        with self.lock:
            want = self.marks + 1
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            s.sendto(b"CIRCDTEST_MARK=1\n", self.path)
        finally:
            s.close()
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if self.marks >= want:
                    return
            if time.monotonic() > deadline:
                raise Failure("the journal stand-in fell behind by more than %d s" % timeout)
            time.sleep(0.005)

    def all(self):
        self.settle()
        with self.lock:
            return list(self.entries)

    def find(self, pred):
        return [e for e in self.all() if pred(e)]

    def close(self):
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass


def start_circd(h, **kw):
    """Start circd logging to a JournalSocket when a private mount namespace
    is possible (returns it), else to stderr (returns None: MESSAGE_IDs
    cannot be seen; the caller says so)."""
    why = unshare_mount_available()
    if why:
        log("no journal stand-in (%s): logging to stderr, MESSAGE_ID not visible" % why)
        h.start(**kw)
        return None
    j = JournalSocket(h)
    h.jsock = j
    env = dict(kw.pop("env", None) or {})
    env["CIRCD_JOURNAL_ROOT"] = j.root
    h.start(args=["--log-target=journal"], env=env, prefix=["unshare", "-m"],
            wrap='mount --bind "$CIRCD_JOURNAL_ROOT" /run/systemd && exec "$@"', **kw)
    return j


# ---- what the stories look at -----------------------------------------------------

def log_text(h):
    """The current run's log, with every journal entry circd has sent so far."""
    j = getattr(h, "jsock", None)
    if j is not None:
        j.settle()
    return h.last_log()


def health_lines(h, name):
    """The core's health-change lines for one device, in order."""
    return [l.split(">", 1)[1] for l in log_text(h).splitlines()
            if re.match(r"^<\d>%s: (starting|ok|degraded|offline|failed)\b" % re.escape(name), l)]


def device(h, name, st=None):
    for d in (st or h.status())["devices"]:
        if d["name"] == name:
            return d
    raise Failure("no device %s in status" % name)


def health(h, name):
    return device(h, name)["health"]


def wait_health(h, name, want, timeout, what=None):
    return wait_for(lambda: device(h, name) if health(h, name) == want else None, timeout,
                    what or "%s to be %s" % (name, want))


def checkins(h, item=None):
    lines = [x for x in h.jsonl() if x.get("kind") == "checkin"]
    return [x for x in lines if item is None or x["item_id"] == item]


def wait_checkin(h, item, timeout=5):
    return wait_for(lambda: checkins(h, item), timeout, "a checkin of %s in the jsonl sink" % item)[0]


def circctl(h, *args):
    r = subprocess.run([CIRCCTL_BIN, "--socket", os.path.join(h.run_dir, "control.sock")] +
                       list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10)
    return r.returncode, r.stdout.decode(errors="replace")

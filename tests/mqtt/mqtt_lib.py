# SPDX-License-Identifier: LGPL-2.1-or-later
"""mqtt_lib — what the mqtt upstream stories share: a real mosquitto broker
started on a free 127.0.0.1 port (with a persistence directory, so it can be
stopped and restarted with its sessions), and a tiny MQTT 3.1.1 subscriber
written here (standard library only, independent of libmosquitto) that
keeps a persistent session and records every message it gets.

Used with tests/integration/circdtest.py (children and temporary
directories are cleaned up whatever happens)."""
import getpass
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import circdtest  # noqa: E402
from circdtest import Failure, Skip, log, wait_for  # noqa: E402


def find_mosquitto():
    """The broker binary (Debian puts it in /usr/sbin), or raise Skip."""
    m = shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.access(p, os.X_OK)),
        None)
    if not m:
        raise Skip("mosquitto is not installed (apt-get install mosquitto)")
    return m


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Broker:
    """mosquitto -c CONF on 127.0.0.1:port; stop() and start() again keep
    its persistence (sessions and queued messages) in dir/persist/.
    auth: configuration lines that replace anonymous access (password_file);
    extra_conf: more lines (other listeners)."""

    def __init__(self, h, name="broker", extra_conf="", port=None, auth=None):
        self.binary = find_mosquitto()
        self.h = h
        self.dir = h.path(name)
        os.makedirs(os.path.join(self.dir, "persist"), exist_ok=True)
        self.port = port or free_port()
        self.log_path = os.path.join(self.dir, "mosquitto.log")
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        with open(self.conf, "w") as f:
            # Started as root, mosquitto switches to its own user unless told
            # to stay who we are (it must write the log and persistence here).
            f.write("user %s\n" % getpass.getuser() +
                    "listener %d 127.0.0.1\n" % self.port +
                    ("allow_anonymous false\n" + auth if auth else "allow_anonymous true\n") +
                    "persistence true\n"
                    "persistence_location %s/\n" % os.path.join(self.dir, "persist") +
                    "autosave_interval 0\n"        # saved on a clean exit
                    "max_queued_messages 0\n"      # no limit: a test counts every one
                    "max_inflight_messages 100\n"
                    "log_dest file %s\n" % self.log_path +
                    "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n" +
                    extra_conf)
        self.proc = None

    def start(self, timeout=5):
        with open(os.path.join(self.dir, "stdout.log"), "a") as out:
            self.proc = subprocess.Popen([self.binary, "-c", self.conf], stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=out)
        circdtest._children.add(self.proc)
        t0 = time.monotonic()

        def listening():
            if self.proc.poll() is not None:
                raise Failure("mosquitto exited with %d: %s" % (self.proc.returncode, self.log_tail()))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return True
            except OSError:
                return False
        wait_for(listening, timeout, "mosquitto to listen on 127.0.0.1:%d" % self.port, 0.01)
        log("broker up on 127.0.0.1:%d in %.0f ms" % (self.port, (time.monotonic() - t0) * 1000))

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=timeout)
        if self.proc:
            circdtest._children.discard(self.proc)

    def log_tail(self, n=30):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except FileNotFoundError:
            return "(no log)"


# ---- a minimal MQTT 3.1.1 client (subscribe side) ---------------------------

def _varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _str(s):
    b = s.encode()
    return struct.pack("!H", len(b)) + b


def _packet(first, body):
    return bytes([first]) + _varint(len(body)) + body


class Message:
    __slots__ = ("topic", "payload", "qos", "retain", "dup", "at")

    def __init__(self, topic, payload, qos, retain, dup):
        self.topic, self.payload, self.qos, self.retain, self.dup = topic, payload, qos, retain, dup
        self.at = time.monotonic()


class Subscriber(threading.Thread):
    """Connects with clean session off (persistent) or on, subscribes to
    `topics` at QoS 1, acknowledges and records every PUBLISH, and
    reconnects (every 50 ms) while the broker is away, until close()."""

    def __init__(self, port, client_id, topics, clean=False, reconnect=True, username=None,
                 password=None):
        super().__init__(daemon=True)
        self.port, self.client_id, self.topics = port, client_id, list(topics)
        self.username, self.password = username, password
        self.clean, self.reconnect = clean, reconnect
        self.messages = []
        self.lock = threading.Condition()
        self.connects = 0
        self.subscribed = threading.Event()
        self.stopping = False
        self.sock = None
        self.start()

    def _recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("broker closed the connection")
            buf += chunk
        return buf

    def _read_packet(self):
        first = self._recv_exact(1)[0]
        mult, length = 1, 0
        while True:
            b = self._recv_exact(1)[0]
            length += (b & 0x7F) * mult
            mult *= 128
            if not b & 0x80:
                break
        return first, self._recv_exact(length) if length else b""

    def _session(self):
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=2)
        self.sock.settimeout(None)
        flags = 0x02 if self.clean else 0x00
        creds = b""
        if self.username is not None:
            flags |= 0x80
            creds += _str(self.username)
        if self.password is not None:
            flags |= 0x40
            creds += _str(self.password)
        body = (_str("MQTT") + bytes([4, flags]) + struct.pack("!H", 60) + _str(self.client_id) +
                creds)
        self.sock.sendall(_packet(0x10, body))
        first, body = self._read_packet()
        if first >> 4 != 2 or body[1] != 0:
            raise ConnectionError("CONNACK refused: %r" % body)
        self.connects += 1
        sub = struct.pack("!H", 1) + b"".join(_str(t) + b"\x01" for t in self.topics)
        self.sock.sendall(_packet(0x82, sub))
        while True:
            first, body = self._read_packet()
            kind = first >> 4
            if kind == 9:  # SUBACK
                self.subscribed.set()
            elif kind == 3:  # PUBLISH
                qos = (first >> 1) & 3
                tlen = struct.unpack("!H", body[:2])[0]
                topic = body[2:2 + tlen].decode()
                pos = 2 + tlen
                if qos:
                    mid = body[pos:pos + 2]
                    pos += 2
                m = Message(topic, body[pos:], qos, bool(first & 1), bool(first & 8))
                with self.lock:
                    self.messages.append(m)
                    self.lock.notify_all()
                if qos == 1:
                    self.sock.sendall(b"\x40\x02" + mid)
                elif qos == 2:  # PUBREC; the PUBREL that follows gets PUBCOMP
                    self.sock.sendall(b"\x50\x02" + mid)
            elif kind == 6:  # PUBREL
                self.sock.sendall(b"\x70\x02" + body[:2])

    def run(self):
        while not self.stopping:
            try:
                self._session()
            except (OSError, ConnectionError, IndexError):
                pass
            finally:
                if self.sock:
                    try:
                        self.sock.close()
                    except OSError:
                        pass
            if not self.reconnect:
                return
            time.sleep(0.05)

    def close(self):
        self.stopping = True
        if self.sock:
            try:
                self.sock.sendall(b"\xe0\x00")  # DISCONNECT
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.join(timeout=2)

    def snapshot(self):
        with self.lock:
            return list(self.messages)

    def wait(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                v = pred(self.messages)
                if v:
                    return v
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure("timed out after %.1f s waiting for %s" % (timeout, what))
                self.lock.wait(min(left, 0.1))


def retained(port, topic, timeout=3):
    """The retained message on `topic` (a fresh clean-session subscriber), or None."""
    s = Subscriber(port, "circd-test-peek-%d" % os.getpid(), [topic], clean=True, reconnect=False)
    try:
        s.subscribed.wait(timeout)
        time.sleep(0.2)
        msgs = [m for m in s.snapshot() if m.retain]
        return msgs[-1].payload.decode() if msgs else None
    finally:
        s.close()

#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Reader plugin benchmark (make bench).  Prints figures; asserts nothing about time.

For every reader plugin with an emulator and a conformance driver file
(READERS below): a field of FIELD tags in the emulator, each one replaced by
a new tag as soon as it has been reported, for SECONDS:

  plugin   tags per second the plugin reports (TAG_SEEN, read and all),
           hosted by the conformance kit (tests/conformance/conformance
           --bench), and the CPU time (getrusage) of that process per tag;
  raw      tags per second a plain client gets from the same emulator, on
           the same transport, with the same churn: inventory round trips
           only (feig) or reading the pushed lines (example) - the
           emulator's own pace, measured in the same run.

The ratio plugin/raw says what the plugin costs on top of the emulator
(for feig: the per-tag system information and block reads it makes).
"""
import os
import pty
import select
import socket
import subprocess
import sys
import tempfile
import time
import tty

top_srcdir = os.environ.get("top_srcdir", os.path.join(os.path.dirname(__file__), "..", ".."))
builddir = os.environ.get("top_builddir", os.getcwd())
python = os.environ.get("PYTHON3", sys.executable)
kit = os.path.join(builddir, "tests", "conformance", "conformance")
SECONDS = float(os.environ.get("BENCH_READER_SECONDS", "5"))
FIELD = int(os.environ.get("BENCH_READER_FIELD", "8"))
MEM16 = "0102030405060708090A0B0C0D0E0F10"


def crc16_feig(data):
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc


def feig_frame(cmd, data):
    body = bytes([len(data) + 5, 0xFF, cmd]) + bytes(data)
    c = crc16_feig(body)
    return body + bytes([c & 0xFF, c >> 8])


def raw_feig(conn, on_uid, end):
    """Inventory round trips [0xB0 0x01] (with MODE.MORE), nothing else."""
    buf = b""

    def answer():
        nonlocal buf
        while True:
            if buf and len(buf) >= buf[0]:
                n = buf[0]
                frame, buf = buf[:n], buf[n:]
                return frame[3], frame[4:-2]
            buf += conn.recv(4096)

    while time.monotonic() < end:
        mode = 0x00
        while True:
            conn.sendall(feig_frame(0xB0, [0x01, mode]))
            status, data = answer()
            if status in (0x00, 0x94) and data:
                for i in range(data[0]):
                    on_uid(data[1 + 10 * i + 2:1 + 10 * i + 10].hex().upper())
            if status != 0x94:
                break
            mode = 0x80


def raw_example(fd, on_uid, end):
    """The reader pushes its field as lines: read them."""
    buf = b""
    while time.monotonic() < end:
        if not select.select([fd], [], [], 0.1)[0]:
            continue
        buf += os.read(fd, 65536)
        *lines, buf = buf.split(b"\n")
        for line in lines:
            if line and line[:1] not in (b"-", b"=", b"!"):
                on_uid(line.split()[0].decode())


def bcc_m3m(data):
    """CRC-16/GENIBUS: preset 0xFFFF, poly 0x1021, MSB first, inverted."""
    crc = 0xFFFF
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc ^ 0xFFFF


def m3m_frame(cmd, fields):
    n = 1 + len(fields) + 2
    head = bytes([n >> 8, n & 0xFF, cmd]) + bytes(fields)
    c = bcc_m3m(head)
    return b"\xD6" + head + bytes([c >> 8, c & 0xFF])


def raw_m3m(fd, on_uid, end):
    """Inventory round trips (0xFE Read Block UID, UIDs only), nothing else."""
    buf = b""
    request = m3m_frame(0xFE, [0x00, 0x01])
    while time.monotonic() < end:
        os.write(fd, request)
        while True:
            i = buf.find(b"\xD6")
            if i >= 0 and len(buf) >= i + 3 and len(buf) >= i + 3 + (buf[i + 1] << 8 | buf[i + 2]):
                n = buf[i + 1] << 8 | buf[i + 2]
                frame, buf = buf[i:i + 3 + n], buf[i + 3 + n:]
                break
            if not select.select([fd], [], [], 1.0)[0]:
                frame = None
                break
            buf += os.read(fd, 65536)
        if not frame or frame[4] != 0x00:
            continue
        fields = frame[5:-2]
        for k in range(fields[2]):
            on_uid(fields[3 + 8 * k:11 + 8 * k].hex().upper())


# The readers: (driver file, raw client).  A new reader plugin with a
# conformance driver adds one line here, and a raw client for its protocol.
READERS = [
    ("tests/conformance/feig.conf", raw_feig),
    ("tests/conformance/example.conf", raw_example),
    ("tests/conformance/3m810.conf", raw_m3m),
]


def driver(path):
    d = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if "=" in line:
                k, v = (x.strip() for x in line.split("=", 1))
                d.setdefault(k, v)  # the first transport is the one benched
    return d


def raw_rate(drv, client):
    """Tags/s a plain client gets from the emulator with the same churn."""
    emulator = os.path.join(top_srcdir, "tests", "emulators", drv["emulator"])
    kind = drv["transport"].split()[0]
    with tempfile.TemporaryDirectory(prefix="circd-bench-readers-") as tmp:
        control, state = os.path.join(tmp, "control"), os.path.join(tmp, "state")
        open(control, "w").close()
        args = [python, emulator, "--control", control, "--state", state]
        master = slave = None
        if kind == "tcp":
            proc = subprocess.Popen(args + ["--tcp", "0"], stdout=subprocess.PIPE)
            port = int(proc.stdout.readline().split()[1])
            conn = socket.create_connection(("127.0.0.1", port))
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        else:
            master, slave = pty.openpty()
            tty.setraw(slave)
            tty.setraw(master)
            proc = subprocess.Popen(args + ["--pty-fd", str(master)], pass_fds=[master])
            conn = slave
        ctl = open(control, "a")
        nxt = 0
        for nxt in range(FIELD):
            ctl.write("add E00401AA%08X mem=%s\n" % (nxt, MEM16))
        ctl.flush()
        nxt = FIELD
        field = set("E00401AA%08X" % i for i in range(FIELD))
        seen = [0]

        def on_uid(uid):
            nonlocal nxt
            if uid not in field:
                return
            field.discard(uid)
            seen[0] += 1
            new = "E00401AA%08X" % nxt
            nxt += 1
            field.add(new)
            ctl.write("remove %s\nadd %s mem=%s\n" % (uid, new, MEM16))
            ctl.flush()

        # warm-up: the first field, then the measured window
        client(conn, on_uid, time.monotonic() + 0.5)
        seen[0] = 0
        t0 = time.monotonic()
        client(conn, on_uid, t0 + SECONDS)
        rate = seen[0] / (time.monotonic() - t0)
        proc.terminate()
        proc.wait()
        ctl.close()
        if kind == "tcp":
            conn.close()
        else:
            os.close(master)
            os.close(slave)
        return rate


def plugin_rate(path):
    out = subprocess.run([kit, "--bench", str(SECONDS), "--field", str(FIELD), path],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    f = dict(w.split("=", 1) for w in out.split())
    tags, secs, cpu = int(f["tags"]), float(f["seconds"]), int(f["cpu_usec"])
    return tags / secs, (cpu / tags if tags else float("nan")), f["transport"]


def main():
    if not os.access(kit, os.X_OK):
        print("bench_readers: %s is not built (make check builds it)" % kit)
        subprocess.run(["make", "-C", builddir, "tests/conformance/conformance"], check=True,
                       stdout=subprocess.DEVNULL)
    print("reader plugins: a field of %d tags replaced as fast as they are reported, %.0f s each"
          % (FIELD, SECONDS))
    for rel, client in READERS:
        path = os.path.join(top_srcdir, rel)
        drv = driver(path)
        raw = raw_rate(drv, client)
        rate, cpu_per_tag, transport = plugin_rate(path)
        print("  %-8s %-4s plugin %8.1f tags/s   raw emulator %8.1f tags/s   ratio %.2f   "
              "CPU %7.1f us/tag (process hosting the plugin)"
              % (drv["plugin"], transport, rate, raw, rate / raw if raw else float("nan"),
                 cpu_per_tag))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A 3M RFID reader (810 / Model 210 protocol, spec v1.0.0) with a virtual RF field, for tests.

Written from the 3M protocol specification and rfid.md §4.2, independently
of plugins/3m810: its own BCC, its own frame parsing.  Frames are
D6 LEN(2) CMD [ERROR] fields BCC(2), BCC = CRC-16/GENIBUS over everything
but D6, MSB first.  It answers

    0xFE Read Block UID (inventory; AFI filter; options bit0 UID, bit1 DSFID)
    0x11 Reader Version          0x01 Quiet
    0x02 Read Multiblock (old style: BLOCK# LOCK DATA per block, data as on the tag)
    0x04 Write Multiblock        0x05 Write Block
    0x0A Get AFI                 0x09 Write AFI
    0x03 Check EAS (error 0x06 when EAS is 0, as a real reader)
    0x0C EAS Control             0x0D Tag Info        0x0F Get DSFID
    anything else: error 0x02 (command not implemented)

on one of
    --pty-fd N       the master side of a pty the caller opened (inherited)
    --pty            a pty of its own; prints "PTY /dev/pts/N"
    --tcp PORT       127.0.0.1:PORT (0 = any; prints "TCP <port>")

and takes orders from --control FILE, a file the test appends lines to (the
same interface as feig_emulator.py):

    add UID [dsfid=HH] [afi=HH] [eas=0|1] [bs=N] [mem=HEX]   a tag enters the field
    remove UID                                               it leaves
    fault KIND [N]      the next N answers (default 1) are spoiled:
                        silent (no answer), badcrc, truncated (half a frame),
                        garbage (noise with a stray start byte before the
                        answer), error (error code 0x0F instead of the
                        answer; rf_error is the same), afi_ignored (Write
                        AFI says OK, changes nothing), eas_ignored (the same
                        for EAS Control), write_error (the next write
                        answers 0x16, memory not written)
    maxsets N           accepted for feig_emulator.py compatibility; a 3M
                        inventory answer always carries every tag
    unplug MS           the cable is out for MS ms: TCP connections are
                        closed and refused; on a pty nothing is answered and
                        what arrives is lost

After every change it writes the field to --state FILE, one line per tag:
"UID afi=HH dsfid=HH eas=N mem=HEX" (feig_emulator.py's line plus the
memory), then "requests=N rf_resets=N faults_taken=N"
(rf_resets stays 0: the protocol has no RF reset; faults_taken: spoiled
answers so far).
"""
import argparse
import sys
import time

import emulator_io

START = 0xD6


def bcc(data):
    """The spec's App. C pseudo code, bit by bit: preset 0xFFFF, poly 0x1021,
    compare the MSB of the CRC with the MSB of the byte, XOR the preset at
    the end."""
    crc = 0xFFFF
    for byte in data:
        for _ in range(8):
            a = (crc >> 15) & 1
            b = (byte >> 7) & 1
            crc = (crc << 1) & 0xFFFF
            if a ^ b:
                crc ^= 0x1021
            byte = (byte << 1) & 0xFF
    return crc ^ 0xFFFF


def make_frame(cmd, error, fields=b""):
    body = bytes([cmd, error]) + bytes(fields)
    n = len(body) + 2
    head = bytes([n >> 8, n & 0xFF]) + body
    c = bcc(head)
    return bytes([START]) + head + bytes([c >> 8, c & 0xFF])


class Tag:
    def __init__(self, uid, dsfid=0, afi=0, eas=0, block_size=4, memory=b""):
        self.uid = uid
        self.dsfid = dsfid
        self.afi = afi
        self.eas = eas
        self.block_size = block_size
        if len(memory) % block_size:
            memory += bytes(block_size - len(memory) % block_size)
        self.memory = bytearray(memory or bytes(28 * block_size))

    @property
    def blocks(self):
        return len(self.memory) // self.block_size

    def block(self, n):
        return bytes(self.memory[n * self.block_size:(n + 1) * self.block_size])


class Reader:
    def __init__(self, state_path):
        self.tags = {}          # UID bytes -> Tag, in arrival order
        self.faults = []        # kinds, one per coming answer
        self.state_path = state_path
        self.requests = 0
        self.faults_taken = 0
        self.unplug_until = 0.0

    def save_state(self):
        if not self.state_path:
            return
        lines = ["%s afi=%02X dsfid=%02X eas=%d mem=%s" % (
            t.uid.hex().upper(), t.afi, t.dsfid, t.eas, t.memory.hex().upper())
            for t in self.tags.values()]
        lines.append("requests=%d rf_resets=0 faults_taken=%d" % (
            self.requests, self.faults_taken))
        emulator_io.write_state(self.state_path, lines)

    def control(self, line):
        words = line.split()
        if not words:
            return
        verb, args = words[0], words[1:]
        if verb == "add":
            opts = dict(a.split("=", 1) for a in args[1:])
            tag = Tag(bytes.fromhex(args[0]), int(opts.get("dsfid", "0"), 16),
                      int(opts.get("afi", "0"), 16), int(opts.get("eas", "0")),
                      int(opts.get("bs", "4")), bytes.fromhex(opts.get("mem", "")))
            self.tags[tag.uid] = tag
        elif verb == "remove":
            self.tags.pop(bytes.fromhex(args[0]), None)
        elif verb == "fault":
            kind = "error" if args[0] == "rf_error" else args[0]
            self.faults += [kind] * (int(args[1]) if len(args) > 1 else 1)
        elif verb == "maxsets":
            pass
        elif verb == "unplug":
            self.unplug_until = time.monotonic() + int(args[0]) / 1000.0
        else:
            print("m3m_emulator: unknown control line %r" % line, file=sys.stderr)
        self.save_state()

    def take_fault(self, kind):
        if self.faults and self.faults[0] == kind:
            self.faults.pop(0)
            self.faults_taken += 1
            return True
        return False

    def write_fails(self):
        return self.take_fault("write_error")

    def handle(self, cmd, f):
        """One request -> (error code, answer fields)."""
        self.requests += 1
        if cmd == 0xFE:                                   # Read Block UID
            if len(f) != 2:
                return 0x32, b""
            afi, options = f[0], f[1]
            if options & ~0x07:
                return 0x31, bytes([afi, options])
            out = b""
            n = 0
            for t in self.tags.values():
                if afi and t.afi != afi:
                    continue
                n += 1
                if options & 0x02:
                    out += bytes([t.dsfid])
                if options & 0x01:
                    out += t.uid
            return 0x00, bytes([afi, options, n]) + out
        if cmd == 0x11:                                   # Reader Version
            return (0x00, b"\x0A\x05\x00\x02") if not f else (0x32, b"")
        addressed = {0x01: 0, 0x02: 2, 0x03: 0, 0x04: None, 0x05: None, 0x09: 1,
                     0x0A: 0, 0x0C: 1, 0x0D: 1, 0x0F: 0}
        if cmd not in addressed:
            return 0x02, b""
        if len(f) < 8:
            return 0x32, b""
        uid, rest = bytes(f[:8]), f[8:]
        want = addressed[cmd]
        if want is not None and len(rest) != want:
            # Read Multiblock may carry an optional response options byte
            if not (cmd == 0x02 and len(rest) == 3):
                return 0x32, uid
        tag = self.tags.get(uid)
        if tag is None:
            return 0x06, uid + (b"\x00" if cmd == 0x03 else b"")
        if cmd == 0x01:                                   # Quiet
            return 0x00, uid
        if cmd == 0x02:                                   # Read Multiblock
            first, count = rest[0], rest[1]
            if first + count > tag.blocks:
                return 0x11, uid
            out = uid + bytes([count])
            for b in range(first, first + count):
                out += bytes([b & 0xFF, 0x00]) + tag.block(b)
            return 0x00, out
        if cmd == 0x04 or cmd == 0x05:                    # Write (Multi)block
            if cmd == 0x05:
                first, count, data = (rest[0], 1, rest[1:]) if rest else (0, 0, b"")
            else:
                if len(rest) < 3:
                    return 0x32, uid
                first, count, data = rest[0], rest[1], rest[3:]
            if len(data) != count * tag.block_size:
                return 0x32, uid
            if first + count > tag.blocks:
                return 0x11, uid
            if self.write_fails():
                return 0x16, uid
            start = first * tag.block_size
            tag.memory[start:start + len(data)] = data
            self.save_state()
            return 0x00, uid + (bytes([(first + count) & 0xFF]) if cmd == 0x04 else b"")
        if cmd == 0x0A:                                   # Get AFI
            return 0x00, uid + bytes([tag.afi])
        if cmd == 0x09:                                   # Write AFI
            if self.write_fails():
                return 0x16, uid
            if not self.take_fault("afi_ignored"):
                tag.afi = rest[0]
                self.save_state()
            return 0x00, uid
        if cmd == 0x03:                                   # Check EAS
            # only tags with EAS 1 answer the air command (§7.13)
            return (0x00, uid + b"\x01") if tag.eas else (0x06, uid + b"\x00")
        if cmd == 0x0C:                                   # EAS Control
            if rest[0] > 1:
                return 0x32, uid
            if self.write_fails():
                return 0x16, uid
            if not self.take_fault("eas_ignored"):
                tag.eas = rest[0]
                self.save_state()
            return 0x00, uid
        if cmd == 0x0D:                                   # Tag Info
            want_bits = rest[0] & 0x0F
            out = b""
            if want_bits & 0x01:
                out += bytes([tag.dsfid])
            if want_bits & 0x02:
                out += bytes([tag.afi])
            if want_bits & 0x04:
                out += bytes([(tag.block_size - 1) & 0xFF, (tag.blocks - 1) & 0xFF])
            if want_bits & 0x08:
                out += b"\x01\x00"
            return 0x00, uid + bytes([want_bits]) + out
        if cmd == 0x0F:                                   # Get DSFID
            return 0x00, uid + bytes([tag.dsfid])
        return 0x02, b""

    def answer(self, cmd, fields):
        """The bytes to send back, with the next fault applied."""
        error, out = self.handle(cmd, fields)
        if self.take_fault("error"):
            error, out = 0x0F, (bytes(fields[:8]) if cmd not in (0xFE, 0x11) else b"")
        frame = make_frame(cmd, error, out)
        for kind in ("silent", "badcrc", "truncated", "garbage"):
            if self.take_fault(kind):
                if kind == "silent":
                    return b""
                if kind == "badcrc":
                    return frame[:-1] + bytes([frame[-1] ^ 0x5A])
                if kind == "truncated":
                    return frame[:len(frame) // 2]
                # line noise, then a start byte that claims 64 bytes, then
                # the real answer: a reader must hunt past both
                return bytes([0x13, 0x37, 0x00, START, 0x00, 0x40, 0xFE, 0x42]) + frame
        return frame


class Stream:
    """Requests in from a byte stream; what does not check is ignored, as a
    real reader does."""

    def __init__(self):
        self.buf = b""

    def feed(self, data):
        self.buf += data
        frames = []
        while self.buf:
            i = self.buf.find(bytes([START]))
            if i < 0:
                self.buf = b""
                break
            self.buf = self.buf[i:]
            if len(self.buf) < 3:
                break
            n = self.buf[1] << 8 | self.buf[2]
            if n < 3 or n > 4096:
                self.buf = self.buf[1:]
                continue
            if len(self.buf) < 3 + n:
                break
            frame = self.buf[:3 + n]
            if bcc(frame[1:-2]) != (frame[-2] << 8 | frame[-1]):
                self.buf = self.buf[1:]
                continue
            self.buf = self.buf[3 + n:]
            frames.append((frame[3], frame[4:-2]))
        return frames


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    emulator_io.add_arguments(ap)
    ap.add_argument("--max-sets", type=int, default=0, help="ignored (feig compatibility)")
    args = ap.parse_args()

    reader = Reader(args.state)
    return emulator_io.serve(ap, args, reader, Stream,
                             lambda request: reader.answer(*request),
                             drop_while_unplugged=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)

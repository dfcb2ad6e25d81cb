#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A FEIG OBID ISO-Host reader (H20800) with a virtual RF field, for tests.

Written from the manual and rfid.md, independently of plugins/feig: its own
CRC, its own frame parsing.  It answers

    [0x69] RF reset, [0x6A] RF output on/off (ANT_OUT: 0 = off, 1 or 2 =
    that antenna only), [0x80]/[0x81] read/write configuration (CFG4's
    ISO15693-MODE.AFI bit and ISO15693-AFI byte filter the inventory; other
    blocks read as zeros), [0xB0 0x01] inventory (MODE.MORE continuation,
    at most --max-sets data sets per answer, status 0x94 when more are
    left), [0xB0 0x23] read multiple blocks (each block's bytes reversed,
    as a FEIG reader sends them), [0xB0 0x24] write multiple blocks (each
    block received MSB first, stored reversed), [0xB0 0x27] write AFI,
    [0xB0 0x2B] get system information

Only tags in the field of the antenna whose RF is on answer (a tag's
ant=1,2 says which antennas read it; default 1, the antenna a reader
switches on at power-up); with RF off nothing answers.

on one of
    --pty-fd N       the master side of a pty the caller opened (inherited)
    --pty            a pty of its own; prints "PTY /dev/pts/N"
    --tcp PORT       127.0.0.1:PORT (0 = any; prints "TCP <port>")

and takes orders from --control FILE, a file the test appends lines to:

    add UID [dsfid=HH] [afi=HH] [eas=0|1] [bs=N] [mem=HEX] [ant=N,M]
                        a tag enters the field (of antennas N, M; default 1)
    remove UID                                               it leaves
    fault KIND [N]      the next N answers (default 1) are spoiled:
                        silent, badcrc, truncated, garbage, rf_error (0x83),
                        afi_ignored (write AFI says OK, changes nothing),
                        write_error (write AFI / blocks answer 0x03),
                        write_ignored (write blocks says OK, changes nothing),
                        cfg_refused (write configuration answers 0x82)
    maxsets N           data sets per inventory answer
    unplug MS           close the connection / refuse it for MS ms (TCP)

After every change it writes the field to --state FILE, one line per tag:
"UID afi=HH dsfid=HH eas=N mem=HEX" (memory in tag order), then one line of
decimal counters "requests=N rf_resets=N rf_output=N cfg4_mode=N
cfg4_afi=N eeprom_writes=N antenna_switches=N faults_taken=N" (faults_taken:
spoiled answers so far; cfg4_*: CFG4's ISO15693-MODE and ISO15693-AFI).
"""
import argparse
import sys
import time

import emulator_io


def crc16(data):
    """CRC-16 as in H20800 §3.3: poly 0x8408, preset 0xFFFF, LSB first."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            if crc & 1:
                crc = (crc >> 1) ^ 0x8408
            else:
                crc >>= 1
    return crc


def make_frame(addr, cmd, status, data=b""):
    body = bytes([addr, cmd, status]) + bytes(data)
    if len(body) + 3 <= 255:
        frame = bytes([len(body) + 3]) + body
    else:
        alen = len(body) + 5
        frame = bytes([0x02, alen >> 8, alen & 0xFF]) + body
    c = crc16(frame)
    return frame + bytes([c & 0xFF, c >> 8])


class Tag:
    def __init__(self, uid, dsfid=0, afi=0, eas=0, block_size=4, memory=b"", antennas=(1,)):
        self.uid = uid
        self.antennas = tuple(antennas)
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


class Reader:
    def __init__(self, state_path, max_sets):
        self.tags = {}          # UID bytes -> Tag, in arrival order
        self.faults = []        # kinds, one per coming answer
        self.max_sets = max_sets
        self.pending = []       # inventory data sets not yet sent (MORE)
        self.state_path = state_path
        self.requests = 0
        self.rf_resets = 0
        self.faults_taken = 0
        self.unplug_until = 0.0
        self.rf_output = 1      # ANT_OUT: antenna 1 on at power-up
        self.antenna_switches = 0
        # H20800 §4.5 CFG4 defaults: ISO15693-MODE 0x09, BLOCKSIZE 0x04
        self.cfg4 = bytearray([0, 0, 0, 0, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0x04])
        self.eeprom_writes = 0

    def save_state(self):
        if not self.state_path:
            return
        lines = ["%s afi=%02X dsfid=%02X eas=%d mem=%s" % (
            t.uid.hex().upper(), t.afi, t.dsfid, t.eas, t.memory.hex().upper())
            for t in self.tags.values()]
        lines.append("requests=%d rf_resets=%d rf_output=%d cfg4_mode=%d cfg4_afi=%d "
                     "eeprom_writes=%d antenna_switches=%d faults_taken=%d" % (
                         self.requests, self.rf_resets, self.rf_output, self.cfg4[4],
                         self.cfg4[5], self.eeprom_writes, self.antenna_switches,
                         self.faults_taken))
        emulator_io.write_state(self.state_path, lines)

    def control(self, line):
        try:
            self.control_line(line)
        except (ValueError, IndexError) as e:
            print("feig_emulator: bad control line %r: %s" % (line, e), file=sys.stderr)

    def control_line(self, line):
        words = line.split()
        if not words:
            return
        verb, args = words[0], words[1:]
        if verb == "add":
            opts = dict(a.split("=", 1) for a in args[1:])
            tag = Tag(bytes.fromhex(args[0]), int(opts.get("dsfid", "0"), 16),
                      int(opts.get("afi", "0"), 16), int(opts.get("eas", "0")),
                      int(opts.get("bs", "4")), bytes.fromhex(opts.get("mem", "")),
                      [int(a) for a in opts.get("ant", "1").split(",")])
            self.tags[tag.uid] = tag
        elif verb == "remove":
            self.tags.pop(bytes.fromhex(args[0]), None)
        elif verb == "fault":
            self.faults += [args[0]] * (int(args[1]) if len(args) > 1 else 1)
        elif verb == "maxsets":
            self.max_sets = int(args[0])
        elif verb == "unplug":
            self.unplug_until = time.monotonic() + int(args[0]) / 1000.0
        else:
            print("feig_emulator: unknown control line %r" % line, file=sys.stderr)
        self.save_state()

    def handle(self, addr, cmd, data):
        """One request -> the answer's (status, data); None = no answer."""
        self.requests += 1
        if cmd == 0x69:
            self.rf_resets += 1
            self.pending = []
            return 0x00, b""
        if cmd == 0x6A:
            if len(data) != 1:
                return 0x81, b""
            if data[0] > 2:
                return 0x11, b""  # parameter range error: ANT_OUT b11
            if data[0] != self.rf_output:
                self.antenna_switches += 1
            self.rf_output = data[0]
            self.pending = []
            return 0x00, b""
        if cmd == 0x80:
            if len(data) != 1:
                return 0x81, b""
            return 0x00, bytes(self.cfg4) if data[0] & 0x7F == 4 else bytes(14)
        if cmd == 0x81:
            if len(data) != 15:
                return 0x81, b""
            if self.take_fault("cfg_refused"):
                return 0x82, b""
            if data[0] & 0x80:
                self.eeprom_writes += 1
            if data[0] & 0x7F == 4:
                self.cfg4 = bytearray(data[1:])
            return 0x00, b""
        if cmd != 0xB0 or not data:
            return 0x80, b""
        sub, rest = data[0], data[1:]
        if sub == 0x01:
            mode = rest[0] if rest else 0
            if not mode & 0x80:
                self.pending = [bytes([0x03, t.dsfid]) + t.uid for t in self.in_field()
                                if self.afi_selects(t)]
            if not self.pending:
                return 0x01, b""
            now, self.pending = self.pending[:self.max_sets], self.pending[self.max_sets:]
            return (0x94 if self.pending else 0x00), bytes([len(now)]) + b"".join(now)
        if len(rest) < 9 or rest[0] & 0x07 != 0x01:
            return 0x81, b""  # we only implement addressed mode
        tag = self.tags.get(bytes(rest[1:9]))
        if tag is None or tag not in self.in_field():
            return 0x01, b""
        if sub == 0x23 and len(rest) == 11:
            first, count = rest[9], rest[10]
            if first + count > tag.blocks:
                return 0x95, b"\x10"  # ISO error: block not available
            out = bytes([count, tag.block_size])
            for b in range(first, first + count):
                block = tag.memory[b * tag.block_size:(b + 1) * tag.block_size]
                out += b"\x00" + bytes(reversed(block))  # FEIG: MSB first
            return 0x00, out
        if sub == 0x24 and len(rest) >= 12:
            first, count, size = rest[9], rest[10], rest[11]
            blocks = rest[12:]
            if size != tag.block_size or len(blocks) != count * size:
                return 0x81, b""
            if first + count > tag.blocks:
                return 0x95, bytes([0x10, first])  # ISO error, DB_ADR-E
            if self.take_fault("write_error"):
                return 0x03, bytes([first])
            if not self.take_fault("write_ignored"):
                for i in range(count):
                    block = blocks[i * size:(i + 1) * size]
                    b = first + i
                    tag.memory[b * size:(b + 1) * size] = bytes(reversed(block))
                self.save_state()
            return 0x00, b""
        if sub == 0x27 and len(rest) == 10:
            if self.take_fault("write_error"):
                return 0x03, b""
            if not self.take_fault("afi_ignored"):
                tag.afi = rest[9]
                self.save_state()
            return 0x00, b""
        if sub == 0x2B and len(rest) == 9:
            mem = bytes([(tag.block_size - 1) & 0x1F, tag.blocks - 1])
            return 0x00, bytes([tag.dsfid]) + tag.uid + bytes([tag.afi]) + mem + b"\x01"
        return 0x81, b""

    def in_field(self):
        """The tags the RF field of the switched-on antenna reaches."""
        return [t for t in self.tags.values() if self.rf_output in t.antennas]

    def afi_selects(self, tag):
        """CFG4 AFI filter, matched as ISO 15693-3 does: 0x00 selects
        every tag, X0 every subfamily of family X, anything else itself."""
        if not self.cfg4[4] & 0x20:
            return True
        want = self.cfg4[5]
        if want == 0:
            return True
        if want & 0x0F == 0:
            return tag.afi >> 4 == want >> 4
        return tag.afi == want

    def take_fault(self, kind):
        if self.faults and self.faults[0] == kind:
            self.faults.pop(0)
            self.faults_taken += 1
            return True
        return False

    def answer(self, addr, cmd, data):
        """The bytes to send back, with the next transport fault applied."""
        result = self.handle(addr, cmd, data)
        if self.take_fault("rf_error"):
            result = (0x83, b"")
        frame = make_frame(addr, cmd, *result)
        for kind in ("silent", "badcrc", "truncated", "garbage"):
            if self.take_fault(kind):
                if kind == "silent":
                    return b""
                if kind == "badcrc":
                    return frame[:-1] + bytes([frame[-1] ^ 0x5A])
                if kind == "truncated":
                    return frame[:len(frame) // 2]
                return bytes([0x13, 0x37, 0xFE, 0x00, 0x42, 0x99, 0x11])
        return frame


class Stream:
    """Frames in from a byte stream; a real reader ignores what does not check."""

    def __init__(self):
        self.buf = b""

    def feed(self, data):
        self.buf += data
        frames = []
        while self.buf:
            if self.buf[0] == 0x02:
                if len(self.buf) < 3:
                    break
                n = self.buf[1] << 8 | self.buf[2]
                head = 3
            else:
                n, head = self.buf[0], 1
            if n < head + 4:
                self.buf = self.buf[1:]
                continue
            if len(self.buf) < n:
                break
            frame, self.buf = self.buf[:n], self.buf[n:]
            if crc16(frame[:-2]) != (frame[-2] | frame[-1] << 8):
                continue
            frames.append((frame[head], frame[head + 1], frame[head + 2:-2]))
        return frames


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    emulator_io.add_arguments(ap)
    ap.add_argument("--max-sets", type=int, default=3)
    args = ap.parse_args()

    reader = Reader(args.state, args.max_sets)
    return emulator_io.serve(ap, args, reader, Stream,
                             lambda request: reader.answer(*request),
                             exit_own_pty_on_unplug=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)

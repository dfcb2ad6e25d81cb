#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A reader speaking the template plugin's line protocol, for tests.

Written from the protocol described at the top of plugins/example/example.c,
not from its code.  The reader pushes its field as lines

    UID MEMORY afi=HH eas=N     a tag entered the field (MEMORY in hex)
    -UID                        it left

and answers the host's requests, one line each:

    afi UID HH   ->  =ok | !reason       write the AFI
    eas UID 0|1  ->  =ok | !reason       set the EAS bit
    read UID     ->  =UID afi=HH eas=N | !no such tag

on one of
    --pty-fd N       the master side of a pty the caller opened (inherited)
    --tcp PORT       127.0.0.1:PORT (0 = any; prints "TCP <port>"); the
                     whole field is sent to each new connection

and takes orders from --control FILE (appended lines), as feig_emulator.py:

    add UID [dsfid=HH] [afi=HH] [eas=0|1] [bs=N] [mem=HEX]   a tag enters
    remove UID                                               it leaves
    fault KIND [N]   afi_ignored / eas_ignored (the next write answers =ok
                     and changes nothing), write_error (it answers
                     !write error), garbage (N lines of junk sent now)
    unplug MS        TCP: drop the connection and refuse new ones for MS ms

After every change it writes the field to --state FILE, one line per tag,
"UID afi=HH dsfid=HH eas=N", then "requests=N faults_taken=N".
"""
import argparse
import sys
import time

import emulator_io

GARBAGE = b"\x13\x37\xfe\x00 not a tag \xff\xff\n"


class Tag:
    def __init__(self, uid, dsfid=0, afi=0, eas=0, memory=b""):
        self.uid, self.dsfid, self.afi, self.eas, self.memory = uid, dsfid, afi, eas, memory

    def line(self):
        mem = " " + self.memory.hex().upper() if self.memory else ""
        return "%s%s afi=%02X eas=%d\n" % (self.uid, mem, self.afi, self.eas)


class Reader:
    def __init__(self, state_path):
        self.tags = {}          # UID (upper-case hex) -> Tag, in arrival order
        self.faults = []
        self.state_path = state_path
        self.requests = 0
        self.faults_taken = 0
        self.unplug_until = 0.0
        self.out = []           # lines to send (bytes)

    def save_state(self):
        if not self.state_path:
            return
        lines = ["%s afi=%02X dsfid=%02X eas=%d" % (t.uid, t.afi, t.dsfid, t.eas)
                 for t in self.tags.values()]
        lines.append("requests=%d faults_taken=%d" % (self.requests, self.faults_taken))
        emulator_io.write_state(self.state_path, lines)

    def control(self, line):
        words = line.split()
        if not words:
            return
        verb, args = words[0], words[1:]
        if verb == "add":
            opts = dict(a.split("=", 1) for a in args[1:])
            tag = Tag(args[0].upper(), int(opts.get("dsfid", "0"), 16),
                      int(opts.get("afi", "0"), 16), int(opts.get("eas", "0")),
                      bytes.fromhex(opts.get("mem", "")))
            self.tags[tag.uid] = tag
            self.out.append(tag.line().encode())
        elif verb == "remove":
            if self.tags.pop(args[0].upper(), None):
                self.out.append(("-%s\n" % args[0].upper()).encode())
        elif verb == "fault":
            n = int(args[1]) if len(args) > 1 else 1
            if args[0] == "garbage":
                self.out += [GARBAGE] * n
                self.faults_taken += n
            else:
                self.faults += [args[0]] * n
        elif verb == "unplug":
            self.unplug_until = time.monotonic() + int(args[0]) / 1000.0
        else:
            print("example_emulator: unknown control line %r" % line, file=sys.stderr)
        self.save_state()

    def take_fault(self, kind):
        if self.faults and self.faults[0] == kind:
            self.faults.pop(0)
            self.faults_taken += 1
            return True
        return False

    def request(self, line):
        """One request line -> its answer line."""
        self.requests += 1
        words = line.split()
        tag = self.tags.get(words[1].upper()) if len(words) >= 2 else None
        if not words or words[0] not in ("afi", "eas", "read") or \
                len(words) != (2 if words[0] == "read" else 3):
            return "!bad request\n"
        if tag is None:
            return "!no such tag\n"
        if words[0] == "read":
            return "=%s afi=%02X eas=%d\n" % (tag.uid, tag.afi, tag.eas)
        if self.take_fault("write_error"):
            return "!write error\n"
        if not self.take_fault(words[0] + "_ignored"):
            if words[0] == "afi":
                tag.afi = int(words[2], 16)
            else:
                tag.eas = 1 if words[2] == "1" else 0
        self.save_state()
        return "=ok\n"


class Lines:
    """Request lines in from a byte stream."""

    def __init__(self):
        self.buf = b""

    def feed(self, data):
        self.buf += data
        lines = []
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            lines.append(line.decode("ascii", "replace").strip())
        return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    emulator_io.add_arguments(ap, own_pty=False)
    args = ap.parse_args()

    reader = Reader(args.state)

    def push():
        # Lines for a TCP peer that is not there are lost, as on a real
        # reader; a new connection gets the whole field instead.
        out, reader.out = b"".join(reader.out), []
        return out

    return emulator_io.serve(ap, args, reader, Lines,
                             lambda line: reader.request(line).encode(), read_size=4096,
                             push=push,
                             greeting=lambda: b"".join(t.line().encode()
                                                       for t in reader.tags.values()))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)

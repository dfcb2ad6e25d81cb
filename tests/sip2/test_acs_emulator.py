#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The ACS emulator checks itself against the spec's vectors before it is
trusted to check lib/sip2: login, status, a checkin story, and each fault."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from acs_harness import ACS  # noqa: E402


def cks_ok(frame: bytes) -> bool:
    return (sum(frame[:-4]) + int(frame[-4:], 16)) & 0xFFFF == 0


class Client:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""

    def ask(self, raw: bytes) -> bytes:
        self.s.sendall(raw)
        return self.read()

    def read(self) -> bytes:
        while b"\r" not in self.buf:
            c = self.s.recv(4096)
            if not c:
                raise EOFError
            self.buf += c
        frame, self.buf = self.buf.split(b"\r", 1)
        return frame


def main():
    acs = ACS()
    try:
        c = Client(acs.port)
        # SIP2 2.00 p.29 vector (EC7B; the printed EC78 is wrong)
        assert c.ask(b"9300CNLoginUserID|COLoginPassword|CPLocationCode|AY5AZEC7B\r") \
            == b"940AY5AZFDF9", "bad login is refused"
        assert c.ask(b"9300CNcircd|COs3cret|CPdrop|AY1AZF9D6\r")[:3] in (b"941", b"96A")
        c = Client(acs.port)
        r = c.ask(b"9300CNcircd|COs3cret|CPdrop|AY0AZ" +
                  ("%04X" % (-sum(b"9300CNcircd|COs3cret|CPdrop|AY0AZ") & 0xFFFF)).encode() + b"\r")
        assert r == b"941AY0AZFDFD", r
        r = c.ask(b"990 402.00AY1AZFCB4\r")
        assert r.startswith(b"98YYYYNY050003") and cks_ok(r), r
        assert b"AOmain|" in r and b"BXYYYYYYYYYYYYYYYY|" in r and b"AY1AZ" in r
        # bad checksum -> 96 without AY
        assert c.ask(b"990 402.00AY1AZFCB5\r") == b"96AZFEF6"
        # no AY/AZ -> none back
        r = c.ask(b"09N20261128    12000020261128    120000APdrop|AOmain|AB1001|AC|\r")
        assert r.startswith(b"101YNN") and b"AZ" not in r and b"CLB1|" in r and b"AAp1|" in r, r
        r = c.ask(b"09N20261128    12000020261128    120000APdrop|AOmain|AB1002|AC|\r")
        assert b"CV01|" in r and b"CYp3|" in r and r[5:6] == b"Y", r
        r = c.ask(b"09N20261128    12000020261128    120000APdrop|AOmain|AB1003|AC|\r")
        assert b"CV04|" in r and b"CTnorth|" in r, r
        r = c.ask(b"09N20261128    12000020261128    120000APdrop|AOmain|AB1006|AC|\r")
        assert b"CV02|" in r and b"CTnorth|" in r, r
        r = c.ask(b"09N20261128    12000020261128    120000APdrop|AOmain|ABnope|AC|\r")
        assert r.startswith(b"100"), r
        r = c.ask(b"1720261128    120000AOmain|AB1001|\r")
        assert r.startswith(b"1809"), r
        r = c.ask(b"11NN20261128    120000                  AOmain|AAp1|AB1004|AC|\r")
        assert r.startswith(b"121YNY") and b"AH" in r, r
        r = c.ask(b"29NN20261128    120000                  AOmain|AAp1|AB1004|AC|\r")
        assert r.startswith(b"301"), r
        r = c.ask(b"11NN20261128    120000                  AOmain|AAp3|AB1005|AC|\r")
        assert r.startswith(b"120"), r
        # 97 repeats the last answer
        assert c.ask(b"97AZFEF5\r") == r
        assert len([m for m in acs.messages("09") if m["fields"]["AB"] == ["1001"]]) == 1

        # faults, switched on at run time through the control file
        acs.set_faults({"corrupt_checksum": 1})
        r = c.ask(b"990 402.00AY2AZFCB3\r")
        assert not cks_ok(r), r
        r = c.ask(b"97AZFEF5\r")  # the resend repeats the corrupted bytes
        acs.set_faults({"resend_96": 1})
        assert c.ask(b"990 402.00AY3AZFCB2\r") == b"96AZFEF6"
        acs.set_faults({"garbage": 1})
        assert b"garbage" in c.ask(b"990 402.00AY4AZFCB1\r")
        acs.set_faults({"ok0_items": ["1004"]})
        r = c.ask(b"09N20261128    12000020261128    120000APdrop|AOmain|AB1004|AC|\r")
        assert r.startswith(b"100"), r
        acs.set_faults({"delay_ms": 300})
        t = time.time()
        c.ask(b"990 402.00AY5AZFCB0\r")
        assert time.time() - t >= 0.29
        acs.set_faults({"close_mid_response": 1})
        c.s.sendall(b"990 402.00AY6AZFCAF\r")
        try:
            c.read()
            assert False, "expected the connection to close"
        except EOFError:
            pass
        acs.set_faults({"hang": True})
        c = Client(acs.port)
        c.s.settimeout(0.3)
        try:
            c.ask(b"990 402.00AY1AZFCB4\r")
            assert False, "hang answered"
        except socket.timeout:
            pass
        acs.set_faults({"refuse_connections": True})
        try:
            c = Client(acs.port)
            c.ask(b"990 402.00AY1AZFCB4\r")
            assert False, "refused connection answered"
        except (EOFError, ConnectionResetError, BrokenPipeError):
            pass
        # login required: anything but 93/99 before login drops the session
        acs.set_faults({})
        c = Client(acs.port)
        try:
            c.ask(b"1720261128    120000AOmain|AB1001|\r")
            assert False, "answered before login"
        except (EOFError, ConnectionResetError):
            pass
    finally:
        acs.stop()

    # charset: CP850 on the wire, checksum over those bytes
    acs = ACS("--charset", "cp850", "--no-login")
    try:
        c = Client(acs.port)
        r = c.ask(b"1720261128    120000AOmain|AB1005|AY0AZ" +
                  ("%04X" % (-sum(b"1720261128    120000AOmain|AB1005|AY0AZ") & 0xFFFF)).encode()
                  + b"\r")
        assert b"AJc\xa0liz|" in r and cks_ok(r), r
    finally:
        acs.stop()
    print("ok")


if __name__ == "__main__":
    main()

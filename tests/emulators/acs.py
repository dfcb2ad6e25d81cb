#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""ACS emulator: a SIP2 server for circd's tests.

Written from the SIP2 2.00 spec, independently of lib/sip2 (it must not
share the codec it checks).  State (items, patrons, holds, transits, sort
bin rules) comes from a JSON fixture; behaviour and faults from options and
from an optional control file that is re-read whenever it changes, so a
test can switch faults on and off while the emulator runs.

Every message received is appended to --log as one JSON object per line:
{"conn": n, "raw": "...", "id": "09", "fields": {"AB": ["x"]}, "checksum": "ok|bad|none"}

Faults (JSON object; counts are "times", -1 = always, 0 = off):
  refuse_connections: bool    accept and reset at once
  hang: bool                  accept, read, never answer
  close_mid_response: n       send half a response, then close
  delay_ms: n                 wait before each answer
  corrupt_checksum: n         answer with a wrong AZ
  garbage: n                  answer with garbage bytes (and a CR)
  resend_96: n                answer 96 instead of processing
  ok0_items: [ids]            09/11/29 for these items get ok=0
  refuse_login: bool          94 with ok=0
  offline: bool               98 says online N / timeout 000

Patrons (fixture "patrons": id -> object): name; password (the PIN: a 63
with AD answers CQ Y/N); blocked: true or a message (status all Y, AF the
message; 11/29 refused); charge_denied: a message (only "charge privileges
denied" set: renewals still allowed, 11 refused); card_lost: true; fee: an
amount ("12.50", BV with BH currency "USD"; counted as one fine item).
Items: not_for_loan: true (11 refused "Item not for loan"); a hold for
another patron ("holds", or hold_for after a checkin put it on the hold
shelf) refuses 11 with "Item on hold for another patron".
"""
import argparse
import json
import os
import socket
import ssl
import sys
import threading
import time

BLANK_DATE = " " * 18


def checksum(data: bytes) -> str:
    # SIP2 2.00 error detection: negated 16-bit byte sum, 4 upper hex digits
    return "%04X" % ((-sum(data)) & 0xFFFF)


def sip_date(t=None):
    return time.strftime("%Y%m%d    %H%M%S", time.localtime(t))


# Fixed-part length of each request we understand (SC -> ACS).
REQ_FIXED = {"93": 2, "99": 8, "09": 37, "11": 38, "17": 18, "19": 18,
             "23": 21, "29": 38, "35": 18, "63": 31, "97": 0, "96": 0}


class State:
    def __init__(self, fixture):
        self.lock = threading.Lock()
        self.institution = fixture.get("institution", "main")
        self.library = fixture.get("library_name", "Emulated Library")
        self.login = fixture.get("login", {"user": "sc", "password": "secret"})
        self.items = fixture.get("items", {})
        self.patrons = fixture.get("patrons", {})
        self.holds = fixture.get("holds", [])        # {item, patron, pickup}
        self.transits = fixture.get("transits", {})  # item -> destination
        self.sort_rules = fixture.get("sort_rules", [])
        self.supported = fixture.get("supported", "YYYYYYYYYYYYYYYY")
        self.timeout = fixture.get("timeout_period", "050")
        self.retries = fixture.get("retries_allowed", "003")
        self.offline_ok = fixture.get("offline_ok", "Y")


class Faults:
    def __init__(self, initial, control_file):
        self.data = dict(initial)
        self.control_file = control_file
        self.mtime = None
        self.lock = threading.Lock()

    def refresh(self):
        if not self.control_file:
            return
        try:
            st = os.stat(self.control_file)
        except FileNotFoundError:
            return
        if st.st_mtime_ns != self.mtime:
            with open(self.control_file) as f:
                try:
                    new = json.load(f)
                except ValueError:
                    return
            with self.lock:
                self.mtime = st.st_mtime_ns
                self.data = new

    def get(self, key, default=None):
        self.refresh()
        with self.lock:
            return self.data.get(key, default)

    def take(self, key):
        """Use one shot of a counted fault; True if it applies now."""
        self.refresh()
        with self.lock:
            n = self.data.get(key, 0)
            if n is True or n == -1:
                return True
            if isinstance(n, int) and n > 0:
                self.data[key] = n - 1
                return True
            return False


def parse_request(text):
    """-> (id, fixed, fields dict of lists, seq or None, has_az)."""
    mid = text[:2]
    seq = None
    has_az = False
    body = text
    if len(body) >= 6 and body[-6:-4] == "AZ":
        has_az = True
        body = body[:-6]
        if len(body) >= 3 and body[-3:-1] == "AY" and body[-1].isdigit():
            seq = body[-1]
            body = body[:-3]
    n = REQ_FIXED.get(mid, 0)
    fixed = body[2:2 + n]
    fields = {}
    for part in body[2 + n:].split("|"):
        if len(part) >= 2:
            fields.setdefault(part[:2], []).append(part[2:])
    return mid, fixed, fields, seq, has_az


class Conn(threading.Thread):
    def __init__(self, server, sock, n):
        super().__init__(daemon=True)
        self.server, self.sock, self.n = server, sock, n
        self.logged_in = not server.args.login_required
        self.last = None

    def log(self, raw, mid, fields, state):
        rec = {"conn": self.n, "t": time.time(), "raw": raw, "id": mid,
               "fields": fields, "checksum": state}
        with self.server.log_lock:
            if self.server.log:
                self.server.log.write(json.dumps(rec) + "\n")
                self.server.log.flush()

    def log_answer(self, mid):
        """Record an answer that means "not processed" (a 96), as
        {"conn", "t", "answer": mid}: no "id", so counts of received
        messages are unchanged."""
        with self.server.log_lock:
            if self.server.log:
                self.server.log.write(json.dumps({"conn": self.n, "t": time.time(),
                                                  "answer": mid}) + "\n")
                self.server.log.flush()

    def damage(self, data: bytes) -> bytes:
        """corrupt_checksum: spoil the AZ of an answer that has one."""
        if len(data) >= 7 and data[-7:-5] == b"AZ" and \
                self.server.faults.take("corrupt_checksum"):
            bad = (int(data[-5:-1], 16) + 1) & 0xFFFF
            data = data[:-5] + ("%04X" % bad).encode() + b"\r"
        return data

    def send(self, data: bytes):
        self.sock.sendall(data)

    def run(self):
        try:
            self.loop()
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                self.sock.close()
            except OSError:
                pass

    def loop(self):
        buf = b""
        f = self.server.faults
        while True:
            chunk = self.sock.recv(4096)
            if not chunk:
                return
            buf += chunk
            while True:
                i = min([k for k in (buf.find(b"\r"), buf.find(b"\n")) if k >= 0], default=-1)
                if i < 0:
                    break
                frame, buf = buf[:i], buf[i + 1:]
                if not frame:
                    continue
                if not self.handle(frame, f):
                    return

    def handle(self, frame, f):
        cs = self.server.args.charset
        raw = frame.decode(cs, errors="replace")
        state = "none"
        if len(frame) >= 6 and frame[-6:-4] == b"AZ":
            try:
                ok = (sum(frame[:-4]) + int(frame[-4:], 16)) & 0xFFFF == 0
            except ValueError:
                ok = False
            state = "ok" if ok else "bad"
        mid, fixed, fields, seq, has_az = parse_request(raw)
        self.log(raw, mid, fields, state)
        if f.get("hang"):
            return True
        if state == "bad":
            # SIP2 2.00: a bad checksum asks the SC to resend (no AY)
            self.send(b"96AZFEF6\r")
            self.log_answer("96")
            return True
        if mid == "97":
            if self.last is not None:
                self.send(self.damage(self.last))
            return True
        if f.take("resend_96"):
            self.send(b"96AZFEF6\r")
            self.log_answer("96")  # tests must know this one was not processed
            return True
        if not self.logged_in and mid not in ("93", "99"):
            return False  # OpenNCIP servers drop an unauthenticated session
        with self.server.state.lock:
            resp = self.respond(mid, fixed, fields)
        if resp is None:
            return True
        ed = self.server.args.error_detection and has_az
        data = resp.encode(cs, errors="replace")
        if ed:
            data += b"AY" + (seq or "0").encode() + b"AZ"
            data += checksum(data).encode()
        data += b"\r"
        # a 97 repeats the answer as the ACS made it: the corruption below
        # stands for damage in transit
        self.last = data
        data = self.damage(data)
        d = f.get("delay_ms", 0)
        if d:
            time.sleep(d / 1000.0)
        if f.take("garbage"):
            self.send(b"\x00\xff#garbage \xfe\r")
            return True
        if f.take("close_mid_response"):
            self.send(data[: len(data) // 2])
            return False
        self.send(data)
        return True

    # ---- message handlers (state lock held) ----

    def respond(self, mid, fixed, fields):
        st = self.server.state
        g = lambda k, d="": fields.get(k, [d])[0]
        now = sip_date()
        if mid == "93":
            ok = (g("CN") == st.login["user"] and g("CO") == st.login["password"]
                  and not self.server.faults.get("refuse_login"))
            self.logged_in = ok
            return "94" + ("1" if ok else "0")
        if mid == "99":
            off = self.server.faults.get("offline")
            return ("98" + ("N" if off else "Y") + "YYYN" + st.offline_ok +
                    ("000" if off else st.timeout) + st.retries + now + "2.00" +
                    "AO%s|AM%s|BX%s|" % (st.institution, st.library, st.supported))
        if mid == "09":
            return self.checkin(g("AB"), g("AP"), g("AO"))
        if mid == "11":
            return self.checkout(g("AA"), g("AB"), "12")
        if mid == "29":
            return self.checkout(g("AA"), g("AB"), "30", renew=True)
        if mid == "17":
            it = st.items.get(g("AB"))
            if it is None:
                return "18010001" + now + "AB%s|AJ|AFUnknown item|" % g("AB")
            r = "18" + it.get("status", "03") + "0001" + now
            r += "AB%s|AJ%s|AQ%s|" % (g("AB"), it.get("title", ""), it.get("location", ""))
            if it.get("patron"):
                r += "AH%s|" % it.get("due", "")
            # CS/CK as Koha and Evergreen add them to 18 (CS is a 3M extension)
            for k, fid in (("call_number", "CS"), ("media", "CK")):
                if it.get(k):
                    r += "%s%s|" % (fid, it[k])
            return r
        if mid == "19":
            return "201" + now + "AB%s|" % g("AB")
        if mid in ("23", "63"):
            p = st.patrons.get(g("AA"))
            status = self.patron_status(p)
            valid = "N" if p is None else "Y"
            name = p.get("name", "") if p else ""
            if mid == "23":
                return "24" + status + "001" + now + "AO%s|AA%s|AE%s|BL%s|" % (
                    st.institution, g("AA"), name, valid)
            loans = [i for i, it in st.items.items() if p and it.get("patron") == g("AA")]
            fee = p.get("fee") if p else None
            r = "64" + status + "001" + now + "0000" + "0000" + "%04d" % len(loans)
            r += ("0001" if fee else "0000") + "0000" * 2
            r += "AO%s|AA%s|AE%s|BL%s|" % (st.institution, g("AA"), name, valid)
            if "AD" in fields and p is not None:
                pin_ok = p.get("password") in (None, g("AD"))
                r += "CQ%s|" % ("Y" if pin_ok else "N")
            if fee:
                r += "BHUSD|BV%s|" % fee
            for i in loans:
                r += "AU%s|" % i
            msg = self.patron_block_message(p)
            if msg:
                r += "AF%s|" % msg
            return r
        if mid == "35":
            return "36Y" + now + "AO%s|AA%s|" % (st.institution, g("AA"))
        return None  # unsupported: no answer (the SC times out)

    @staticmethod
    def patron_status(p):
        """SIP2 2.00 patron status: 14 flags, Y or blank."""
        if p is None or p.get("blocked"):
            return "Y" * 14
        flags = [" "] * 14
        if p.get("charge_denied"):
            flags[0] = "Y"
        if p.get("card_lost"):
            flags[4] = "Y"
        return "".join(flags)

    @staticmethod
    def patron_block_message(p):
        if p is None:
            return None
        b = p.get("blocked") or p.get("charge_denied")
        if b is True:
            return "Patron blocked"
        return b or None

    def sort_bin(self, it):
        for rule in self.server.state.sort_rules:
            v = it.get(rule["field"], "")
            if (rule.get("op", "eq") == "eq" and v == rule["value"]) or \
               (rule.get("op") == "ne" and v != rule["value"]):
                return rule["bin"]
        return None

    def checkin(self, item, location, inst):
        st = self.server.state
        now = sip_date()
        it = st.items.get(item)
        if it is None or item in (self.server.faults.get("ok0_items") or []):
            return "100NUN" + now + "AO%s|AB%s|AQ|AFItem cannot be checked in|" % (inst, item)
        r = "101Y" + ("Y" if it.get("magnetic") else "N")
        extra = ""
        alert = "N"
        prev = it.pop("patron", None)
        it.pop("due", None)
        hold = next((h for h in st.holds if h["item"] == item), None)
        home = it.get("home", st.institution)
        if hold:
            alert = "Y"
            if hold.get("pickup", location) in (location, inst):
                it["status"] = "08"
                it["hold_for"] = hold["patron"]
                extra += "CV01|CY%s|DA%s|" % (hold["patron"],
                                             st.patrons.get(hold["patron"], {}).get("name", ""))
            else:
                it["status"] = "10"
                extra += "CV02|CT%s|CY%s|" % (hold["pickup"], hold["patron"])
            st.holds.remove(hold)
        elif item in st.transits or home not in (location, inst):
            alert = "Y"
            it["status"] = "10"
            extra += "CV04|CT%s|" % st.transits.pop(item, home)
        else:
            it["status"] = "09"
        r += alert + now + "AO%s|AB%s|AQ%s|AJ%s|" % (inst, item, it.get("location", ""),
                                                     it.get("title", ""))
        for k, fid in (("call_number", "CS"), ("collection", "CR"), ("media", "CK")):
            if it.get(k):
                r += "%s%s|" % (fid, it[k])
        b = self.sort_bin(it)
        if b:
            r += "CL%s|" % b
        for line in it.get("print_lines", []):  # AG, for the return receipt
            r += "AG%s|" % line
        if prev:
            r += "AA%s|" % prev
        return r + extra

    def checkout(self, patron, item, rid, renew=False):
        st = self.server.state
        now = sip_date()
        it = st.items.get(item)
        p = st.patrons.get(patron)
        due = time.strftime("%Y%m%d    235900", time.localtime(time.time() + 14 * 86400))
        fail = None
        if p is None:
            fail = "Invalid patron"
        elif p.get("blocked") or (p.get("charge_denied") and not renew):
            fail = "Patron blocked"
        elif it is None:
            fail = "Invalid item"
        elif item in (self.server.faults.get("ok0_items") or []):
            fail = "Refused"
        elif not renew and it.get("not_for_loan"):
            fail = "Item not for loan"
        elif not renew and (it.get("hold_for") not in (None, patron) or any(
                h["item"] == item and h["patron"] != patron for h in st.holds)):
            fail = "Item on hold for another patron"
        elif renew and it.get("patron") != patron:
            fail = "Item not checked out to you"
        elif not renew and it.get("patron") not in (None, patron):
            fail = "Item checked out to another patron"
        if fail:
            return rid + "0NUN" + now + "AO%s|AA%s|AB%s|AJ|AH|AF%s|" % (
                st.institution, patron, item, fail)
        it["patron"] = patron
        it["status"] = "04"
        it["due"] = due
        it.pop("hold_for", None)
        st.holds = [h for h in st.holds if not (h["item"] == item and h["patron"] == patron)]
        return rid + "1YNY" + now + "AO%s|AA%s|AB%s|AJ%s|AH%s|" % (
            st.institution, patron, item, it.get("title", ""), due)


class Server:
    def __init__(self, args):
        self.args = args
        with open(args.fixture) as f:
            self.state = State(json.load(f))
        self.faults = Faults(json.loads(args.faults) if args.faults else {}, args.control)
        self.log = open(args.log, "a") if args.log else None
        self.log_lock = threading.Lock()
        self.ctx = None
        if args.tls_cert:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(args.tls_cert, args.tls_key)
            if args.tls_client_ca:
                self.ctx.load_verify_locations(args.tls_client_ca)
                self.ctx.verify_mode = ssl.CERT_REQUIRED

    def serve(self):
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.args.port))
        ls.listen(16)
        port = ls.getsockname()[1]
        if self.args.port_file:
            tmp = self.args.port_file + ".tmp"
            with open(tmp, "w") as f:
                f.write("%d\n" % port)
            os.rename(tmp, self.args.port_file)
        n = 0
        while True:
            s, _ = ls.accept()
            n += 1
            if self.faults.get("refuse_connections"):
                # RST rather than FIN: the SC sees a refused connection
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
                s.close()
                continue
            if self.ctx:
                threading.Thread(target=self.tls_accept, args=(s, n), daemon=True).start()
            else:
                Conn(self, s, n).start()

    def tls_accept(self, s, n):
        try:
            s.settimeout(5)
            t = self.ctx.wrap_socket(s, server_side=True)
            t.settimeout(None)
        except (OSError, ssl.SSLError):
            s.close()
            return
        Conn(self, t, n).start()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fixture", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    ap.add_argument("--charset", default="utf-8")
    ap.add_argument("--no-login", dest="login_required", action="store_false")
    ap.add_argument("--no-error-detection", dest="error_detection", action="store_false")
    ap.add_argument("--faults", help="JSON object of faults at start")
    ap.add_argument("--control", help="JSON file of faults, re-read when it changes")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--tls-client-ca", help="require client certificates from this CA")
    args = ap.parse_args()
    try:
        Server(args).serve()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())

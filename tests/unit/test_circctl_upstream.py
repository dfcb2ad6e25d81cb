#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""`circctl upstream test NAME -c CONFIG` against the ACS emulator.

Each test writes a circd.conf naming a sip2 upstream, starts
tests/emulators/acs.py on 127.0.0.1 (or nothing, for a refused connection)
and checks what circctl prints and how it exits: 0 online, 1 offline,
2 cannot run, 3 failed.  No circd runs: the command reads the config
itself.  The password must never appear in anything circctl prints.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

SRC = os.environ.get("top_srcdir", os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "sip2"))
from acs_harness import ACS  # noqa: E402

CIRCCTL = os.environ.get("CIRCCTL_BIN") or os.path.join(
    os.environ.get("top_builddir", "."), "circctl")
PASSWORD = "s3cret"          # acs-basic.json's login
WRONG_PASSWORD = "n0t-it-9x"


def conf_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return json.dumps(v)


class UpstreamTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="circctl-upstream-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.password_file = self.secret("password", PASSWORD)

    def secret(self, name, text, mode=0o600):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text + "\n")
        os.chmod(path, mode)
        return path

    def acs(self, *extra, **kw):
        acs = ACS(*extra, **kw)
        self.addCleanup(acs.stop)
        return acs

    def config(self, port, upstream=None, **options):
        opts = {"name": "ils", "plugin": "sip2", "host": "127.0.0.1", "port": port,
                "login_user": "circd", "password_file": self.password_file,
                "institution": "main", "location_code": "desk1",
                "connect_timeout_ms": 3000, "request_timeout_ms": 2000}
        opts.update(options)
        ups = [opts] + ([upstream] if upstream else [])
        text = ('site = "Probe test";\n'
                'state_directory = %s;\n' % conf_value(self.tmp) +
                "devices = ();\nstations = ();\n"
                "upstreams = (%s);\n" % ", ".join(
                    "{ %s }" % " ".join("%s = %s;" % (k, conf_value(v)) for k, v in u.items())
                    for u in ups))
        path = os.path.join(self.tmp, "circd.conf")
        with open(path, "w") as f:
            f.write(text)
        return path

    def run_test(self, *args, config=None):
        cmd = [CIRCCTL, "upstream", "test"] + list(args)
        if config:
            cmd += ["-c", config]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        for secret in (PASSWORD, WRONG_PASSWORD):
            self.assertNotIn(secret, r.stdout)
            self.assertNotIn(secret, r.stderr)
        return r

    def assertExit(self, r, code):
        self.assertEqual(r.returncode, code, "exit %d\nstdout:\n%s\nstderr:\n%s"
                         % (r.returncode, r.stdout, r.stderr))

    # ---- the ACS answers ----------------------------------------------------

    def test_online(self):
        acs = self.acs()
        r = self.run_test("ils", config=self.config(acs.port))
        self.assertExit(r, 0)
        out = r.stdout
        self.assertEqual(out.splitlines()[0],
                         "Upstream ils (sip2): 127.0.0.1:%d, plain TCP, login as circd" % acs.port)
        for line in ("  connect           ok", "  login             ok",
                     "  online            yes", "  institution       main",
                     "  library name      Main Library", "  timeout period    5.0 s",
                     "  retries allowed   3", "  offline ok        yes",
                     "  protocol version  2.00", "Result: online"):
            self.assertIn(line + "\n", out)
        self.assertRegex(out, r"\n  supports          patron status, checkout, checkin,")
        self.assertIn("item information", out)
        self.assertIn("renew all", out)
        self.assertNotIn("does not support", out)
        self.assertRegex(out, r"\n  round trip        \d+\.\d ms\n")
        # What the ACS saw: a login as our user at our location, a status.
        login = acs.messages("93")
        self.assertEqual(len(login), 1)
        self.assertEqual(login[0]["fields"]["CN"], ["circd"])
        self.assertEqual(login[0]["fields"]["CP"], ["desk1"])
        self.assertEqual(len(acs.messages("99")), 1)
        self.assertEqual(r.stderr, "")

    def test_json(self):
        fixture = os.path.join(self.tmp, "no17.json")
        with open(os.path.join(SRC, "tests", "emulators", "acs-basic.json")) as f:
            data = json.load(f)
        data["supported"] = "YYYYYYYYYYNYYYYY"
        with open(fixture, "w") as f:
            json.dump(data, f)
        acs = self.acs(fixture=fixture)
        r = self.run_test("ils", "--json", config=self.config(acs.port))
        self.assertExit(r, 0)
        o = json.loads(r.stdout)
        self.assertEqual(o["result"], "online")
        self.assertEqual((o["upstream"], o["plugin"], o["host"], o["port"], o["tls"]),
                         ("ils", "sip2", "127.0.0.1", acs.port, False))
        self.assertEqual(o["login_user"], "circd")
        self.assertTrue(o["connected"] and o["logged_in"])
        self.assertNotIn("error", o)
        a = o["acs"]
        self.assertEqual(a["institution"], "main")
        self.assertEqual(a["library_name"], "Main Library")
        self.assertEqual(a["bx"], "YYYYYYYYYYNYYYYY")
        self.assertEqual(a["unsupported_messages"], ["item information"])
        self.assertEqual(len(a["supported_messages"]), 15)
        self.assertEqual((a["timeout_period_ds"], a["retries_allowed"]), (50, 3))
        self.assertTrue(a["online"] and a["offline_ok"])
        self.assertEqual(a["protocol_version"], "2.00")
        self.assertIsInstance(o["rtt_ms"], float)
        # the same, for people: what is missing is said
        r = self.run_test("ils", config=self.config(acs.port))
        self.assertIn("  does not support  item information\n", r.stdout)

    def test_offline(self):
        acs = self.acs(faults={"offline": True})
        r = self.run_test("ils", config=self.config(acs.port))
        self.assertExit(r, 1)
        self.assertIn("  online            NO\n", r.stdout)
        self.assertIn("  timeout period    000 (the ACS is offline)\n", r.stdout)
        self.assertIn("Result: reachable, but the ACS reports itself offline", r.stdout)
        r = self.run_test("ils", "-j", config=self.config(acs.port))
        self.assertExit(r, 1)
        self.assertEqual(json.loads(r.stdout)["result"], "offline")

    # ---- what fails ---------------------------------------------------------

    def test_login_refused(self):
        acs = self.acs()
        self.password_file = self.secret("wrong", WRONG_PASSWORD)
        r = self.run_test("ils", config=self.config(acs.port))
        self.assertExit(r, 3)
        self.assertIn("  connect           ok\n  login             FAILED\n", r.stdout)
        self.assertIn("Failed at login: login-refused: login as circd refused by the ACS",
                      r.stdout)
        self.assertIn("Hint: check login_user, password_file", r.stdout)
        r = self.run_test("ils", "--json", config=self.config(acs.port))
        self.assertExit(r, 3)
        o = json.loads(r.stdout)
        self.assertEqual(o["result"], "failed")
        self.assertEqual((o["error"]["step"], o["error"]["kind"]), ("login", "login-refused"))
        self.assertTrue(o["connected"])
        self.assertFalse(o["logged_in"])

    def test_connection_refused(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()  # nothing listens there now
        r = self.run_test("ils", config=self.config(port))
        self.assertExit(r, 3)
        self.assertIn("  connect           FAILED\n", r.stdout)
        self.assertIn("Failed at connect: connect: cannot connect to 127.0.0.1:%d: "
                      "Connection refused" % port, r.stdout)
        self.assertIn("Hint: check host and port", r.stdout)

    def test_dns(self):
        r = self.run_test("ils", config=self.config(6001, host="no-such-host.invalid"))
        self.assertExit(r, 3)
        self.assertIn("Failed at connect: dns: cannot resolve no-such-host.invalid", r.stdout)

    def test_tls_wrong_ca(self):
        certs = os.path.join(self.tmp, "pki")
        os.mkdir(certs)
        subprocess.run(["sh", os.path.join(SRC, "tests", "sip2", "make-certs.sh"), certs],
                       check=True, timeout=60)
        acs = self.acs("--tls-cert", os.path.join(certs, "server.pem"),
                       "--tls-key", os.path.join(certs, "server.key"))
        good = self.config(acs.port, tls=True, tls_ca_file=os.path.join(certs, "ca.pem"))
        r = self.run_test("ils", config=good)
        self.assertExit(r, 0)
        self.assertIn(":%d, TLS, login as circd\n" % acs.port, r.stdout)
        wrong = self.config(acs.port, tls=True, tls_ca_file=os.path.join(certs, "other-ca.pem"))
        r = self.run_test("ils", config=wrong)
        self.assertExit(r, 3)
        self.assertIn("Failed at connect: tls-verify: TLS certificate not trusted", r.stdout)
        self.assertIn("Hint: check tls_ca_file", r.stdout)
        # a TLS port spoken to in plain TCP: the ACS never answers a 93
        r = self.run_test("ils", config=self.config(acs.port, request_timeout_ms=300,
                                                     max_resends=0))
        self.assertExit(r, 3)

    # ---- what cannot run ----------------------------------------------------

    def test_no_such_upstream(self):
        path = self.config(6001, upstream={"name": "out", "plugin": "jsonl",
                                           "path": os.path.join(self.tmp, "out.jsonl")})
        r = self.run_test("nope", config=path)
        self.assertExit(r, 2)
        self.assertEqual(r.stdout, "")
        self.assertIn("%s has no upstream named 'nope' (it has: ils, out)" % path, r.stderr)
        r = self.run_test("out", config=path)
        self.assertExit(r, 2)
        self.assertIn("upstream 'out' uses plugin 'jsonl'; upstream test only knows sip2",
                      r.stderr)

    def test_bad_config_and_secrets(self):
        r = self.run_test("ils", config=os.path.join(self.tmp, "missing.conf"))
        self.assertExit(r, 2)
        self.assertIn("missing.conf", r.stderr)
        broken = os.path.join(self.tmp, "broken.conf")
        with open(broken, "w") as f:
            f.write("site = ;\n")
        r = self.run_test("ils", config=broken)
        self.assertExit(r, 2)
        self.assertIn("broken.conf", r.stderr)
        # an option the plugin does not have, with its line
        r = self.run_test("ils", config=self.config(6001, colour="blue"))
        self.assertExit(r, 2)
        self.assertIn("unknown option 'colour'", r.stderr)
        # the password file rules are the plugin's
        os.chmod(self.password_file, 0o644)
        r = self.run_test("ils", config=self.config(6001))
        self.assertExit(r, 2)
        self.assertIn("is readable by others (mode 0644): chmod 0400 it", r.stderr)

    def test_usage(self):
        for args in ([], ["frob"], ["test"], ["test", "a", "b"], ["test", "a", "-c", ""]):
            r = subprocess.run([CIRCCTL, "upstream"] + args, capture_output=True, text=True,
                               timeout=10)
            self.assertExit(r, 2)
            self.assertIn("--help", r.stderr)
        r = subprocess.run([CIRCCTL, "upstream", "--help"], capture_output=True, text=True,
                           timeout=10)
        self.assertExit(r, 0)
        self.assertIn("Usage: circctl upstream test NAME", r.stdout)


if __name__ == "__main__":
    if not os.access(CIRCCTL, os.X_OK):
        print("circctl not built at %s" % CIRCCTL, file=sys.stderr)
        sys.exit(99)
    unittest.main(verbosity=2)

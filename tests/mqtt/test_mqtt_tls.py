#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: the fleet broker speaks TLS, with certificates from a CA the test
makes with the openssl CLI (in the temporary directory).

mosquitto listens with TLS twice (one certificate for 127.0.0.1/localhost,
one naming only broker.elsewhere.example, both from the test CA) and once
in plain TCP for the consumer.  One circd, 50 returns, three mqtt upstreams:
  - 'fleet'     tls, tls_ca_file = the test CA: every return arrives;
  - 'wrongca'   trusts a CA that signed nothing here: refused;
  - 'wronghost' the right CA, but the certificate names another host:
                refused (tls_verify_hostname defaults to true).
The refused ones are OFFLINE in status with a reason about certificate
verification, deliver nothing, and keep their backlog.  Skipped without
mosquitto or openssl."""
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mqtt_lib import Broker, Subscriber, free_port  # noqa: E402
from circdtest import Skip, check, log, main, wait_for  # noqa: E402

N = 50


def make_pki(d):
    """ca, other-ca; server (SAN localhost, 127.0.0.1) and elsewhere (SAN
    broker.elsewhere.example), both signed by ca."""
    def run(*argv):
        r = subprocess.run(argv, cwd=d, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        if r.returncode != 0:
            raise Skip("openssl failed: %s" % r.stdout.decode(errors="replace")[-300:])
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    for ca in ("ca", "other-ca"):
        run("openssl", "req", "-x509", *ec, "-days", "2", "-subj", "/CN=circd-test-" + ca,
            "-keyout", ca + ".key", "-out", ca + ".pem")
    for name, san in (("server", "DNS:localhost,IP:127.0.0.1"),
                      ("elsewhere", "DNS:broker.elsewhere.example")):
        run("openssl", "req", *ec, "-subj", "/CN=" + name, "-keyout", name + ".key",
            "-out", name + ".csr")
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write("subjectAltName=%s\nextendedKeyUsage=serverAuth\n" % san)
        run("openssl", "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", name + ".ext", "-out", name + ".pem")
    return {n: os.path.join(d, n) for n in os.listdir(d)}


def story(h):
    if not shutil.which("openssl"):
        raise Skip("no openssl command to make the test CA")
    pki = h.path("pki")
    os.mkdir(pki)
    f = make_pki(pki)
    tls_port, elsewhere_port = free_port(), free_port()
    extra = "".join("listener %d 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\n"
                    % (port, f["ca.pem"], f[cert + ".pem"], f[cert + ".key"])
                    for port, cert in ((tls_port, "server"), (elsewhere_port, "elsewhere")))
    broker = Broker(h, extra_conf=extra)
    broker.start()
    sub = Subscriber(broker.port, "central-consumer", ["circd/#"])
    check(sub.subscribed.wait(5), "the consumer is subscribed (plain listener)")

    def up(name, port, ca):
        return {"name": name, "plugin": "mqtt", "host": "127.0.0.1", "port": port, "site": name,
                "tls": True, "tls_ca_file": f[ca], "reconnect_min_ms": 200,
                "reconnect_max_ms": 1000}
    h.scenario("drop1.scn", "0 repeat count=%d interval=5 tag uid=E00401%%010d item=BOOK%%04d "
               "dwell=3\n" % N)
    h.config([{"name": "drop1", "plugin": "sim", "scenario": h.path("drop1.scn")}],
             [{"name": "returns", "role": "bookdrop", "devices": ["drop1"]}],
             [up("fleet", tls_port, "ca.pem"), up("wrongca", tls_port, "other-ca.pem"),
              up("wronghost", elsewhere_port, "ca.pem")])
    t0 = time.monotonic()
    h.start()

    def arrived(ms):
        ids = {json.loads(m.payload)["id"] for m in ms if m.topic.startswith("circd/fleet/returns/")}
        return len(ids) >= N
    sub.wait(arrived, 15, "%d returns over TLS" % N)
    log("%d returns over TLS in %.1f s" % (N, time.monotonic() - t0))
    check(any(m.topic == "circd/fleet/status" and m.payload == b"online" for m in sub.snapshot()),
          "the TLS upstream says 'online'")

    def ups():
        return {u["name"]: u for u in h.status()["upstreams"]}
    wait_for(lambda: ups()["fleet"]["backlog"] == 0, 5, "the TLS upstream's backlog to drain")
    for name in ("wrongca", "wronghost"):
        u = wait_for(lambda: (lambda x: x if x["health"] == "offline" and x["reason"] else None)(
            ups()[name]), 5, "%s to be offline with a reason" % name)
        why = "self-signed" if name == "wrongca" else "does not name 127.0.0.1"
        check(u["reason"].startswith("tls-verify: ") and why in u["reason"],
              "%s: OFFLINE, refused: %r" % (name, u["reason"]))
        check(u["backlog"] > 0 and u["done"] == 0, "%s delivered nothing; backlog %d"
              % (name, u["backlog"]))
    others = [m.topic for m in sub.snapshot() if not m.topic.startswith("circd/fleet/")]
    check(not others, "nothing reached the broker through the refused ones (%s)" % others[:3])
    rc = h.stop()
    check(rc == 0, "exit 0 on SIGTERM")
    sub.wait(lambda ms: any(m.topic == "circd/fleet/status" and m.payload == b"offline" for m in ms),
             3, "a clean stop to say 'offline'")
    check(True, "a clean stop publishes 'offline' itself")
    sub.close()
    broker.stop()


if __name__ == "__main__":
    main(story, timeout=45)

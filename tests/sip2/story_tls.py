#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story (e): the ACS speaks TLS with a certificate from a CA the test makes
(tests/sip2/make-certs.sh, openssl CLI, in a temporary directory).

One circd with three sip2 upstreams to the same emulator, 100 returns:
  - 'ils'        tls = true, tls_ca_file = the right CA: every return
                 reaches the ACS, once, in order, all 'done';
  - 'wrongca'    trusts a CA that signed nothing here;
  - 'wronghost'  the right CA, but tls_server_name names another host:
                 both are refused: health OFFLINE with a reason about
                 certificate verification, nothing 'done', their
                 deliveries wait in the backlog.
Nothing but the good upstream's 100 checkins reaches the ACS (it logs only
what arrives over a completed handshake).  Skipped without openssl."""
import collections
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from story_lib import (ACS, SRC, Skip, check, checkins, deliveries, item_id, log,  # noqa: E402
                       main, make_fixture, returns_scenario, sip2_upstream, wait_done,
                       wait_for)

N = 100


def tls_story(h, strict_status=False):
    if not shutil.which("openssl"):
        raise Skip("no openssl command to make the test CA")
    pki = h.path("pki")
    os.mkdir(pki)
    r = subprocess.run(["sh", os.path.join(SRC, "tests", "sip2", "make-certs.sh"), pki],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    if r.returncode != 0:
        raise Skip("make-certs.sh failed: %s" % r.stdout.decode(errors="replace"))
    acs = ACS("--tls-cert", os.path.join(pki, "server.pem"),
              "--tls-key", os.path.join(pki, "server.key"), fixture=make_fixture(h, N))
    tls = {"tls": True, "tls_ca_file": os.path.join(pki, "ca.pem")}
    good = sip2_upstream(h, acs.port, **tls)
    wrongca = sip2_upstream(h, acs.port, **dict(tls, tls_ca_file=os.path.join(pki, "other-ca.pem")))
    wrongca["name"] = "wrongca"
    wronghost = sip2_upstream(h, acs.port, **dict(tls, tls_server_name="ils.elsewhere.example"))
    wronghost["name"] = "wronghost"
    dev = {"name": "drop1", "plugin": "sim", "speed": 0.0,
           "scenario": h.scenario("drop1.scn", returns_scenario(N))}
    h.config([dev], [{"name": "returns", "role": "bookdrop", "devices": ["drop1"]}],
             [good, wrongca, wronghost])
    t0 = time.monotonic()
    h.start()
    wait_done(h, N, 20)
    elapsed = time.monotonic() - t0

    def ups():
        return {u["name"]: u for u in h.status()["upstreams"]}

    for name in ("wrongca", "wronghost"):
        u = wait_for(lambda: (lambda x: x if x["health"] == "offline" else None)(ups()[name]),
                     10, "%s OFFLINE" % name)
        text = h.last_log()
        lines = [ln for ln in text.splitlines() if ln.startswith("<4>%s: offline" % name)]
        why = (u["last_error"] + " | " + " | ".join(lines)).lower()
        check("verif" in why, "%s: refused, health OFFLINE with a reason about verification"
              " (status: %r; log: %r)" % (name, u["last_error"], lines[:1]))
        check(u["done"] == 0 and u["backlog"] == N,
              "%s: nothing done, its %d deliveries wait in the backlog (%d done, %d waiting)"
              % (name, N, u["done"], u["backlog"]))
        if strict_status:
            check("verif" in (u.get("reason", "") + " " + u["last_error"]).lower(),
                  "%s: {\"cmd\":\"status\"} itself gives the verification failure as the"
                  " reason (last_error %r, reason %r)" % (name, u["last_error"], u.get("reason")))
    rows = deliveries(h)
    items = [c["item"] for c in checkins(acs)]
    check(items == [r[1] for r in rows] and sorted(items) == [item_id(i) for i in range(N)],
          "over TLS all %d checkins reached the ACS once each, in order (%d)" % (N, len(items)))
    states = collections.Counter(r[3] for r in rows)
    check(states == {"done": N}, "'ils': every delivery is done (%s)" % dict(states))
    check(all((r[6] or {}).get("title") for r in rows), "'ils': the answers are journaled")
    check(ups()["ils"]["health"] == "ok", "'ils' is OK")
    check(h.stop() == 0, "circd exits 0 on SIGTERM")
    log("MEASURED: %d returns over TLS in %.2f s" % (N, elapsed))


def story(h):
    tls_story(h)


if __name__ == "__main__":
    main(story, timeout=60)

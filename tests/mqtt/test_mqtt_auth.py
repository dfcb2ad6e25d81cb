#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: the fleet broker wants a user name and password (mosquitto
password_file, made with mosquitto_passwd).

Two mqtt upstreams, 20 returns:
  - 'fleet'  username + password_file (mode 0600) with the right password:
             every return arrives;
  - 'wrong'  the wrong password: the broker refuses the connection (CONNACK
             "not authorised"); status shows it OFFLINE with that reason,
             nothing is delivered, the backlog waits, and circd retries with
             backoff rather than in a tight loop.
Neither password appears in circd's log.  Skipped without mosquitto or
mosquitto_passwd."""
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mqtt_lib import Broker, Subscriber  # noqa: E402
from circdtest import Skip, check, log, main, wait_for  # noqa: E402

N = 20
GOOD, BAD = "Tr0ub4dor-good", "Tr0ub4dor-bad"


def story(h):
    if not shutil.which("mosquitto_passwd"):
        raise Skip("mosquitto_passwd is not installed (mosquitto package)")
    pwfile = h.path("broker.passwd")
    for user, pw in (("branch5", GOOD), ("consumer", "c0nsumer")):
        args = ["mosquitto_passwd", "-b"] + ([] if os.path.exists(pwfile) else ["-c"])
        subprocess.run(args + [pwfile, user, pw], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    broker = Broker(h, extra_conf="", auth="password_file %s\n" % pwfile)
    broker.start()
    sub = Subscriber(broker.port, "central-consumer", ["circd/#"], username="consumer",
                     password="c0nsumer")
    check(sub.subscribed.wait(5), "the consumer is logged in and subscribed")

    def secret(name, text):
        p = h.write(name, text + "\n")
        os.chmod(p, 0o600)
        return p
    h.scenario("drop1.scn", "0 repeat count=%d interval=5 tag uid=E00401%%010d item=BOOK%%04d "
               "dwell=3\n" % N)
    common = {"plugin": "mqtt", "host": "127.0.0.1", "port": broker.port, "username": "branch5",
              "reconnect_min_ms": 100, "reconnect_max_ms": 300}
    h.config([{"name": "drop1", "plugin": "sim", "scenario": h.path("drop1.scn")}],
             [{"name": "returns", "role": "bookdrop", "devices": ["drop1"]}],
             [dict(common, name="fleet", site="branch5", password_file=secret("good.pw", GOOD)),
              dict(common, name="wrong", site="wrong", password_file=secret("bad.pw", BAD))])
    h.start()
    sub.wait(lambda ms: len({json.loads(m.payload)["id"] for m in ms
                             if m.topic.startswith("circd/branch5/returns/")}) >= N, 10,
             "%d returns from the logged-in upstream" % N)
    check(True, "with the right password every return arrives")

    def wrong():
        return next(u for u in h.status()["upstreams"] if u["name"] == "wrong")
    u = wait_for(lambda: (lambda x: x if "not authorised" in x["reason"] else None)(wrong()), 5,
                 "the refused upstream's reason")
    check(u["health"] == "offline" and u["done"] == 0 and u["backlog"] == N,
          "the wrong password: %s, %r, nothing done, backlog %d" % (u["health"], u["reason"],
                                                                  u["backlog"]))
    time.sleep(1.0)
    attempts = h.last_log().count("broker refused the connection")
    # Full jitter can draw short delays; a tight loop makes thousands.
    check(1 <= attempts <= 60, "refused logins are retried with backoff, not in a tight loop "
          "(%d in ~1.5 s)" % attempts)
    check(not any(m.topic.startswith("circd/wrong/") for m in sub.snapshot()),
          "nothing arrived from the refused upstream")
    check(h.stop() == 0, "exit 0 on SIGTERM")
    text = h.log_text()
    check(GOOD not in text and BAD not in text, "neither password is in circd's log")
    sub.close()
    broker.stop()


if __name__ == "__main__":
    main(story, timeout=40)

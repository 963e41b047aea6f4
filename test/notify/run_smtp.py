#!/usr/bin/python3
"""End-to-end test of the notification path: a real SMTP server (aiosmtpd) on
127.0.0.1, the outbox on disk, delivery with libcurl (test/notify/notify-tool).

Checks, each counted:
  delivery      three e-mails arrive once each, as multipart/alternative with
                the banner, escaped HTML, the right recipients; a second
                delivery run sends nothing; enqueueing a sent one is a no-op
  relay down    the messages stay pending with an attempt recorded; when the
                relay is back they go out, once
  kill -9       the tool is killed while the relay holds a message's DATA
                (no 250 given): after the restart every message arrives
                exactly once and the ones sent before the kill are not resent
  lost ack      the relay stored the message but the tool died before the 250:
                the one message is sent again with the same Message-ID
                (at-least-once; docs/incidents.md) and nothing else repeats

Ends with "notify e2e: N passed, M failed".

    test/notify/run_smtp.py [--tool build/test/notify/notify-tool]
"""

import argparse
import asyncio
import email
import email.policy
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # test/e2e.py
from e2e import Checks, free_port  # noqa: E402

check = Checks()

class Relay:
    """Accepts every message, except that it can hold one DATA until told."""

    def __init__(self):
        self.received = []           # (rcpt_tos, bytes)
        self.hold_next = False       # hold the next DATA
        self.record_held = False     # on release: store it (ack lost) or answer 451
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        if self.hold_next:
            self.hold_next = False
            if self.record_held:
                self.received.append((list(envelope.rcpt_tos), envelope.content))
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
            return "250 OK" if self.record_held else "451 aborted"
        self.received.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def message_ids(self):
        return [email.message_from_bytes(b, policy=email.policy.default)["Message-ID"]
                for _, b in self.received]


class Run:
    def __init__(self, tool, state, url):
        self.tool, self.state, self.url = tool, state, url

    def __call__(self, *args):
        out = subprocess.run([self.tool, args[0], self.state, *args[1:]], capture_output=True,
                             text=True, timeout=60)
        if out.returncode != 0:
            raise RuntimeError(f"notify-tool {' '.join(args)}: {out.stderr.strip()}")
        return json.loads(out.stdout)

    def enqueue(self, incident, role, to):
        return self("enqueue", "--incident", str(incident), "--role", role, "--to", to)

    def deliver(self, later=0):
        return self("deliver", "--smtp", self.url, "--later", str(later))


def test_delivery(run, relay, state):
    print("== delivery")
    ids = [run.enqueue(1, "target", "db-team@example.com"),
           run.enqueue(1, "source", "web-team@example.com"),
           run.enqueue(2, "target", "db-team@example.com")]
    check("enqueue queues", all(i["outcome"] == "queued" for i in ids))
    r = run.deliver()
    check("three sent", r["sent"] == 3 and r["failed"] == 0 and r["pending"] == 0, r)
    got = relay.message_ids()
    check("each arrives exactly once", sorted(got) == sorted(i["message_id"] for i in ids), got)
    msgs = {email.message_from_bytes(b, policy=email.policy.default)["Message-ID"]: (rcpt, b)
            for rcpt, b in relay.received}
    target_rcpt, target_bytes = msgs[ids[0]["message_id"]]
    source_rcpt, source_bytes = msgs[ids[1]["message_id"]]
    check("recipients", target_rcpt == ["db-team@example.com"] and source_rcpt == ["web-team@example.com"],
          (target_rcpt, source_rcpt))
    m = email.message_from_bytes(target_bytes, policy=email.policy.default)
    parts = [p.get_content_type() for p in m.iter_parts()] if m.is_multipart() else []
    check("multipart/alternative with text and HTML",
          m.get_content_type() == "multipart/alternative" and parts == ["text/plain", "text/html"], parts)
    html = m.get_body(("html",)).get_content()
    text = m.get_body(("plain",)).get_content()
    check("red banner", 'class="banner" style="background:#c62828' in html)
    check("HTML escaped", "ET SCAN &lt;RDP&gt; brute force &amp; more" in html and "<RDP>" not in html)
    check("text part has the facts", "10.1.0.13 (deployment web)" in text and "Close tcp/3389" in text
          and "incident-1.pcap" in text, text[:400])
    check("headers", m["From"] == "Safeguard <safeguard@provider.example>" and m["X-Safeguard-Role"] == "target"
          and m["Subject"].startswith("[Safeguard] Incident 1: bruteforce against"), str(m["Subject"]))
    s = email.message_from_bytes(source_bytes, policy=email.policy.default)
    stext = s.get_body(("plain",)).get_content()
    check("source gets deadline and answer", "DEADLINE" in stext and "safeguardctl extend 1" in stext
          and "DEADLINE" not in text)
    check("sent/ keeps every .eml", sorted(os.listdir(f"{state}/outbox/sent")) ==
          sorted(i["id"] + ".eml" for i in ids))
    r = run.deliver(later=86400)
    check("a second run sends nothing", r["sent"] == 0 and len(relay.received) == 3, r)
    check("enqueue of a sent one is a no-op", run.enqueue(1, "target", "db-team@example.com")["outcome"]
          == "already_sent")


def test_relay_down(run, relay, start_relay, stop_relay):
    print("== relay down")
    stop_relay()
    before = len(relay.received)
    ids = [run.enqueue(3, "target", "db-team@example.com"), run.enqueue(3, "source", "web-team@example.com")]
    r = run.deliver()
    check("nothing sent while down", r["sent"] == 0 and r["failed"] == 2 and r["pending"] == 2, r)
    st = run("status")
    check("attempt recorded", [p["attempts"] for p in st["pending"]] == [1, 1] and
          all(p["last_error"] for p in st["pending"]), st)
    r = run.deliver()
    check("not retried before the backoff", r["sent"] == 0 and r["failed"] == 0 and r["pending"] == 2, r)
    start_relay()
    r = run.deliver(later=3600)
    check("relay back: delivered", r["sent"] == 2 and r["pending"] == 0, r)
    run.deliver(later=7200)
    got = relay.message_ids()[before:]
    check("each once", sorted(got) == sorted(i["message_id"] for i in ids), got)


def kill_mid_delivery(run, relay, incident, record_held):
    before = len(relay.received)
    ids = [run.enqueue(incident, "target", f"owner{k}@example.com") for k in range(4)]
    # The tool sends in id order: let the first through, hold the second.
    relay.release.clear()
    relay.holding.clear()
    state = {"n": 0}
    original = relay.handle_DATA

    async def second_held(server, session, envelope):
        state["n"] += 1
        if state["n"] == 2:
            relay.hold_next = True
            relay.record_held = record_held
        return await original(server, session, envelope)

    relay.handle_DATA = second_held
    proc = subprocess.Popen([run.tool, "deliver", run.state, "--smtp", run.url], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    held = relay.holding.wait(30)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    relay.release.set()
    time.sleep(0.2)
    relay.handle_DATA = original
    check("killed while the relay held a message", held)
    r = run.deliver()
    order = sorted(ids, key=lambda i: i["id"])
    return before, order, r


def test_kill(run, relay):
    print("== kill -9 mid-delivery")
    before, order, r = kill_mid_delivery(run, relay, 4, record_held=False)
    got = relay.message_ids()[before:]
    check("after restart every message exactly once",
          sorted(got) == sorted(i["message_id"] for i in order) and len(got) == 4, got)
    check("the one sent before the kill is not resent", got.count(order[0]["message_id"]) == 1 and
          got[0] == order[0]["message_id"], got)
    check("restart sent the other three", r["sent"] == 3 and r["pending"] == 0, r)

    print("== lost ack (relay stored it, the tool died before the 250)")
    before, order, r = kill_mid_delivery(run, relay, 5, record_held=True)
    got = relay.message_ids()[before:]
    dup = [m for m in set(got) if got.count(m) > 1]
    check("only the in-flight message repeats, with the same Message-ID",
          dup == [order[1]["message_id"]] and len(got) == 5, got)
    copies = [b for _, b in relay.received[before:]
              if email.message_from_bytes(b, policy=email.policy.default)["Message-ID"] == order[1]["message_id"]]
    check("the repeat is byte-identical", len(copies) == 2 and copies[0] == copies[1])
    check("nothing sent before the kill repeats", got.count(order[0]["message_id"]) == 1, got)


def main():
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tool", default=os.path.join(top, "build/test/notify/notify-tool"))
    args = ap.parse_args()
    if not os.access(args.tool, os.X_OK):
        print(f"notify e2e: {args.tool} not built (meson -Dtests=true)")
        print("notify e2e: 0 passed, 1 failed")
        return 1

    port = free_port()
    relay = Relay()
    ctl = {"c": None}

    def start_relay():
        ctl["c"] = Controller(relay, hostname="127.0.0.1", port=port)
        ctl["c"].start()

    def stop_relay():
        ctl["c"].stop()
        ctl["c"] = None

    work = tempfile.mkdtemp(prefix="sg-notify-")
    try:
        start_relay()
        run = Run(args.tool, os.path.join(work, "state"), f"smtp://127.0.0.1:{port}")
        for test in (lambda: test_delivery(run, relay, run.state),
                     lambda: test_relay_down(run, relay, start_relay, stop_relay),
                     lambda: test_kill(run, relay)):
            try:
                test()
            except Exception as e:  # a crash of one group is a failure, not the end of the run
                check("no exception", False, repr(e))
    finally:
        if ctl["c"]:
            stop_relay()
        shutil.rmtree(work, ignore_errors=True)
    return check.summary("notify e2e")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Fault: the state directory's disk is full or unwritable. The real
`safeguard replay` with its state directory on a small tmpfs (1 MiB), a
filler file taking all of it, a real SMTP relay (aiosmtpd) and the
enforcement hook; captures from test/incident/gen_workflow.py.

Scenarios:
  start          a state_dir that is a file, a read-only mount, a full disk
                 before the journal exists: a clear error naming the path,
                 exit status 2, nothing started (no report, no e-mail)
  full to the end
                 the disk is full for the whole replay: every incident is
                 reported (eve, report) and the run ends by itself; the
                 journal and outbox failures are logged once each, counted
                 (runtime.incidents: journal_errors, journal_behind,
                 outbox_errors, messages_unstored, evidence_errors); the end
                 names the state directory and what is lost; exit status 1
  recovery       full while the incident opens and its e-mail is requested;
                 a scripted deactivation at +5 s runs the hook, which holds:
                 the replay waits there (lockstep), the test frees the space
                 and releases the hook. The journal is written again ("nothing
                 lost"), the e-mail is stored and delivered once, the evidence
                 capture is whole, exit status 0; a second replay on the rest of
                 the traffic with the same state directory has the whole
                 history and sends nothing again

  live daemon    `safeguard run` on a looped capture, the disk full from the
                 start: /metrics shows what is held in memory, safeguardctl's
                 ack says the change is not on disk yet; the space freed: the
                 journal and the outbox catch up within seconds, one e-mail;
                 the disk full again and SIGTERM: the loss named, exit status 1

Needs root (mount); without it every scenario is skipped and the summary
counts 0. Ends with "disk full: N passed, M failed".

    test/fault/run_disk_full.py [--safeguard build/app/safeguard/safeguard]
                                [--safeguardctl build/app/safeguardctl/safeguardctl] [--keep]
"""

import argparse
import email
import errno
import json
import re
import signal
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # test/e2e.py
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "incident"))  # run_workflow.py
from e2e import Checks, free_port  # noqa: E402
from run_workflow import Env, Relay, capinfos_count, event_kinds, wait_for  # noqa: E402

check = Checks()

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120  # a replay that takes longer hangs

# A journal with no records yet (lib/incident/journal.hpp): the state
# directory of an appliance that ran before the disk filled up.
JOURNAL_HEADER = b"SGINCJNL" + (1).to_bytes(4, "little") + (0).to_bytes(4, "little")


class Tmpfs:
    """A 1 MiB tmpfs; fill() takes all of it, free() gives it back."""

    def __init__(self, path):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.mounted = False
        self.filler = self.path / "filler"

    def mount(self):
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(self.path)],
                           capture_output=True, text=True)
        self.mounted = p.returncode == 0
        return self.mounted, p.stderr.strip()

    def umount(self):
        if self.mounted:
            subprocess.run(["umount", str(self.path)], check=False)
            self.mounted = False

    def remount(self, mode):
        subprocess.run(["mount", "-o", f"remount,{mode}", str(self.path)], check=True)

    def fill(self):
        """Writes until the disk says no: not one more page fits."""
        with open(self.filler, "ab", buffering=0) as f:
            for size in (65536, 512):  # then whatever a partly used page still takes
                try:
                    while f.write(b"\0" * size):
                        pass
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
        probe = self.path / "probe"
        try:
            probe.write_bytes(b"x")
            full = False
        except OSError:
            full = True
        probe.unlink(missing_ok=True)
        return full

    def free(self):
        self.filler.unlink(missing_ok=True)


def state_with_journal(path):
    """A state directory as an earlier run leaves it: the journal exists."""
    path.mkdir(parents=True)
    (path / "incidents.journal").write_bytes(JOURNAL_HEADER)
    return path


def journal_records(path):
    """The records of a journal (lib/incident/journal.hpp), or None when it is
    not whole: a bad header, a torn or damaged record."""
    data = Path(path).read_bytes()
    if data[:16] != JOURNAL_HEADER:
        return None
    out, at = [], 16
    while at < len(data):
        if len(data) - at < 8:
            return None
        length = int.from_bytes(data[at:at + 4], "little")
        crc = int.from_bytes(data[at + 4:at + 8], "little")
        payload = data[at + 8:at + 8 + length]
        if len(payload) < length or zlib.crc32(payload) != crc:
            return None
        out.append(json.loads(payload))
        at += 8 + length
    return out


def journal_kinds(records):
    """The event kinds of every incident in the journal's records."""
    return {e["kind"] for r in records for i in r["incidents"] for e in i["events"]}


def use_state(env, state):
    """Points the scenario's config at a state directory on the tmpfs."""
    env.config.write_text(env.config.read_text().replace(f"state_dir: {env.state}", f"state_dir: {state}"))
    env.state = state


def run(env, captures, **kw):
    """A replay to its end: (exit status, stderr, report or None, out)."""
    cmd, out = env.args(captures, **kw)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, "timed out", None, out
    report = json.loads(out["report"].read_text()) if out["report"].exists() else None
    return p.returncode, p.stderr, report, out


def error_lines(stderr, needle):
    return [line for line in stderr.splitlines() if needle in line]


# --------------------------------------------------------------------------- scenarios

def scenario_start(base, safeguard, caps, disk):
    print("== start: an unusable state directory stops the start, naming it")
    port = free_port()
    relay = Relay(port)
    relay.start()
    try:
        # A file where the directory should be.
        env = Env(base, "start-file", safeguard, port)
        state = disk.path / "not-a-dir"
        state.write_text("a file\n")
        use_state(env, state)
        rc, err, report, _ = run(env, [caps / "scan-part1.pcap"])
        check("state_dir is a file: exit status 2, the path and why",
              rc == 2 and f"{state}: not a directory" in err and "state directory" in err, (rc, err[-600:]))
        check("state_dir is a file: nothing started (no report, no e-mail)", report is None and not relay.received)
        state.unlink()

        # A read-only mount (the kernel's answer to disk errors).
        env = Env(base, "start-ro", safeguard, port)
        state = state_with_journal(disk.path / "ro")
        use_state(env, state)
        disk.remount("ro")
        try:
            rc, err, report, _ = run(env, [caps / "scan-part1.pcap"])
        finally:
            disk.remount("rw")
        check("read-only: exit status 2, the journal's path and 'Read-only file system'",
              rc == 2 and f"{state}/incidents.journal" in err and "Read-only file system" in err, (rc, err[-600:]))
        check("read-only: nothing started", report is None and not relay.received)

        # Full before the journal was ever written.
        env = Env(base, "start-full", safeguard, port)
        state = disk.path / "new"
        use_state(env, state)
        check("the disk is full", disk.fill())
        try:
            rc, err, report, _ = run(env, [caps / "scan-part1.pcap"])
        finally:
            disk.free()
        check("full at start: exit status 2, the path and 'No space left on device'",
              rc == 2 and str(state) in err and "No space left on device" in err, (rc, err[-600:]))
        check("full at start: nothing started", report is None and not relay.received)
        check("full at start: no temp file left", not [p for p in os.listdir(state) if ".tmp" in p]
              if state.exists() else True)
    finally:
        relay.stop()


def scenario_full_to_the_end(base, safeguard, caps, disk):
    print("== full to the end: reported, counted, logged once; the loss named; exit status 1")
    port = free_port()
    relay = Relay(port)
    relay.start()
    try:
        env = Env(base, "full-end", safeguard, port)
        state = state_with_journal(disk.path / "full-end")
        use_state(env, state)
        check("the disk is full", disk.fill())
        try:
            started = time.monotonic()
            rc, err, rep, out = run(env, [caps / "scan-part1.pcap"])
            took = time.monotonic() - started
        finally:
            disk.free()
    finally:
        relay.stop()
    check("the run ends by itself (no hang), exit status 1", rc == 1, (rc, took, err[-800:]))
    if rep is None:
        check("the report is written", False, err[-800:])
        return
    incs = rep["incidents"]
    check("the incident is reported all the same (report and eve)", len(incs) == 1 and any(
        json.loads(line).get("event_type") == "incident" for line in out["eve"].read_text().splitlines()),
        len(incs))
    c = rep["runtime"]["incidents"]
    check("counted: journal_errors, journal_behind, outbox_errors, messages_unstored, evidence_errors",
          c["journal_errors"] >= 2 and c["journal_behind"] >= 1 and c["outbox_errors"] >= 2
          and c["messages_unstored"] == 1 and c["evidence_errors"] >= 1 and c["messages_sent"] == 0, c)
    journal_first = error_lines(err, "held in memory, retried at each window until the journal")
    check("the journal's first failure: once, with the path and the reason",
          len(journal_first) == 1 and f"{state}/incidents.journal" in journal_first[0]
          and "No space left on device" in journal_first[0], journal_first or err[-800:])
    outbox_first = error_lines(err, "e-mail(s) held in memory, retried at each window until stored")
    check("the outbox's first failure: once, with the path and the reason",
          len(outbox_first) == 1 and f"{state}/outbox" in outbox_first[0]
          and "No space left on device" in outbox_first[0], outbox_first or err[-800:])
    check("the evidence capture's failure: once", len(error_lines(err, "packets skipped and counted")) == 1,
          err[-800:])
    lost = error_lines(err, "never reached the disk and is lost")
    check("the end names the state directory and what is lost",
          len(lost) == 1 and f"state directory {state}" in lost[0] and "not in the journal" in lost[0]
          and "1 e-mail(s) not in the outbox" in lost[0], lost or err[-800:])
    check("nothing reached the relay", not relay.received)
    records = journal_records(state / "incidents.journal")
    check("the journal on disk is whole (what fitted before the disk was full, no torn record)",
          records is not None, (state / "incidents.journal").read_bytes()[:64])


def scenario_recovery(base, safeguard, caps, disk):
    print("== recovery: full, then room again within one run; nothing lost, nothing sent twice")
    port = free_port()
    relay = Relay(port)
    relay.start()
    proc = None
    try:
        env = Env(base, "recovery", safeguard, port)
        state = state_with_journal(disk.path / "recovery")
        use_state(env, state)
        hold = env.hook.parent / "hold"
        hold.touch()
        check("the disk is full", disk.fill())
        cmd, out = env.args([caps / "scan-part1.pcap"], actions="""
- {at: 5s, do: deactivate, incident: 1, who: operator@provider.example, reason: disk full test}
- {at: 6s, do: reactivate, incident: 1, who: operator@provider.example, reason: disk full test}
""")
        errfile = env.dir / "stderr1.txt"
        with open(errfile, "w") as ef:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=ef, text=True)
        # The replay waits at +5 s for the hook (lockstep): the run is still going.
        hooked = wait_for(lambda: (env.hook.parent / "hook.pid").exists(), 60)
        check("the replay reached the deactivation (the hook holds it there)", hooked)
        time.sleep(0.3)  # the notifier's own retries meanwhile: still full
        err = errfile.read_text()
        records = journal_records(state / "incidents.journal")
        check("while full: the journal's failure logged once; the journal whole and behind (no 'deactivated')",
              len(error_lines(err, "retried at each window until the journal")) == 1 and records is not None
              and "deactivated" not in journal_kinds(records), (records and journal_kinds(records),
                                                                 error_lines(err, "journal")))
        check("while full: the outbox's failure logged once, nothing stored",
              len(error_lines(err, "retried at each window until stored")) == 1
              and not os.listdir(state / "outbox" / "pending") and not relay.received, err[-800:])
        check("while full: no recovery yet", "written again" not in err and "stored again" not in err)
        disk.free()
        hold.unlink()
        try:
            rc = proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = None
        err = errfile.read_text()
        check("the run ends, exit status 0", rc == 0, (rc, err[-800:]))
        rep = json.loads(out["report"].read_text()) if out["report"].exists() else {}
        c = rep.get("runtime", {}).get("incidents", {})
        check("counted: failures seen, nothing behind at the end",
              c.get("journal_errors", 0) >= 2 and c.get("journal_behind") == 0 and c.get("outbox_errors", 0) >= 1
              and c.get("messages_unstored") == 0 and c.get("messages_sent") == 1, c)
        recovered = error_lines(err, "written again: nothing lost")
        check("the journal's recovery logged once, naming the journal",
              len(recovered) == 1 and f"{state}/incidents.journal" in recovered[0], recovered or err[-800:])
        check("the outbox's recovery logged once", len(error_lines(err, "stored again: nothing lost")) == 1,
              err[-800:])
        check("no failure logged twice (no log line per window)",
              len(error_lines(err, "retried at each window")) == 2 and "still cannot write" not in err
              and len(error_lines(err, "packets skipped and counted")) <= 1, err[-1200:])
        check("the e-mail arrived once", len(relay.received) == 1, len(relay.received))
        check("the outbox: one .eml in sent/, none pending",
              len(os.listdir(state / "outbox" / "sent")) == 1
              and not [p for p in os.listdir(state / "outbox" / "pending") if p.endswith(".eml")])
        incs = rep.get("incidents", [])
        inc = incs[0] if incs else {"events": []}
        kinds = event_kinds(inc)
        check("the incident's whole history in the report",
              all(k in kinds for k in ("opened", "notify_requested", "deactivated", "hook_ran", "reactivated",
                                       "notification_sent")), kinds)
        # The workers send an incident's first 12 packets once: those the
        # disk refused are lost, counted, and leave no torn capture behind.
        captures = list((state / "evidence").glob("*.pcap"))
        check("evidence: the 12 packets the disk refused counted, no torn capture",
              c.get("evidence_errors") == 12 and c.get("evidence_packets") == 0
              and all(capinfos_count(f) >= 0 for f in captures), (c, captures))
        records = journal_records(state / "incidents.journal")
        check("the journal on disk: whole, with the incident's whole history",
              records is not None and journal_kinds(records) >= set(kinds), records and journal_kinds(records))

        # The rest of the traffic, same state directory: the journal has it all.
        rc2, err2, rep2, _ = run(env, [caps / "scan-part2.pcap"])
    finally:
        if proc and proc.poll() is None:
            proc.kill()
        relay.stop()
    check("a later replay on the same state directory: exit status 0", rc2 == 0, (rc2, err2[-800:]))
    incs2 = (rep2 or {}).get("incidents", [])
    inc2 = incs2[0] if incs2 else {"events": []}
    first = [(e["seq"], e["kind"]) for e in inc["events"]]
    check("it has the whole history of the first run (the journal caught up)",
          len(incs2) == 1 and [(e["seq"], e["kind"]) for e in inc2["events"]][:len(first)] == first,
          (first, [(e["seq"], e["kind"]) for e in inc2["events"]]))
    check("no e-mail twice", len(relay.received) == 1 and rep2["runtime"]["incidents"]["messages_sent"] == 0,
          len(relay.received))


def metric(port, name):
    """One unlabelled sample of /metrics (None when absent or unreachable)."""
    try:
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    except OSError:
        return None
    m = re.search(rf"^{name} ([0-9.e+]+)$", body, re.M)
    return float(m.group(1)) if m else None


def scenario_live(base, safeguard, safeguardctl, caps, disk):
    print("== live daemon: /metrics and safeguardctl show it, recovery in seconds, SIGTERM while full exits 1")
    port = free_port()
    relay = Relay(port)
    relay.start()
    daemon = None
    try:
        work = Path(base) / "live"
        work.mkdir()
        state = state_with_journal(disk.path / "live")
        http_port = free_port()
        sock = work / "control.sock"
        config = work / "safeguard.yaml"
        config.write_text(f"""mode: inline
workers: 1
ports:
  - name: tap0
    device: "net_pcap0,rx_pcap={caps / 'scan-part1.pcap'},infinite_rx=1"
  - name: sink
    device: "net_null0,no-rx=1"
inline_pairs:
  - [tap0, sink]
sizes: {{mbufs: 4095, mbuf_cache: 64, flow_table: 4096, stream_buffers: 64}}
deployments:
  - name: web
    owner: web-owner@example.com
    prefixes: [10.1.0.0/16]
  - name: db
    owner: db-owner@example.com
    prefixes: [10.2.0.0/16]
policy: {{deadline: 1h, quiet_period: 1h, evidence_packets: 12}}
notify: {{smtp_url: "smtp://127.0.0.1:{port}", from: safeguard@provider.example}}
state_dir: {state}
outputs: {{report: {work / 'report.json'}}}
control:
  socket: {sock}
metrics:
  listen: 127.0.0.1:{http_port}
""")
        check("the disk is full", disk.fill())
        log = work / "daemon.log"
        with open(log, "w") as lf:
            daemon = subprocess.Popen([safeguard, "run", "--config", str(config)], stdout=lf, stderr=subprocess.STDOUT)
        up = wait_for(lambda: "running:" in log.read_text() or daemon.poll() is not None, 60) and daemon.poll() is None
        check("the daemon runs with a full disk", up, log.read_text()[-800:])
        if not up:
            return
        # The looped capture at full speed opens more than one incident (the
        # scan, and a SYN flood and brute force by its rate): an e-mail each.
        held = wait_for(lambda: (metric(http_port, "safeguard_incident_journal_behind") or 0) > 0
                        and (metric(http_port, "safeguard_messages_unstored") or 0) >= 1, 30)
        check("/metrics: changes held in memory, the e-mails unstored, the failures counted",
              held and (metric(http_port, "safeguard_incident_journal_errors_total") or 0) > 0
              and (metric(http_port, "safeguard_outbox_store_errors_total") or 0) > 0,
              [metric(http_port, n) for n in ("safeguard_incident_journal_behind", "safeguard_messages_unstored")])
        ack = subprocess.run([safeguardctl, "--socket", str(sock), "ack", "1", "--who", "web-owner@example.com"],
                             capture_output=True, text=True, timeout=30)
        check("safeguardctl ack: done, with a warning that it is not on disk yet",
              ack.returncode == 0 and "warning: the journal cannot be written" in ack.stdout
              and "No space left on device" in ack.stdout, (ack.returncode, ack.stdout, ack.stderr))
        time.sleep(2.5)  # a few windows and notifier passes, still full
        text = log.read_text()
        check("while full: each failure logged once, not per window",
              len(error_lines(text, "retried at each window until the journal")) == 1
              and len(error_lines(text, "retried at each window until stored")) == 1
              and "still cannot write" not in text and not relay.received, text[-1200:])

        disk.free()
        def journal_has(*kinds):
            records = journal_records(state / "incidents.journal")
            return records is not None and set(kinds) <= journal_kinds(records)

        caught_up = wait_for(lambda: metric(http_port, "safeguard_incident_journal_behind") == 0
                             and metric(http_port, "safeguard_messages_unstored") == 0 and relay.received
                             and journal_has("acknowledged", "notification_sent"), 20)
        text = log.read_text()
        check("space again: the journal and the outbox catch up within seconds, the e-mails go out",
              caught_up, (len(relay.received), text[-800:]))
        check("the recoveries logged once each",
              len(error_lines(text, "written again: nothing lost")) == 1
              and len(error_lines(text, "stored again: nothing lost")) == 1, text[-1200:])
        records = journal_records(state / "incidents.journal")
        check("the journal: whole, with the acknowledgement and the delivery",
              records is not None and {"acknowledged", "notification_sent"} <= journal_kinds(records),
              records and journal_kinds(records))

        # Full again, and the daemon is stopped before it could write.
        check("the disk is full again", disk.fill())
        behind = wait_for(lambda: (metric(http_port, "safeguard_incident_journal_behind") or 0) > 0, 20)
        check("the windows' updates are held again", behind)
        daemon.send_signal(signal.SIGTERM)
        try:
            rc = daemon.wait(60)
        except subprocess.TimeoutExpired:
            rc = None
        text = log.read_text()
        lost = error_lines(text, "never reached the disk and is lost")
        check("SIGTERM while full: the loss named (state directory, changes), exit status 1",
              rc == 1 and len(lost) == 1 and f"state directory {state}" in lost[0] and "not in the journal" in lost[0],
              (rc, lost or text[-800:]))
        rep = json.loads((work / "report.json").read_text()) if (work / "report.json").exists() else {}
        c = rep.get("runtime", {}).get("incidents", {})
        ids = [email.message_from_bytes(b)["Message-ID"] for _, b in relay.received]
        check("every requested e-mail arrived, none twice",
              ids and len(set(ids)) == len(ids) == c.get("messages_queued") == c.get("messages_sent")
              and all(n["sent"] for i in rep["incidents"] for n in i["notifications"]), (ids, c))
    finally:
        if daemon and daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        relay.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--safeguard", default=str(ROOT / "build" / "app" / "safeguard" / "safeguard"))
    ap.add_argument("--safeguardctl", default=str(ROOT / "build" / "app" / "safeguardctl" / "safeguardctl"))
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args()
    base = tempfile.mkdtemp(prefix="sg-diskfull-")
    disk = Tmpfs(Path(base) / "disk")
    try:
        mounted, why = disk.mount()
        if not mounted:
            print(f"SKIP: cannot mount a tmpfs ({why or 'not permitted'}): the disk-full scenarios need root")
            return check.summary("disk full")
        caps = Path(base) / "captures"
        subprocess.run([sys.executable, str(ROOT / "test" / "incident" / "gen_workflow.py"), str(caps)], check=True)
        for scenario in (scenario_start, scenario_full_to_the_end, scenario_recovery):
            try:
                scenario(base, args.safeguard, caps, disk)
            except Exception as e:  # a crashed scenario is one failure, the others still run
                check(f"{scenario.__name__} ran", False, repr(e))
            finally:
                disk.free()
        try:
            scenario_live(base, args.safeguard, args.safeguardctl, caps, disk)
        except Exception as e:
            check("scenario_live ran", False, repr(e))
        finally:
            disk.free()
    finally:
        if args.keep and disk.mounted:
            shutil.copytree(disk.path, Path(base) / "disk-copy", ignore=shutil.ignore_patterns("filler"))
        disk.umount()
        if args.keep:
            print(f"work folder: {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    return check.summary("disk full")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Pcap cases: captures in, the real `safeguard` out, compared with what a
case expects (the Zeek btest / suricata-verify idea).

    test/pcap/run_cases.py --safeguard build/app/safeguard/safeguard [--filter TEXT] [CASE_DIR ...]

Each folder under test/pcap/cases/ holds a case.yaml:

    description: what the case shows
    inputs: [../shared/corpus/pcaps/benign/zeek-web.pcap, gen:tunnels]
                            # paths relative to the repository root; gen:NAME is a
                            # capture made by scripts/gen-pcaps.py for this run;
                            # bulk:KIND:N is N packets from scripts/gen-bulk-pcap.py;
                            # threshold:NAME is made by scripts/gen-threshold-pcaps.py;
                            # attack:NAME by scripts/gen-attack-pcaps.py (all of
                            # them once per run, into {gen}/attack/)
    each: ../shared/corpus/pcaps/benign/*   # instead of inputs: one sub-case per file
    args: [--protect, "web=10.1.0.0/16"]     # more arguments for `safeguard replay`
    config: config.yaml     # a file in the case folder ({tmp}, {root}, {gen}, {case} are filled in;
                            # {case} is the case folder, also in args)
    workers: [1, 2]         # run once per count: the reports (less "runtime") must be identical
    exit: 0                 # expected exit code
    stderr: [text, ...]     # substrings the error output must contain
    capinfos: true          # report.packets must equal `capinfos -c` over the inputs
    expect: {...}           # a subset of the JSON report (maps by key, lists element by
                            # element; an empty map must be empty)

    setup: {rules.rules: v1.rules}          # copy case files into the run's {tmp} first
    during: [{when: "rules: 1 accepted", after: 0.3, copy: {rules.rules: v2.rules}, signal: HUP}]
                            # while the replay runs: once a log line appears (when), wait
                            # (after, seconds), replace files, send signals
    assert: ["alerts[1] + alerts[2] == report['packets']"]
                            # Python expressions over `report` and `alerts` (sid -> count)

    mode: run               # appliance mode instead of replay: `safeguard run --config`
    stop_after: 3           #   seconds until SIGTERM
    tx: {file: out.pcap, packets: 24}   # inline: what the peer port wrote

A case whose inputs are under ../shared/corpus is skipped, with a message,
when the corpus is absent (a user's clone has none).
"""

import argparse
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "test" / "pcap" / "cases"


class Skip(Exception):
    pass


class Fail(Exception):
    pass


def capinfos_count(path):
    out = subprocess.run(["capinfos", "-c", "-M", str(path)], capture_output=True, text=True)
    m = re.search(r"Number of packets:\s+(\d+)", out.stdout)
    if not m:
        raise Fail(f"capinfos could not count {path}: {out.stderr.strip()}")
    return int(m.group(1))


def subset_diff(expected, actual, path="report"):
    """Where `actual` does not contain `expected`: a list of messages."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {json.dumps(actual)}"]
        # An empty object means "nothing here" (e.g. anomalies: {}), not "anything".
        if not expected and actual:
            return [f"{path}: expected nothing, got {json.dumps(actual)}"]
        out = []
        for k, v in expected.items():
            if k not in actual:
                out.append(f"{path}.{k}: missing")
            else:
                out += subset_diff(v, actual[k], f"{path}.{k}")
        return out
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        out = []
        for i, (e, a) in enumerate(zip(expected, actual)):
            out += subset_diff(e, a, f"{path}[{i}]")
        return out
    if expected != actual:
        return [f"{path}: expected {json.dumps(expected)}, got {json.dumps(actual)}"]
    return []


def without_runtime(report):
    return {k: v for k, v in report.items() if k != "runtime"}


class Runner:
    def __init__(self, safeguard, workdir):
        self.safeguard = safeguard
        self.workdir = Path(workdir)
        self.gen_dir = self.workdir / "gen"
        self.generated = False
        self.attacks_generated = False

    def resolve(self, item):
        if item.startswith("gen:"):
            if not self.generated:
                subprocess.run(["/usr/bin/python3", str(ROOT / "scripts" / "gen-pcaps.py"), str(self.gen_dir)],
                               check=True, capture_output=True)
                self.generated = True
            return self.gen_dir / f"{item[4:]}.pcap"
        if item.startswith("attack:"):
            out = self.gen_dir / "attack" / f"{item[7:]}.pcap"
            if not self.attacks_generated:
                subprocess.run(["/usr/bin/python3", str(ROOT / "scripts" / "gen-attack-pcaps.py"), str(out.parent)],
                               check=True, capture_output=True)
                self.attacks_generated = True
            return out  # an unknown NAME fails at the replay: no such file
        if item.startswith("threshold:"):
            out = self.gen_dir / f"{item[10:]}.pcap"
            if not out.exists():
                subprocess.run(["/usr/bin/python3", str(ROOT / "scripts" / "gen-threshold-pcaps.py"),
                                str(self.gen_dir), item[10:]], check=True, capture_output=True)
            return out
        if item.startswith("bulk:"):
            # bulk:KIND:PACKETS, written by scripts/gen-bulk-pcap.py (once per run)
            _, kind, packets = item.split(":")
            out = self.gen_dir / f"bulk-{kind}-{packets}.pcap"
            if not out.exists():
                self.gen_dir.mkdir(parents=True, exist_ok=True)
                subprocess.run(["/usr/bin/python3", str(ROOT / "scripts" / "gen-bulk-pcap.py"), kind, str(out),
                                "--packets", packets], check=True, capture_output=True)
            return out
        path = (ROOT / item).resolve() if not os.path.isabs(item) else Path(item)
        if "shared/corpus" in item and not (ROOT / "../shared/corpus").exists():
            raise Skip("../shared/corpus is absent (it ships with the developers' checkout, not the repository)")
        return path

    def fill(self, text, tmp, case_dir=None):
        text = (text.replace("{tmp}", str(tmp)).replace("{root}", str(ROOT))
                .replace("{gen}", str(self.gen_dir)))
        return text.replace("{case}", str(case_dir)) if case_dir is not None else text

    def replay(self, case_dir, spec, inputs, workers, tmp):
        report = tmp / f"report-{workers}.json"
        cmd = [self.safeguard, "replay", "--workers", str(workers), "--report", str(report)]
        if "config" in spec:
            cfg = tmp / "config.yaml"
            cfg.write_text(self.fill((case_dir / spec["config"]).read_text(), tmp, case_dir))
            cmd += ["--config", str(cfg)]
        cmd += [self.fill(str(a), tmp, case_dir) for a in spec.get("args", [])]
        cmd += [str(p) for p in inputs]
        for dst, src in spec.get("setup", {}).items():
            shutil.copyfile(case_dir / src, tmp / dst)
        if "during" not in spec:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=300), report
        # Steps while the replay runs: wait for a line of its log, replace a
        # file, send a signal.
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        err_lines = []
        reader = threading.Thread(target=lambda: err_lines.extend(iter(proc.stderr.readline, "")), daemon=True)
        reader.start()
        for step in spec["during"]:
            deadline = time.time() + 60
            while step.get("when") and not any(step["when"] in line for line in err_lines):
                if time.time() > deadline or proc.poll() is not None:
                    break
                time.sleep(0.01)
            time.sleep(step.get("after", 0))
            for dst, src in step.get("copy", {}).items():
                shutil.copyfile(case_dir / src, tmp / dst)
            if "signal" in step and proc.poll() is None:
                proc.send_signal(getattr(signal, "SIG" + step["signal"]))
        out = proc.stdout.read()
        proc.wait(timeout=300)
        reader.join(timeout=10)
        return subprocess.CompletedProcess(cmd, proc.returncode, out, "".join(err_lines)), report

    def check_exit_and_stderr(self, spec, proc):
        want = spec.get("exit", 0)
        if proc.returncode != want:
            raise Fail(f"exit {proc.returncode}, expected {want}; stderr: {proc.stderr.strip()[-500:]}")
        for text in spec.get("stderr", []):
            if text not in proc.stderr:
                raise Fail(f"stderr lacks '{text}': {proc.stderr.strip()[-500:]}")

    def run_replay_case(self, case_dir, spec, inputs, tmp):
        reports = {}
        for workers in spec.get("workers", [1]):
            proc, report_path = self.replay(case_dir, spec, inputs, workers, tmp)
            self.check_exit_and_stderr(spec, proc)
            if spec.get("exit", 0) != 0:
                continue
            report = json.loads(report_path.read_text())
            reports[workers] = report
            if spec.get("capinfos"):
                want = sum(capinfos_count(p) for p in inputs)
                if report["packets"] != want:
                    raise Fail(f"{workers} worker(s): packets {report['packets']}, capinfos -c says {want}")
            problems = subset_diff(spec["expect"], report) if "expect" in spec else []
            for expr in spec.get("assert", []):
                if not eval(expr, {}, {"report": report, "alerts": {a["sid"]: a["count"] for a in report["alerts"]}}):
                    problems.append(f"assert {expr} does not hold")
            if problems:
                raise Fail(f"{workers} worker(s): " + "; ".join(problems[:5]))
        counts = sorted(reports)
        for w in counts[1:]:
            if without_runtime(reports[w]) != without_runtime(reports[counts[0]]):
                a, b = without_runtime(reports[counts[0]]), without_runtime(reports[w])
                keys = [k for k in set(a) | set(b) if a.get(k) != b.get(k)]
                raise Fail(f"report with {w} workers differs from {counts[0]} worker(s) in: {', '.join(sorted(keys))}")

    def run_appliance_case(self, case_dir, spec, tmp):
        cfg = tmp / "config.yaml"
        cfg.write_text(self.fill((case_dir / spec["config"]).read_text(), tmp, case_dir))
        report = tmp / "report.json"
        cmd = [self.safeguard, "run", "--config", str(cfg), "--report", str(report)]
        cmd += [self.fill(str(a), tmp, case_dir) for a in spec.get("args", [])]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            # Wait for the daemon to say it runs, then give the capture time to flow.
            deadline = time.time() + 60
            line = ""
            while time.time() < deadline:
                line = proc.stderr.readline()
                if not line or "running:" in line:
                    break
            if "running:" not in line:
                proc.kill()
                out, err = proc.communicate()
                raise Fail(f"daemon did not start: {line}{err.strip()[-500:]}")
            time.sleep(spec.get("stop_after", 3))
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise Fail("daemon did not stop within 60 s of SIGTERM")
        if proc.returncode != spec.get("exit", 0):
            raise Fail(f"exit {proc.returncode}; stderr: {err.strip()[-500:]}")
        rep = json.loads(report.read_text())
        problems = subset_diff(spec["expect"], rep) if "expect" in spec else []
        if problems:
            raise Fail("; ".join(problems[:5]))
        if "tx" in spec:
            out_pcap = tmp / spec["tx"]["file"]
            got = capinfos_count(out_pcap)
            if got != spec["tx"]["packets"]:
                raise Fail(f"{out_pcap.name}: {got} packets forwarded, expected {spec['tx']['packets']}")

    def run_case(self, case_dir, spec, inputs, name):
        with tempfile.TemporaryDirectory(dir=self.workdir) as t:
            tmp = Path(t)
            if spec.get("mode") == "run":
                self.resolve("gen:demo")  # appliance configs may point at generated captures
                self.run_appliance_case(case_dir, spec, tmp)
            else:
                self.run_replay_case(case_dir, spec, inputs, tmp)

    def cases(self, case_dir):
        """(name, inputs) for each sub-case of a case folder."""
        spec = yaml.safe_load((case_dir / "case.yaml").read_text())
        if "each" in spec:
            pattern = spec["each"]
            if "shared/corpus" in pattern and not (ROOT / "../shared/corpus").exists():
                yield case_dir.name, spec, None, Skip("../shared/corpus is absent")
                return
            files = sorted(glob.glob(str(ROOT / pattern)))
            if not files:
                yield case_dir.name, spec, None, Fail(f"'each: {pattern}' matched no file")
            for f in files:
                yield f"{case_dir.name}/{Path(f).name}", spec, [Path(f)], None
        else:
            try:
                inputs = [self.resolve(i) for i in spec.get("inputs", [])]
                yield case_dir.name, spec, inputs, None
            except Skip as s:
                yield case_dir.name, spec, None, s


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--safeguard", required=True)
    ap.add_argument("--filter", default="")
    ap.add_argument("dirs", nargs="*")
    args = ap.parse_args()

    dirs = [Path(d) for d in args.dirs] or sorted(p.parent for p in CASES.glob("*/case.yaml"))
    passed = failed = skipped = 0
    with tempfile.TemporaryDirectory(prefix="sg-cases-") as work:
        runner = Runner(os.path.abspath(args.safeguard), work)
        for case_dir in dirs:
            for name, spec, inputs, early in runner.cases(case_dir):
                if args.filter not in name:
                    continue
                t0 = time.time()
                try:
                    if early:
                        raise early
                    runner.run_case(case_dir, spec, inputs, name)
                    passed += 1
                    print(f"PASS {name} ({time.time() - t0:.1f}s)", flush=True)
                except Skip as s:
                    skipped += 1
                    print(f"SKIP {name}: {s}", flush=True)
                except (Fail, subprocess.SubprocessError, OSError, json.JSONDecodeError, KeyError) as e:
                    failed += 1
                    print(f"FAIL {name}: {e}", flush=True)
    print(f"pcap cases: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

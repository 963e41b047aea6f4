#!/usr/bin/python3
"""The analyst's ground truth: every visible corpus capture replayed and its
attributions compared with ../shared/corpus/truth-visible.json.

    test/pcap/run_truth.py --safeguard build/app/safeguard/safeguard [--filter TEXT] [--verbose]

Per capture (../shared/corpus/pcaps/<category>/<file>):

  protect   each deployment of the entry's `protect` list is declared, with
            `--protect NAME=P1,P2` or, past 4 prefixes in all, a config file
            with `deployments:`.
  rules     rules/safeguard.rules and ../shared/corpus/rules/et-open-plain-strict.rules;
            when an `expect` entry has coverage `et-full`, every *.rules file of
            the full ET Open folder instead of the strict file (the strict file
            is a subset of it, and a sid given twice is refused).
  workers   replayed with 1 and with 2 workers: the attributions must be identical.

An attribution matches an `expect` or `optional` entry when:
  type       equal;
  direction  equal;
  source     entry null: anything (a spoofed source is null, but naming one is
             no error); a string: source.ip equal; a list: source.ip one of them;
  target     the same rule on target.ip;
  service    equal, when the entry gives one;
  class      for `signature`: the attribution's `class` is the entry's `class` or
             one of `class_alt`, when both sides carry a class;
  swapped    for `signature` only, source and target may be exchanged (with
             inbound <-> outbound), since a rule may fire on the victim's reply;
  min_count  the evidence field that counts for the type, summed over every
             attribution matching the entry (an attack reported in two windows
             still counts whole), must be >= min_count:
               bruteforce                      attempts
               port_scan                       distinct_ports
               sweep, spam                     distinct_targets
               syn_flood, udp_flood, icmp_flood, fragment_flood,
               amplification, reflector        packets
               signature                       (no count)
             Distinct counts are HyperLogLog estimates (512 registers,
             standard error 4.6 %, docs/detection.md): they pass within three
             standard errors below min_count.
`port` and `proto` of an entry are not compared: the attribution's port means
the reflection source port for amplification but the target's port elsewhere.

A capture passes when every `expect` entry is matched, every attribution
matches an `expect` or `optional` entry, and a `benign` capture (or one with
neither) has no attribution at all. The last line reads
"truth: N passed, N failed, N skipped"; the exit status is 1 on any failure.
Without ../shared/corpus (a user's clone) every capture is skipped.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / ".." / "shared" / "corpus"
TRUTH = CORPUS / "truth-visible.json"
STRICT_RULES = CORPUS / "rules" / "et-open-plain-strict.rules"
FULL_RULES = CORPUS / "rules" / "et-open-suricata-5.0-enhanced-2024-04-21"
OWN_RULES = ROOT / "rules" / "safeguard.rules"

COUNT_FIELD = {
    "bruteforce": "attempts",
    "port_scan": "distinct_ports",
    "sweep": "distinct_targets",
    "spam": "distinct_targets",
    "syn_flood": "packets",
    "udp_flood": "packets",
    "icmp_flood": "packets",
    "fragment_flood": "packets",
    "amplification": "packets",
    "reflector": "packets",
}

# Fields estimated by a HyperLogLog of 2^9 registers (lib/detect/summary.hpp):
# accepted down to three standard errors (3 x 1.04 / sqrt(512)) below min_count.
SKETCH_TOLERANCE = {"distinct_ports": 3 * 1.04 / 512 ** 0.5, "distinct_targets": 3 * 1.04 / 512 ** 0.5}
MIRROR = {"inbound": "outbound", "outbound": "inbound"}
PROTECT_ARGS_MAX = 4  # prefixes in all; past it, a config file


def ip_matches(want, got):
    if want is None:
        return True
    if isinstance(want, list):
        return got in want
    return got == want


def endpoint_ip(attr, side):
    ep = attr.get(side)
    return ep.get("ip") if isinstance(ep, dict) else None


def matches(entry, attr):
    if attr.get("type") != entry["type"]:
        return False
    if "service" in entry and attr.get("service") != entry["service"]:
        return False
    if entry["type"] == "signature" and "class" in entry and attr.get("class") is not None:
        if attr["class"] not in [entry["class"]] + entry.get("class_alt", []):
            return False
    src, dst = endpoint_ip(attr, "source"), endpoint_ip(attr, "target")
    if (attr.get("direction") == entry["direction"] and ip_matches(entry.get("source"), src)
            and ip_matches(entry.get("target"), dst)):
        return True
    if entry["type"] == "signature":
        mirrored = MIRROR.get(entry["direction"], entry["direction"])
        return (attr.get("direction") == mirrored and ip_matches(entry.get("source"), dst)
                and ip_matches(entry.get("target"), src))
    return False


def describe(entry):
    keys = ("type", "direction", "source", "target", "service", "min_count")
    return "{" + ", ".join(f"{k}: {json.dumps(entry[k])}" for k in keys if k in entry) + "}"


def brief(attr):
    return (f"{{type: {attr.get('type')}, direction: {attr.get('direction')}, source: {endpoint_ip(attr, 'source')}, "
            f"target: {endpoint_ip(attr, 'target')}, service: {attr.get('service')}, evidence: "
            f"{json.dumps(attr.get('evidence', {}), sort_keys=True)}}}")


def judge(entry_spec, attributions):
    """Problems (strings) of one capture's attributions against its truth entry."""
    problems = []
    expect, optional = entry_spec.get("expect", []), entry_spec.get("optional", [])
    if entry_spec.get("benign") or (not expect and not optional):
        for a in attributions:
            problems.append(f"unexpected attribution {brief(a)} ({'benign capture' if entry_spec.get('benign') else 'nothing expected'})")
        return problems
    for e in expect:
        hits = [a for a in attributions if matches(e, a)]
        if not hits:
            problems.append(f"missing {describe(e)}")
            continue
        if "min_count" in e and e["type"] in COUNT_FIELD:
            field = COUNT_FIELD[e["type"]]
            total = sum(a.get("evidence", {}).get(field, 0) or 0 for a in hits)
            if total < e["min_count"] * (1 - SKETCH_TOLERANCE.get(field, 0)):
                problems.append(f"{describe(e)}: evidence.{field} {total} < min_count {e['min_count']}")
    for a in attributions:
        if not any(matches(e, a) for e in expect + optional):
            problems.append(f"unexpected attribution {brief(a)}")
    return problems


class Runner:
    def __init__(self, safeguard, work, verbose):
        self.safeguard, self.work, self.verbose = safeguard, Path(work), verbose

    def command(self, entry, capture, workers, report, tmp):
        cmd = [self.safeguard, "replay", "--workers", str(workers), "--report", str(report)]
        protect = entry.get("protect", [])
        if sum(len(d["prefixes"]) for d in protect) > PROTECT_ARGS_MAX:
            cfg = tmp / "config.yaml"
            lines = ["deployments:"]
            for d in protect:
                lines += [f"  - name: {json.dumps(d['name'])}", "    prefixes:"]
                lines += [f"      - {json.dumps(p)}" for p in d["prefixes"]]
            cfg.write_text("\n".join(lines) + "\n")
            cmd += ["--config", str(cfg)]
        else:
            for d in protect:
                cmd += ["--protect", f"{d['name']}={','.join(d['prefixes'])}"]
        cmd += ["--rules", str(OWN_RULES)]
        if any(e.get("coverage") == "et-full" for e in entry.get("expect", [])):
            for f in sorted(FULL_RULES.glob("*.rules")):
                cmd += ["--rules", str(f)]
        else:
            cmd += ["--rules", str(STRICT_RULES)]
        return cmd + [str(capture)]

    def run(self, entry, capture):
        """Attributions of the 1-worker replay; raises on any error or a difference between worker counts."""
        with tempfile.TemporaryDirectory(dir=self.work) as t:
            tmp = Path(t)
            results = {}
            for workers in (1, 2):
                report = tmp / f"report-{workers}.json"
                cmd = self.command(entry, capture, workers, report, tmp)
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
                if proc.returncode != 0:
                    raise RuntimeError(f"{workers} worker(s): exit {proc.returncode}: {proc.stderr.strip()[-400:]}")
                results[workers] = json.loads(report.read_text()).get("attributions")
                if results[workers] is None:
                    raise RuntimeError("the report has no 'attributions'")
            if results[1] != results[2]:
                raise RuntimeError("attributions with 2 workers differ from 1 worker: "
                                   f"{len(results[1])} vs {len(results[2])} entries")
            return results[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--safeguard", required=True)
    ap.add_argument("--filter", default="", help="only captures whose file name contains TEXT")
    ap.add_argument("--verbose", action="store_true", help="print every capture's attributions")
    args = ap.parse_args()

    if not TRUTH.exists():
        print(f"SKIP truth: {TRUTH.resolve() if CORPUS.exists() else CORPUS} is absent "
              "(the corpus ships with the developers' checkout, not the repository)")
        print("truth: 0 passed, 0 failed, 1 skipped")
        return 0
    entries = json.loads(TRUTH.read_text())
    passed = failed = skipped = 0
    with tempfile.TemporaryDirectory(prefix="sg-truth-") as work:
        runner = Runner(os.path.abspath(args.safeguard), work, args.verbose)
        for entry in entries:
            name = f"{entry['category']}/{entry['file']}"
            if args.filter not in name:
                continue
            capture = CORPUS / "pcaps" / entry["category"] / entry["file"]
            if not capture.exists():
                skipped += 1
                print(f"SKIP {name}: capture absent", flush=True)
                continue
            t0 = time.time()
            try:
                attributions = runner.run(entry, capture)
                problems = judge(entry, attributions)
            except (RuntimeError, OSError, subprocess.SubprocessError, json.JSONDecodeError) as e:
                attributions, problems = [], [str(e)]
            if args.verbose:
                for a in attributions:
                    print(f"     {brief(a)}")
            if problems:
                failed += 1
                print(f"FAIL {name}: " + "; ".join(problems[:4]) + (f"; ... {len(problems) - 4} more" if len(problems) > 4 else ""),
                      flush=True)
            else:
                passed += 1
                what = "benign, quiet" if entry.get("benign") else f"{len(entry.get('expect', []))} expected, {len(attributions)} reported"
                print(f"PASS {name} ({what}, {time.time() - t0:.1f}s)", flush=True)
    print(f"truth: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

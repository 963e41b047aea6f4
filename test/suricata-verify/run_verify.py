#!/usr/bin/python3
"""Suricata-verify tests run against Safeguard's signature engine.

    test/suricata-verify/run_verify.py --safeguard build/app/safeguard/safeguard
                                       [--filter TEXT] [--verbose]

Each folder of ../shared/corpus/suricata-verify/ (relative to the repository
root) is one upstream suricata-verify test: a test.yaml, a capture and a rules
file. The capture and rules go through `safeguard replay --eve --report`, and
the test.yaml checks are evaluated on the eve.json lines Safeguard wrote, with
the upstream runner's semantics (OISF/suricata-verify run.py):

  filter   count the eve lines that match every `match` entry and compare with
           `count` (or the bounds `lt` / `gt`). Keys are dotted paths into the
           event (alert.signature_id, smtp.rcpt_to[0]); a value that is a map or
           a list must equal the whole object; has-key / not-has-key test
           presence; suffixes __len, __find, __contains, __startswith and
           __endswith as upstream. A filter may carry its own min-version,
           lt-version, gt-version, version, feature or requires.
  shell, file-compare, stats
           read Suricata's own files (fast.log, stats): not applicable to
           Safeguard; such a check is counted "not applicable", not failed.

Suricata's --simulate-ips becomes Safeguard's --simulate-ips; a test whose
suricata.yaml turns on the alert `packet` field gets --eve-packet.

Version gates (requires: min-version / lt-version / gt-version / version) see
Safeguard as the newest Suricata 7 release (SURICATA_COMPAT), except for the
tests of NEWER_FEATURES_SUPPORTED: features of Suricata 8 or 9 that Safeguard
implements (track by_flow, unique_on), whose min-version is not a reason to
skip. A filter on one of Suricata's internal counters (SURICATA_INTERNAL_STATS)
is "not applicable", with the reason printed. Tests named in
test/suricata-verify/skip.yaml are skipped with the feature Safeguard lacks.

Per test the runner prints PASS, FAIL (the first check that did not hold:
expected against got) or SKIP (why), then one line
"suricata-verify: N passed, N failed, N skipped"; exit status 1 on any failure.
"""

import argparse
import glob
import json
import math
import os
import platform
import re
import shlex
import shutil
import string
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "suricata-verify"
SKIP_FILE = HERE / "skip.yaml"
NOT_YET_FILE = HERE / "not-yet.yaml"
MAX_SKIPS = 3           # the issue allows no more than this many skipped tests
TIMEOUT_S = 300         # one safeguard run
EVE_LINES_SHOWN = 100   # --verbose: eve lines printed for a failed test

# The Suricata version whose rule language and eve output Safeguard follows.
# "7" alone means the newest 7 release: min-version 7.0.12 is satisfied,
# min-version 8 and lt-version 7.0.5 are not.
SURICATA_COMPAT = "7"

# Tests gated on a newer Suricata (requires: min-version 8 or 9) whose feature
# Safeguard implements: they run despite the gate. Each names the feature,
# so the list says why the gate is lifted. A gated test that is not listed
# stays skipped. The threshold-config *-flow tests also expect an
# event_type http transaction (lib/http logs it).
NEWER_FEATURES_SUPPORTED = {
    "detection_filter-distinct-dstport": "detection_filter unique_on dst_port (Suricata 9)",
    "detection_filter-distinct-srcport": "detection_filter unique_on src_port (Suricata 9)",
    "threshold__detection_filter-rule-flow": "detection_filter track by_flow (Suricata 8)",
    "threshold__threshold-rule-flow": "threshold track by_flow (Suricata 8)",
    "threshold__threshold-config-threshold-limit-flow":
        "threshold.config threshold type limit, track by_flow (Suricata 8)",
    "threshold__threshold-config-threshold-threshold-flow":
        "threshold.config threshold type threshold, track by_flow (Suricata 8)",
}

# Gated tests left skipped although their own feature works: why, printed
# with the skip.
NEWER_FEATURES_BLOCKED = {}

# Suricata's internal engine counters in its eve stats event, which say how
# Suricata itself stored state, not what it detected; a filter matching on
# one of these keys is not applicable to Safeguard.
SURICATA_INTERNAL_STATS = {
    "stats.detect.thresholds.bitmap_alloc_fail":
        "Suricata's unique_on bitmap allocation counter (its own memory layout)",
    "stats.detect.thresholds.bitmap_memuse":
        "Suricata's unique_on bitmap memory use (its own memory layout)",
}

# Check types that read Suricata's own output files rather than eve.json.
NOT_APPLICABLE_CHECKS = {
    "shell": "shell check (reads Suricata's files, e.g. fast.log)",
    "file-compare": "file-compare check (compares Suricata's output files)",
    "stats": "stats check (Suricata engine counters)",
}


class Skip(Exception):
    """The test (or one check) does not apply to Safeguard."""


class Fail(Exception):
    """The test ran and did not hold; the message says expected against got."""


# ---------------------------------------------------------------- versions

def parse_version(text, wildcard):
    """'7.0.5' -> (7, 0, 5). Missing parts are `wildcard` (0 in comparisons,
    None for equality, math.inf for Safeguard's own "newest 7 release")."""
    m = re.match(r"\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?", str(text))
    if not m:
        raise Fail(f"test.yaml: cannot read version {text!r}")
    return tuple(int(g) if g is not None else wildcard for g in m.groups())


COMPAT = parse_version(SURICATA_COMPAT, math.inf)


def version_gate(key, value):
    """Raise Skip unless Safeguard's Suricata version satisfies key: value."""
    if key == "version":
        # Equal where both say something; "newest 7" equals any 7.x.y.
        want = parse_version(value, None)
        if not all(w is None or c == math.inf or c == w for c, w in zip(COMPAT, want)):
            raise Skip(f"only for Suricata {value} (Safeguard follows Suricata {SURICATA_COMPAT})")
        return
    want = parse_version(value, 0)
    ok = {"min-version": COMPAT >= want, "lt-version": COMPAT < want, "gt-version": COMPAT > want}[key]
    if not ok:
        words = {"min-version": "at least", "lt-version": "less than", "gt-version": "greater than"}[key]
        raise Skip(f"requires Suricata {words} {value} (Safeguard follows Suricata {SURICATA_COMPAT})")


def check_requires(requires, test_dir, newer_feature=None):
    """The test.yaml `requires` map (also a filter's): raise Skip when unmet.
    `newer_feature`: the test is in NEWER_FEATURES_SUPPORTED, so a minimum
    version above SURICATA_COMPAT does not skip it."""
    for key, value in (requires or {}).items():
        if key == "min-version" and newer_feature:
            continue
        if key in ("min-version", "lt-version", "gt-version", "version"):
            version_gate(key, value)
        elif key == "features":
            # Suricata build features (HAVE_LUA, HAVE_NSS, ...): Safeguard has none.
            raise Skip(f"requires Suricata build feature(s) {', '.join(map(str, value))}")
        elif key == "env":
            for name in value:
                if name not in os.environ:
                    raise Skip(f"requires environment variable {name}")
        elif key == "files":
            for name in value:
                if not (test_dir / name).exists():
                    raise Skip(f"requires file {name}")
        elif key == "os":
            if not platform.system().lower().startswith(str(value).lower()):
                raise Skip(f"only for OS {value}")
        elif key == "arch":
            if not platform.machine().lower().startswith(str(value).lower()):
                raise Skip(f"only for architecture {value}")
        elif key == "pcap":
            pass  # handled where the capture is looked up
        elif key in ("script", "lambda"):
            raise Skip(f"requires a {key} that probes Suricata itself")
        else:
            raise Skip(f"unknown requirement {key!r}")


# ---------------------------------------------------------------- checks

MATCH_SUFFIXES = ("__find", "__contains", "__startswith", "__endswith")


def find_value(name, obj):
    """The value at dotted path `name` in an eve event, or None when absent:
    'alert.signature_id', 'smtp.rcpt_to[0]', 'alert.metadata.__len'."""
    for part in name.split("."):
        if part == "__len":
            try:
                return len(obj)
            except TypeError:
                return -1
        if part in MATCH_SUFFIXES:
            break
        m = re.match(r"^(.*)\[(\d+)\]$", part)
        key, index = (m.group(1), int(m.group(2))) if m else (part, None)
        if not isinstance(obj, dict) or key not in obj:
            return None
        obj = obj[key]
        if index is not None:
            try:
                obj = obj[index]
            except (IndexError, KeyError, TypeError):
                return None
    return obj


def entry_matches(key, expected, event):
    if key == "has-key":
        return find_value(expected, event) is not None
    if key == "not-has-key":
        return find_value(expected, event) is None
    val = find_value(key, event)
    for suffix in MATCH_SUFFIXES:
        if key.endswith(suffix):
            if not isinstance(val, (str, list, dict)):
                return False
            if suffix == "__find":
                return isinstance(val, str) and val.find(expected) >= 0
            if suffix == "__contains":
                return expected in val
            if suffix == "__startswith":
                return isinstance(val, str) and val.startswith(expected)
            return isinstance(val, str) and val.endswith(expected)
    return val == expected


def event_matches(match, event):
    return all(entry_matches(k, v, event) for k, v in match.items())


def describe_match(match):
    return "{" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in match.items()) + "}"


def run_filter(check, events, test_dir):
    """Raise Skip if the filter is gated off, Fail if its count does not hold."""
    requires = dict(check.get("requires") or {})
    for key in ("min-version", "lt-version", "gt-version", "version"):
        if key in check:
            requires[key] = check[key]
    if "feature" in check:
        requires["features"] = [check["feature"]]
    check_requires(requires, test_dir)
    filename = check.get("filename", "eve.json")
    if filename != "eve.json":
        raise Skip(f"filter on {filename} (Safeguard writes only eve.json)")
    match = check.get("match") or {}
    internal = [k for k in match if k in SURICATA_INTERNAL_STATS]
    if internal:
        raise Skip("filter on " + ", ".join(f"{k} ({SURICATA_INTERNAL_STATS[k]})" for k in internal))
    got = sum(1 for ev in events if event_matches(match, ev))
    what = check.get("comment") or describe_match(match)
    if "count" in check:
        if got != check["count"]:
            raise Fail(f"filter {what}: expected count {check['count']}, got {got}")
    elif "lt" in check or "gt" in check:
        if "lt" in check and not got < check["lt"]:
            raise Fail(f"filter {what}: expected count < {check['lt']}, got {got}")
        if "gt" in check and not got > check["gt"]:
            raise Fail(f"filter {what}: expected count > {check['gt']}, got {got}")
    else:
        raise Fail(f"filter {what}: has no count")


def run_checks(checks, events, test_dir):
    """Returns (passed, [not applicable reasons]); raises Fail on the first
    check that does not hold."""
    passed, not_applicable = 0, []
    for number, check in enumerate(checks or [], 1):
        if not isinstance(check, dict):
            raise Fail(f"check #{number}: not a map in test.yaml")
        for kind, body in check.items():
            if kind in NOT_APPLICABLE_CHECKS:
                not_applicable.append(f"#{number} {NOT_APPLICABLE_CHECKS[kind]}")
            elif kind == "filter":
                try:
                    run_filter(body or {}, events, test_dir)
                    passed += 1
                except Skip as why:
                    not_applicable.append(f"#{number} {why}")
                except Fail as why:
                    raise Fail(f"check #{number} {why}") from None
            else:
                raise Fail(f"check #{number}: unknown check type {kind!r}")
    return passed, not_applicable


# ---------------------------------------------------------------- one test

def load_skip_list(names):
    """skip.yaml: {skip: [{test: NAME, feature: TEXT}, ...]} -> {NAME: TEXT}."""
    if not SKIP_FILE.exists():
        return {}
    doc = yaml.safe_load(SKIP_FILE.read_text()) or {}
    entries = doc.get("skip") or []
    out, problems = {}, []
    for e in entries:
        if not isinstance(e, dict) or not e.get("test") or not e.get("feature"):
            problems.append(f"entry {e!r} needs 'test' and 'feature'")
            continue
        if names is not None and e["test"] not in names:
            problems.append(f"no test named {e['test']!r} in the corpus")
        out[e["test"]] = e["feature"]
    if len(out) > MAX_SKIPS:
        problems.append(f"{len(out)} tests skipped; at most {MAX_SKIPS} are allowed")
    if problems:
        raise ValueError("; ".join(problems))
    return out


def load_not_yet(names):
    """not-yet.yaml: {not_yet: [{test: NAME, feature: TEXT}, ...]} -> {NAME: TEXT}."""
    if not NOT_YET_FILE.exists():
        return {}
    doc = yaml.safe_load(NOT_YET_FILE.read_text()) or {}
    out = {}
    for e in doc.get("not_yet") or []:
        if not isinstance(e, dict) or not e.get("test") or not e.get("feature"):
            raise ValueError(f"not-yet.yaml: entry {e!r} needs 'test' and 'feature'")
        if names is not None and e["test"] not in names:
            raise ValueError(f"not-yet.yaml: no test named {e['test']!r} in the corpus")
        out[e["test"]] = e["feature"]
    return out


def find_capture(test_dir, cfg):
    if "pcap" in cfg and cfg["pcap"] is False:
        raise Skip("test has no capture (pcap: false)")
    if cfg.get("pcap"):
        path = test_dir / str(cfg["pcap"])
        if not path.exists():
            raise Fail(f"test.yaml names pcap {cfg['pcap']}, which does not exist")
        return path
    found = sorted(glob.glob(str(test_dir / "*.pcap")) + glob.glob(str(test_dir / "*.pcapng")))
    if len(found) > 1:
        raise Fail(f"more than one capture and no pcap: key ({', '.join(Path(f).name for f in found)})")
    if not found:
        if (cfg.get("requires") or {}).get("pcap") is False:
            raise Skip("test has no capture (requires pcap: false)")
        raise Skip("no pcap file found")
    return Path(found[0])


def find_rules(test_dir):
    """The test's rules file (None: the test runs without rules). Upstream takes
    the single *.rules file; test.rules when there are several."""
    rules = sorted(test_dir.glob("*.rules"))
    if any(r.name == "firewall.rules" for r in rules):
        raise Skip("firewall rules (Suricata 8 firewall mode)")
    if len(rules) > 1:
        if (test_dir / "test.rules").exists():
            return test_dir / "test.rules"
        raise Fail(f"more than one rules file ({', '.join(r.name for r in rules)})")
    if not rules:
        return None
    if rules[0].name.startswith("min"):  # upstream: min7.0.0.rules loads only from that version
        try:
            version_gate("min-version", rules[0].name[3:-len(".rules")])
        except Skip:
            return None
    return rules[0]


def default_classification(corpus):
    """Upstream always passes Suricata's etc/classification.config (tests expect
    its categories and priorities); the corpus's ET Open rules carry the same
    table: ../shared/corpus/rules/*/classification.config."""
    found = sorted(corpus.parent.glob("rules/*/classification.config"))
    return found[0] if found else None


def suricata_args(cfg, env):
    """The test.yaml args split like upstream, ${TEST_DIR} filled in."""
    out = []
    for arg in cfg.get("args") or []:
        out += [string.Template(a).safe_substitute(env) for a in re.split(r"\s+", str(arg).strip()) if a]
    return out


# Suricata options with a Safeguard equivalent of the same meaning.
SAME_OPTIONS = {
    "--simulate-ips": "--simulate-ips",   # act as inline: drop rules drop, eve drop events
}


def eve_packet_wanted(test_dir):
    """True when the test's suricata.yaml turns on the alert `packet` field
    (eve-log types: - alert: {packet: yes}); Safeguard's --eve-packet."""
    path = test_dir / "suricata.yaml"
    if not path.exists():
        return False
    try:
        doc = yaml.safe_load(path.read_text().replace("%YAML 1.1", "", 1)) or {}
    except yaml.YAMLError:
        return False
    for output in doc.get("outputs") or []:
        eve = output.get("eve-log") if isinstance(output, dict) else None
        for t in (eve or {}).get("types") or []:
            alert = t.get("alert") if isinstance(t, dict) else None
            if isinstance(alert, dict) and alert.get("packet") in (True, "yes", "on", "true"):
                return True
    return False


def map_args(args, test_dir):
    """Picks what Safeguard understands out of Suricata's command line:
    (threshold file, classification file, [safeguard options], [ignored options])."""
    threshold = classification = None
    ignored, same, i = [], [], 0
    while i < len(args):
        a = args[i]
        value = args[i + 1] if a == "--set" and i + 1 < len(args) else None
        if value is not None and value.startswith("threshold-file="):
            threshold = test_dir / value.split("=", 1)[1]
        elif value is not None and value.startswith("classification-file="):
            classification = test_dir / value.split("=", 1)[1]
        elif value is not None:
            ignored.append(f"--set {value}")
        elif a == "-k" and i + 1 < len(args):
            ignored.append(f"-k {args[i + 1]}")
            i += 1
        elif a in SAME_OPTIONS:
            same.append(SAME_OPTIONS[a])
        else:
            ignored.append(a)
        i += 2 if value is not None else 1
    return threshold, classification, same, ignored


def read_eve(path):
    events = []
    if not path.exists():
        raise Fail("safeguard wrote no eve.json")
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise Fail(f"eve.json line {n} is not JSON ({e.msg}): {line.strip()[:120]}") from None
    return events


class TestRun:
    def __init__(self, test_dir, safeguard, skips, verbose):
        self.dir = test_dir
        self.name = test_dir.name
        self.safeguard = safeguard
        self.skips = skips
        self.verbose = verbose
        self.cmdline = None
        self.outdir = None
        self.notes = []

    def prepare(self):
        if self.name in self.skips:
            raise Skip(f"skip.yaml: Safeguard does not implement {self.skips[self.name]}")
        try:
            cfg = yaml.safe_load((self.dir / "test.yaml").read_text()) or {}
        except (OSError, yaml.YAMLError) as e:
            raise Fail(f"cannot read test.yaml: {e}") from None
        if not isinstance(cfg, dict):
            raise Fail("test.yaml is not a map")
        skip = cfg.get("skip")
        if skip is True:
            raise Skip("test.yaml: skip: true")
        for entry in skip if isinstance(skip, list) else []:
            # feature / config entries skip builds that have them; Safeguard has neither.
            if isinstance(entry, dict) and "uid" in entry and os.getuid() == entry["uid"]:
                raise Skip(entry.get("msg") or f"not for uid {entry['uid']}")
        newer = NEWER_FEATURES_SUPPORTED.get(self.name)
        try:
            check_requires(cfg.get("requires"), self.dir, newer)
        except Skip as why:
            blocked = NEWER_FEATURES_BLOCKED.get(self.name)
            raise Skip(f"{why}; {blocked}" if blocked else str(why)) from None
        if newer:
            self.notes.append(f"runs despite its version gate: Safeguard implements {newer}")
        if "command" in cfg:
            raise Skip("test runs its own command line (command:)")
        for key in ("setup", "pre-check"):
            if key in cfg:
                raise Skip(f"test needs a {key} script")
        return cfg

    def command(self, cfg, outdir, env):
        pcap = find_capture(self.dir, cfg)
        rules = find_rules(self.dir)
        threshold, classification, same, ignored = map_args(suricata_args(cfg, env), self.dir)
        if threshold is None and (self.dir / "threshold.config").exists():
            threshold = self.dir / "threshold.config"
        if classification is None and (self.dir / "classification.config").exists():
            classification = self.dir / "classification.config"
        if classification is None:
            classification = default_classification(self.dir.parent)
        if ignored:
            self.notes.append(f"Suricata options without a Safeguard equivalent: {' '.join(ignored)}")
        if (self.dir / "reference.config").exists():
            self.notes.append("reference.config not passed (references do not change alerts)")
        cmd = [str(self.safeguard), "replay"] + same
        if eve_packet_wanted(self.dir):
            cmd.append("--eve-packet")
        if rules:
            cmd += ["--rules", str(rules)]
        if threshold:
            cmd += ["--threshold-file", str(threshold)]
        if classification:
            cmd += ["--classification", str(classification)]
        cmd += ["--eve", str(outdir / "eve.json"), "--report", str(outdir / "report.json"), str(pcap)]
        return cmd

    def run_once(self, cfg, outdir):
        env = dict(os.environ, TZ="UTC", TEST_DIR=str(self.dir), OUTPUT_DIR=str(outdir))
        cmd = self.command(cfg, outdir, env)
        self.cmdline = shlex.join(cmd)
        try:
            p = subprocess.run(cmd, cwd=self.dir, env=env, capture_output=True, text=True,
                               errors="replace", timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise Fail(f"safeguard did not finish within {TIMEOUT_S} s") from None
        (outdir / "stdout").write_text(p.stdout)
        (outdir / "stderr").write_text(p.stderr)
        want = cfg.get("exit-code", 0)
        if want == 0 and p.returncode != 0:
            tail = " | ".join(l for l in p.stderr.strip().splitlines()[-3:])
            raise Fail(f"safeguard exited {p.returncode}, expected 0: {tail}")
        if want != 0 and p.returncode == 0:
            raise Fail(f"safeguard exited 0, expected a failure (Suricata exits {want})")
        events = read_eve(outdir / "eve.json") if (outdir / "eve.json").exists() or want == 0 else []
        return run_checks(cfg.get("checks"), events, self.dir)

    def run(self):
        """Returns ('PASS' | 'FAIL' | 'SKIP', message)."""
        try:
            cfg = self.prepare()
            passed, not_applicable = 0, []
            for _ in range(int(cfg.get("count", 1))):   # count: run the test that many times
                if self.outdir:
                    remove_tree(self.outdir)
                self.outdir = Path(tempfile.mkdtemp(prefix=f"sv-{self.name}-"))
                passed, not_applicable = self.run_once(cfg, self.outdir)
            remove_tree(self.outdir)
            self.outdir = None
            if cfg.get("checks") and passed == 0:
                raise Skip("no applicable check: " + "; ".join(not_applicable))
            msg = f"{passed} check(s)"
            if self.name in NEWER_FEATURES_SUPPORTED:
                msg += f" (newer-Suricata test: {NEWER_FEATURES_SUPPORTED[self.name]})"
            if not_applicable:
                msg += f", {len(not_applicable)} not applicable: " + "; ".join(not_applicable)
            return "PASS", msg
        except Skip as why:
            if self.outdir:
                remove_tree(self.outdir)
            return "SKIP", str(why)
        except Fail as why:
            return "FAIL", str(why)

    def explain_failure(self):
        if self.cmdline:
            print(f"    command: {self.cmdline}")
        for note in self.notes:
            print(f"    note: {note}")
        if not self.outdir or not self.outdir.exists():
            return
        print(f"    outputs kept in {self.outdir}")
        err = (self.outdir / "stderr").read_text(errors="replace").strip().splitlines() \
            if (self.outdir / "stderr").exists() else []
        for line in err[-10:]:
            print(f"    stderr: {line}")
        eve = self.outdir / "eve.json"
        if eve.exists():
            lines = [l.rstrip("\n") for l in open(eve, errors="replace") if l.strip()]
            print(f"    eve.json: {len(lines)} line(s)")
            for line in lines[:EVE_LINES_SHOWN]:
                print(f"      {line}")
            if len(lines) > EVE_LINES_SHOWN:
                print(f"      ... {len(lines) - EVE_LINES_SHOWN} more in {eve}")


def remove_tree(path):
    shutil.rmtree(path, ignore_errors=True)


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description="Run the suricata-verify corpus against safeguard.")
    ap.add_argument("--safeguard", required=True, help="the safeguard binary")
    ap.add_argument("--filter", default="", help="only tests whose folder name contains TEXT")
    ap.add_argument("--verbose", action="store_true",
                    help="print the command, its error output and the eve lines of failed tests")
    ap.add_argument("--corpus", default=str(CORPUS), help=argparse.SUPPRESS)
    args = ap.parse_args()

    corpus = Path(args.corpus)
    if not corpus.is_dir():
        print(f"SKIP suricata-verify: corpus {corpus} not found")
        print("suricata-verify: 0 passed, 0 failed, 0 skipped")
        return 0
    safeguard = Path(args.safeguard).resolve()
    if not (safeguard.is_file() and os.access(safeguard, os.X_OK)):
        print(f"run_verify: --safeguard {args.safeguard}: not an executable file")
        print("suricata-verify: 0 passed, 1 failed, 0 skipped")
        return 1

    tests = sorted(d for d in corpus.iterdir() if (d / "test.yaml").is_file())
    try:
        skips = load_skip_list({d.name for d in tests})
        not_yet = load_not_yet({d.name for d in tests})
    except (ValueError, yaml.YAMLError) as e:
        print(f"run_verify: {os.path.relpath(SKIP_FILE, ROOT)}: {e}")
        print("suricata-verify: 0 passed, 1 failed, 0 skipped")
        return 1

    totals = {"PASS": 0, "FAIL": 0, "SKIP": 0, "XFAIL": 0}
    for test_dir in tests:
        if args.filter not in test_dir.name:
            continue
        run = TestRun(test_dir, safeguard, skips, args.verbose)
        verdict, msg = run.run()
        if test_dir.name in not_yet:
            if verdict == "FAIL":
                verdict, msg = "XFAIL", f"not yet: {not_yet[test_dir.name]} ({msg})"
            elif verdict == "PASS":
                verdict, msg = "FAIL", "passes now: remove it from not-yet.yaml"
        totals[verdict] += 1
        print(f"{verdict} {test_dir.name}: {msg}", flush=True)
        if verdict == "FAIL" and args.verbose:
            run.explain_failure()
        elif verdict == "FAIL" and run.outdir and run.outdir.exists():
            remove_tree(run.outdir)

    print(f"suricata-verify: {totals['XFAIL']} not yet supported (not-yet.yaml)")
    print(f"suricata-verify: {totals['PASS']} passed, {totals['FAIL']} failed, {totals['SKIP']} skipped")
    return 1 if totals["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())

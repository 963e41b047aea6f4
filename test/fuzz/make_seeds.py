#!/usr/bin/python3
"""Seed corpora for the fuzz targets, made at run time (scripts/fuzz.sh).

    test/fuzz/make_seeds.py OUTDIR [--corpus DIR] [--captures DIR] [TARGET ...]

Writes OUTDIR/<target>/ for each target (default: all):

  packet            frames of every capture in --captures (scripts/gen-pcaps.py
                    output: tunnels, fragments, malformed, Linux cooked...) and of
                    the corpus pcaps: single frames spread over each file and runs
                    of consecutive frames (flows, fragments), in the entry's input
                    format (link type byte, time step byte, [u16 length][frame]...)
  rules, rule_match one rule per file from rules/, test/fuzz/packet.rules and the
                    corpus rule sets, one per distinct set of keywords
  classification    rules/classification.config and the corpus ones
  threshold_config  every threshold.config of the test cases and the corpus
  config            test/pcap/cases/**/config*.yaml (and the shared deployments file
                    there), test/data/*.yaml and the YAML examples in docs/
  thresholds        rules/thresholds.yaml and the test cases' thresholds files
  journal           incident journals written here in the journal's format
                    (lib/incident/journal.hpp): whole, torn, corrupt
  window_decode     small window summaries written here in the fleet codec's format
                    (lib/fleet/window_codec.hpp); the large ones, from real counting,
                    are committed in test/fuzz/seeds/window_decode/

Without the corpus (--corpus absent or missing) its seeds are skipped with a
message; the repository's own files and the generated ones are always used.
Run with Debian's python (/usr/bin/python3): it has scapy.
"""

import argparse
import hashlib
import json
import re
import struct
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGETS = ["packet", "rules", "rule_match", "classification", "threshold_config", "config", "thresholds",
           "journal", "control_request", "window_decode"]

# LinkType values of lib/parse/decode.hpp, by DLT / LINKTYPE number.
LINK_OF_DLT = {1: 0, 12: 1, 14: 1, 101: 1, 228: 2, 229: 3, 113: 4, 276: 5, 0: 6, 108: 7}
FRAME_MAX = 16384          # the worker's contiguous view
SINGLES_PER_CAPTURE = 24
RUNS_PER_CAPTURE = 4
RUN_LENGTH = 8
MAX_RULE_SEEDS = 1500


def write_seed(outdir, data):
    """Content-addressed, like libFuzzer's own corpus files."""
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / hashlib.sha1(data).hexdigest()).write_bytes(data)


def packet_input(link, frames, step=1):
    out = bytearray([link, step])
    for f in frames:
        f = f[:FRAME_MAX]
        out += struct.pack(">H", len(f)) + f
    return bytes(out)


def read_capture(path):
    """(link type, [frames]) of a pcap or pcapng file; None when scapy cannot read it."""
    from scapy.utils import RawPcapReader
    try:
        reader = RawPcapReader(str(path))
    except Exception:  # noqa: BLE001 - a damaged or foreign file is just not a seed source
        return None
    frames, dlt = [], getattr(reader, "linktype", None)
    try:
        for data, meta in reader:
            dlt = getattr(meta, "linktype", dlt)
            frames.append(bytes(data))
    except Exception:  # noqa: BLE001 - keep what was readable (a cut last record)
        pass
    reader.close()
    if dlt not in LINK_OF_DLT or not frames:
        return None
    return LINK_OF_DLT[dlt], frames


def seeds_packet(out, captures):
    count = 0
    for path in captures:
        got = read_capture(path)
        if not got:
            continue
        link, frames = got
        n = len(frames)
        picks = sorted({i * n // SINGLES_PER_CAPTURE for i in range(min(n, SINGLES_PER_CAPTURE))})
        for i in picks:
            write_seed(out, packet_input(link, [frames[i]]))
            count += 1
        for r in range(min(RUNS_PER_CAPTURE, max(1, n // RUN_LENGTH))):
            start = r * max(1, (n - RUN_LENGTH) // RUNS_PER_CAPTURE)
            write_seed(out, packet_input(link, frames[start:start + RUN_LENGTH], step=1 + r))
            count += 1
    return count


def rule_lines(path):
    """Enabled rules of a rules file, continuation lines joined."""
    text = path.read_text(errors="replace")
    joined = re.sub(r"\\\n", "", text)
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            yield line


def keyword_shape(rule):
    body = rule[rule.find("(") + 1:]
    keys = sorted(set(re.findall(r"(?:^|;)\s*([a-z_.0-9]+)\s*[:;]", body)))
    return (rule.split(" ", 2)[:2][-1] if " " in rule else "", tuple(keys))


def seeds_rules(out, files, limit=MAX_RULE_SEEDS):
    seen, count = set(), 0
    for path in files:
        for rule in rule_lines(path):
            shape = keyword_shape(rule)
            if shape in seen:
                continue
            seen.add(shape)
            write_seed(out, (rule + "\n").encode())
            count += 1
            if count >= limit:
                return count
    return count


def seeds_files(out, files):
    count = 0
    for path in files:
        write_seed(out, path.read_bytes())
        count += 1
    return count


def yaml_blocks(markdown):
    """```yaml blocks of a document."""
    return [m.group(1).encode() for m in re.finditer(r"```ya?ml\n(.*?)```", markdown.read_text(), re.S)]


# --- journals -----------------------------------------------------------------

def journal_record(payload):
    text = json.dumps(payload, separators=(",", ":")).encode()
    return struct.pack("<II", len(text), zlib.crc32(text)) + text


JOURNAL_HEADER = b"SGINCJNL" + struct.pack("<II", 1, 0)
JOURNAL_HEADER_FIXED_CRCS = b"SGINCJNL" + struct.pack("<II", 1, 1)
T = 1_700_000_000 * 10**9


def incident(i, state="open", external=False):
    return {
        "id": i, "type": "ssh_bruteforce" if i % 2 else "syn_flood", "direction": "inbound" if i % 2 else "outbound",
        "source": {"deployment": "", "ip": "198.51.100.7"} if external else {"deployment": "web", "ip": None},
        "target": {"deployment": "db", "ip": None}, "state": state, "service": "ssh", "port": 22,
        "opened": T, "first_seen": T, "last_seen": T + 10**9, "updates": 3, "attributions": [1, 2],
        "source_hosts": ["10.1.0.5"], "target_hosts": ["10.2.0.9", "2001:db8::1"],
        "evidence": {"syn": 1000}, "live_evidence": {}, "deadline": T + 86400 * 10**9 if state == "deadline_set" else None,
        "extended_total": 0, "exception": 0, "acknowledged_at": None, "acknowledged_by": "", "evidence_file": "",
        "notifications": [{"role": "source", "deployment": "web", "recipient": "ops@example.com",
                           "requested_at": T, "sent_at": T + 5}],
        "events": [{"seq": i, "at": T, "incident": i, "exception": 0, "kind": "opened", "who": "safeguard",
                    "why": "", "detail": {"attribution": 1}}],
    }


def exception(i):
    return {"id": i, "scope": {"deployment": "web", "type": "port_scan", "direction": "outbound",
                               "peer": "203.0.113.0/24", "port": 443},
            "reason": "scanner", "created_by": "ops", "created": T, "expiry": T + 3600 * 10**9, "hits": 2,
            "ended": None, "ended_why": "", "events": [
                {"seq": 9, "at": T, "incident": 0, "exception": i, "kind": "exception_added", "who": "ops",
                 "why": "scanner", "detail": {}}]}


def change(incidents=(), exceptions=(), nxt=10):
    return {"v": 1, "next": {"incident": nxt, "exception": nxt, "event": nxt},
            "incidents": list(incidents), "exceptions": list(exceptions)}


def seeds_journal(out):
    whole = JOURNAL_HEADER + journal_record(change([incident(1)])) + journal_record(
        change([incident(1, "deadline_set"), incident(2, "resolved", external=True)], [exception(3)]))
    bad_crc = bytearray(whole)
    bad_crc[-3] ^= 0x40
    journals = {
        "header-only": JOURNAL_HEADER,
        "two-changes": whole,
        "torn-record": whole[:-7],
        "torn-record-header": whole + b"\x05\x00",
        "crc-mismatch": bytes(bad_crc),
        "not-a-change": JOURNAL_HEADER + journal_record(["not", "a", "change"]),
        "exception-only": JOURNAL_HEADER + journal_record(change([], [exception(4)])),
        "impossible-length": JOURNAL_HEADER + struct.pack("<II", 0x7fffffff, 0),
        # An odd reserved word asks the fuzz entry to write every CRC right
        # (journal_entry.cpp), so that mutations reach the JSON behind it.
        "fixed-crcs-two-changes": JOURNAL_HEADER_FIXED_CRCS + whole[16:],
        "fixed-crcs-bad-json": JOURNAL_HEADER_FIXED_CRCS + journal_record(change([incident(5)]))[:-9] + b"}]}",
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, data in journals.items():
        (out / name).write_bytes(data)
    return len(journals)


# --- window summaries ---------------------------------------------------------

def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append(v & 0x7F | 0x80)
        v >>= 7
    return bytes(out + bytes([v]))


def window(hosts=b"\0\0", targets=b"\0\0", pairs=b"\0\0", services=b"\0\0", scans=b"\0\0",
           sweeps=b"\0\0", version=1):
    """A summary: header, window 7 (one worker, 100 packets), then the parts."""
    head = b"SGWS" + struct.pack("<H", version) + b"".join(varint(v) for v in (7, 8, 1, 100, 0, 10**18, 10**18 + 5))
    return head + hosts + targets + pairs + services + scans + sweeps


def v4(text):
    return bytes(int(x) for x in text.split("."))


def seeds_window(out):
    zeros = lambda n: b"\0" * n  # noqa: E731 - n varints of 0 (empty counters, empty sparse HyperLogLogs)
    host = (b"\x01" + v4("10.1.0.2") + varint(0) + b"".join(varint(v) for v in (10, 1500, 2, 0, 0, 8, 0, 0))
            + zeros(8) + varint(2) + struct.pack("<HH", 3 << 6 | 1, 63 << 6 | 59) + zeros(3)
            + varint(1 << 1) + varint(8) + varint(480) + zeros(6))
    v6 = bytes.fromhex("20010db8000000000000000000000001")
    pair = b"\x02" + v6 + v4("10.1.0.5") + varint(9) + varint(2)
    target = (b"\x03" + v4("10.1.0.5") + varint(10) + varint(0) + b"".join(varint(v) for v in (10, 600, 10))
              + zeros(5) + varint(0) + bytes(range(1, 57)) * 4 + bytes(32))
    service = b"\x03" + v4("198.18.0.1") + v4("10.1.0.5") + struct.pack("<H", 22) + bytes([4, 1, 4, 1, 3, 3])
    scan = b"\x03" + v4("198.18.0.1") + v4("10.1.0.5") + bytes([25, 0, 25, 1, 0]) + varint(1) + struct.pack("<H", 7 << 6 | 2)
    sweep = b"\x01" + v4("198.18.0.1") + struct.pack("<H", 22) + varint(0) + b"\x06" + bytes([64, 0, 64, 0, 0]) + zeros(1)
    whole = window(hosts=varint(0) + varint(1) + host, targets=varint(10) + varint(1) + target,
                   pairs=varint(9) + varint(1) + pair, services=varint(4) + varint(1) + service,
                   scans=varint(25) + varint(1) + scan, sweeps=varint(64) + varint(1) + sweep)
    windows = {
        "empty": window(),
        "one-of-each": whole,
        "truncated": whole[:-9],
        "version-2": window(version=2),
        "pair-listed-twice": window(pairs=varint(18) + varint(2) + pair + pair),
        "pairs-over-capacity": window(pairs=varint(0) + varint(1025)),
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, data in windows.items():
        (out / name).write_bytes(data)
    return len(windows)


def seeds_control(out):
    """Requests as safeguardctl and docs/operations.md write them: one per
    input, and all of them on one connection. The first byte of an input is
    how control_entry.cpp cuts it into writes (0: whole, else 3 * (b % 8))."""
    requests = [{"command": "status"}, {"command": "help"}, {"command": "stats", "args": {"sum": True}},
                {"command": "top hosts", "args": {"n": 5}}, {"command": "incidents list",
                                                            "args": {"state": ["open", "notified"], "limit": 20}},
                {"command": "incidents show", "args": {"id": 3}},
                {"command": "exception add", "args": {"incident": 4, "reason": "nightly backup", "for": "7d",
                                                      "ports": ["22", "873"], "who": "ops@example.com"}},
                {"command": "extend", "args": {"id": 2, "for": "24h", "reason": "patching", "who": "owner"}},
                {"command": "top hosts", "args": {"n": "ten"}}, {"command": "incidents show", "args": {}},
                {"command": 7}, {"args": {}}, {"command": "status", "args": [1]}]
    lines = [json.dumps(r).encode() for r in requests] + [b"not json", b"[1, 2]", b"", b"\r"]
    out.mkdir(parents=True, exist_ok=True)
    for i, line in enumerate(lines):
        (out / f"request-{i:02d}").write_bytes(bytes([i % 8]) + line + b"\n")
    (out / "all-on-one-connection").write_bytes(b"\x00" + b"\n".join(lines))
    (out / "oversized").write_bytes(b"\x00" + b'{"command": "status", "pad": "' + b"x" * 5000 + b'"}\n' + lines[0])
    return len(lines) + 2


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    ap.add_argument("--captures", help="a folder of generated captures (scripts/gen-pcaps.py OUTDIR)")
    ap.add_argument("targets", nargs="*")
    args = ap.parse_intermixed_args()
    targets = args.targets or TARGETS
    for t in targets:
        if t not in TARGETS:
            ap.error(f"unknown target '{t}' (known: {', '.join(TARGETS)})")
    out = Path(args.outdir)
    corpus = Path(args.corpus)
    have_corpus = corpus.is_dir()
    if not have_corpus:
        print(f"make_seeds: {corpus} is absent: corpus seeds skipped (repository files only)", file=sys.stderr)

    def corpus_glob(pattern):
        return sorted(corpus.glob(pattern)) if have_corpus else []

    cases = ROOT / "test" / "pcap" / "cases"
    for t in targets:
        d = out / t
        if t == "packet":
            captures = sorted(Path(args.captures).glob("*.pcap")) if args.captures else []
            captures += corpus_glob("pcaps/**/*.pcap*") + corpus_glob("suricata-verify/**/*.pcap*")
            n = seeds_packet(d, captures)
        elif t in ("rules", "rule_match"):
            files = [ROOT / "rules" / "safeguard.rules", ROOT / "test" / "fuzz" / "packet.rules"]
            files += sorted(cases.glob("**/*.rules")) + corpus_glob("suricata-verify/**/*.rules")
            files += corpus_glob("rules/*.rules") + corpus_glob("rules/**/*.rules")
            n = seeds_rules(d, files, MAX_RULE_SEEDS if t == "rules" else 300)
        elif t == "classification":
            n = seeds_files(d, [ROOT / "rules" / "classification.config"] + corpus_glob("**/classification.config"))
        elif t == "threshold_config":
            n = seeds_files(d, sorted(cases.glob("**/threshold*.config")) + corpus_glob("**/threshold.config"))
        elif t == "config":
            n = seeds_files(d, sorted(cases.glob("**/config*.yaml")) + sorted(cases.glob("*.yaml"))
                            + sorted((ROOT / "test" / "data").glob("*.yaml")))
            for doc in sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]:
                for block in yaml_blocks(doc):
                    write_seed(d, block)
                    n += 1
        elif t == "thresholds":
            n = seeds_files(d, [ROOT / "rules" / "thresholds.yaml"] + sorted(cases.glob("**/thresholds*.yaml")))
            for block in yaml_blocks(ROOT / "docs" / "detection.md"):
                write_seed(d, block)
                n += 1
        elif t == "control_request":
            n = seeds_control(d)
        elif t == "window_decode":
            n = seeds_window(d)
        else:
            n = seeds_journal(d)
        print(f"make_seeds: {t}: {n} seeds", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

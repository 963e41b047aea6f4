#!/usr/bin/env bash
# Differential check over the whole capture corpus (a developer tool, not part
# of CI): run scripts/diff-suricata.sh on every Ethernet capture in
# ../shared/corpus/pcaps/*/* with one rule file and print one table of the
# per-signature alert counts of Suricata 7 and Safeguard, then a summary.
#
#   scripts/diff-corpus.sh [RULES]
#
# RULES defaults to ../shared/corpus/rules/et-open-plain-strict.rules.
#
# Environment:
#   SAFEGUARD=PATH  the daemon (default build/app/safeguard/safeguard), passed
#                   on to diff-suricata.sh; e.g.
#                     meson setup /tmp/build-diff && ninja -C /tmp/build-diff app/safeguard/safeguard
#                     SAFEGUARD=/tmp/build-diff/app/safeguard/safeguard scripts/diff-corpus.sh
#   SURICATA=PATH   passed on to diff-suricata.sh (default: suricata on PATH)
#   CORPUS=DIR      the corpus (default ../shared/corpus next to the repository)
#   OUTDIR=DIR      keep every output here, one folder per capture
#                   (OUTDIR/GROUP/CAPTURE/{suricata,safeguard}/eve.json, diff.txt);
#                   default: a new temporary folder, printed at the end
#   ALL=1           list every (capture, sid) that alerted in either engine;
#                   by default only the ones whose counts differ
#
# Both engines see HOME_NET = EXTERNAL_NET = any (see diff-suricata.sh).
# Captures whose link type is not Ethernet are left out and listed. One run
# over the corpus takes a few minutes (Suricata loads the rules for every
# capture). docs/rules.md ("Differences from Suricata on the corpus") explains
# every difference of the last recorded run.
#
# Exit status: 0 when every count agrees, 1 when some differ or an engine
# failed on a capture, 2 for bad arguments.
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ $# -gt 1 ]; then echo "usage: scripts/diff-corpus.sh [RULES]" >&2; exit 2; fi
corpus=${CORPUS:-$top/../shared/corpus}
rules=${1:-$corpus/rules/et-open-plain-strict.rules}
[ -r "$rules" ] || { echo "diff-corpus: cannot read $rules" >&2; exit 2; }
[ -d "$corpus/pcaps" ] || { echo "diff-corpus: no captures in $corpus/pcaps" >&2; exit 2; }
corpus=$(cd "$corpus" && pwd)
rules=$(cd "$(dirname "$rules")" && echo "$(pwd)/$(basename "$rules")")
out=${OUTDIR:-$(mktemp -d /tmp/diff-corpus.XXXXXX)}
mkdir -p "$out"

# Link type of a pcap or pcapng file: "ether" when every interface is
# Ethernet (DLT 1), else the first other DLT number, "unknown" if unreadable.
linktype() {
    /usr/bin/python3 - "$1" <<'EOF'
import struct, sys
try:
    with open(sys.argv[1], "rb") as f:
        data = f.read(1 << 20)
    magic = data[:4]
    types = []
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        types = [struct.unpack_from("<I", data, 20)[0] & 0xFFFF]
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        types = [struct.unpack_from(">I", data, 20)[0] & 0xFFFF]
    elif magic == b"\x0a\x0d\x0d\x0a":
        bo = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        off = 0
        while off + 12 <= len(data):
            btype, blen = struct.unpack_from(bo + "II", data, off)
            if blen < 12:
                break
            if btype == 1:  # interface description block
                types.append(struct.unpack_from(bo + "H", data, off + 8)[0])
            off += blen
    if not types:
        print("unknown")
    else:
        other = [t for t in types if t != 1]
        print("ether" if not other else f"dlt{other[0]}")
except OSError:
    print("unknown")
EOF
}

captures=() skipped=()
for pcap in "$corpus"/pcaps/*/*; do
    [ -f "$pcap" ] || continue
    lt=$(linktype "$pcap")
    if [ "$lt" = ether ]; then captures+=("$pcap"); else skipped+=("${pcap#"$corpus"/pcaps/} ($lt)"); fi
done
[ ${#captures[@]} -gt 0 ] || { echo "diff-corpus: no Ethernet captures in $corpus/pcaps" >&2; exit 2; }

failed=0
for pcap in "${captures[@]}"; do
    rel=${pcap#"$corpus"/pcaps/}
    dir=$out/${rel%.*}
    mkdir -p "$dir"
    printf 'diff-corpus: %s\n' "$rel" >&2
    OUTDIR=$dir "$top/scripts/diff-suricata.sh" "$pcap" "$rules" >"$dir/diff.txt" 2>"$dir/diff.stderr"
    rc=$?
    echo "$rc" >"$dir/diff.rc"
    if [ $rc -eq 2 ]; then
        failed=1
        echo "diff-corpus: $rel: diff-suricata.sh failed: $(tail -n 3 "$dir/diff.stderr" | tr '\n' ' ')" >&2
    fi
done

/usr/bin/python3 - "$out" "$corpus/pcaps" "$rules" "${ALL:-0}" "${captures[@]}" -- "${skipped[@]}" <<'EOF'
import collections, json, os, sys

out, pcaps, rules, show_all = sys.argv[1:5]
rest = sys.argv[5:]
sep = rest.index("--")
captures, skipped = rest[:sep], rest[sep + 1:]


def eve_counts(path):
    # Same counting as diff-suricata.sh: alert lines per (gid, sid).
    counts = collections.Counter()
    try:
        f = open(path, encoding="utf-8", errors="replace")
    except OSError:
        return None
    with f:
        for line in f:
            try:
                ev = json.loads(line)
            except json.JSONDecodeError:
                continue
            if ev.get("event_type") != "alert" or not isinstance(ev.get("alert"), dict):
                continue
            counts[(ev["alert"].get("gid", 1), ev["alert"].get("signature_id"))] += 1
    return counts


def label(key):
    gid, sid = key
    return str(sid) if gid == 1 else f"{gid}:{sid}"


rows, problems = [], []
equal = differ = compared = 0
tot_s = tot_g = 0
for pcap in captures:
    rel = os.path.relpath(pcap, pcaps)
    d = os.path.join(out, os.path.splitext(rel)[0])
    suri = eve_counts(os.path.join(d, "suricata", "eve.json"))
    sg = eve_counts(os.path.join(d, "safeguard", "eve.json"))
    if suri is None or sg is None:
        problems.append(f"{rel}: {'suricata' if suri is None else 'safeguard'} produced no eve.json "
                        f"(see {d}/diff.txt, {d}/diff.stderr)")
        continue
    with open(os.path.join(d, "diff.txt"), errors="replace") as f:
        for line in f:
            if line.startswith("safeguard: no result") or "report.json" in line:
                problems.append(f"{rel}: {line.strip()}")
    compared += 1
    tot_s += sum(suri.values())
    tot_g += sum(sg.values())
    for k in sorted(set(suri) | set(sg), key=lambda k: (k[0], k[1] or 0)):
        s, g = suri.get(k, 0), sg.get(k, 0)
        if s == g:
            equal += 1
        else:
            differ += 1
        if s != g or show_all == "1":
            rows.append((rel, label(k), s, g))

print(f"rules:  {rules}")
print(f"output: {out}")
print()
w = max([len("capture")] + [len(r[0]) for r in rows])
ws = max([len("sid")] + [len(r[1]) for r in rows])
print(f"{'capture':<{w}}  {'sid':>{ws}}  {'suricata':>8}  {'safeguard':>9}")
for rel, sid, s, g in rows:
    print(f"{rel:<{w}}  {sid:>{ws}}  {s:>8}  {g:>9}  {'<>' if s != g else ''}")
if not rows:
    print("(no differences)" if show_all != "1" else "(no alerts)")
print()
print(f"captures compared: {compared} of {len(captures)} Ethernet captures"
      + (f"; left out (not Ethernet): {', '.join(skipped)}" if skipped else ""))
print(f"alerts: suricata {tot_s}, safeguard {tot_g}")
print(f"(capture, sid) pairs: {equal + differ}, {equal} equal, {differ} different")
for p in problems:
    print(f"problem: {p}")
sys.exit(1 if differ or problems or compared < len(captures) else 0)
EOF
rc=$?
[ $failed -ne 0 ] && rc=1
exit $rc

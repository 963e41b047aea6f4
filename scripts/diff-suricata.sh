#!/usr/bin/env bash
# Differential check (a developer tool, not part of CI): run Suricata 7 and
# Safeguard on the same capture and rules and print the alert count of every
# signature side by side.
#
#   scripts/diff-suricata.sh PCAP RULES [THRESHOLD]
#
# Environment:
#   SAFEGUARD=PATH       the daemon (default build/app/safeguard/safeguard)
#   SURICATA=PATH        default: suricata on PATH (install it with
#                        scripts/setup.sh --with-suricata)
#   CLASSIFICATION=FILE  classification.config for both engines (default:
#                        Suricata's /etc/suricata/classification.config)
#   OUTDIR=DIR           keep the outputs here (default: a new temporary folder)
#
# Both engines see HOME_NET = EXTERNAL_NET = any: that is what Safeguard
# assumes when no deployments are given. Suricata then cannot load rules that
# negate those variables (!$HOME_NET is "!any"); it says so in its log, and
# this script prints how many rules each engine refused.
#
# Exit status: 0 when every count agrees, 1 when they differ or Safeguard
# failed, 2 for bad arguments or when Suricata could not run.
set -uo pipefail

usage() { echo "usage: scripts/diff-suricata.sh PCAP RULES [THRESHOLD]" >&2; exit 2; }
if [ $# -lt 2 ] || [ $# -gt 3 ]; then usage; fi
pcap=$1 rules=$2 threshold=${3:-}
for f in "$pcap" "$rules" ${threshold:+"$threshold"}; do
    [ -r "$f" ] || { echo "diff-suricata: cannot read $f" >&2; exit 2; }
done

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
safeguard=${SAFEGUARD:-$top/build/app/safeguard/safeguard}
suricata=${SURICATA:-$(command -v suricata || true)}
suricata_yaml=/etc/suricata/suricata.yaml
classification=${CLASSIFICATION:-/etc/suricata/classification.config}

if [ -z "$suricata" ] || [ ! -x "$suricata" ]; then
    echo "diff-suricata: suricata not found; install it with scripts/setup.sh --with-suricata" >&2
    exit 2
fi
version=$("$suricata" -V 2>/dev/null | sed -nE 's/.*version ([0-9][0-9.]*).*/\1/p')
case $version in
    7.*) ;;
    *) echo "diff-suricata: need Suricata 7, found '${version:-unknown}' ($suricata)" >&2; exit 2 ;;
esac
[ -r "$classification" ] || { echo "diff-suricata: cannot read $classification" >&2; exit 2; }
[ -r "$suricata_yaml" ] || { echo "diff-suricata: $suricata_yaml missing (reinstall suricata)" >&2; exit 2; }

out=${OUTDIR:-$(mktemp -d /tmp/diff-suricata.XXXXXX)}
mkdir -p "$out/suricata" "$out/safeguard"
abs() { (cd "$(dirname "$1")" && echo "$(pwd)/$(basename "$1")"); }
pcap=$(abs "$pcap"); rules=$(abs "$rules"); [ -n "$threshold" ] && threshold=$(abs "$threshold")

# Suricata: the packaged configuration, with the addresses Safeguard assumes,
# exactly the given rules, and exactly the given threshold file (the package's
# /etc/suricata/threshold.config would apply otherwise).
if [ -z "$threshold" ]; then
    : >"$out/suricata/empty-threshold.config"
    suri_threshold=$out/suricata/empty-threshold.config
else
    suri_threshold=$threshold
fi
suri_args=(
    -r "$pcap" -S "$rules" -l "$out/suricata" -k none --runmode single
    -c "$suricata_yaml"
    --set vars.address-groups.HOME_NET=any
    --set vars.address-groups.EXTERNAL_NET=any
    --set "threshold-file=$suri_threshold"
)
suri_args+=(--set "classification-file=$(abs "$classification")")
echo "suricata $version: $suricata ${suri_args[*]}" >"$out/suricata/cmdline"
if ! "$suricata" "${suri_args[@]}" >"$out/suricata/stdout" 2>&1; then
    echo "diff-suricata: suricata failed; its output ($out/suricata/stdout):" >&2
    tail -n 20 "$out/suricata/stdout" >&2
    exit 2
fi

# Safeguard: same capture, rules and threshold file. Until it can run them,
# its column stays empty and the reason is printed.
sg_args=(replay --rules "$rules" --eve "$out/safeguard/eve.json" --report "$out/safeguard/report.json")
[ -n "$threshold" ] && sg_args+=(--threshold-file "$threshold")
sg_args+=(--classification "$(abs "$classification")")
sg_args+=("$pcap")
echo "$safeguard ${sg_args[*]}" >"$out/safeguard/cmdline"
sg_status=ok
if [ ! -x "$safeguard" ]; then
    sg_status="not built ($safeguard)"
else
    "$safeguard" "${sg_args[@]}" >"$out/safeguard/stdout" 2>"$out/safeguard/stderr"
    rc=$?
    if [ $rc -ne 0 ]; then
        sg_status="exit $rc: $(grep -v '^[[:space:]]*$' "$out/safeguard/stderr" | tail -n 3 | tr '\n' ' ')"
    elif [ ! -f "$out/safeguard/eve.json" ]; then
        sg_status="no eve.json written"
    fi
fi

/usr/bin/python3 - "$out" "$sg_status" "$pcap" "$rules" <<'EOF'
import collections, json, os, re, sys

out, sg_status, pcap, rules = sys.argv[1:5]


def key_of(alert):
    gid = alert.get("gid", 1)
    sid = alert.get("signature_id")
    return (gid, sid)


def label(key):
    gid, sid = key
    return str(sid) if gid == 1 else f"{gid}:{sid}"


def eve_alerts(path):
    counts, names = collections.Counter(), {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                ev = json.loads(line)
            except json.JSONDecodeError:
                continue
            if ev.get("event_type") != "alert" or not isinstance(ev.get("alert"), dict):
                continue
            k = key_of(ev["alert"])
            counts[k] += 1
            names.setdefault(k, ev["alert"].get("signature", ""))
    return counts, names


def suricata_refused(log):
    try:
        with open(log, encoding="utf-8", errors="replace") as f:
            return sum(1 for l in f if "error parsing signature" in l)
    except OSError:
        return None


suri, names = eve_alerts(os.path.join(out, "suricata", "eve.json"))
sg = None
notes = []
if sg_status == "ok":
    sg, sg_names = eve_alerts(os.path.join(out, "safeguard", "eve.json"))
    for k, v in sg_names.items():
        names.setdefault(k, v)
    # The report's alert list must agree with the eve lines.
    try:
        with open(os.path.join(out, "safeguard", "report.json")) as f:
            report = json.load(f)
        rep = collections.Counter()
        for a in report.get("alerts", []):
            rep[(a.get("gid", 1), a.get("sid"))] += a.get("count", 0)
        if rep != sg:
            notes.append("safeguard: report.json alert counts differ from its eve.json "
                         f"({sum(rep.values())} vs {sum(sg.values())} alerts)")
    except (OSError, ValueError) as e:
        notes.append(f"safeguard: no readable report.json ({e})")

print(f"pcap:  {pcap}")
print(f"rules: {rules}")
refused = suricata_refused(os.path.join(out, "suricata", "suricata.log"))
if refused:
    print(f"suricata: refused {refused} rule(s), see {out}/suricata/suricata.log")
if sg is None:
    print(f"safeguard: no result ({sg_status.strip()})")
else:
    # Safeguard's own summary of the rules it accepted and skipped, if it printed one.
    try:
        with open(os.path.join(out, "safeguard", "stderr"), errors="replace") as f:
            line = next((l.strip() for l in f if "rules:" in l), None)
        if line:
            print(line)
    except OSError:
        pass
print()
w = max([len("total")] + [len(label(k)) for k in list(suri) + list(sg or {})])
print(f"{'sid':>{w}}  {'suricata':>8}  {'safeguard':>9}     msg")
differ = 0
for k in sorted(set(suri) | set(sg or {}), key=lambda k: (k[0], k[1] or 0)):
    s = suri.get(k, 0)
    if sg is None:
        g, mark = "-", ""
    else:
        g = sg.get(k, 0)
        mark = "<>" if g != s else ""
        differ += g != s
    print(f"{label(k):>{w}}  {s:>8}  {g:>9}  {mark:2}   {names.get(k, '')}")
print()
sg_total = "-" if sg is None else sum(sg.values())
print(f"{'total':>{w}}  {sum(suri.values()):>8}  {sg_total:>9}")
for n in notes:
    print(n)
if sg is None:
    print(f"signatures: {len(suri)} raised by suricata; safeguard did not run")
else:
    print(f"signatures: {len(set(suri) | set(sg))}, {differ} with different counts")
print(f"outputs: {out}")
sys.exit(1 if sg is None or differ or notes else 0)
EOF

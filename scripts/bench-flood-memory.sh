#!/usr/bin/env bash
# Memory under a spoofed SYN flood: the same attack from 1 million and from
# 10 million distinct source addresses (plus 5 bots sending a tenth of the
# SYNs), replayed with the target protected. Prints, per run, the peak
# resident memory (GNU time), the packets per second and the syn_flood
# attribution. Flat memory means detection does not grow with sources.
# Not part of the test suite: the 10-million run takes minutes.
#
#   scripts/bench-flood-memory.sh [BUILD_DIR] [WORKDIR] [SOURCES...]
#
# SOURCES defaults to "1000000 10000000" (scripts/bench.sh --quick runs 1000000 only).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$top/build}
work=${2:-$(mktemp -d)}
shift $(($# < 2 ? $# : 2))
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1000000 10000000)
safeguard=$build/app/safeguard/safeguard
[ -x "$safeguard" ] || { echo "no $safeguard: build first (scripts/setup.sh)" >&2; exit 2; }
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (apt install time)" >&2; exit 2; }

for n in "${counts[@]}"; do
    pcap=$work/flood-$n.pcap
    [ -f "$pcap" ] || /usr/bin/python3 "$top/scripts/gen-bulk-pcap.py" syn-flood "$pcap" \
        --packets "$n" --sources "$n" --bots 5
    /usr/bin/time -f "%M %e" -o "$work/time-$n" \
        "$safeguard" replay --protect web=10.1.0.0/16 --report "$work/report-$n.json" "$pcap" >/dev/null 2>&1
    read -r rss_kb seconds <"$work/time-$n"
    /usr/bin/python3 - "$n" "$rss_kb" "$seconds" "$work/report-$n.json" <<'PY'
import json, sys
n, rss_kb, seconds, path = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
report = json.load(open(path))
floods = [a for a in report["attributions"] if a["type"] == "syn_flood"]
print(f"{n:>9} sources: peak RSS {rss_kb / 1024:.0f} MiB, {n / seconds / 1e3:.0f} kpps, "
      f"{len(report['attributions'])} attribution(s)")
for a in floods:
    top = ", ".join(f"{c['ip']} ({c['packets']})" for c in a["top_sources"])
    print(f"           syn_flood {a['direction']} -> {a['target']['ip']}: "
          f"{a['evidence']['packets']} SYNs, ~{a['evidence']['distinct_sources']} sources; top: {top}")
PY
done

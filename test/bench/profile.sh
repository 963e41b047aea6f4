#!/usr/bin/env bash
# Where a worker spends its time: perf samples (cpu-clock: virtual machines
# often expose no hardware counters) of one in-memory run, as scripts/bench.sh
# does it, reported for the worker thread only.
#
#   test/bench/profile.sh BUILD_DIR STAGE INPUT.pcap [SECONDS] [SAFEGUARD ARGS...]
#
# STAGE is null, parse, detect or full (docs/benchmarks.md); SAFEGUARD ARGS
# are passed on (e.g. --rules FILE). Use a build with debug information for
# line-level annotation, e.g.
#   meson setup /tmp/build-prof -Dtests=false -Dbuildtype=release -Ddebug=true
# PERF_DATA=FILE keeps the samples (default: a temporary file); TOP=N lines.
# Needs linux-perf and kernel.perf_event_paranoid <= 2 (user-space samples).
set -euo pipefail

if [ $# -lt 3 ]; then
    echo "usage: test/bench/profile.sh BUILD_DIR STAGE INPUT.pcap [SECONDS] [SAFEGUARD ARGS...]" >&2
    exit 2
fi
build=$1 stage=$2 input=$3
seconds=${4:-5}
shift $(($# < 4 ? $# : 4))
safeguard=$build/app/safeguard/safeguard
[ -x "$safeguard" ] || { echo "profile: no $safeguard" >&2; exit 2; }
command -v perf >/dev/null || { echo "profile: needs perf (apt install linux-perf)" >&2; exit 2; }
work=$(mktemp -d /tmp/safeguard-profile.XXXXXX)
trap 'rm -rf "$work"' EXIT
data=${PERF_DATA:-$work/perf.data}

packets=$(capinfos -T -r -c "$input" | cut -f2)
mbufs=$((packets + 65536))
cat >"$work/run.yaml" <<EOF
mode: tap
workers: 1
sizes:
  mbufs: $mbufs
ports:
  - name: wire0
    device: "net_pcap0,rx_pcap=$(realpath "$input"),infinite_rx=1"
EOF
eal="--no-huge --no-pci --no-shconf -m $((768 + mbufs * 2560 / 1048576)) --no-telemetry --log-level *:warning --lcores 0@0,1@1"
perf record -q -e cpu-clock -F 1999 -g -o "$data" -- "$safeguard" run --config "$work/run.yaml" --eal "$eal" \
    --stage "$stage" --protect bench=10.0.0.0/8,172.16.0.0/12,192.168.0.0/16 --report "$work/report.json" \
    "$@" >/dev/null 2>"$work/err" &
recorder=$!
for _ in $(seq 600); do grep -q 'running:' "$work/err" 2>/dev/null && break; sleep 0.1; done
grep -q 'running:' "$work/err" || { cat "$work/err" >&2; kill "$recorder"; exit 1; }
sleep "$seconds"
# perf's child is safeguard: stop it, then perf writes its data and exits.
pkill -TERM -P "$recorder" -x safeguard || true
wait "$recorder" || true
/usr/bin/python3 - "$work/report.json" <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))["runtime"]["workers"][0]
print(f"{w['packets']} packets, {w['cpu_ns'] / w['packets']:.0f} ns of worker CPU per packet")
PY
perf report -i "$data" --no-children --comm rte-worker-1 --percentage relative --sort dso,symbol 2>/dev/null |
    grep -E '^ +[0-9.]+%' | head -n "${TOP:-25}"

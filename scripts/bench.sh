#!/usr/bin/env bash
# Safeguard's benchmark: the pipeline stage by stage (null, parse, detect,
# full with ET plain-strict and with the full supported ET Open set) on the
# same inputs (64-byte SYN flood, IMIX, the merged corpus), Suricata 7
# single-threaded as the peer, 1 vs 2 workers, rule compile time and memory,
# memory under a spoofed flood, packets lost across a reload under load.
# Prints one table; docs/benchmarks.md explains it and keeps the last run.
# Not part of CI (nothing here passes or fails a build).
#
#   scripts/bench.sh [--quick] [--build DIR] [--work DIR] [--seconds T] [--repeat N]
#                    [--only SECTION,...] [--reload-pps R]
#
# --quick        about 2 minutes (default: about 12): 1-s runs, one round,
#                no full ET Open, 1 million flood sources only
# --build DIR    the build to measure, e.g. a release build without tests:
#                  meson setup /tmp/build-bench -Dtests=false && ninja -C /tmp/build-bench
#                without it: build/, after scripts/setup.sh --with-suricata (installs
#                what is missing, Suricata included, and builds)
# --work DIR     generated inputs (kept and reused) and every output
#                (default /tmp/safeguard-bench); results.json has all figures
#
# Needs: capinfos/editcap (tshark), /usr/bin/time, python3; Suricata 7 for its
# column (scripts/setup.sh --with-suricata); the reload test needs root (a
# veth pair) and tcpreplay. ../shared/corpus (captures, ET Open rules) is
# optional: without it the corpus input and the rule sets are left out.
# The machine should be as quiet as possible; see docs/benchmarks.md.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
given_build=0
for arg in "$@"; do
    case $arg in --build|--build=*) given_build=1 ;; esac
done
if [ "$given_build" = 0 ]; then
    "$top/scripts/setup.sh" --with-suricata >&2
    set -- --build "$top/build" "$@"
fi
for tool in capinfos editcap /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "bench: needs $tool (scripts/setup.sh installs it)" >&2; exit 2; }
done
exec /usr/bin/python3 "$top/test/bench/bench.py" "$@"

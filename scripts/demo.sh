#!/usr/bin/env bash
# The first thing to run: sets up what is missing, builds, and replays the
# sample capture shipped in test/data with its config and Safeguard's own
# rules, printing what was found. The full JSON report lands in build/demo-report.json.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
"$top/scripts/setup.sh"

build/app/safeguard/safeguard replay \
    --config test/data/demo.yaml \
    --rules rules/safeguard.rules --classification rules/classification.config \
    --report build/demo-report.json \
    --eve build/demo-eve.json \
    test/data/demo.pcap
echo
echo "Full report: build/demo-report.json   eve lines: build/demo-eve.json"

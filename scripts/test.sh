#!/usr/bin/env bash
# The whole test suite, set-up included: installs what is missing, builds,
# runs every Catch2 unit test binary, the notification end-to-end test
# (test/notify/run_smtp.py), the incident workflow end to end
# (test/incident/run_workflow.py), the faults of a running appliance
# (test/fault/run_faults.py) and of its state directory (test/fault/run_disk_full.py),
# the fleet on NATS JetStream (test/fleet: its environment's captures and
# thresholds, then two appliances, two aggregators and a three-node cluster),
# every pcap case, the control socket end to
# end (test/control/run_control.py) and the corpus ground
# truth (test/pcap/run_truth.py), and ends with one line "N passed, N failed"
# (totals). Exits non-zero if anything failed.
# Then Suricata's own regression cases (test/suricata-verify) when the corpus is there.
#
#   scripts/test.sh [--build-dir DIR]
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
build=build
[ "${1:-}" = "--build-dir" ] && build=$2

"$top/scripts/setup.sh" --build-dir "$build" || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0

# Unit tests: one Catch2 binary per component, as meson registered them.
while IFS=$'\t' read -r name cmd; do
    echo "== unit: $name"
    log=$(mktemp)
    # shellcheck disable=SC2086 # the command line comes from meson, already split
    if timeout 600 $cmd >"$log" 2>&1; then status=ok; else status=failed; fi
    tail -n 3 "$log"
    # Catch2 v2 closes with "All tests passed (A assertions in N test cases)"
    # or "test cases: N | P passed | F failed".
    if line=$(grep -E '^All tests passed' "$log" | tail -1) && [ -n "$line" ]; then
        n=$(sed -E 's/.* in ([0-9]+) test case.*/\1/' <<<"$line")
        passed=$((passed + n))
    elif line=$(grep -E '^test cases:' "$log" | tail -1) && [ -n "$line" ]; then
        p=$(sed -nE 's/.*\| *([0-9]+) passed.*/\1/p' <<<"$line"); f=$(sed -nE 's/.*\| *([0-9]+) failed.*/\1/p' <<<"$line")
        passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
        [ "$status" = failed ] && [ "${f:-0}" -eq 0 ] && failed=$((failed + 1))
    else
        echo "   $name produced no Catch2 summary (crashed?):"; tail -n 20 "$log"
        failed=$((failed + 1))
    fi
    rm -f "$log"
done < <(meson introspect "$build" --tests | /usr/bin/python3 -c '
import json, sys
for t in json.load(sys.stdin):
    print(t["name"], " ".join(t["cmd"]), sep="\t")')

# A runner that ends with "<label>: N passed, N failed...": its totals count.
run_suite() {
    local title=$1 label=$2
    shift 2
    echo "== $title"
    local log line
    log=$(mktemp)
    "$@" | tee "$log"
    line=$(grep -E "^$label: [0-9]+ passed" "$log" | tail -1)
    if [ -n "$line" ]; then
        passed=$((passed + $(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")))
        failed=$((failed + $(sed -E 's/.*, ([0-9]+) failed.*/\1/' <<<"$line")))
    else
        failed=$((failed + 1))  # the runner crashed before its summary
    fi
    rm -f "$log"
}

safeguard=$build/app/safeguard/safeguard
# Pcap cases: the real daemon on DPDK's pcap driver.
run_suite "pcap cases" "pcap cases" /usr/bin/python3 test/pcap/run_cases.py --safeguard "$safeguard"
# The control socket, safeguardctl, the posture, /metrics and the dashboard, against a running daemon.
run_suite "control" "control" /usr/bin/python3 test/control/run_control.py --safeguard "$safeguard" \
    --safeguardctl "$build/app/safeguardctl/safeguardctl"
# The analyst's ground truth over the corpus captures (skipped without the corpus).
run_suite "truth" "truth" /usr/bin/python3 test/pcap/run_truth.py --safeguard "$safeguard"
# Notifications end to end: a real SMTP server (aiosmtpd) on loopback, the outbox, kill -9.
run_suite "notify" "notify e2e" /usr/bin/python3 test/notify/run_smtp.py --tool "$build/test/notify/notify-tool"
# The incident workflow end to end: replays with a state directory, the relay, the hook, kill -9.
run_suite "incident workflow" "incident workflow" /usr/bin/python3 test/incident/run_workflow.py --safeguard "$safeguard"
# Faults: reporter stall, mempool exhausted, flow table full, kill -9 at random moments.
run_suite "faults" "faults" /usr/bin/python3 test/fault/run_faults.py --safeguard "$safeguard" \
    --safeguardctl "$build/app/safeguardctl/safeguardctl"
# Faults: the state directory's disk full or unwritable (a small tmpfs; needs root, else skipped).
run_suite "disk full" "disk full" /usr/bin/python3 test/fault/run_disk_full.py --safeguard "$safeguard" \
    --safeguardctl "$build/app/safeguardctl/safeguardctl"
# The fleet's captures and thresholds: each half below, the whole above (no root needed).
run_suite "fleet env" "fleet env" /usr/bin/python3 test/fleet/check_env.py --safeguard "$safeguard" \
    --parts captures,replay
# The fleet end to end: NATS cluster, two appliances, two aggregators, failures (needs root, else skipped).
run_suite "fleet" "fleet" /usr/bin/python3 test/fleet/run_fleet.py --safeguard "$safeguard" \
    --safeguardctl "$build/app/safeguardctl/safeguardctl"
# suricata-verify: Suricata's own regression cases, counts per signature.
run_suite "suricata-verify" "suricata-verify" /usr/bin/python3 test/suricata-verify/run_verify.py --safeguard "$safeguard"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

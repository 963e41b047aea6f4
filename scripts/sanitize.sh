#!/usr/bin/env bash
# The whole test suite (scripts/test.sh: every unit test binary, the pcap
# cases, the corpus truth, notifications end to end, suricata-verify) on a
# build with AddressSanitizer and UndefinedBehaviorSanitizer
# (-Dsanitize_build=true; -O1 -g: ASan's advice, and reports have lines).
# Ends with test.sh's "N passed, N failed"; a sanitizer report fails the
# test or case that triggered it. docs/reliability.md records the clean run.
#
#   scripts/sanitize.sh [--build-dir DIR]      (default build-asan)
#
# Sanitizer settings (override by exporting them first):
#   ASAN_OPTIONS   leaks are reported (LeakSanitizer) and fail the process;
#                  test/sanitize/lsan.supp names the few allocations that
#                  DPDK's EAL keeps for the life of the process on purpose
#   UBSAN_OPTIONS  every undefined behaviour report aborts, with a stack
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
build=build-asan
[ "${1:-}" = "--build-dir" ] && build=${2:?--build-dir needs a directory}

if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" -Dsanitize_build=true -Dtests=true -Dbuildtype=debugoptimized -Doptimization=1 >/dev/null ||
    { echo "sanitize: meson setup failed"; echo "0 passed, 1 failed"; exit 1; }
elif ! meson introspect "$build" --buildoptions | grep -q '"name": "sanitize_build", "value": true'; then
  echo "sanitize: $build is not a -Dsanitize_build=true build; use another --build-dir" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1:detect_stack_use_after_return=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$top/test/sanitize/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "sanitize: ASAN_OPTIONS=$ASAN_OPTIONS"
echo "sanitize: LSAN_OPTIONS=$LSAN_OPTIONS"
echo "sanitize: UBSAN_OPTIONS=$UBSAN_OPTIONS"
exec scripts/test.sh --build-dir "$build"

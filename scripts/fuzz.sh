#!/usr/bin/env bash
# Builds the libFuzzer targets (test/fuzz, clang, ASan + UBSan) and runs each
# for a bounded time on seeds made now from ../shared/corpus and the
# repository (test/fuzz/make_seeds.py), the committed seeds and the kept
# regressions. Prints one line per target (execs, coverage, corpus, crashes)
# and ends with "fuzz: N passed, N failed" (a target fails when it found a
# crash, a leak, a timeout or a broken invariant). docs/reliability.md has
# the long runs.
#
#   scripts/fuzz.sh [--seconds N] [--smoke] [--jobs J] [--build-dir DIR] [--work DIR] [TARGET...]
#
#   --seconds N     per target (default 60)
#   --smoke         20 s per target, a fresh corpus: the short check for CI (opt-in;
#                   scripts/test.sh does not run it: the fuzz build alone takes minutes)
#   --jobs J        targets run side by side (default 1)
#   --build-dir DIR the clang build (default build-fuzz)
#   --work DIR      corpora, logs and crash inputs (default DIR/fuzz-work of the build);
#                   the corpora grow from run to run unless --smoke
#   TARGET          packet rules rule_match classification threshold_config config
#                   thresholds journal control_request window_decode (default: all)
#
# A crash input lands in WORK/artifacts/TARGET/; once fixed, copy it to
# test/fuzz/regressions/TARGET/ (unit-fuzz-regressions replays it in every
# normal test run). Run heavy fuzzing niced: nice -n 19 scripts/fuzz.sh ...
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

all_targets=(packet rules rule_match classification threshold_config config thresholds journal control_request
             window_decode)
seconds=60
smoke=0
jobs=1
build=build-fuzz
work=
targets=()
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
    --smoke) smoke=1; seconds=20; shift ;;
    --jobs) jobs=${2:?--jobs needs a number}; shift 2 ;;
    --build-dir) build=${2:?--build-dir needs a directory}; shift 2 ;;
    --work) work=${2:?--work needs a directory}; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  case " ${all_targets[*]} " in *" $t "*) ;; *) echo "fuzz.sh: unknown target '$t' (known: ${all_targets[*]})" >&2; exit 2 ;; esac
done
command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ is missing: scripts/setup.sh installs clang and libclang-rt-14-dev" >&2; exit 2; }

# --- build --------------------------------------------------------------------
# lib/ is instrumented too (-fsanitize=fuzzer-no-link), or the fuzzers would be
# blind to the code under test; UBSan aborts, so that libFuzzer keeps the input.
if [ ! -f "$build/build.ninja" ]; then
  CXX=clang++ meson setup "$build" -Dfuzz=true -Dtests=false -Dbuildtype=debugoptimized \
    -Db_sanitize=address,undefined -Db_lundef=false \
    "-Dcpp_args=-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined" >/dev/null ||
    { echo "fuzz.sh: meson setup failed"; echo "fuzz: 0 passed, 1 failed"; exit 1; }
fi
ninja -C "$build" "${targets[@]/#/test/fuzz/fuzz-}" >"$build/fuzz-build.log" 2>&1 ||
  { tail -n 30 "$build/fuzz-build.log"; echo "fuzz: 0 passed, 1 failed"; exit 1; }

# --- seeds --------------------------------------------------------------------
work=${work:-$build/fuzz-work}
[ "$smoke" -eq 1 ] && rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
rm -rf "$work/seeds" "$work/captures"
/usr/bin/python3 scripts/gen-pcaps.py "$work/captures" >/dev/null ||
  { echo "fuzz.sh: scripts/gen-pcaps.py failed"; echo "fuzz: 0 passed, 1 failed"; exit 1; }
/usr/bin/python3 test/fuzz/make_seeds.py "$work/seeds" --captures "$work/captures" "${targets[@]}" ||
  { echo "fuzz.sh: test/fuzz/make_seeds.py failed"; echo "fuzz: 0 passed, 1 failed"; exit 1; }

max_len() {
  case $1 in
    packet) echo 16384 ;;
    journal) echo 16384 ;;
    window_decode) echo 65536 ;;  # a flood window's summary is about 30 KiB
    *) echo 8192 ;;
  esac
}

# One target: libFuzzer with the growing corpus first (it writes new inputs
# there), then the read-only seed folders. -timeout is wall time: on a busy
# shared machine a niced fuzzer can stall for seconds, so it is generous (a
# real hang still shows, and its input replays slowly on its own). -close_fd_mask=2 silences the
# journal's warnings about the damaged files it is fed (libFuzzer and the
# sanitizers keep their own copy of stderr for their reports).
run_target() {
  local t=$1 bin=$build/test/fuzz/fuzz-$1
  local corpus=$work/corpus/$t artifacts=$work/artifacts/$t/ log=$work/$t.log
  mkdir -p "$corpus" "$artifacts"
  local extra=()
  [ "$t" = journal ] && extra+=(-close_fd_mask=2)
  local dirs=("$corpus" "$work/seeds/$t")
  for d in test/fuzz/seeds/$t test/fuzz/regressions/$t; do [ -d "$d" ] && dirs+=("$d"); done
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} "$bin" -max_total_time="$seconds" -max_len="$(max_len "$t")" \
    -timeout=60 -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$artifacts" \
    "${extra[@]}" "${dirs[@]}" >"$log" 2>&1
  echo $? >"$work/$t.rc"
}

running=0
for t in "${targets[@]}"; do
  run_target "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
done
wait

# --- summary ------------------------------------------------------------------
passed=0
failed=0
printf '%-17s %8s %12s %8s %8s %8s %8s\n' target seconds execs cov ft corpus crashes
for t in "${targets[@]}"; do
  log=$work/$t.log
  execs=$(sed -nE 's/^stat::number_of_executed_units: ([0-9]+)/\1/p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
  corp=$(find "$work/corpus/$t" -type f | wc -l)
  # slow-unit-* files are inputs that took over 10 s once: on a busy machine,
  # usually a stall; listed, not failures (a real hang is a timeout-*).
  crashes=$(find "$work/artifacts/$t" -type f ! -name 'slow-unit-*' | wc -l)
  slow=$(find "$work/artifacts/$t" -type f -name 'slow-unit-*' | wc -l)
  printf '%-17s %8s %12s %8s %8s %8s %8s\n' "$t" "$seconds" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$corp" "$crashes"
  [ "$slow" -gt 0 ] && echo "   $t: $slow slow input(s) in $work/artifacts/$t/ (replay each to see whether it is slow alone)"
  if [ "$crashes" -eq 0 ] && [ "$(cat "$work/$t.rc")" -eq 0 ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "   $t: see $log; inputs in $work/artifacts/$t/"
    # The entry's own message (an invariant) went to the closed stderr: replay.
    for a in "$work/artifacts/$t"/*; do
      [ -f "$a" ] || continue
      case $(basename "$a") in slow-unit-*) continue ;; esac
      "$build/test/fuzz/fuzz-$t" "$a" 2>&1 | grep -E '^fuzz |ERROR: |SUMMARY: ' | head -n 3 | sed 's/^/     /'
    done
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

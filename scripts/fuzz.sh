#!/usr/bin/env bash
# Fuzzes every parser of outside bytes with cargo-fuzz (libFuzzer, AddressSanitizer, debug assertions on): GS1 scans
# in every form, the verifier's HTTP scan routes, signed envelopes, blocks and proof bundles (targets in
# services/fuzz/fuzz_targets, docs/reliability.md). One instrumented build of every target, then each target in turn:
# first every input of its committed seeds (services/fuzz/seeds/<target>, scripts/fuzz-seeds.py) and of its corpus
# so far (services/fuzz/corpus/<target>, not committed), then new inputs until the time or run budget is spent.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     default 60 s, every target
#   FUZZ_RUNS=10000000 scripts/fuzz.sh 0 block           a number of executions instead of a time
#
# Prints, per target, the executions, time, rate, final coverage and corpus size; exits non-zero on a crash (the
# input is in services/fuzz/artifacts/<target>/: turn it into a regression test). Logs stay in
# services/fuzz/logs/<target>.log.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
# cargo-fuzz passes -Z flags: accepted on this stable toolchain with RUSTC_BOOTSTRAP=1.
export RUSTC_BOOTSTRAP=1
SECS="${1:-60}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(gs1_scan http_verify epcis_query epcis_capture envelope block bundle)

if ! command -v cargo-fuzz >/dev/null || ! cargo fuzz --version 2>/dev/null | grep -q "0.13.2"; then
  echo "fuzz: cargo install cargo-fuzz 0.13.2"
  cargo install cargo-fuzz@0.13.2 --locked
fi

cd "$ROOT"
FUZZ=(--fuzz-dir services/fuzz -O --debug-assertions)
[ -z "${FUZZ_FEATURES:-}" ] || FUZZ+=(--features "$FUZZ_FEATURES")
started=$(date +%s)
echo "fuzz: building every target (instrumented; about 15 minutes the first time)"
mkdir -p services/fuzz/logs
cargo fuzz build "${FUZZ[@]}" >services/fuzz/logs/build.log 2>&1 || { tail -60 services/fuzz/logs/build.log; exit 1; }
echo "fuzz: built in $(($(date +%s) - started)) s"

if [ -n "${FUZZ_RUNS:-}" ]; then budget=(-runs="$FUZZ_RUNS"); else budget=(-max_total_time="$SECS"); fi
failed=0
for t in "${TARGETS[@]}"; do
  log="services/fuzz/logs/$t.log"
  mkdir -p "services/fuzz/corpus/$t"
  t0=$(date +%s)
  if cargo fuzz run "${FUZZ[@]}" "$t" "services/fuzz/corpus/$t" "services/fuzz/seeds/$t" -- "${budget[@]}" \
    -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    status="0 crashes"
  else
    status=CRASH
    failed=1
  fi
  runs=$(awk '/stat::number_of_executed_units/ {print $2; exit}' "$log")
  rate=$(awk '/stat::average_exec_per_sec/ {print $2; exit}' "$log")
  last=$(grep -E "^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)" "$log" | tail -1 || true)
  cov=$(sed -nE 's/.* cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+)\/([0-9A-Za-z]+).*/cov \1, ft \2, corpus \3 inputs (\4)/p' <<<"$last")
  echo "fuzz: $t: ${runs:-?} executions in $(($(date +%s) - t0)) s (${rate:-?}/s), ${cov:-?}: $status"
  [ "$status" != CRASH ] || tail -40 "$log"
done
exit $failed

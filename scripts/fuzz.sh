#!/usr/bin/env bash
# Fuzzes every parser of outside bytes with cargo-fuzz (libFuzzer): GS1 scans in every form, signed envelopes,
# blocks and proof bundles (targets in services/fuzz/fuzz_targets). Seeds come from the published vectors
# (docs/vectors/ledger-v2.json) and typical codes; corpora and crashes stay under services/fuzz/ (not committed).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     default 60 s, every target
#
# Prints, per target, the executions run and whether it crashed; exits non-zero on a crash (the input is in
# services/fuzz/artifacts/<target>/, to be turned into a regression test).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
# cargo-fuzz passes -Z flags: accepted on this stable toolchain with RUSTC_BOOTSTRAP=1.
export RUSTC_BOOTSTRAP=1
SECS="${1:-60}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(gs1_scan envelope block bundle)

if ! command -v cargo-fuzz >/dev/null || ! cargo fuzz --version 2>/dev/null | grep -q "0.13.2"; then
  echo "fuzz: cargo install cargo-fuzz 0.13.2"
  cargo install cargo-fuzz@0.13.2 --locked
fi

cd "$ROOT"
python3 - <<'PY'
import json, os
v = json.load(open("docs/vectors/ledger-v2.json"))
def put(target, name, data):
    d = os.path.join("services/fuzz/corpus", target)
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, name), "wb").write(data)
for i, e in enumerate(v["events"]):
    put("envelope", f"vector-{i}", bytes.fromhex(e["envelope"]))
for i, b in enumerate(v["blocks_topic"]):
    put("block", f"vector-{i}", bytes.fromhex(b["block"]))
put("bundle", "empty", b"")
for i, code in enumerate([
    "]d2010950600013473117281231 10L1\x1d21SERIAL1",
    "010950600013473117281231 10L1\x1d21SERIAL1",
    "(01)09506000134731(17)281231(10)L1(21)SERIAL1",
    "https://id.gs1.org/01/09506000134731/21/SERIAL1?17=281231&10=L1",
    "https://example.com/gtin/01/09506000134731/10/L1/21/SERIAL1",
    "]d201095060001347312110%2F2",
]):
    put("gs1_scan", f"seed-{i}", code.encode())
PY

failed=0
for t in "${TARGETS[@]}"; do
  log="$(mktemp)"
  if cargo fuzz run --fuzz-dir services/fuzz "$t" "services/fuzz/corpus/$t" -- -max_total_time="$SECS" \
    -print_final_stats=1 >"$log" 2>&1; then
    status=ok
  else
    status=CRASH
    failed=1
  fi
  runs=$(grep -m1 "stat::number_of_executed_units" "$log" | awk '{print $2}')
  echo "fuzz: $t: ${runs:-?} executions in ${SECS} s: $status"
  [ "$status" = ok ] || tail -40 "$log"
  rm -f "$log"
done
exit $failed

#!/usr/bin/env bash
# The blocks-topic retention check (services/kafka/tests/retention.rs) waits up to 15 minutes for the dev broker's
# maintenance, so `make test` runs it beside the other tests instead of after them:
#
#   scripts/retention-check.sh start   build the test, start it in the background (log: target/retention-check.log)
#   scripts/retention-check.sh wait    wait for it, print its report, exit with its status
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
log=target/retention-check.log
pidfile=target/retention-check.pid
case "${1:-}" in
  start)
    bin=$(cargo test -p pedigree-kafka --test retention --no-run 2>&1 |
      sed -n 's/.*Executable tests\/retention\.rs (\(.*\))$/\1/p' | tail -1)
    [ -x "$bin" ] || { echo "retention-check: the test binary was not built" >&2; exit 1; }
    "$bin" --ignored --nocapture >"$log" 2>&1 &
    echo $! >"$pidfile"
    echo "retention-check: started in the background (pid $(cat "$pidfile"), log $log)"
    ;;
  wait)
    pid=$(cat "$pidfile")
    echo "retention-check: waiting for the blocks-topic retention check (pid $pid)"
    # `wait` only knows the shell's own children: poll.
    while kill -0 "$pid" 2>/dev/null; do sleep 5; done
    grep -E "after [0-9]+ s|test result|panicked|assertion" "$log" || true
    grep -q "test result: ok. 1 passed" "$log" || { echo "retention-check: FAILED (full log: $log)" >&2; cat "$log" >&2; exit 1; }
    ;;
  *)
    echo "usage: $0 start|wait" >&2
    exit 2
    ;;
esac

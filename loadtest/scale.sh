#!/usr/bin/env bash
# Scale run (make scale): verify latency, Redis bytes per pack and sequencer RSS at 1e5, 1e6 and 1e7 packs, against
# a release `pedigree up` on its own ports. Needs ~3 GB of RAM for Redis and about 13 minutes.
# Each bulk phase grows the store by exactly --packs: it sends until that pool runs out, and its window (after a 1 s
# warm-up) ends there, so only the last step (10^6 -> 10^7, about 3 minutes) is a steady state of 30 s or more; the
# first two only grow the store. Each verify run measures over the default windows (30 s after a 5 s warm-up).
# CASE_SIZE=100 runs the bulk phases with aggregation: packs into cases of that many (SSCCs), the cases of each
# 1,000-pack commission onto a pallet, the pallet shipped and received whole.
CASE_SIZE=${CASE_SIZE:-0}
cd "$(dirname "$0")/.."
rm -rf /tmp/pds
# The per-client rate limits are off: the load tester measures throughput, every client on one address.
PEDIGREE_ANONYMOUS_PER_SEC=0 PEDIGREE_PARTICIPANT_PER_SEC=0 PEDIGREE_SUBMISSIONS_PER_SEC=0 \
  ./target/release/pedigree up --dir /tmp/pds --custody-port 52051 --verifier-grpc-port 52052 --verifier-http-port 28080 --sequencer-health-port 52053 --metrics-port 29464 > /tmp/pds.log 2>&1 &
sleep 25
KB=$(grep "kafka (tansu)" /tmp/pds.log | awk '{print $3}')
RP=$(grep "  redis " /tmp/pds.log | sed 's/.*127.0.0.1:\([0-9]*\).*/\1/')
# Every server speaks TLS (the stack's local CA); Redis is TLS-only with ACL users: the dev stack's admin reads it.
ADMIN=$(awk '/^user admin / {print substr($4, 2)}' /tmp/pds/redis/users.acl)
RC() { redis-cli --tls --cacert /tmp/pds/redis/ca.pem -p $RP --user admin --pass "$ADMIN" --no-auth-warning "$@"; }

# No --redis-port: the Redis GET limit needs a plaintext port, which the stack does not open.
LT() { ./target/release/pedigree-loadtest remote "$1" --ca /tmp/pds/tls/ca.pem --custody https://127.0.0.1:52051 --verifier https://127.0.0.1:52052 --verifier-http https://127.0.0.1:28080 --brokers $KB --keys-dir /tmp/pds "${@:2}"; }
base=$(RC info memory | grep "^used_memory:" | cut -d: -f2 | tr -d '\r')
total=0
for add in 100000 900000 9000000; do
  LT bulk --packs $add --pack-size 1000 --case-size $CASE_SIZE --warmup 1 --duration 3600 2>&1 | grep -E "^limits|^bulk |window:|exactly once|[Ee]rror"
  total=$((total+add))
  used=$(RC info memory | grep "^used_memory:" | cut -d: -f2 | tr -d '\r')
  bucket=$(RC --scan --pattern 'p:*' | head -1)
  bucket_bytes=$(RC memory usage "$bucket"); bucket_len=$(RC hlen "$bucket")
  containers=$(RC --scan --pattern 'k:*' | wc -l)
  echo "== packs=$total containers=$containers redis_used=$used bytes_per_pack_all_in=$(( (used-base)/total )) one_bucket=$bucket_bytes B/$bucket_len packs ($(RC object encoding "$bucket")) seq_rss_kB=$(ps -o rss= -C pedigree-sequencer | head -1) seq_peak_kB=$(awk '/^VmHWM/ {print $2}' /proc/$(ps -o pid= -C pedigree-sequencer | head -1 | tr -d " ")/status)"
  # Scans are measured at rest: after a bulk phase the broker checkpoints its write-ahead log and Redis finishes
  # incremental rehashing for a few seconds, which would be charged to the scans.
  sleep 15
  LT verify --packs 10000 --clients 64 --scan-rate 20000 --duration 30 --warmup 5 2>&1 | grep -E "^limits|^verify-|window:|[Ee]rror"
done
pkill -INT -f "pedigree up --dir /tmp/pds"

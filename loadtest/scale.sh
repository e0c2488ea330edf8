#!/usr/bin/env bash
# Scale run (make scale): verify latency, Redis bytes per pack and sequencer RSS at 1e5, 1e6 and 1e7 packs, against
# a release `pedigree up` on its own ports. Needs ~3 GB of RAM for Redis and about 8 minutes.
cd "$(dirname "$0")/.."
rm -rf /tmp/pds
./target/release/pedigree up --dir /tmp/pds --custody-port 52051 --verifier-grpc-port 52052 --verifier-http-port 28080 --sequencer-health-port 52053 > /tmp/pds.log 2>&1 &
sleep 25
KB=$(grep "kafka (tansu)" /tmp/pds.log | awk '{print $3}')
RP=$(grep "  redis " /tmp/pds.log | sed 's/.*127.0.0.1:\([0-9]*\).*/\1/')

LT() { ./target/release/pedigree-loadtest remote "$1" --custody http://127.0.0.1:52051 --verifier http://127.0.0.1:52052 --verifier-http http://127.0.0.1:28080 --brokers $KB --keys-dir /tmp/pds --skip-limits "${@:2}"; }
base=$(redis-cli -p $RP info memory | grep "^used_memory:" | cut -d: -f2 | tr -d '\r')
total=0
for add in 100000 900000 9000000; do
  LT bulk --packs $add --pack-size 1000 --phase-timeout-secs 900 2>&1 | grep -E "^bulk |exactly once"
  total=$((total+add))
  used=$(redis-cli -p $RP info memory | grep "^used_memory:" | cut -d: -f2 | tr -d '\r')
  bucket=$(redis-cli -p $RP --scan --pattern 'p:*' | head -1)
  bucket_bytes=$(redis-cli -p $RP memory usage "$bucket"); bucket_len=$(redis-cli -p $RP hlen "$bucket")
  echo "== packs=$total redis_used=$used bytes_per_pack_all_in=$(( (used-base)/total )) one_bucket=$bucket_bytes B/$bucket_len packs ($(redis-cli -p $RP object encoding "$bucket")) seq_rss_kB=$(ps -o rss= -C pedigree-sequencer | head -1) seq_peak_kB=$(awk '/^VmHWM/ {print $2}' /proc/$(ps -o pid= -C pedigree-sequencer | head -1 | tr -d " ")/status)"
  # Scans are measured at rest: after a bulk phase the broker checkpoints its write-ahead log and Redis finishes
  # incremental rehashing for a few seconds, which would be charged to the scans.
  sleep 15
  LT verify --packs 10000 --scans 100000 --clients 64 2>&1 | grep -E "^verify-"
done
pkill -INT -f "pedigree up --dir /tmp/pds"

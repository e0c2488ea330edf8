# The two commands (see README): `make up` runs the system with its demo, `make test` runs every check.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)

.PHONY: up test setup build fmt lint breaking unit k8s bench scale chaos failover hostile fuzz fuzz-short

setup:
	@scripts/setup.sh

build: setup
	cargo build --bins

## Broker, Redis, custody, sequencer and verifier on 127.0.0.1, the demo scenario, then running until Ctrl-C.
up: build
	./target/debug/pedigree up

## Formatting, lints with warnings denied, every test (unit, property, integration on a real broker and Redis),
## the Helm chart / Kubernetes manifest checks, and a short run of every fuzz target.
test: setup fmt lint unit k8s fuzz-short

fmt:
	cargo fmt --all -- --check
	cargo fmt --manifest-path services/fuzz/Cargo.toml -- --check

## Clippy, no unused dependency (cargo-machete; exceptions in a crate's [package.metadata.cargo-machete]), then the
## wire contract: buf lint on proto/ (exceptions recorded in proto/buf.yaml) and buf breaking against
## the last release tag (skipped, saying so, while there is none).
lint:
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy --manifest-path services/fuzz/Cargo.toml --all-targets -- -D warnings
	cargo machete
	scripts/buf.sh lint
	scripts/buf.sh release-breaking

## What this branch changes in the wire contract, by buf breaking against REF (default main): make breaking REF=v1.0.0
breaking:
	scripts/buf.sh breaking $(REF)

## The leadership tests need a real kube-apiserver (built once from Debian's kubernetes source, then cached). The
## blocks-topic retention check waits up to 15 minutes for the broker's maintenance: it runs beside the other tests.
unit:
	scripts/kube-apiserver.sh
	cargo build --bins
	scripts/retention-check.sh start
	PEDIGREE_REQUIRE_APISERVER=1 cargo test --workspace
	scripts/retention-check.sh wait

k8s:
	scripts/check-k8s.sh

## criterion benches (target/criterion), then the load scenarios, each figure measured over a steady-state window of
## 30 s after a 5 s warm-up (the drain is left out); reports under results/. The load scenarios take about 10 minutes.
## Ingest runs twice: on tansu's in-memory log and on its SQLite log (docs/performance.md, "The missed target").
bench: setup
	cargo bench -p pedigree-core -p pedigree-merkle
	cargo bench -p pedigree-verifier --bench per_scan
	cargo build --release -p pedigree-loadtest
	./target/release/pedigree-loadtest spawn ingest --duration 30 --warmup 5 --clients 64 --batch-max-events 2000
	./target/release/pedigree-loadtest spawn ingest --broker-log sqlite --duration 30 --warmup 5 --clients 64 --batch-max-events 2000
	./target/release/pedigree-loadtest spawn bulk --duration 30 --warmup 5 --pack-size 1000 --batch-max-events 2000
	./target/release/pedigree-loadtest spawn verify --duration 30 --warmup 5 --packs 10000 --clients 64 --scan-rate 20000
	./target/release/pedigree-loadtest spawn mixed --duration 30 --warmup 5 --clients 64 --scan-clients 16 --batch-max-events 2000

## Verify latency, Redis memory per pack and sequencer memory at 10^5, 10^6 and 10^7 packs (about 13 minutes, 3 GB).
## CASE_SIZE=100 runs it with aggregation (cases of 100 packs on pallets, shipped and received whole).
scale: setup
	cargo build --release --bins
	CASE_SIZE=$(or $(CASE_SIZE),0) loadtest/scale.sh

## The chaos run: the system as real processes under a supervisor, chains of custody and scans running, 25 SIGKILLs
## spread over sequencer, custody, verifier, Redis (restarted empty) and broker, and 3 pauses of 20 s; then the
## checks (nothing acknowledged lost or sealed twice, no wrong verdict, Redis and verify answers equal to a replay).
## About 10 minutes; report under results/chaos-<timestamp>/. SEED=n repeats a run's fault plan.
chaos: setup
	cargo build --release --bins
	./target/release/pedigree-loadtest chaos --seed $(or $(SEED),4242)

## A new sequencer leader's start to its first seal with 10^5 and 10^6 blocks in the topic: a fold from genesis on
## an empty Redis, then five starts from the checkpoint Redis keeps (about 15 minutes; results/failover-<timestamp>/).
failover: setup
	cargo build --release -p pedigree-loadtest
	./target/release/pedigree-loadtest failover --blocks 100000,1000000

## The hostile run: legitimate pharmacies scanning while 5,000 slowloris connections, 500 slow-header connections,
## 4 MB requests and an abusive address attack the verifier with its default limits; reports the legitimate p99 and
## the verifier's largest resident memory beside their targets (about 2 minutes; results/hostile-<timestamp>/).
hostile: setup
	cargo build --release --bins
	./target/release/pedigree-loadtest hostile

## libFuzzer on every parser of outside bytes (services/fuzz: GS1 scans, the verifier's HTTP scan routes, envelopes,
## blocks, proof bundles), FUZZ_SECS per target (default 600), after replaying the committed seeds and the corpus so
## far. A crash leaves its input in services/fuzz/artifacts/<target>/ (docs/reliability.md says what to do with it).
fuzz: setup
	scripts/fuzz.sh $(or $(FUZZ_SECS),600)

## What `make test` runs: the same, 15 s per target (the instrumented build takes about 15 minutes cold).
fuzz-short:
	scripts/fuzz.sh $(or $(FUZZ_SECS),15)

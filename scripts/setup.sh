#!/usr/bin/env bash
# Installs what building, running and testing Pedigree needs, skipping what is present (idempotent):
# - Debian packages: redis-server (built with TLS, as Debian's is), a C toolchain and the OpenSSL headers for
#   librdkafka (built from source by rdkafka-sys, with TLS and SASL), python3 venv;
# - the Kafka-compatible broker tansu (cargo install, ~10 min cold, then cached in ~/.cargo/bin);
# - cargo-machete, the unused-dependency check of `make lint` (cargo install, pinned);
# - cargo-fuzz, which builds and runs the fuzz targets of `make test` and `make fuzz` (cargo install, pinned);
# - buf, the protobuf linter `make lint` runs (npm, pinned in scripts/buf.sh, cached in ~/.cache/pedigree-tools);
# - the independent EPCIS checks the tests run: the EPCIS 2.0 JSON schema with ajv (npm) and the event hash reference
#   implementation (PyPI, in a venv), pinned in scripts/epcis-check.sh, cached in ~/.cache/pedigree-tools;
# - the browser tests' tools: Debian's chromium and chromium-driver, and the pinned npm packages of
#   services/e2e/browser (playwright-core, axe-core, bwip-js; scripts/browser-setup.sh).
set -euo pipefail

export PATH="$HOME/.cargo/bin:$PATH"
need_apt=()
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v cc >/dev/null || need_apt+=(build-essential)
command -v make >/dev/null || need_apt+=(make)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
command -v python3 >/dev/null || need_apt+=(python3 python3-venv python3-pip)
[ -e /usr/include/zlib.h ] || need_apt+=(zlib1g-dev)
# librdkafka is built with TLS and SASL (rdkafka's `ssl` feature) against the system's OpenSSL.
[ -e /usr/include/openssl/ssl.h ] || need_apt+=(libssl-dev)
command -v npm >/dev/null || need_apt+=(nodejs npm)
python3 -c 'import ensurepip' 2>/dev/null || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: apt-get install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null; then
  echo "setup: cargo not found: install the Rust toolchain (rustup) first" >&2
  exit 1
fi

if ! command -v tansu >/dev/null || ! tansu --version 2>/dev/null | grep -q "0.6.0"; then
  echo "setup: cargo install tansu 0.6.0 (Kafka-compatible broker; about 10 minutes the first time)"
  cargo install tansu@0.6.0 --locked --features dynostore,libsql
fi
if ! command -v cargo-machete >/dev/null || ! cargo-machete --version 2>/dev/null | grep -q "0.9.2"; then
  echo "setup: cargo install cargo-machete 0.9.2 (the unused-dependency check of make lint; about a minute)"
  cargo install cargo-machete@0.9.2 --locked
fi
if ! command -v cargo-fuzz >/dev/null || ! cargo fuzz --version 2>/dev/null | grep -q "0.13.2"; then
  echo "setup: cargo install cargo-fuzz 0.13.2 (builds and runs the fuzz targets; about 2 minutes)"
  cargo install cargo-fuzz@0.13.2 --locked
fi
buf=$("$(dirname "$0")/buf.sh" install)
"$(dirname "$0")/epcis-check.sh" install
"$(dirname "$0")/browser-setup.sh"
echo "setup: redis-server $(redis-server --version | awk '{print $3}'), $(tansu --version 2>/dev/null | head -1)," \
  "$(cargo fuzz --version 2>/dev/null), $buf"

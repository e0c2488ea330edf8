# syntax=docker/dockerfile:1.7
#
# Pedigree image: pedigree-custody, pedigree-sequencer, pedigree-verifier and
# the pedigree CLI in /usr/local/bin, on distroless (no shell), run as the
# distroless "nonroot" user 65532. The Helm chart (helm/pedigree) picks the
# binary with `command:`.
#
# NOTE: Docker cannot build on the development machines of this project (they
# have no container engine), so this file is not built here: it is checked
# only by CI lint (scripts/check-k8s.sh parses it with Docker's own parser and
# checks that it produces every binary the chart runs). Build it with BuildKit:
#
#   DOCKER_BUILDKIT=1 docker build -t pedigree:0.1.0 .

# ---------------------------------------------------------------------------
FROM rust:1.95-bookworm AS builder

# rdkafka builds its bundled librdkafka from source (rdkafka-sys): it needs a
# C toolchain (in the image), cmake when built with the cmake-build feature,
# and the headers of the optional codecs/auth it links: zlib, OpenSSL, SASL.
# Protobufs are compiled by protox (pure Rust): no protoc needed.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        cmake \
        libsasl2-dev \
        libssl-dev \
        pkg-config \
        zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*

# Link zlib statically: the distroless runtime has glibc, libgcc, libstdc++
# and libssl3, but no libz.
ENV LIBZ_SYS_STATIC=1 \
    CARGO_TERM_COLOR=never \
    CARGO_INCREMENTAL=0

WORKDIR /src
COPY . .

# Cache mounts for the registry/git sources (CARGO_HOME is /usr/local/cargo in
# the rust image, i.e. its ~/.cargo) and for target/. target/ is a cache
# mount, so the binaries are copied out within the same RUN.
RUN --mount=type=cache,id=pedigree-cargo-registry,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,id=pedigree-cargo-git,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,id=pedigree-target,target=/src/target,sharing=locked \
    cargo build --release --locked \
        -p pedigree-custody \
        -p pedigree-sequencer \
        -p pedigree-verifier \
        -p pedigree-cli \
 && mkdir -p /out \
 && cp target/release/pedigree-custody \
       target/release/pedigree-sequencer \
       target/release/pedigree-verifier \
       target/release/pedigree \
       /out/

# ---------------------------------------------------------------------------
FROM gcr.io/distroless/cc-debian12:nonroot

LABEL org.opencontainers.image.title="pedigree" \
      org.opencontainers.image.description="Pedigree drug supply-chain traceability services" \
      org.opencontainers.image.licenses="Apache-2.0"

COPY --from=builder /out/pedigree-custody   /usr/local/bin/pedigree-custody
COPY --from=builder /out/pedigree-sequencer /usr/local/bin/pedigree-sequencer
COPY --from=builder /out/pedigree-verifier  /usr/local/bin/pedigree-verifier
COPY --from=builder /out/pedigree           /usr/local/bin/pedigree

# distroless "nonroot"; the chart also enforces runAsNonRoot/runAsUser 65532.
USER 65532:65532

# custody gRPC, verifier gRPC, sequencer health gRPC, verifier HTTP, metrics (the chart's metrics.port).
EXPOSE 50051 50052 50053 8080 9464

# The chart sets `command` per component; the default is the CLI.
ENTRYPOINT ["/usr/local/bin/pedigree"]

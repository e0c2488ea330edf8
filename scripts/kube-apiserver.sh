#!/usr/bin/env bash
# Provides a real kube-apiserver and etcd for the sequencer's leader-election
# test (services/e2e/tests/leadership.rs), idempotently:
#
#   kube-apiserver   built once from Debian's `kubernetes` source package
#                    (v1.20.x in bookworm) with Debian's Go, cached in
#                    ${PEDIGREE_TOOLS:-$HOME/.cache/pedigree-tools}/bin
#   etcd             Debian's `etcd-server` package (/usr/bin/etcd), linked
#                    into the same bin folder
#
# Only Debian's archive is used (our machines and CI reach package registries,
# not dl.k8s.io). The first run takes a few minutes (the Go build of
# kube-apiserver on 2 cores); later runs find the binary and return at once.
#
# Usage:
#   scripts/kube-apiserver.sh      install (if needed) and print the paths
#
# Environment:
#   PEDIGREE_TOOLS   cache folder (default: $HOME/.cache/pedigree-tools)
#
# The test finds the binaries in that bin folder (or on PATH) and, when
# PEDIGREE_REQUIRE_APISERVER is set, fails instead of skipping without them.
set -euo pipefail

cache="${PEDIGREE_TOOLS:-$HOME/.cache/pedigree-tools}"
bin="$cache/bin"
mkdir -p "$bin"

log() { echo "kube-apiserver.sh: $*" >&2; }

SUDO=""
if [[ "$(id -u)" != 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
fi

apt_updated=""
apt_update() {
    if [[ -z "$apt_updated" ]]; then
        $SUDO apt-get update -qq
        apt_updated=1
    fi
}

apt_install() {
    local missing=()
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if ((${#missing[@]})); then
        log "installing ${missing[*]}"
        apt_update
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

# --- etcd ------------------------------------------------------------------
if [[ ! -x "$bin/etcd" ]]; then
    apt_install etcd-server
    ln -sf "$(command -v etcd || echo /usr/bin/etcd)" "$bin/etcd"
fi

# --- kube-apiserver ----------------------------------------------------------
if [[ ! -x "$bin/kube-apiserver" ]]; then
    # deb-src lines, derived from the deb lines this machine already uses (same
    # mirror and suites), added once.
    src_list=/etc/apt/sources.list.d/pedigree-deb-src.sources
    if ! apt-cache showsrc kubernetes >/dev/null 2>&1 || [[ -z "$(apt-cache showsrc kubernetes 2>/dev/null)" ]]; then
        if [[ ! -f "$src_list" ]]; then
            log "adding deb-src entries ($src_list)"
            if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
                sed -e 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
                    | $SUDO tee "$src_list" >/dev/null
            else
                # shellcheck disable=SC1091
                codename="$(. /etc/os-release && echo "$VERSION_CODENAME")"
                printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
                    "$codename" "$codename" | $SUDO tee "$src_list" >/dev/null
            fi
        fi
        apt_updated=""
        apt_update
    fi
    # Go: Debian's default golang-go (1.19 in bookworm, which is what Debian
    # itself builds its kubernetes 1.20 packages with). dpkg-dev unpacks the
    # source package and applies Debian's patches.
    apt_install golang-go dpkg-dev ca-certificates make rsync
    work="$cache/src"
    mkdir -p "$work"
    tree="$(find "$work" -maxdepth 1 -type d -name 'kubernetes-*' | head -n1)"
    if [[ -z "$tree" || ! -d "$tree/cmd/kube-apiserver" ]]; then
        log "fetching Debian's kubernetes source package"
        rm -rf "$work"/kubernetes*
        (cd "$work" && apt-get source -qq kubernetes >/dev/null)
        tree="$(find "$work" -maxdepth 1 -type d -name 'kubernetes-*' | head -n1)"
    fi
    [[ -n "$tree" && -d "$tree/cmd/kube-apiserver" ]] || {
        log "no cmd/kube-apiserver in the unpacked source ($work)"
        exit 1
    }
    log "building kube-apiserver in $tree (a few minutes on 2 cores)"
    start=$(date +%s)
    # The way Debian's own debian/rules builds it: upstream's `make WHAT=...`
    # (hack/lib/golang.sh: vendored modules, staging repos through vendor/
    # symlinks) in a GOPATH that links the tree as k8s.io/kubernetes.
    (
        cd "$tree"
        mkdir -p .go/src/k8s.io
        [[ -L .go/src/k8s.io/kubernetes ]] || ln -s ../../.. .go/src/k8s.io/kubernetes
        export GOPATH="$tree/.go" GOCACHE="$work/gocache" CGO_ENABLED=0 GOPROXY=off
        make WHAT=cmd/kube-apiserver GOLDFLAGS="-s -w" >"$work/build.log" 2>&1 || {
            tail -n 40 "$work/build.log" >&2
            log "build failed (full log: $work/build.log)"
            exit 1
        }
        cp -f _output/bin/kube-apiserver "$bin/kube-apiserver.tmp"
    )
    mv -f "$bin/kube-apiserver.tmp" "$bin/kube-apiserver"
    # The source tree and Go cache are ~2 GB; the binary is all the tests need.
    rm -rf "$work"
    log "built kube-apiserver in $(($(date +%s) - start)) s"
fi

"$bin/kube-apiserver" --version >&2 || {
    log "$bin/kube-apiserver does not run"
    exit 1
}
"$bin/etcd" --version 2>/dev/null | head -n1 >&2 || true
log "kube-apiserver $bin/kube-apiserver"
log "etcd           $bin/etcd"

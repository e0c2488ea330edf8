#!/usr/bin/env bash
# buf, the protobuf linter and breaking-change checker, for the wire contract in proto/ (its exceptions and why are
# recorded in proto/buf.yaml). buf is pinned and installed once from npm, whose @bufbuild/buf package ships the
# binary, into ${PEDIGREE_TOOLS:-$HOME/.cache/pedigree-tools}/buf/<version>; later runs find it there.
#
# Usage:
#   scripts/buf.sh install           install (if needed) and print the version
#   scripts/buf.sh lint              buf lint (run by `make lint`)
#   scripts/buf.sh breaking [REF]    buf breaking against git REF (default: main), e.g. before merging a branch
#   scripts/buf.sh release-breaking  buf breaking against the last release tag (v*), run by `make lint`. There is no
#                                    release yet, so it says so and passes; once format v2 is released and tagged,
#                                    it guards that contract: every later change must keep old clients working.
set -euo pipefail
cd "$(dirname "$0")/.."

version=1.75.0
prefix="${PEDIGREE_TOOLS:-$HOME/.cache/pedigree-tools}/buf/$version"
buf="$prefix/node_modules/.bin/buf"

install() {
  if [ "$("$buf" --version 2>/dev/null)" = "$version" ]; then
    return
  fi
  if ! command -v npm >/dev/null; then
    echo "buf.sh: npm not found: run \`make setup\` (it installs Debian's nodejs and npm)" >&2
    exit 1
  fi
  echo "buf.sh: npm install @bufbuild/buf@$version into $prefix" >&2
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "@bufbuild/buf@$version" >&2
  [ "$("$buf" --version)" = "$version" ]
}

# Compares proto/ with the same folder at git ref $1.
breaking_against() {
  "$buf" breaking proto --against ".git#ref=$1,subdir=proto"
}

case "${1:-}" in
  install)
    install
    echo "buf $version"
    ;;
  lint)
    install
    "$buf" lint proto
    ;;
  breaking)
    install
    breaking_against "${2:-main}"
    ;;
  release-breaking)
    install
    if tag=$(git describe --tags --abbrev=0 --match 'v[0-9]*' 2>/dev/null); then
      breaking_against "$tag"
    else
      echo "buf.sh: no release tag (v*) yet: nothing to check wire compatibility against"
    fi
    ;;
  *)
    echo "usage: $0 install | lint | breaking [REF] | release-breaking" >&2
    exit 2
    ;;
esac

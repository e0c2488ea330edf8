#!/usr/bin/env bash
# Make the browser end-to-end tooling ready: Debian's chromium (+ chromedriver)
# and the pinned npm packages of services/e2e/browser (playwright-core,
# axe-core, bwip-js). Idempotent and fast when already done. Prints one line.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/services/e2e/browser"
did=()

if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
  sudo=()
  [[ "$(id -u)" -eq 0 ]] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq >/dev/null
  "${sudo[@]}" apt-get install -y -qq chromium chromium-driver >/dev/null
  did+=("installed chromium $(dpkg-query -W -f='${Version}' chromium)")
fi

# node_modules/.package-lock.json is written by every npm ci/install.
stamp="$dir/node_modules/.package-lock.json"
if [[ ! -d "$dir/node_modules" || ! -f "$stamp" || "$dir/package-lock.json" -nt "$stamp" ]]; then
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  did+=("npm ci in services/e2e/browser")
fi

if ((${#did[@]})); then
  msg="$(IFS=';'; echo "${did[*]}")"
  echo "browser-setup: ${msg//;/, }"
else
  echo "browser-setup: already set up (chromium $(dpkg-query -W -f='${Version}' chromium 2>/dev/null || echo '?'), node_modules current)"
fi

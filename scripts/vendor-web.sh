#!/usr/bin/env bash
# Vendor the browser-side third-party code served by the web UI from our own
# origin (no CDN at run time). Currently: the zxing-wasm READER (zxing-cpp
# compiled to WebAssembly) used by services/webui/assets/camera.js when the
# browser has no BarcodeDetector (e.g. Chromium on Linux).
#
# The tarball is fetched from the npm registry with `npm pack`, its sha512 is
# checked against the pinned registry `dist.integrity`, and only the files the
# reader needs as a plain ES module are copied:
#
#   services/webui/assets/vendor/zxing/reader/index.js   ES module (imports ../share.js only)
#   services/webui/assets/vendor/zxing/share.js          shared helpers (no imports)
#   services/webui/assets/vendor/zxing/zxing_reader.wasm the decoder
#   services/webui/assets/vendor/zxing/LICENSE           zxing-wasm's MIT licence
#   services/webui/assets/vendor/zxing/NOTICE            zxing-cpp's Apache-2.0 notice
#
# Usage: scripts/vendor-web.sh          (re-vendors; safe to run repeatedly)
set -euo pipefail

ZXING_WASM_VERSION=3.1.6
ZXING_WASM_INTEGRITY='sha512-mU7UNuvl+hOT+nlSOQTMHZ2tM8lRMsbjDIp5IO/+HmBl/FOq77q0OSZPJ3cm42A9c1MKU6Uve67FiGdkhsrT9g=='

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/services/webui/assets/vendor/zxing"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --silent "zxing-wasm@${ZXING_WASM_VERSION}" >/dev/null)
tgz="$tmp/zxing-wasm-${ZXING_WASM_VERSION}.tgz"
[[ -f "$tgz" ]] || { echo "vendor-web: npm pack did not produce $tgz" >&2; exit 1; }

actual="sha512-$(node -e 'const c=require("crypto"),f=require("fs");process.stdout.write(c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$tgz")"
if [[ "$actual" != "$ZXING_WASM_INTEGRITY" ]]; then
  echo "vendor-web: integrity mismatch for zxing-wasm@${ZXING_WASM_VERSION}" >&2
  echo "  expected $ZXING_WASM_INTEGRITY" >&2
  echo "  actual   $actual" >&2
  exit 1
fi

tar -xzf "$tgz" -C "$tmp"
pkg="$tmp/package"

# The ES reader must stay free of bare-specifier imports (no import map here).
if grep -Eq '(^|[;}[:space:]])(import|export)[^;]*from[[:space:]]*"[^./]' "$pkg/dist/es/reader/index.js" "$pkg/dist/es/share.js"; then
  echo "vendor-web: zxing-wasm ES build has bare imports; switch to dist/iife" >&2
  exit 1
fi

# The JS glue embeds the sha256 of the wasm it was built with; check they match.
want_wasm_sha="$(sed -n 's/^var [A-Za-z_$]* = "\([0-9a-f]\{64\}\)";$/\1/p' "$pkg/dist/es/reader/index.js" | head -n1)"
have_wasm_sha="$(sha256sum "$pkg/dist/reader/zxing_reader.wasm" | cut -d' ' -f1)"
if [[ -n "$want_wasm_sha" && "$want_wasm_sha" != "$have_wasm_sha" ]]; then
  echo "vendor-web: zxing_reader.wasm sha256 $have_wasm_sha != $want_wasm_sha embedded in the JS" >&2
  exit 1
fi

rm -rf "$dest"
mkdir -p "$dest/reader"
install -m 0644 "$pkg/dist/es/reader/index.js" "$dest/reader/index.js"
install -m 0644 "$pkg/dist/es/share.js" "$dest/share.js"
install -m 0644 "$pkg/dist/reader/zxing_reader.wasm" "$dest/zxing_reader.wasm"
install -m 0644 "$pkg/LICENSE" "$dest/LICENSE"
# The wasm is zxing-cpp, whose licence (Apache-2.0) the npm package does not ship: say so beside it.
cat > "$dest/NOTICE" <<'NOTICE'
zxing_reader.wasm is zxing-cpp (https://github.com/zxing-cpp/zxing-cpp), compiled to WebAssembly by the zxing-wasm
package (https://github.com/Sec-ant/zxing-wasm, MIT licence: see LICENSE beside this file).

zxing-cpp is licensed under the Apache License, Version 2.0 (https://www.apache.org/licenses/LICENSE-2.0).
Copyright 2016 Nu-book Inc., copyright 2016 ZXing authors, copyright 2020-2025 Axel Waggershauser and the zxing-cpp
contributors.
NOTICE

echo "vendor-web: zxing-wasm@${ZXING_WASM_VERSION} (integrity ok) -> ${dest#"$root"/}"

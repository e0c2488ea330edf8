#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora, services/fuzz/seeds/<target>/ (committed; scripts/fuzz.sh reads them
beside the growing corpus services/fuzz/corpus/<target>/, which is not):

- envelope, block, bundle: the published vectors (docs/vectors/ledger-v2.json): every signed envelope, every block of
  the blocks topic, every proof bundle (in its JSON form), and the
  negative envelopes, blocks and bundles;
- gs1_scan: every string literal of the GS1 tests (services/gs1, services/core/tests/verdicts.rs, the verifier's
  route tests) that looks like a code in some form, plus codes in each form;
- http_verify: each of those as `/v1/verify?code=` (percent-encoded, with and without `proof=1`), the Digital Link
  ones as paths and absolute URIs, and the verifier's route test URIs.

Run again after adding test codes: python3 scripts/fuzz-seeds.py (file names are content hashes, so reruns are
idempotent and old seeds stay).
"""
import glob
import hashlib
import json
import os
import re
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = os.path.join(ROOT, "services/fuzz/seeds")


def put(target, data):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
ESCAPE = re.compile(r'\\(u\{[0-9a-fA-F]+\}|x[0-9a-fA-F]{2}|.)')


def unescape(s):
    def one(m):
        e = m.group(1)
        if e.startswith("u{"):
            return chr(int(e[2:-1], 16))
        if e.startswith("x"):
            return chr(int(e[1:], 16))
        return {"n": "\n", "r": "\r", "t": "\t", "0": "\0"}.get(e, e)
    return ESCAPE.sub(one, s)


def looks_like_code(s):
    return len(s) >= 4 and ("01" in s or "(" in s or s.startswith("]")) and "{" not in s.replace("{gtin}", "")


def main():
    v = json.load(open(os.path.join(ROOT, "docs/vectors/ledger-v2.json")))
    for e in v["events"]:
        put("envelope", bytes.fromhex(e["envelope"]))
    for b in v["blocks_topic"]:
        put("block", bytes.fromhex(b["block"]))
    for b in v["bundles"]:
        put("bundle", json.dumps(b["bundle"], indent=1).encode())
    for n in v["negative"]:
        if "bundle" in n:
            put("bundle", json.dumps(n["bundle"], indent=1).encode())
        if "envelope" in n:
            put("envelope", bytes.fromhex(n["envelope"]))
        if "block" in n:
            put("block", bytes.fromhex(n["block"]))
    put("bundle", b"")

    sources = (
        glob.glob(os.path.join(ROOT, "services/gs1/src/*.rs"))
        + glob.glob(os.path.join(ROOT, "services/gs1/tests/*.rs"))
        + [os.path.join(ROOT, "services/core/tests/verdicts.rs")]
    )
    codes = {
        "]d2010950600013473117281231 10L1\x1d21SERIAL1",
        "010950600013473117281231 10L1\x1d21SERIAL1",
        "(01)09506000134731(17)281231(10)L1(21)SERIAL1",
        "https://id.gs1.org/01/09506000134731/21/SERIAL1?17=281231&10=L1",
        "https://example.com/gtin/01/09506000134731/10/L1/21/SERIAL1",
        "]d201095060001347312110%2F2",
    }
    for path in sources:
        for m in LITERAL.finditer(open(path, encoding="utf-8").read()):
            s = unescape(m.group(1))
            if looks_like_code(s):
                codes.add(s)
    for c in sorted(codes):
        put("gs1_scan", c.encode())

    uris = set()
    route_tests = open(os.path.join(ROOT, "services/verifier/src/route.rs"), encoding="utf-8").read()
    for m in LITERAL.finditer(route_tests):
        s = unescape(m.group(1))
        if s.startswith("/") or s.startswith("http"):
            uris.add(s)
    for c in sorted(codes):
        q = urllib.parse.quote(c, safe="")
        uris.add(f"/v1/verify?code={q}")
        uris.add(f"/v1/verify?proof=1&code={q}")
        i = c.find("/01/")
        if i >= 0:
            dl = urllib.parse.quote(c[i:].strip(), safe="/?&=%#")
            uris.add(dl)
            uris.add("https://verifier.example" + dl)
    for u in sorted(uris):
        put("http_verify", u.encode())
    for t in sorted(os.listdir(SEEDS)):
        print(f"fuzz-seeds: {t}: {len(os.listdir(os.path.join(SEEDS, t)))} seeds")


main()

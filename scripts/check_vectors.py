#!/usr/bin/env python3
"""An independent check of docs/vectors/ledger-v2.json, written from docs/ledger-format.md alone.

Standard library only (secp256k1 ECDSA verification, protobuf decoding and RFC 6962 are written out here), so it runs
wherever python3 does: `python3 scripts/check_vectors.py [docs/vectors/ledger-v2.json]`. Exit status 0 when every
positive vector checks and every negative vector fails for the documented reason.
"""

import base64
import hashlib
import json
import struct
import sys

# --- primitives (section 1) -------------------------------------------------------------------------------------


def H(b):
    return hashlib.sha256(b).digest()


def TH(tag, *parts):
    return H(tag.encode() + b"\x00" + b"".join(parts))


def u32(n):
    return struct.pack(">I", n)


def u64(n):
    return struct.pack(">Q", n)


def i64(n):
    return struct.pack(">q", n)


def s(text):
    raw = text.encode()
    return u32(len(raw)) + raw


EMPTY = H(b"")

# secp256k1
P = 2**256 - 2**32 - 977
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = (
    0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
    0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8,
)


def point_add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0] and (a[1] + b[1]) % P == 0:
        return None
    if a == b:
        lam = 3 * a[0] * a[0] * pow(2 * a[1], -1, P) % P
    else:
        lam = (b[1] - a[1]) * pow(b[0] - a[0], -1, P) % P
    x = (lam * lam - a[0] - b[0]) % P
    return (x, (lam * (a[0] - x) - a[1]) % P)


def point_mul(k, pt):
    out = None
    while k:
        if k & 1:
            out = point_add(out, pt)
        pt = point_add(pt, pt)
        k >>= 1
    return out


def decompress(key):
    if len(key) == 65 and key[0] == 4:
        return (int.from_bytes(key[1:33], "big"), int.from_bytes(key[33:], "big"))
    if len(key) != 33 or key[0] not in (2, 3):
        raise ValueError("not a sec1 key")
    x = int.from_bytes(key[1:], "big")
    y = pow((x * x * x + 7) % P, (P + 1) // 4, P)
    if (y * y - (x * x * x + 7)) % P:
        raise ValueError("not on the curve")
    if y % 2 != key[0] % 2:
        y = P - y
    return (x, y)


def compress(key):
    x, y = decompress(key)
    return bytes([2 + (y & 1)]) + x.to_bytes(32, "big")


def public_of(secret):
    x, y = point_mul(int.from_bytes(secret, "big"), G)
    return bytes([2 + (y & 1)]) + x.to_bytes(32, "big")


def verify(key, digest, sig):
    """ECDSA over a 32-byte digest, 64-byte r||s, low-S only."""
    if len(sig) != 64:
        return False
    r, s_ = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    if not (0 < r < N and 0 < s_ <= N // 2):
        return False
    z = int.from_bytes(digest, "big")
    w = pow(s_, -1, N)
    pt = point_add(point_mul(z * w % N, G), point_mul(r * w % N, decompress(key)))
    return pt is not None and pt[0] % N == r


def key_id(key):
    return H(compress(key))[:8].hex()


# --- protobuf ----------------------------------------------------------------------------------------------------


def varint(b, i):
    n = shift = 0
    while True:
        c = b[i]
        i += 1
        n |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return n, i


def fields(b):
    """(number, wire type, value) triples, in order."""
    out, i = [], 0
    while i < len(b):
        tag, i = varint(b, i)
        num, wt = tag >> 3, tag & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 2:
            ln, i = varint(b, i)
            v, i = b[i : i + ln], i + ln
        elif wt == 1:
            v, i = b[i : i + 8], i + 8
        elif wt == 5:
            v, i = b[i : i + 4], i + 4
        else:
            raise ValueError("unsupported wire type")
        out.append((num, wt, v))
    return out


def message(b, repeated=()):
    """Field number -> last value (protobuf: the last one wins), or a list for repeated fields."""
    m = {}
    for num, _, v in fields(b):
        if num in repeated:
            m.setdefault(num, []).append(v)
        else:
            m[num] = v
    return m


# --- Merkle trees (RFC 6962) -------------------------------------------------------------------------------------


def LH(d):
    return H(b"\x00" + d)


def NH(left, right):
    return H(b"\x01" + left + right)


def mth(leaves):
    if not leaves:
        return EMPTY
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return NH(mth(leaves[:k]), mth(leaves[k:]))


def verify_inclusion(leaf, index, size, path, root):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = NH(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = NH(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(old_size, new_size, path, old_root, new_root):
    """RFC 9162 section 2.1.4.2."""
    if old_size == new_size:
        return not path and old_root == new_root
    if old_size == 0:
        return not path
    if old_size > new_size or not path:
        return False
    if old_size & (old_size - 1) == 0:
        path = [old_root] + list(path)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = NH(c, fr), NH(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = NH(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


# --- events (section 3) ------------------------------------------------------------------------------------------

KINDS = {10: "commission", 11: "ship", 12: "receive", 13: "dispense", 14: "decommission", 15: "undo", 16: "recall",
         17: "withdraw", 18: "return", 19: "register_participant", 20: "rotate_key", 21: "revoke_participant",
         22: "pack", 23: "unpack", 24: "void_shipment", 25: "attest_prefixes", 26: "register_product",
         27: "transfer_product", 28: "quarantine", 29: "clear_suspect", 30: "declare_illegitimate",
         31: "rotate_sequencer_key"}
PACK_KINDS = {10: 4, 11: 2, 12: 2, 13: 2, 14: 2, 15: 2, 18: 2, 24: 2, 28: 2, 29: 2, 30: 2}  # body field -> field number of its serials
CONTAINER_KINDS = {11: 4, 12: 4, 24: 4}  # ship, receive, void_shipment: field number of their containers
AGGREGATION_KINDS = (22, 23)  # pack, unpack: parent 1, packs 2 (PackLine: gtin 1, serials 2), containers 3
COUNTERPARTY = {11: 3, 12: 3, 18: 3, 24: 3, 27: 2}  # body field -> field number of the counterparty


def text(v):
    return v.decode() if isinstance(v, (bytes, bytearray)) else ""


def element(container_id):
    """A ContainerId's element string: "00" + SSCC (field 1), or "01" + gtin + "21" + serial (CaseId, field 2)."""
    c = message(container_id)
    if 2 in c:
        case = message(c[2])
        return "01" + text(case.get(1, b"")) + "21" + text(case.get(2, b""))
    return "00" + text(c.get(1, b""))


def event_core(payload):
    """The core of a payload (section 3.3), as (core bytes, parsed fields, body field, body message)."""
    m = message(payload)
    seed, chain = m.get(5, b""), m.get(4, b"")
    assert len(seed) == 32 and len(chain) == 32, "seed and chain id are 32 bytes"
    body_num = max(n for n in m if n >= 10)  # the last body wins; only one is written here
    body_raw = m[body_num]
    data = []  # (gtin, serial, lot, expiry) of each leaf, in order
    if body_num in AGGREGATION_KINDS:
        body = message(body_raw, repeated=(2, 3))
        for line in body.get(2, []):
            pl = message(line, repeated=(2,))
            data += [(text(pl.get(1, b"")), text(x), "", "") for x in pl.get(2, [])]
        data += [("", element(c), "", "") for c in body.get(3, [])]
        data.append(("", element(body.get(1, b"")), "", ""))
    else:
        serial_field = PACK_KINDS.get(body_num)
        container_field = CONTAINER_KINDS.get(body_num)
        body = message(body_raw, repeated=tuple(f for f in (serial_field, container_field) if f))
        serials = [text(x) for x in body.get(serial_field, [])] if serial_field else []
        gtin = text(body.get(1, b"")) if serial_field else ""
        lot, expiry = (text(body.get(2, b"")), text(body.get(3, b""))) if body_num == 10 else ("", "")
        data = [(gtin, serial, lot, expiry) for serial in serials]
        if body_num == 10:  # a repackager's commission: then its `sources` (5), without lot and expiry
            for line in message(body_raw, repeated=(5,)).get(5, []):
                pl = message(line, repeated=(2,))
                data += [(text(pl.get(1, b"")), text(x), "", "") for x in pl.get(2, [])]
        if body_num in (11, 12):  # ship and receive: then `lines` (5), and a receipt's `refused` (6) and `over` (7)
            line_fields = (5,) if body_num == 11 else (5, 6, 7)
            more = message(body_raw, repeated=line_fields)
            for f in line_fields:
                for line in more.get(f, []):
                    pl = message(line, repeated=(2,))
                    data += [(text(pl.get(1, b"")), text(x), "", "") for x in pl.get(2, [])]
        if container_field:
            data += [("", element(c), "", "") for c in body.get(container_field, [])]
    leaves = []
    for i, (gtin, serial, lot, expiry) in enumerate(data):
        salt = TH("pedigree.v2.pack-salt", seed, u32(i))
        leaves.append(LH(salt + s(gtin) + s(serial) + s(lot) + s(expiry)))
    cp = COUNTERPARTY.get(body_num)
    if cp:
        cp_salt = TH("pedigree.v2.counterparty-salt", seed)
        cp_commit = TH("pedigree.v2.counterparty", cp_salt, s(text(body.get(cp, b""))))
    else:
        cp_commit = bytes(32)
    body_commit = TH("pedigree.v2.body", TH("pedigree.v2.body-salt", seed), payload)
    nonce = m.get(3, b"")
    ts = m.get(2, 0)
    if ts >= 2**63:
        ts -= 2**64
    core = (chain + s(text(m.get(1, b""))) + i64(ts) + u32(len(nonce)) + nonce + s(KINDS[body_num])
            + u32(len(leaves)) + mth(leaves) + cp_commit + body_commit)
    return core, m, body_num, body


def parse_core(core):
    i = 0

    def take(n):
        nonlocal i
        assert i + n <= len(core), "truncated core"
        out = core[i:i + n]
        i += n
        return out

    def length():
        return struct.unpack(">I", take(4))[0]

    out = {"chain_id": take(32)}
    out["signer"] = take(length()).decode()
    out["timestamp_ms"] = struct.unpack(">q", take(8))[0]
    out["nonce"] = take(length())
    out["kind"] = take(length()).decode()
    out["pack_count"] = struct.unpack(">I", take(4))[0]
    out["packs_root"] = take(32)
    out["counterparty_commitment"] = take(32)
    out["body_commitment"] = take(32)
    assert i == len(core), "bytes after the core"
    return out


# --- genesis and registry (sections 2 and 4) ----------------------------------------------------------------------

ROLES = {"manufacturer": 1, "distributor": 2, "pharmacy": 3, "auditor": 4, "authority": 5, "hospital": 6}


def genesis_bytes(g):
    out = s(g["chain_name"]) + compress(bytes.fromhex(g["sequencer_public_key"]))
    gov = g.get("governance_public_key")
    out += b"\x00" if gov is None else b"\x01" + compress(bytes.fromhex(gov))
    out += u32(len(g["participants"]))
    for p in g["participants"]:
        out += (s(p["id"]) + bytes([ROLES[p["role"]]]) + s(p["name"]) + s(p.get("gln") or "")
                + compress(bytes.fromhex(p["public_key"])))
    return out


def record_bytes(p):
    out = s(p["id"]) + bytes([p["role"]]) + p["key"] + u64(p["since"]) + u32(len(p["retired"]))
    for key, since, until in p["retired"]:
        out += key + u64(since) + u64(until)
    out += b"\x00" if p["revoked"] is None else b"\x01" + u64(p["revoked"])
    prefixes = p.get("prefixes", [])
    if prefixes:  # attested GS1 company prefixes, only when there are any
        out += u32(len(prefixes)) + b"".join(s(prefix) + u64(since) for prefix, since in prefixes)
    return out


def schedule_leaf(schedule):
    """The sequencer key schedule's registry leaf, None while only the genesis key ever signed (section 4)."""
    if len(schedule) < 2:
        return None
    return b"\xff" + u32(len(schedule)) + b"".join(key + u64(h) for key, h in schedule)


def key_at(schedule, height):
    """The sequencer key that signs the header of `height` (section 8)."""
    return [key for key, h in schedule if h <= height][-1] if height >= 1 else schedule[0][0]


def registry_root(reg, schedule):
    leaves = [LH(record_bytes(reg[i])) for i in sorted(reg, key=lambda x: x.encode())]
    if schedule_leaf(schedule) is not None:
        leaves.append(LH(schedule_leaf(schedule)))
    return mth(leaves)


def parse_record(b):
    i = 0

    def take(n):
        nonlocal i
        assert i + n <= len(b), "truncated record"
        out = b[i:i + n]
        i += n
        return out

    n = struct.unpack(">I", take(4))[0]
    rec = {"id": take(n).decode(), "role": take(1)[0], "key": take(33), "since": struct.unpack(">Q", take(8))[0]}
    rec["retired"] = []
    for _ in range(struct.unpack(">I", take(4))[0]):
        rec["retired"].append((take(33), struct.unpack(">Q", take(8))[0], struct.unpack(">Q", take(8))[0]))
    flag = take(1)[0]
    assert flag in (0, 1)
    rec["revoked"] = struct.unpack(">Q", take(8))[0] if flag else None
    rec["prefixes"] = []
    if i < len(b):
        count = struct.unpack(">I", take(4))[0]
        assert count > 0, "an empty prefix list is left out"
        for _ in range(count):
            prefix = take(struct.unpack(">I", take(4))[0]).decode()
            assert prefix.isdigit() and 4 <= len(prefix) <= 12, "a prefix is 4 to 12 digits"
            rec["prefixes"].append((prefix, struct.unpack(">Q", take(8))[0]))
    assert i == len(b), "bytes after the record"
    return rec


def key_valid_at(rec, key, h):
    held = (rec["key"] == key and rec["since"] <= h) or any(
        k == key and since <= h <= until for k, since, until in rec["retired"])
    return held and (rec["revoked"] is None or rec["revoked"] >= h)


# --- blocks (section 5) -------------------------------------------------------------------------------------------


def header_fields(hb):
    m = message(hb, repeated=(6,))
    return {"height": m.get(1, 0), "prev_hash": m.get(2, b""), "merkle_root": m.get(3, b""),
            "event_count": m.get(4, 0), "time_ms": m.get(5, 0), "sequencer_key_id": text(m.get(7, b"")),
            "rejected_count": m.get(8, 0), "rejected_root": m.get(9, b""), "tree_size": m.get(10, 0),
            "log_root": m.get(11, b""), "epoch": m.get(12, 0), "registry_root": m.get(13, b"")}


def block_parts(raw):
    m = message(raw, repeated=(2, 3, 4))
    signed = message(m[1])
    envelopes = [message(e) for e in m.get(2, [])]
    rejections = [message(r) for r in m.get(3, [])]
    return signed.get(1, b""), signed.get(2, b""), envelopes, rejections


def successor(tip, raw, chain, seq_key):
    """None if the block is the valid successor of tip (then tip is updated), else why not."""
    hb, sig, envelopes, rejections = block_parts(raw)
    if not verify(seq_key, TH("pedigree.v2.header", chain, hb), sig):
        return "signature"
    h = header_fields(hb)
    if h["sequencer_key_id"] != key_id(seq_key):
        return "sequencer_key_id"
    if h["height"] != tip["height"] + 1:
        return "height"
    if h["prev_hash"] != tip["hash"]:
        return "prev_hash"
    if h["epoch"] < 1 or h["epoch"] < tip["epoch"]:
        return "epoch"
    if h["time_ms"] < tip["time_ms"]:
        return "time"
    ids = [TH("pedigree.v2.event", event_core(e[1])[0]) for e in envelopes]
    if h["event_count"] != len(ids) or h["merkle_root"] != mth([LH(i) for i in ids]):
        return "merkle_root"
    rej = [LH(r.get(1, b"") + u32(r.get(2, 0))) for r in rejections]
    if h["rejected_count"] != len(rej) or h["rejected_root"] != mth(rej):
        return "rejected_root"
    log = tip["log"] + [LH(i) for i in ids]
    if h["tree_size"] != len(log) or h["log_root"] != mth(log):
        return "log_root"
    tip.update(height=h["height"], hash=TH("pedigree.v2.header", chain, hb), epoch=h["epoch"],
               time_ms=h["time_ms"], log=log)
    tip["last"] = (h, envelopes)
    return None


def fold_registry(reg, schedule, h, envelopes, gov_key, chain):
    """Applies the block's governance events (signer "governance") to reg and the key schedule in place."""
    for e in envelopes:
        if text(e.get(3, b"")) != "governance":
            continue
        core, m, body_num, body = event_core(e[1])
        assert verify(gov_key, TH("pedigree.v2.event", core), e[2]), "governance signature"
        assert m[4] == chain
        if body_num == 31:  # rotate_sequencer_key: the new key signs from the next block
            schedule.append((compress(body[1]), h + 1))
            continue
        pid = text(body.get(1, b""))
        if body_num == 19:
            assert pid not in reg
            reg[pid] = {"id": pid, "role": body.get(3, 0), "key": compress(body[5]), "since": h, "retired": [],
                        "revoked": None}
        elif body_num == 20:
            p = reg[pid]
            p["retired"].append((p["key"], p["since"], h))
            p["key"], p["since"] = compress(body[2]), h
        elif body_num == 21:
            reg[pid]["revoked"] = h
        elif body_num == 25:  # attest_prefixes: each prefix not yet the participant's, attested at h
            held = reg[pid].setdefault("prefixes", [])
            for prefix in message(m[25], repeated=(2,)).get(2, []):
                if text(prefix) not in [x for x, _ in held]:
                    held.append((text(prefix), h))


# --- bundles (section 6) ------------------------------------------------------------------------------------------


def hx(x):
    return bytes.fromhex(x)


def check_bundle(b, schedule, chain=None):
    """None if the bundle checks out, else the step that fails."""
    core = base64.b64decode(b["event_core"], validate=True)
    try:
        c = parse_core(core)
    except AssertionError:
        return 1
    if chain is not None and c["chain_id"] != chain:
        return 1
    e = TH("pedigree.v2.event", core)
    hb = base64.b64decode(b["header"], validate=True)
    h = header_fields(hb)
    seq_key = key_at(schedule, h["height"])
    if not verify(seq_key, TH("pedigree.v2.header", c["chain_id"], hb), hx(b["header_signature"])):
        return 2
    if h["sequencer_key_id"] != key_id(seq_key):
        return 2
    if b["tree_size"] != h["event_count"] or not verify_inclusion(
            LH(e), b["leaf_index"], b["tree_size"], [hx(p) for p in b["proof"]], h["merkle_root"]):
        return 3
    key = hx(b["signer_public_key"])
    if not verify(key, e, hx(b["signature"])):
        return 4
    record = hx(b["signer_record"])
    try:
        rec = parse_record(record)
    except AssertionError:
        return 5
    reg = b["registry"]
    if rec["id"] != c["signer"] or not verify_inclusion(
            LH(record), reg["leaf_index"], reg["tree_size"], [hx(p) for p in reg["proof"]], h["registry_root"]):
        return 5
    if not key_valid_at(rec, compress(key), h["height"]):
        return 5
    p = b["pack"]
    leaf = hx(p["salt"]) + s(p["gtin"]) + s(p["serial"]) + s(p["lot"]) + s(p["expiry"])
    if p["tree_size"] != c["pack_count"] or not verify_inclusion(
            LH(leaf), p["leaf_index"], p["tree_size"], [hx(x) for x in p["proof"]], c["packs_root"]):
        return 6
    return None


# --- the vectors --------------------------------------------------------------------------------------------------


def main(path):
    v = json.load(open(path))
    for name, k in v["keys"].items():
        assert public_of(hx(k["secret"])).hex() == k["public_key"], name
        assert key_id(hx(k["public_key"])) == k["key_id"], name
    g = v["genesis"]
    assert genesis_bytes(g).hex() == v["genesis_canonical"], "genesis encoding"
    chain = TH("pedigree.v2.genesis", genesis_bytes(g))
    assert chain.hex() == v["chain_id"], "chain id"
    seq_key = compress(hx(g["sequencer_public_key"]))
    gov_key = compress(hx(g["governance_public_key"]))
    keys = {p["id"]: compress(hx(p["public_key"])) for p in g["participants"]}
    keys["governance"] = gov_key

    registered = {i: [k_] for i, k_ in keys.items()}
    registered["bay-pharmacy"] = [compress(hx(v["keys"][n]["public_key"]))
                                  for n in ("bay-pharmacy", "bay-pharmacy-rotated")]
    for ev in v["events"]:
        core, m, _, _ = event_core(hx(ev["payload"]))
        assert core.hex() == ev["core"], ev["name"]
        eid = TH("pedigree.v2.event", core)
        assert eid.hex() == ev["event_id"] and LH(eid).hex() == ev["leaf_hash"], ev["name"]
        assert m[4] == chain, ev["name"]
        assert any(verify(k_, eid, hx(ev["signature"])) for k_ in registered[ev["signer"]]), ev["name"]
        if ev["name"] == "transfer_product":  # the new owner's consent over the transfer digest (section 4a)
            t = message(m[27])
            digest = TH("pedigree.v2.product-transfer", chain, s(text(t[1])), s(ev["signer"]), s(text(t[2])),
                        u32(t.get(3, 0)))
            assert verify(registered[text(t[2])][0], digest, t[4]), "transfer consent"

    reg = {}
    for p in g["participants"]:
        reg[p["id"]] = {"id": p["id"], "role": ROLES[p["role"]], "key": compress(hx(p["public_key"])), "since": 0,
                        "retired": [], "revoked": None}
    schedule = [(seq_key, 1)]  # (key, first height it signs): the genesis key, then each rotation's
    tip = {"height": 0, "hash": chain, "epoch": 0, "time_ms": 0, "log": []}
    tips = {0: (dict(tip), list(schedule))}  # the canonical tip after each height, with the schedule then
    for b in v["blocks_topic"]:
        why = successor(tip, hx(b["block"]), chain, schedule[-1][0])
        assert (why is None) == b["canonical"], (b["offset"], why)
        if why is None:
            h, envelopes = tip["last"]
            assert TH("pedigree.v2.header", chain, hx(b["header"])).hex() == b["header_hash"]
            fold_registry(reg, schedule, h["height"], envelopes, gov_key, chain)
            assert registry_root(reg, schedule) == h["registry_root"], ("registry root", b["offset"])
            assert [record_bytes(reg[i]).hex() for i in sorted(reg, key=str.encode)] == b["registry_records"]
            leaf = schedule_leaf(schedule)
            assert (leaf.hex() if leaf else None) == b["sequencer_keys_leaf"], ("schedule leaf", b["offset"])
            tips[h["height"]] = (dict(tip, log=list(tip["log"])), list(schedule))
    t = v["tip"]
    assert (tip["height"], tip["hash"].hex(), len(tip["log"])) == (t["height"], t["hash"], t["tree_size"])
    assert mth(tip["log"]).hex() == t["log_root"] and registry_root(reg, schedule).hex() == t["registry_root"]
    assert [(k_["public_key"], k_["from_height"]) for k_ in t["sequencer_keys"]] == \
        [(key.hex(), h) for key, h in schedule], "sequencer key schedule"
    # The frontier: roots of the perfect subtrees, largest first.
    frontier, start, size = [], 0, len(tip["log"])
    while start < size:
        span = 1 << ((size - start).bit_length() - 1)
        frontier.append(mth(tip["log"][start:start + span]).hex())
        start += span
    assert frontier == t["log_frontier"], "log frontier"
    c = v["consistency"]
    assert mth(tip["log"][:c["old_size"]]).hex() == c["old_root"]
    assert verify_consistency(c["old_size"], c["new_size"], [hx(p) for p in c["proof"]], hx(c["old_root"]),
                              hx(c["new_root"])), "consistency proof"
    for b in v["bundles"]:
        assert check_bundle(b["bundle"], schedule, chain) is None, ("bundle", b["serial"])
        if len(schedule) > 1 and header_fields(base64.b64decode(b["bundle"]["header"]))["height"] >= schedule[1][1]:
            assert check_bundle(b["bundle"], schedule[:1], chain) == 2, "a later block's bundle under the old key"
        assert b["bundle"]["pack"]["serial"] == b["serial"]

    failed = []
    for n in v["negative"]:
        name = n["name"]
        if "bundle" in n:
            step = check_bundle(n["bundle"], schedule)
            expected = int(n["reason"].split(":")[0].split()[1])
            ok = step == expected
        elif "envelope" in n:
            env = message(hx(n["envelope"]))
            core, m, _, _ = event_core(env[1])
            signer = text(env[3])
            if n["reject_code"] == "REJECT_CODE_WRONG_CHAIN":
                ok = m[4] != chain
            elif n["reject_code"] == "REJECT_CODE_RETIRED_KEY":
                rec = reg[signer]
                eid = TH("pedigree.v2.event", core)
                ok = not verify(rec["key"], eid, env[2]) and any(verify(k_, eid, env[2]) for k_, _, _ in rec["retired"])
            elif n["reject_code"] == "REJECT_CODE_PARTICIPANT_REVOKED":
                ok = reg[signer]["revoked"] is not None
            else:
                ok = False
        elif "block" in n:
            # Checked on the canonical tip of `on_height`, with the key the schedule then names for the next height.
            base, sched = tips[n["on_height"]]
            probe = dict(base, log=list(base["log"]))
            raw = hx(n["block"])
            why = successor(probe, raw, chain, key_at(sched, n["on_height"] + 1))
            if n["fails"] == "registry_root":
                # A valid successor as far as the header goes, whose registry_root is not the root of the registry
                # folded after its events (the one the canonical block of that height committed to).
                canonical = [b for b in v["blocks_topic"] if b["canonical"] and b["height"] == n["on_height"] + 1]
                ok = why is None and header_fields(block_parts(raw)[0])["registry_root"] != \
                    hx(canonical[0]["registry_root"])
            else:
                ok = why == n["fails"]
        else:
            ok = False
        if not ok:
            failed.append(name)
    assert not failed, f"negative vectors that did not fail as documented: {failed}"
    print(f"ok: chain {chain.hex()[:16]}..., {len(v['events'])} events, {len(v['blocks_topic'])} blocks, "
          f"{len(v['bundles'])} bundles, {len(v['negative'])} negative vectors")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/vectors/ledger-v2.json")

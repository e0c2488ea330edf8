//! Per-pack disclosure: what an event's signature and id commit to, so that a proof about one pack shows that pack,
//! the event's kind, signer and time, and nothing else (docs/ledger-format.md, section 3).
//!
//! The **event core** is a short canonical encoding: chain id, signer, time, nonce, kind, the number of packs, an
//! RFC 6962 root over salted per-pack leaves, a salted commitment to the counterparty and a salted commitment to the
//! whole payload. The salts derive from a 32-byte secret `seed` carried only in the payload. The event id is the
//! tagged hash of the core, and the signature is over the id: the core alone proves what was signed. The core is a
//! function of the payload bytes, computed the same way by the signer, custody, the sequencer and auditors.

use pedigree_merkle::{inclusion_proof, leaf_hash, root};

use crate::Hash;
use crate::keys::{EVENT_TAG, tagged_hash, tagged_hash_parts};
use crate::participant::put_str;
use crate::pb::{self, InclusionProof, event_payload};
use crate::registry_root::Reader;

/// Length of an event's disclosure seed.
pub const SEED_LEN: usize = 32;
pub const PACK_SALT_TAG: &[u8] = b"pedigree.v2.pack-salt";
pub const COUNTERPARTY_SALT_TAG: &[u8] = b"pedigree.v2.counterparty-salt";
pub const BODY_SALT_TAG: &[u8] = b"pedigree.v2.body-salt";
pub const COUNTERPARTY_TAG: &[u8] = b"pedigree.v2.counterparty";
pub const BODY_TAG: &[u8] = b"pedigree.v2.body";

/// The committed parts of an event (docs/ledger-format.md, section 3.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventCore {
    pub chain_id: Hash,
    pub signer: String,
    pub timestamp_ms: i64,
    pub nonce: Vec<u8>,
    /// The body's protobuf field name (`commission`, `ship`, ... `revoke_participant`).
    pub kind: String,
    pub pack_count: u32,
    pub packs_root: Hash,
    /// Zeros when the kind has no counterparty.
    pub counterparty_commitment: Hash,
    pub body_commitment: Hash,
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum CoreError {
    #[error("event core is truncated or not utf-8 where a string is expected")]
    Truncated,
    #[error("event core has {0} bytes after its last field")]
    Trailing(usize),
    #[error("seed must be {SEED_LEN} bytes, got {0}")]
    Seed(usize),
    #[error("chain_id must be 32 bytes, got {0}")]
    ChainId(usize),
    #[error("payload has no event body")]
    MissingBody,
}

impl EventCore {
    /// The canonical encoding (what the id hashes).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(200 + self.signer.len() + self.nonce.len());
        out.extend_from_slice(&self.chain_id);
        put_str(&mut out, &self.signer);
        out.extend_from_slice(&self.timestamp_ms.to_be_bytes());
        out.extend_from_slice(&(self.nonce.len() as u32).to_be_bytes());
        out.extend_from_slice(&self.nonce);
        put_str(&mut out, &self.kind);
        out.extend_from_slice(&self.pack_count.to_be_bytes());
        out.extend_from_slice(&self.packs_root);
        out.extend_from_slice(&self.counterparty_commitment);
        out.extend_from_slice(&self.body_commitment);
        out
    }

    /// Parses a canonical encoding strictly.
    pub fn parse(bytes: &[u8]) -> Result<Self, CoreError> {
        let mut r = Reader::new(bytes);
        let t = CoreError::Truncated;
        let core = Self {
            chain_id: r.hash().ok_or(t.clone())?,
            signer: r.str().ok_or(t.clone())?.to_string(),
            timestamp_ms: r.u64().ok_or(t.clone())? as i64,
            nonce: r.bytes().ok_or(t.clone())?.to_vec(),
            kind: r.str().ok_or(t.clone())?.to_string(),
            pack_count: r.u32().ok_or(t.clone())?,
            packs_root: r.hash().ok_or(t.clone())?,
            counterparty_commitment: r.hash().ok_or(t.clone())?,
            body_commitment: r.hash().ok_or(t)?,
        };
        if r.left() > 0 {
            return Err(CoreError::Trailing(r.left()));
        }
        Ok(core)
    }

    /// The event id: `TH("pedigree.v2.event", core)`, also the digest the signature is over.
    pub fn id(&self) -> Hash {
        tagged_hash(EVENT_TAG, &self.encode())
    }
}

/// What a body names, as written in the payload (before validation).
struct Named<'a> {
    kind: &'static str,
    /// Packs, GTIN by GTIN, in order.
    lines: Vec<(&'a str, &'a [String])>,
    lot: &'a str,
    expiry: &'a str,
    /// Packs named without lot and expiry after `lines`: a repackager's source packs.
    sources: Vec<(&'a str, &'a [String])>,
    /// Containers, as element strings: the children in order, then the parent of a pack or unpack.
    containers: Vec<String>,
    counterparty: Option<&'a str>,
}

fn packs<'a>(kind: &'static str, gtin: &'a str, serials: &'a [String]) -> Named<'a> {
    Named {
        kind,
        lines: if serials.is_empty() {
            Vec::new()
        } else {
            vec![(gtin, serials)]
        },
        lot: "",
        expiry: "",
        sources: Vec::new(),
        containers: Vec::new(),
        counterparty: None,
    }
}

/// `named` with the serials of `more` lines after its own, list by list.
fn with_lines<'a, const N: usize>(mut named: Named<'a>, more: [&'a [pb::PackLine]; N]) -> Named<'a> {
    for lines in more {
        named
            .lines
            .extend(lines.iter().map(|l| (l.gtin.as_str(), l.serials.as_slice())));
    }
    named
}

fn none(kind: &'static str) -> Named<'static> {
    packs(kind, "", &[])
}

/// A container leaf's element string as written (an unparseable id never gets this far: it fails decoding).
fn element(id: &pb::ContainerId) -> String {
    crate::container::ContainerKey::from_pb(id).map_or_else(|_| String::new(), |k| k.element())
}

fn elements<'a>(children: &'a [pb::ContainerId], parent: Option<&'a pb::ContainerId>) -> Vec<String> {
    children.iter().chain(parent).map(element).collect()
}

fn aggregation<'a>(
    kind: &'static str,
    lines: &'a [pb::PackLine],
    children: &'a [pb::ContainerId],
    parent: Option<&'a pb::ContainerId>,
) -> Named<'a> {
    Named {
        lines: lines.iter().map(|l| (l.gtin.as_str(), l.serials.as_slice())).collect(),
        containers: elements(children, Some(parent.unwrap_or(&pb::ContainerId { id: None }))),
        ..none(kind)
    }
}

fn named(body: &event_payload::Body) -> Named<'_> {
    use event_payload::Body as B;
    match body {
        B::Commission(c) => Named {
            lot: &c.lot,
            expiry: &c.expiry,
            sources: c
                .sources
                .iter()
                .map(|l| (l.gtin.as_str(), l.serials.as_slice()))
                .collect(),
            ..packs("commission", &c.gtin, &c.serials)
        },
        B::Ship(s) => Named {
            counterparty: Some(&s.receiver),
            containers: elements(&s.containers, None),
            ..with_lines(packs("ship", &s.gtin, &s.serials), [&s.lines[..]])
        },
        B::Receive(r) => Named {
            counterparty: Some(&r.sender),
            containers: elements(&r.containers, None),
            ..with_lines(
                packs("receive", &r.gtin, &r.serials),
                [&r.lines[..], &r.refused[..], &r.over[..]],
            )
        },
        B::Dispense(d) => packs("dispense", &d.gtin, &d.serials),
        B::Decommission(d) => packs("decommission", &d.gtin, &d.serials),
        B::Undo(u) => packs("undo", &u.gtin, &u.serials),
        B::Quarantine(q) => packs("quarantine", &q.gtin, &q.serials),
        B::ClearSuspect(c) => packs("clear_suspect", &c.gtin, &c.serials),
        B::DeclareIllegitimate(d) => packs("declare_illegitimate", &d.gtin, &d.serials),
        B::Return(r) => Named {
            counterparty: Some(&r.receiver),
            ..packs("return", &r.gtin, &r.serials)
        },
        B::VoidShipment(v) => Named {
            counterparty: Some(&v.receiver),
            containers: elements(&v.containers, None),
            ..packs("void_shipment", &v.gtin, &v.serials)
        },
        B::Pack(p) => aggregation("pack", &p.packs, &p.containers, p.parent.as_ref()),
        B::Unpack(u) => aggregation("unpack", &u.packs, &u.containers, u.parent.as_ref()),
        B::Recall(_) => none("recall"),
        B::Withdraw(_) => none("withdraw"),
        B::RegisterParticipant(_) => none("register_participant"),
        B::RotateKey(_) => none("rotate_key"),
        B::RotateSequencerKey(_) => none("rotate_sequencer_key"),
        B::RevokeParticipant(_) => none("revoke_participant"),
        B::AttestPrefixes(_) => none("attest_prefixes"),
        B::RegisterProduct(_) => none("register_product"),
        B::TransferProduct(t) => Named {
            counterparty: Some(&t.new_owner),
            ..none("transfer_product")
        },
    }
}

/// The salt of the pack at position `index` of an event's serials.
pub fn pack_salt(seed: &[u8; SEED_LEN], index: u32) -> Hash {
    tagged_hash_parts(PACK_SALT_TAG, &[seed, &index.to_be_bytes()])
}

/// A pack leaf's data: `salt || str(gtin) || str(serial) || str(lot) || str(expiry)`.
pub fn pack_leaf(salt: &Hash, gtin: &str, serial: &str, lot: &str, expiry: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + 16 + gtin.len() + serial.len() + lot.len() + expiry.len());
    out.extend_from_slice(salt);
    put_str(&mut out, gtin);
    put_str(&mut out, serial);
    put_str(&mut out, lot);
    put_str(&mut out, expiry);
    out
}

/// `TH("pedigree.v2.counterparty", counterparty salt || str(id))`.
pub fn counterparty_commitment(seed: &[u8; SEED_LEN], id: &str) -> Hash {
    let salt = tagged_hash(COUNTERPARTY_SALT_TAG, seed);
    let mut data = Vec::with_capacity(4 + id.len());
    put_str(&mut data, id);
    tagged_hash_parts(COUNTERPARTY_TAG, &[&salt, &data])
}

fn seed_of(payload: &pb::EventPayload) -> Result<&[u8; SEED_LEN], CoreError> {
    payload
        .seed
        .as_slice()
        .try_into()
        .map_err(|_| CoreError::Seed(payload.seed.len()))
}

/// The leaf data of every pack, then every source pack of a repackager's commission (with empty lot and expiry),
/// then every container (a container leaf is a pack leaf with an empty GTIN, the container's element string as its
/// serial, and empty lot and expiry), in order.
fn leaf_data<'a>(n: &'a Named) -> impl Iterator<Item = (&'a str, &'a str, &'a str, &'a str)> + 'a {
    let packs = n
        .lines
        .iter()
        .flat_map(move |(gtin, serials)| serials.iter().map(move |s| (*gtin, s.as_str(), n.lot, n.expiry)));
    let sources = n
        .sources
        .iter()
        .flat_map(|(gtin, serials)| serials.iter().map(move |s| (*gtin, s.as_str(), "", "")));
    packs
        .chain(sources)
        .chain(n.containers.iter().map(|c| ("", c.as_str(), "", "")))
}

fn pack_leaves(seed: &[u8; SEED_LEN], n: &Named) -> Vec<Hash> {
    leaf_data(n)
        .enumerate()
        .map(|(i, (gtin, serial, lot, expiry))| {
            leaf_hash(&pack_leaf(&pack_salt(seed, i as u32), gtin, serial, lot, expiry))
        })
        .collect()
}

/// The core of a decoded payload whose bytes are `bytes`.
pub fn core_of(bytes: &[u8], payload: &pb::EventPayload) -> Result<EventCore, CoreError> {
    let seed = seed_of(payload)?;
    let chain_id: Hash = payload
        .chain_id
        .as_slice()
        .try_into()
        .map_err(|_| CoreError::ChainId(payload.chain_id.len()))?;
    let body = payload.body.as_ref().ok_or(CoreError::MissingBody)?;
    let n = named(body);
    let leaves = pack_leaves(seed, &n);
    let body_salt = tagged_hash(BODY_SALT_TAG, seed);
    Ok(EventCore {
        chain_id,
        signer: payload.signer.clone(),
        timestamp_ms: payload.timestamp_ms,
        nonce: payload.nonce.clone(),
        kind: n.kind.to_string(),
        pack_count: leaves.len() as u32,
        packs_root: root(&leaves),
        counterparty_commitment: n.counterparty.map_or([0; 32], |c| counterparty_commitment(seed, c)),
        body_commitment: tagged_hash_parts(BODY_TAG, &[&body_salt, bytes]),
    })
}

/// One pack of an event, opened: its identifiers, its salt and its inclusion in the core's `packs_root`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opening {
    pub gtin: String,
    pub serial: String,
    pub lot: String,
    pub expiry: String,
    pub salt: Hash,
    pub inclusion: InclusionProof,
}

impl Opening {
    pub fn leaf(&self) -> Vec<u8> {
        pack_leaf(&self.salt, &self.gtin, &self.serial, &self.lot, &self.expiry)
    }
}

/// Opens the pack `gtin`/`serial` of a decoded payload (`None` if the payload does not name it). A container is
/// opened with an empty `gtin` and its element string as `serial`.
pub fn open_pack(payload: &pb::EventPayload, gtin: &str, serial: &str) -> Option<Opening> {
    let seed = seed_of(payload).ok()?;
    let n = named(payload.body.as_ref()?);
    let (index, (gtin, _, lot, expiry)) = leaf_data(&n)
        .enumerate()
        .find(|(_, (g, s, _, _))| *g == gtin && *s == serial)?;
    let leaves = pack_leaves(seed, &n);
    let path = inclusion_proof(&leaves, index as u64).ok()?;
    Some(Opening {
        gtin: gtin.to_string(),
        serial: serial.to_string(),
        lot: lot.to_string(),
        expiry: expiry.to_string(),
        salt: pack_salt(seed, index as u32),
        inclusion: InclusionProof {
            leaf_index: index as u64,
            tree_size: leaves.len() as u64,
            hashes: path.iter().map(|h| h.to_vec()).collect(),
        },
    })
}

/// A fresh random seed.
pub fn new_seed() -> Vec<u8> {
    let mut seed = vec![0u8; SEED_LEN];
    getrandom::fill(&mut seed).expect("the operating system's random source failed");
    seed
}

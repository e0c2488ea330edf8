//! Participants (who may sign what), the genesis file that starts the registry, and the registry itself.
//!
//! The genesis file is JSON: the chain id, the sequencer's public key, the governance key and the founding
//! participants with their roles and public keys. From then on the registry changes only by governance events sealed
//! in blocks ([`crate::governance`]), so it is a fold of the chain like pack state: the sequencer keeps it in Redis
//! as [`ParticipantRecord`]s and every reader rebuilds the same [`Registry`] from the genesis and those records.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::Hash;
use crate::keys::{GENESIS_TAG, KeyError, PublicKey, tagged_hash};
use crate::kind::EventKind;
use crate::product::CompanyPrefix;
use crate::sequencer_keys::{ScheduleError, SequencerKeyRecord, SequencerKeys};

/// What a participant is in the supply chain; decides which events it may sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Manufacturer,
    Distributor,
    Pharmacy,
    /// A hospital pharmacy: signs what a pharmacy signs (it dispenses to patients).
    Hospital,
    /// A third-party logistics provider: holds, packs and ships stock its clients keep owning.
    #[serde(rename = "3pl")]
    ThirdPartyLogistics,
    /// A repackager: makes new packs of its own products out of packs it holds.
    Repackager,
    /// Reads the whole ledger (blocks, log proofs, every event's status) to check it; signs no custody event.
    Auditor,
    /// A regulator: reads everything an auditor reads and every pack's full answer; signs no custody event.
    Authority,
    /// The holder of the genesis governance key; signs only registry changes and is never a participant.
    Governance,
}

impl Role {
    /// Whether this role may sign events of `kind`.
    pub fn may_sign(self, kind: EventKind) -> bool {
        use EventKind::*;
        matches!(
            (self, kind),
            (
                Role::Manufacturer,
                Commission
                    | Ship
                    | Receive
                    | Decommission
                    | Undo
                    | Recall
                    | Withdraw
                    | Pack
                    | Unpack
                    | VoidShipment
                    | RegisterProduct
                    | TransferProduct
                    | Quarantine
                    | ClearSuspect
                    | DeclareIllegitimate
            ) | (
                Role::Distributor,
                Receive | Ship | Decommission | Undo | Return | Pack | Unpack | VoidShipment | Quarantine
            ) | (
                Role::Pharmacy | Role::Hospital,
                Receive | Dispense | Decommission | Undo | Return | Pack | Unpack | VoidShipment | Quarantine
            ) | (
                Role::ThirdPartyLogistics,
                Receive | Ship | Decommission | Undo | Pack | Unpack | VoidShipment | Quarantine
            ) | (
                Role::Repackager,
                Receive
                    | Commission
                    | Ship
                    | Decommission
                    | Undo
                    | Return
                    | Recall
                    | Withdraw
                    | Pack
                    | Unpack
                    | VoidShipment
                    | RegisterProduct
                    | TransferProduct
                    | Quarantine
                    | ClearSuspect
                    | DeclareIllegitimate
            ) | (Role::Authority, ClearSuspect | DeclareIllegitimate)
                | (
                    Role::Governance,
                    Register | RotateKey | Revoke | AttestPrefixes | RotateSequencerKey
                )
        )
    }

    /// Whether this role reads the whole ledger: blocks, log proofs, every event's status and every pack in full.
    pub fn reads_everything(self) -> bool {
        matches!(self, Role::Auditor | Role::Authority)
    }

    /// The role's number in canonical encodings (the `ParticipantRole` enum's; 0 for governance, never encoded).
    pub fn code(self) -> u8 {
        match self {
            Role::Governance => 0,
            Role::Manufacturer => 1,
            Role::Distributor => 2,
            Role::Pharmacy => 3,
            Role::Auditor => 4,
            Role::Authority => 5,
            Role::Hospital => 6,
            Role::ThirdPartyLogistics => 7,
            Role::Repackager => 8,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Manufacturer => "manufacturer",
            Role::Distributor => "distributor",
            Role::Pharmacy => "pharmacy",
            Role::Hospital => "hospital",
            Role::ThirdPartyLogistics => "3pl",
            Role::Repackager => "repackager",
            Role::Auditor => "auditor",
            Role::Authority => "authority",
            Role::Governance => "governance",
        }
    }
}

/// One entry of the genesis file, as written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantEntry {
    pub id: String,
    pub role: Role,
    pub name: String,
    /// Global Location Number of the participant's site, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gln: Option<String>,
    /// Hex of the SEC1 public key.
    pub public_key: String,
}

/// The genesis file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Genesis {
    /// A human-readable name for the deployment. The chain *id* is not written in the file: it is the hash of the
    /// whole genesis ([`Genesis::chain_id`]). Files of format v1 named this field `chain_id`; that name is still read.
    #[serde(alias = "chain_id")]
    pub chain_name: String,
    /// Hex of the sequencer's SEC1 public key: block headers must verify under it.
    pub sequencer_public_key: String,
    /// Hex of the SEC1 public key that signs registry changes (RegisterParticipant, RotateKey, RevokeParticipant).
    /// Without it the registry is fixed at genesis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub governance_public_key: Option<String>,
    pub participants: Vec<ParticipantEntry>,
}

impl Genesis {
    /// The chain id: `SHA-256("pedigree.v2.genesis" || 0x00 || canonical encoding)`, see [`Genesis::canonical_bytes`].
    /// Every signed digest of the chain is bound to it.
    pub fn chain_id(&self) -> Result<Hash, GenesisError> {
        Ok(tagged_hash(GENESIS_TAG, &self.canonical_bytes()?))
    }

    /// The canonical encoding the chain id hashes (docs/ledger-format.md, "Genesis and chain id"): the chain name,
    /// the sequencer key, the governance key (absent: one 0x00 byte; present: 0x01 then the key), the number of
    /// participants, then each participant in file order: id, role (1 manufacturer, 2 distributor, 3 pharmacy),
    /// name, GLN (empty when absent), key. Strings are a u32 big-endian byte length then their UTF-8 bytes; keys are
    /// their 33-byte compressed SEC1 form whatever form the file uses.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, GenesisError> {
        let mut out = Vec::with_capacity(128 + 128 * self.participants.len());
        put_str(&mut out, &self.chain_name);
        let sequencer = PublicKey::from_hex(&self.sequencer_public_key).map_err(GenesisError::SequencerKey)?;
        out.extend_from_slice(&sequencer.to_sec1());
        match &self.governance_public_key {
            None => out.push(0),
            Some(hex) => {
                out.push(1);
                out.extend_from_slice(&PublicKey::from_hex(hex).map_err(GenesisError::GovernanceKey)?.to_sec1());
            }
        }
        out.extend_from_slice(&(self.participants.len() as u32).to_be_bytes());
        for entry in &self.participants {
            put_str(&mut out, &entry.id);
            out.push(entry.role.code());
            put_str(&mut out, &entry.name);
            put_str(&mut out, entry.gln.as_deref().unwrap_or(""));
            let key = PublicKey::from_hex(&entry.public_key).map_err(|source| GenesisError::Key {
                id: entry.id.clone(),
                source,
            })?;
            out.extend_from_slice(&key.to_sec1());
        }
        Ok(out)
    }
}

/// Appends a string as its u32 big-endian byte length and its UTF-8 bytes.
pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// A participant with its key parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Participant {
    /// Position in the registry fold (genesis order, then registration order): a short stable handle for storage.
    pub index: u32,
    pub id: String,
    pub role: Role,
    pub name: String,
    pub gln: Option<String>,
    /// The key its events must be signed with now.
    pub key: PublicKey,
    /// Height of the block that made `key` current (0: genesis).
    pub key_since: u64,
    /// Keys it signed with before, oldest first: kept to check old events and to explain refusals.
    pub retired_keys: Vec<RetiredKey>,
    /// Set once governance revoked it; its events are refused from that block on.
    pub revoked: Option<Revocation>,
    /// GS1 company prefixes governance attested to it, in attestation order: the products it may register.
    pub prefixes: Vec<AttestedPrefix>,
}

/// A GS1 company prefix attested to a participant by an AttestPrefixes sealed at height `since`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttestedPrefix {
    pub prefix: CompanyPrefix,
    pub since: u64,
}

/// A key replaced by a RotateKey: valid for events sealed before the rotation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetiredKey {
    pub key: PublicKey,
    pub since: u64,
    /// Height of the block that sealed the rotation.
    pub until: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revocation {
    pub height: u64,
    pub reason: String,
}

impl Participant {
    /// The current key and every retired one, newest first (to find which key signed a sealed event).
    pub fn keys(&self) -> impl Iterator<Item = &PublicKey> {
        std::iter::once(&self.key).chain(self.retired_keys.iter().rev().map(|r| &r.key))
    }

    /// Whether `gtin` is under a GS1 company prefix attested to this participant.
    pub fn owns_prefix_of(&self, gtin: &pedigree_gs1::Gtin) -> bool {
        self.prefixes.iter().any(|p| p.prefix.covers(gtin))
    }
}

/// A participant as stored (Redis) and served: JSON with hex keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantRecord {
    pub index: u32,
    pub id: String,
    pub role: Role,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gln: Option<String>,
    pub public_key: String,
    #[serde(default)]
    pub key_since: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired_keys: Vec<RetiredKeyRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefixes: Vec<PrefixRecord>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrefixRecord {
    pub prefix: String,
    pub since: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetiredKeyRecord {
    pub public_key: String,
    pub since: u64,
    pub until: u64,
}

impl From<&Participant> for ParticipantRecord {
    fn from(p: &Participant) -> Self {
        Self {
            index: p.index,
            id: p.id.clone(),
            role: p.role,
            name: p.name.clone(),
            gln: p.gln.clone(),
            public_key: p.key.to_hex(),
            key_since: p.key_since,
            retired_keys: p
                .retired_keys
                .iter()
                .map(|r| RetiredKeyRecord {
                    public_key: r.key.to_hex(),
                    since: r.since,
                    until: r.until,
                })
                .collect(),
            revoked_at: p.revoked.as_ref().map(|r| r.height),
            revoke_reason: p.revoked.as_ref().map(|r| r.reason.clone()),
            prefixes: p
                .prefixes
                .iter()
                .map(|a| PrefixRecord {
                    prefix: a.prefix.as_str().to_string(),
                    since: a.since,
                })
                .collect(),
        }
    }
}

impl TryFrom<&ParticipantRecord> for Participant {
    type Error = GenesisError;

    fn try_from(r: &ParticipantRecord) -> Result<Self, GenesisError> {
        let key = |hex: &str| {
            PublicKey::from_hex(hex).map_err(|source| GenesisError::Key {
                id: r.id.clone(),
                source,
            })
        };
        if !valid_participant_id(&r.id) || r.role == Role::Governance {
            return Err(GenesisError::BadId(r.id.clone()));
        }
        Ok(Participant {
            index: r.index,
            id: r.id.clone(),
            role: r.role,
            name: r.name.clone(),
            gln: r.gln.clone(),
            key: key(&r.public_key)?,
            key_since: r.key_since,
            retired_keys: r
                .retired_keys
                .iter()
                .map(|k| {
                    Ok(RetiredKey {
                        key: key(&k.public_key)?,
                        since: k.since,
                        until: k.until,
                    })
                })
                .collect::<Result<_, GenesisError>>()?,
            revoked: r.revoked_at.map(|height| Revocation {
                height,
                reason: r.revoke_reason.clone().unwrap_or_default(),
            }),
            prefixes: r
                .prefixes
                .iter()
                .map(|a| {
                    Ok(AttestedPrefix {
                        prefix: CompanyPrefix::parse(&a.prefix).map_err(|_| GenesisError::BadPrefix {
                            id: r.id.clone(),
                            prefix: a.prefix.clone(),
                        })?,
                        since: a.since,
                    })
                })
                .collect::<Result<_, GenesisError>>()?,
        })
    }
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum GenesisError {
    #[error("genesis is not valid json: {0}")]
    Json(String),
    #[error("participant '{id}': {source}")]
    Key { id: String, source: KeyError },
    #[error("sequencer public key: {0}")]
    SequencerKey(KeyError),
    #[error("{0}")]
    SequencerSchedule(ScheduleError),
    #[error("governance public key: {0}")]
    GovernanceKey(KeyError),
    #[error("participant '{id}': '{prefix}' is not a gs1 company prefix")]
    BadPrefix { id: String, prefix: String },
    #[error("participant record is not valid json: {0}")]
    RecordJson(String),
    #[error("participant id '{0}' appears twice")]
    DuplicateId(String),
    #[error("participant '{id}' has the same public key as {other}: a key belongs to one participant")]
    SharedKey { id: String, other: String },
    #[error(
        "participant id '{0}' is invalid: ids are 1 to 64 characters of a-z, 0-9, '-', '_', '.', other than \
         'governance', with a supply-chain role"
    )]
    BadId(String),
}

/// The envelope signer of governance events. Not a valid participant id, so no participant can take it.
/// [`Registry::signer_index`] of the governance key.
pub const GOVERNANCE_SIGNER: u32 = u32::MAX;

pub const GOVERNANCE_ID: &str = "governance";

/// Whether `id` is a well-formed participant id.
pub fn valid_participant_id(id: &str) -> bool {
    id != GOVERNANCE_ID
        && (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'))
}

/// Participants by id, and the trust anchors of the genesis: the chain id, the sequencer key and the governance key.
#[derive(Clone, Debug)]
pub struct Registry {
    /// The chain id ([`Genesis::chain_id`]): every payload names it and every header digest covers it.
    pub chain_id: Hash,
    pub chain_name: String,
    /// Which key signs which height (the genesis key, then every `RotateSequencerKey` sealed so far).
    pub(crate) sequencer_keys: SequencerKeys,
    /// Whether a `RotateSequencerKey` applied since the last [`Registry::take_sequencer_change`].
    pub(crate) sequencer_changed: bool,
    pub governance_key: Option<PublicKey>,
    pub(crate) participants: HashMap<String, Participant>,
    /// Participant ids by index.
    pub(crate) by_index: Vec<String>,
    /// Ids changed since the last [`Registry::take_changes`], in first-change order.
    pub(crate) changed: Vec<String>,
    /// The registry root of this state ([`Registry::root`]); emptied by every change.
    pub(crate) root_cache: std::sync::OnceLock<Hash>,
}

impl Registry {
    pub fn from_genesis_json(json: &str) -> Result<Self, GenesisError> {
        let genesis: Genesis = serde_json::from_str(json).map_err(|e| GenesisError::Json(e.to_string()))?;
        Self::from_genesis(&genesis)
    }

    pub fn from_genesis(genesis: &Genesis) -> Result<Self, GenesisError> {
        let sequencer_key = PublicKey::from_hex(&genesis.sequencer_public_key).map_err(GenesisError::SequencerKey)?;
        let governance_key = genesis
            .governance_public_key
            .as_deref()
            .map(PublicKey::from_hex)
            .transpose()
            .map_err(GenesisError::GovernanceKey)?;
        let chain_id = genesis.chain_id()?;
        let mut participants: HashMap<String, Participant> = HashMap::new();
        let mut by_index = Vec::new();
        // Compressed SEC1 bytes to who holds them.
        let mut keys: HashMap<Vec<u8>, String> = HashMap::new();
        keys.insert(sequencer_key.to_sec1(), "the sequencer".into());
        if let Some(governance) = governance_key
            && keys.insert(governance.to_sec1(), "the governance key".into()).is_some()
        {
            return Err(GenesisError::SharedKey {
                id: GOVERNANCE_ID.into(),
                other: "the sequencer".into(),
            });
        }
        for entry in &genesis.participants {
            if !valid_participant_id(&entry.id) || entry.role == Role::Governance {
                return Err(GenesisError::BadId(entry.id.clone()));
            }
            let key = PublicKey::from_hex(&entry.public_key).map_err(|source| GenesisError::Key {
                id: entry.id.clone(),
                source,
            })?;
            if let Some(other) = keys.insert(key.to_sec1(), format!("'{}'", entry.id)) {
                return Err(GenesisError::SharedKey {
                    id: entry.id.clone(),
                    other,
                });
            }
            let participant = Participant {
                index: by_index.len() as u32,
                id: entry.id.clone(),
                role: entry.role,
                name: entry.name.clone(),
                gln: entry.gln.clone(),
                key,
                key_since: 0,
                retired_keys: Vec::new(),
                revoked: None,
                prefixes: Vec::new(),
            };
            if participants.insert(entry.id.clone(), participant).is_some() {
                return Err(GenesisError::DuplicateId(entry.id.clone()));
            }
            by_index.push(entry.id.clone());
        }
        Ok(Self {
            chain_id,
            chain_name: genesis.chain_name.clone(),
            sequencer_keys: SequencerKeys::genesis(sequencer_key),
            sequencer_changed: false,
            governance_key,
            participants,
            by_index,
            changed: Vec::new(),
            root_cache: std::sync::OnceLock::new(),
        })
    }

    /// The registry a chain reached: the genesis with the stored records of every participant laid over it.
    pub fn with_records<'a>(
        mut self,
        records: impl IntoIterator<Item = &'a ParticipantRecord>,
    ) -> Result<Self, GenesisError> {
        for record in records {
            let participant = Participant::try_from(record)?;
            self.place(participant);
        }
        Ok(self)
    }

    /// The registry with the sequencer key schedule Redis keeps (absent: nothing was rotated).
    pub fn with_sequencer_keys(mut self, records: &[SequencerKeyRecord]) -> Result<Self, GenesisError> {
        self.sequencer_keys = SequencerKeys::from_records(records, &self.sequencer_keys.keys()[0].key)
            .map_err(GenesisError::SequencerSchedule)?;
        self.root_cache = std::sync::OnceLock::new();
        Ok(self)
    }

    /// The key that signs the next block: the last one [`Registry::sequencer_keys`] announced.
    pub fn sequencer_key(&self) -> PublicKey {
        *self.sequencer_keys.current()
    }

    /// Which key signs which height.
    pub fn sequencer_keys(&self) -> &SequencerKeys {
        &self.sequencer_keys
    }

    /// The schedule, if a `RotateSequencerKey` changed it since the last call (what the block writes to Redis).
    pub fn take_sequencer_change(&mut self) -> Option<Vec<SequencerKeyRecord>> {
        std::mem::take(&mut self.sequencer_changed).then(|| self.sequencer_keys.records())
    }

    /// Parses a stored record (JSON).
    pub fn parse_record(json: &[u8]) -> Result<ParticipantRecord, GenesisError> {
        serde_json::from_slice(json).map_err(|e| GenesisError::RecordJson(e.to_string()))
    }

    /// Adds or replaces a participant, keeping the index table in step.
    pub(crate) fn place(&mut self, participant: Participant) {
        let i = participant.index as usize;
        if self.by_index.len() <= i {
            self.by_index.resize(i + 1, String::new());
        }
        self.by_index[i] = participant.id.clone();
        self.participants.insert(participant.id.clone(), participant);
        self.root_cache = std::sync::OnceLock::new();
    }

    /// The index the next registered participant gets.
    pub(crate) fn next_index(&self) -> u32 {
        self.by_index.len() as u32
    }

    /// The id of the participant at `index`.
    pub fn id_at(&self, index: u32) -> Option<&str> {
        self.by_index
            .get(index as usize)
            .map(String::as_str)
            .filter(|id| !id.is_empty())
    }

    /// The participant that has or had `key` (current or retired), if any: a key belongs to one participant.
    pub fn key_holder(&self, key: &PublicKey) -> Option<&Participant> {
        self.participants.values().find(|p| p.keys().any(|k| k == key))
    }

    /// Whether `key` is a trust anchor: the governance key, or a sequencer key the chain has or had.
    pub fn is_anchor_key(&self, key: &PublicKey) -> bool {
        self.sequencer_keys.contains(key) || self.governance_key.as_ref() == Some(key)
    }

    /// Any participant, revoked or not.
    pub fn get(&self, id: &str) -> Option<&Participant> {
        self.participants.get(id)
    }

    /// The participant a GS1 company prefix overlapping `prefix` is attested to, if any.
    pub fn prefix_holder(&self, prefix: &CompanyPrefix) -> Option<&Participant> {
        self.participants
            .values()
            .find(|p| p.prefixes.iter().any(|a| a.prefix.overlaps(prefix)))
    }

    /// How event outcomes and pending marks name a signer: its registry index plus one for a participant,
    /// [`GOVERNANCE_SIGNER`] for the governance key, 0 for an id the registry does not know.
    pub fn signer_index(&self, id: &str) -> u32 {
        if id == GOVERNANCE_ID {
            return GOVERNANCE_SIGNER;
        }
        self.get(id).map_or(0, |p| p.index + 1)
    }

    /// Every participant's record, by id (what the first block stores, so readers need no genesis participants).
    pub fn records(&self) -> Vec<ParticipantRecord> {
        let mut records: Vec<ParticipantRecord> = self.participants.values().map(ParticipantRecord::from).collect();
        records.sort_by(|a, b| a.id.cmp(&b.id));
        records
    }

    /// Records of the participants changed since the last call, in first-change order.
    pub fn take_changes(&mut self) -> Vec<ParticipantRecord> {
        std::mem::take(&mut self.changed)
            .iter()
            .filter_map(|id| self.participants.get(id).map(ParticipantRecord::from))
            .collect()
    }

    /// Whether anything changed since the last [`Registry::take_changes`] (or, for the sequencer key schedule,
    /// [`Registry::take_sequencer_change`]).
    pub fn has_changes(&self) -> bool {
        !self.changed.is_empty() || self.sequencer_changed
    }

    pub fn len(&self) -> usize {
        self.participants.len()
    }

    pub fn is_empty(&self) -> bool {
        self.participants.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyPair;

    #[test]
    fn roles_sign_only_their_events() {
        use EventKind::*;
        assert!(Role::Manufacturer.may_sign(Commission));
        assert!(!Role::Pharmacy.may_sign(Commission));
        assert!(!Role::Distributor.may_sign(Dispense));
        assert!(Role::Pharmacy.may_sign(Dispense));
        assert!(!Role::Manufacturer.may_sign(Dispense));
    }

    #[test]
    fn genesis_parses_and_rejects_duplicates() {
        let key = KeyPair::generate().public().to_hex();
        let entry = |id: &str| ParticipantEntry {
            id: id.into(),
            role: Role::Pharmacy,
            name: "p".into(),
            gln: None,
            public_key: KeyPair::generate().public().to_hex(),
        };
        let mut genesis = Genesis {
            chain_name: "t".into(),
            sequencer_public_key: key.clone(),
            governance_public_key: None,
            participants: vec![entry("a"), entry("b")],
        };
        let json = serde_json::to_string(&genesis).unwrap();
        let reg = Registry::from_genesis_json(&json).unwrap();
        assert_eq!(reg.len(), 2);
        assert_eq!(reg.get("a").unwrap().role, Role::Pharmacy);
        genesis.participants.push(entry("a"));
        assert_eq!(
            Registry::from_genesis(&genesis).unwrap_err(),
            GenesisError::DuplicateId("a".into())
        );
        genesis.participants = vec![entry("Bad Id")];
        assert!(matches!(Registry::from_genesis(&genesis), Err(GenesisError::BadId(_))));
        let mut shared = entry("b");
        shared.public_key = key.clone();
        genesis.participants = vec![entry("a"), shared];
        assert!(matches!(
            Registry::from_genesis(&genesis),
            Err(GenesisError::SharedKey { .. })
        ));
        genesis.participants = vec![entry("a")];
        genesis.governance_public_key = Some(key.clone());
        assert!(matches!(
            Registry::from_genesis(&genesis),
            Err(GenesisError::SharedKey { .. })
        ));
    }

    /// The chain id hashes every field of the genesis, in the documented encoding; the v1 field name still reads.
    #[test]
    fn chain_id_covers_the_whole_genesis() {
        let key = |n: u8| KeyPair::from_secret_bytes(&[n; 32]).unwrap().public().to_hex();
        let genesis = Genesis {
            chain_name: "c".into(),
            sequencer_public_key: key(1),
            governance_public_key: None,
            participants: vec![ParticipantEntry {
                id: "a".into(),
                role: Role::Pharmacy,
                name: "A".into(),
                gln: None,
                public_key: key(2),
            }],
        };
        let id = genesis.chain_id().unwrap();
        let bytes = genesis.canonical_bytes().unwrap();
        assert_eq!(bytes.len(), 4 + 1 + 33 + 1 + 4 + (4 + 1) + 1 + (4 + 1) + 4 + 33);
        assert_eq!(&bytes[..5], b"\0\0\0\x01c");
        let mut other = genesis.clone();
        other.participants[0].name = "B".into();
        assert_ne!(other.chain_id().unwrap(), id);
        let mut other = genesis.clone();
        other.governance_public_key = Some(key(3));
        assert_ne!(other.chain_id().unwrap(), id);
        let v1 = r#"{"chain_id": "c", "sequencer_public_key": "PK", "participants": []}"#.replace("PK", &key(1));
        assert_eq!(serde_json::from_str::<Genesis>(&v1).unwrap().chain_name, "c");
    }
}

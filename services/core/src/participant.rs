//! Participants (who may sign what) and the genesis file that lists them.
//!
//! The genesis file is JSON: the chain id, the sequencer's public key and every participant with its role and
//! public key. Everything downstream trusts a participant only through this registry.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::event::EventKind;
use crate::keys::{KeyError, PublicKey};

/// What a participant is in the supply chain; decides which events it may sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Manufacturer,
    Distributor,
    Pharmacy,
}

impl Role {
    /// Whether this role may sign events of `kind`.
    pub fn may_sign(self, kind: EventKind) -> bool {
        use EventKind::*;
        matches!(
            (self, kind),
            (
                Role::Manufacturer,
                Commission | Ship | Decommission | Undo | Recall | Withdraw
            ) | (Role::Distributor, Receive | Ship | Decommission | Undo)
                | (Role::Pharmacy, Receive | Dispense | Decommission | Undo | Return)
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Manufacturer => "manufacturer",
            Role::Distributor => "distributor",
            Role::Pharmacy => "pharmacy",
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
    pub chain_id: String,
    /// Hex of the sequencer's SEC1 public key: block headers must verify under it.
    pub sequencer_public_key: String,
    pub participants: Vec<ParticipantEntry>,
}

/// A participant with its key parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Participant {
    pub id: String,
    pub role: Role,
    pub name: String,
    pub key: PublicKey,
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum GenesisError {
    #[error("genesis is not valid json: {0}")]
    Json(String),
    #[error("participant '{id}': {source}")]
    Key { id: String, source: KeyError },
    #[error("sequencer public key: {0}")]
    SequencerKey(KeyError),
    #[error("participant id '{0}' appears twice")]
    DuplicateId(String),
    #[error("participant id '{0}' is invalid: ids are 1 to 64 characters of a-z, 0-9, '-', '_', '.'")]
    BadId(String),
}

/// Whether `id` is a well-formed participant id.
pub fn valid_participant_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'))
}

/// Participants by id, and the sequencer key.
#[derive(Clone, Debug)]
pub struct Registry {
    pub chain_id: String,
    pub sequencer_key: PublicKey,
    participants: HashMap<String, Participant>,
}

impl Registry {
    pub fn from_genesis_json(json: &str) -> Result<Self, GenesisError> {
        let genesis: Genesis = serde_json::from_str(json).map_err(|e| GenesisError::Json(e.to_string()))?;
        Self::from_genesis(&genesis)
    }

    pub fn from_genesis(genesis: &Genesis) -> Result<Self, GenesisError> {
        let sequencer_key = PublicKey::from_hex(&genesis.sequencer_public_key).map_err(GenesisError::SequencerKey)?;
        let mut participants = HashMap::new();
        for entry in &genesis.participants {
            if !valid_participant_id(&entry.id) {
                return Err(GenesisError::BadId(entry.id.clone()));
            }
            let key = PublicKey::from_hex(&entry.public_key).map_err(|source| GenesisError::Key {
                id: entry.id.clone(),
                source,
            })?;
            let participant = Participant {
                id: entry.id.clone(),
                role: entry.role,
                name: entry.name.clone(),
                key,
            };
            if participants.insert(entry.id.clone(), participant).is_some() {
                return Err(GenesisError::DuplicateId(entry.id.clone()));
            }
        }
        Ok(Self {
            chain_id: genesis.chain_id.clone(),
            sequencer_key,
            participants,
        })
    }

    pub fn get(&self, id: &str) -> Option<&Participant> {
        self.participants.get(id)
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
            public_key: key.clone(),
        };
        let mut genesis = Genesis {
            chain_id: "t".into(),
            sequencer_public_key: key.clone(),
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
    }
}

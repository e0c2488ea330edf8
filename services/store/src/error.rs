//! What can go wrong reading or writing the store.

use pedigree_core::participant::GenesisError;
use pedigree_core::stored::StoredError;

/// What went wrong talking to Redis or reading what it holds.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("connecting to {target}: {source}")]
    Connect { target: String, source: redis::RedisError },
    #[error(
        "redis maxmemory-policy is {0}: pedigree needs noeviction (an evicted key would make answers wrong); set \
         `maxmemory-policy noeviction`"
    )]
    Eviction(String),
    #[error("redis settings: {0}")]
    Config(String),
    #[error("reading {}: {source}", path.display())]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("redis holds a value under '{key}' that does not decode: {source}")]
    Corrupt { key: String, source: prost::DecodeError },
    #[error("a block to write does not parse: {0}")]
    BadBlock(String),
    #[error("redis lacks proof data it should hold: {0}")]
    ProofData(String),
    #[error(
        "redis holds ledger state in layout {found}, this version reads layout {wanted}: the sequencer upgrades it \
         when it starts"
    )]
    OldLayout { found: String, wanted: u32 },
    #[error("{0}")]
    Merkle(#[from] pedigree_core::merkle::MerkleError),
    #[error("redis holds a pack under '{key}' that does not decode: {source}")]
    Stored { key: String, source: StoredError },
    #[error("a pack to write does not encode: {0}")]
    Encode(StoredError),
    #[error("redis holds a bucket layout under '{0}' that does not parse")]
    BadMeta(String),
    #[error("redis holds a participant record that does not parse: {0}")]
    BadParticipant(#[from] GenesisError),
}

pub type Result<T> = std::result::Result<T, StoreError>;

//! The sequencer key schedule: which key signs the header of each height.
//!
//! The genesis names the first key, which signs from height 1. A governance `RotateSequencerKey` sealed in block `h`
//! (a block the old key signs: it announces the new key) makes the new key the one that signs from height `h + 1`.
//! A reader checks a header of height `h` against [`SequencerKeys::key_at`] `h`, never against "the" key, so a
//! retired key that leaked cannot sign a block or a proof bundle for a later height.
//!
//! Once the key has been rotated, the schedule is part of the registry root (one more leaf after the participants',
//! [`SequencerKeys::leaf`]), so a checkpoint taken from Redis cannot carry a schedule the chain did not seal.

use serde::{Deserialize, Serialize};

use crate::keys::{KeyError, PublicKey};

/// First byte of the schedule's registry leaf: a participant record starts with a `u32` id length, whose first byte
/// is 0 for any id the registry accepts, so the two kinds of leaf can never be taken for each other.
pub const SCHEDULE_LEAF_PREFIX: u8 = 0xff;

/// A sequencer key and the first height whose header it signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SequencerKey {
    pub key: PublicKey,
    pub from_height: u64,
}

/// A key of the schedule as Redis keeps it (JSON) and as `pedigree` prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequencerKeyRecord {
    /// Hex of the compressed SEC1 key.
    pub public_key: String,
    pub from_height: u64,
}

/// What is wrong with a schedule read from outside (Redis, a file).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ScheduleError {
    #[error("sequencer key schedule is empty")]
    Empty,
    #[error("sequencer key schedule: the first key must sign from height 1, not {0}")]
    FirstHeight(u64),
    #[error("sequencer key schedule: heights must grow, {then} follows {before}")]
    Order { before: u64, then: u64 },
    #[error("sequencer key schedule: key {index}: {source}")]
    Key { index: usize, source: KeyError },
    #[error("sequencer key schedule: line {line}: {reason}")]
    Line { line: usize, reason: &'static str },
    #[error("sequencer key schedule starts with key {got}, the genesis names {genesis}")]
    NotGenesis { got: String, genesis: String },
}

/// The keys that sign the chain's headers, in the order they took over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SequencerKeys {
    keys: Vec<SequencerKey>,
}

impl SequencerKeys {
    /// A chain whose genesis key signs every height (nothing rotated yet).
    pub fn genesis(key: PublicKey) -> Self {
        Self {
            keys: vec![SequencerKey { key, from_height: 1 }],
        }
    }

    /// A schedule from its keys: the first from height 1, heights growing (two rotations sealed in one block give
    /// two keys of one height: the later one signs).
    pub fn new(keys: Vec<SequencerKey>) -> Result<Self, ScheduleError> {
        let first = keys.first().ok_or(ScheduleError::Empty)?;
        if first.from_height != 1 {
            return Err(ScheduleError::FirstHeight(first.from_height));
        }
        for pair in keys.windows(2) {
            if pair[1].from_height < pair[0].from_height || pair[1].from_height < 2 {
                return Err(ScheduleError::Order {
                    before: pair[0].from_height,
                    then: pair[1].from_height,
                });
            }
        }
        Ok(Self { keys })
    }

    /// Parses the text form `pedigree verify --offline --key` reads: one key per line, hex of SEC1, optionally
    /// followed by whitespace and the first height it signs (1 when omitted, which only the first line may do).
    /// Blank lines and lines starting with `#` are skipped.
    pub fn parse_text(text: &str) -> Result<Self, ScheduleError> {
        let mut keys = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let hex = parts.next().unwrap_or_default();
            let key = PublicKey::from_hex(hex).map_err(|source| ScheduleError::Key {
                index: keys.len(),
                source,
            })?;
            let from_height = match parts.next() {
                None if keys.is_empty() => 1,
                None => {
                    return Err(ScheduleError::Line {
                        line: n + 1,
                        reason: "a key after the first needs the height it signs from",
                    });
                }
                Some(h) => h.parse().map_err(|_| ScheduleError::Line {
                    line: n + 1,
                    reason: "the height is not a number",
                })?,
            };
            if parts.next().is_some() {
                return Err(ScheduleError::Line {
                    line: n + 1,
                    reason: "expected a key and at most a height",
                });
            }
            keys.push(SequencerKey { key, from_height });
        }
        Self::new(keys)
    }

    /// The text form [`SequencerKeys::parse_text`] reads.
    pub fn to_text(&self) -> String {
        self.keys
            .iter()
            .map(|k| format!("{} {}\n", k.key.to_hex(), k.from_height))
            .collect()
    }

    /// The schedule from Redis' records, checked to start at `genesis`; no records: nothing was rotated.
    pub fn from_records(records: &[SequencerKeyRecord], genesis: &PublicKey) -> Result<Self, ScheduleError> {
        if records.is_empty() {
            return Ok(Self::genesis(*genesis));
        }
        let keys = records
            .iter()
            .enumerate()
            .map(|(index, r)| {
                Ok(SequencerKey {
                    key: PublicKey::from_hex(&r.public_key).map_err(|source| ScheduleError::Key { index, source })?,
                    from_height: r.from_height,
                })
            })
            .collect::<Result<Vec<_>, ScheduleError>>()?;
        let schedule = Self::new(keys)?;
        if schedule.keys[0].key != *genesis {
            return Err(ScheduleError::NotGenesis {
                got: schedule.keys[0].key.key_id(),
                genesis: genesis.key_id(),
            });
        }
        Ok(schedule)
    }

    pub fn records(&self) -> Vec<SequencerKeyRecord> {
        self.keys
            .iter()
            .map(|k| SequencerKeyRecord {
                public_key: k.key.to_hex(),
                from_height: k.from_height,
            })
            .collect()
    }

    /// The key that signs the header of `height` (the genesis key for height 0 and 1).
    pub fn key_at(&self, height: u64) -> &PublicKey {
        self.keys
            .iter()
            .rev()
            .find(|k| k.from_height <= height)
            .map_or(&self.keys[0].key, |k| &k.key)
    }

    /// The key that signs the next block: the last one announced.
    pub fn current(&self) -> &PublicKey {
        &self.keys[self.keys.len() - 1].key
    }

    /// Whether `key` is or was a sequencer key of this chain.
    pub fn contains(&self, key: &PublicKey) -> bool {
        self.keys.iter().any(|k| k.key == *key)
    }

    pub fn keys(&self) -> &[SequencerKey] {
        &self.keys
    }

    /// Announces `key`, sealed in block `height`: it signs from `height + 1`.
    pub(crate) fn rotate(&mut self, key: PublicKey, height: u64) {
        self.keys.push(SequencerKey {
            key,
            from_height: height + 1,
        });
    }

    /// The schedule as it stood after block `height` (keys announced later dropped).
    pub fn at(&self, height: u64) -> Self {
        Self {
            keys: self
                .keys
                .iter()
                .enumerate()
                .filter(|(i, k)| *i == 0 || k.from_height <= height + 1)
                .map(|(_, k)| *k)
                .collect(),
        }
    }

    /// The schedule's registry leaf data, `None` while the genesis key is the only one (then the registry root is
    /// over the participants alone): `0xff || u32(number of keys) || for each key in order: key || u64(from height)`.
    pub fn leaf(&self) -> Option<Vec<u8>> {
        if self.keys.len() < 2 {
            return None;
        }
        let mut out = Vec::with_capacity(5 + 41 * self.keys.len());
        out.push(SCHEDULE_LEAF_PREFIX);
        out.extend_from_slice(&(self.keys.len() as u32).to_be_bytes());
        for k in &self.keys {
            out.extend_from_slice(&k.key.to_sec1());
            out.extend_from_slice(&k.from_height.to_be_bytes());
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyPair;

    #[test]
    fn each_height_has_the_key_announced_before_it() {
        let (a, b, c) = (
            KeyPair::generate().public(),
            KeyPair::generate().public(),
            KeyPair::generate().public(),
        );
        let mut s = SequencerKeys::genesis(a);
        s.rotate(b, 5);
        s.rotate(c, 9);
        assert_eq!(s.key_at(0), &a);
        assert_eq!(s.key_at(5), &a);
        assert_eq!(s.key_at(6), &b);
        assert_eq!(s.key_at(9), &b);
        assert_eq!(s.key_at(10), &c);
        assert_eq!(s.current(), &c);
        assert_eq!(s.at(4).keys().len(), 1);
        assert_eq!(s.at(5).keys().len(), 2);
        assert_eq!(s.at(9).keys().len(), 3);
        assert_eq!(SequencerKeys::parse_text(&s.to_text()).unwrap(), s);
        assert_eq!(SequencerKeys::from_records(&s.records(), &a).unwrap(), s);
        assert!(matches!(
            SequencerKeys::from_records(&s.records(), &b),
            Err(ScheduleError::NotGenesis { .. })
        ));
        assert!(SequencerKeys::genesis(a).leaf().is_none());
        let leaf = s.leaf().unwrap();
        assert_eq!(leaf[0], SCHEDULE_LEAF_PREFIX);
        assert_eq!(leaf.len(), 5 + 3 * 41);
    }

    #[test]
    fn a_schedule_from_outside_is_checked() {
        let a = KeyPair::generate().public().to_hex();
        let b = KeyPair::generate().public().to_hex();
        assert_eq!(
            SequencerKeys::parse_text("# keys\n\n").unwrap_err(),
            ScheduleError::Empty
        );
        assert!(matches!(
            SequencerKeys::parse_text(&format!("{a}\n{b}\n")),
            Err(ScheduleError::Line { line: 2, .. })
        ));
        assert!(matches!(
            SequencerKeys::parse_text(&format!("{a} 3\n")),
            Err(ScheduleError::FirstHeight(3))
        ));
        assert!(matches!(
            SequencerKeys::parse_text(&format!("{a}\n{b} 1\n")),
            Err(ScheduleError::Order { .. })
        ));
        assert!(matches!(
            SequencerKeys::parse_text(&format!("{a}\n{b} x\n")),
            Err(ScheduleError::Line { line: 2, .. })
        ));
        assert!(matches!(
            SequencerKeys::parse_text("zz\n"),
            Err(ScheduleError::Key { index: 0, .. })
        ));
        assert_eq!(
            SequencerKeys::parse_text(&format!("{a}\n{b} 7\n"))
                .unwrap()
                .keys()
                .len(),
            2
        );
    }
}

//! Auditing a chain from genesis, block by block, with nothing but the log and the genesis: every header signature,
//! hash link, Merkle root and log root, every event signature and role, and every state transition replayed.
//!
//! The canonical chain is what a careful reader of the blocks topic accepts in log order: a block that is the valid
//! successor of the tip extends it; a block for a height already taken, or for the next height but built on another
//! parent or from an older leadership term, is a stale competitor from a fenced-out sequencer and is skipped (and
//! counted). Anything else — a bad signature, a root that does not match, a gap, an event that does not apply — is a
//! failure, reported with the height, the event and what differs.

use std::collections::{HashMap, HashSet};

use crate::Hash;
use crate::block::{BlockError, Tip, check_block_with};
use crate::context::BlockContext;
use crate::envelope::check_envelope;
use crate::event::{EventError, event_id};
use crate::pack_key::PackKey;
use crate::participant::Registry;
use crate::pb::{Block, ContainerRecord, PackRecord, ProductRecord};
use crate::state::{WorkingSet, apply_event};

/// The first thing found wrong.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum AuditError {
    #[error("block at log position {position}: {source}")]
    Block { position: u64, source: BlockError },
    #[error("block at log position {position} has height {height}, but the chain is at {tip}: blocks are missing")]
    Gap { position: u64, height: u64, tip: u64 },
    #[error("block {height}, event {index} ({id}): {source}")]
    Event {
        height: u64,
        index: usize,
        id: String,
        source: EventError,
    },
    #[error("block {height}, event {index} ({id}) was already sealed in an earlier block")]
    Replayed { height: u64, index: usize, id: String },
    #[error("block {height}: registry_root does not match the registry folded from the chain after its events")]
    RegistryRoot { height: u64 },
    #[error("block {height}, event {index} ({id}) does not apply to the state before it: {reason}")]
    Transition {
        height: u64,
        index: usize,
        id: String,
        reason: String,
    },
}

/// What an audit has seen so far.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Progress {
    pub blocks: u64,
    pub stale: u64,
    pub events: u64,
    pub rejections: u64,
    pub packs: u64,
}

/// Replays a chain in memory.
#[derive(Debug)]
pub struct Auditor {
    registry: Registry,
    tip: Tip,
    packs: HashMap<PackKey, PackRecord>,
    products: HashMap<String, ProductRecord>,
    containers: HashMap<String, ContainerRecord>,
    sealed: HashSet<Hash>,
    progress: Progress,
}

impl Auditor {
    pub fn new(registry: Registry) -> Self {
        Self {
            tip: Tip::genesis(registry.chain_id),
            registry,
            packs: HashMap::new(),
            products: HashMap::new(),
            containers: HashMap::new(),
            sealed: HashSet::new(),
            progress: Progress::default(),
        }
    }

    pub fn tip(&self) -> &Tip {
        &self.tip
    }

    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    /// The state the chain leads to (for comparing with a live store).
    pub fn pack(&self, key: &str) -> Option<&PackRecord> {
        self.packs.get(key)
    }

    /// The product record the chain leads to (for a replayed verdict).
    pub fn product(&self, gtin: &str) -> Option<&ProductRecord> {
        self.products.get(gtin)
    }

    /// The container record the chain leads to, by element string.
    pub fn container(&self, element: &str) -> Option<&ContainerRecord> {
        self.containers.get(element)
    }

    /// The registry the chain leads to.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Checks the block found at `position` in the log.
    pub fn check(&mut self, position: u64, block: &Block) -> Result<(), AuditError> {
        let (header, next) = match check_block_with(block, &self.tip, self.registry.sequencer_keys()) {
            Ok(ok) => ok,
            Err(e) => return self.stale_or_fail(position, e),
        };
        let mut packs = WorkingSet::default();
        let mut events = Vec::with_capacity(block.events.len());
        for (index, envelope) in block.events.iter().enumerate() {
            let id = hex::encode(event_id(&envelope.payload));
            let event = check_envelope(envelope, &self.registry).map_err(|source| AuditError::Event {
                height: header.height,
                index,
                id: id.clone(),
                source,
            })?;
            if self.sealed.contains(&event.id) {
                return Err(AuditError::Replayed {
                    height: header.height,
                    index,
                    id,
                });
            }
            // Load what the event reads once per block: a second event on it must see the first one's effect.
            loop {
                let needs = packs.needs(&event);
                if needs.is_empty() {
                    break;
                }
                for gtin in needs.products {
                    let current = self.products.get(&gtin).cloned();
                    packs.load_product(gtin, current);
                }
                for key in needs.packs {
                    let current = self.packs.get(&key).cloned();
                    packs.load(key, current);
                }
                for element in needs.containers {
                    let current = self.containers.get(&element).cloned();
                    packs.load_container(element, current);
                }
            }
            // Governance changes apply in place: the next event of this block is judged against them.
            let at = BlockContext::new(header.height, header.time_ms).at_index(index);
            apply_event(&event, at, &mut packs, &mut self.registry).map_err(|r| AuditError::Transition {
                height: header.height,
                index,
                id,
                reason: r.reason,
            })?;
            events.push(event.id);
        }
        if header.registry_root != self.registry.root() {
            return Err(AuditError::RegistryRoot { height: header.height });
        }
        for (key, record) in packs.changes() {
            self.packs.insert(key.clone(), record.clone());
        }
        for (gtin, record) in packs.product_changes() {
            self.products.insert(gtin.to_string(), record.clone());
        }
        for (element, record) in packs.container_changes() {
            self.containers.insert(element.to_string(), record.clone());
        }
        self.sealed.extend(events);
        self.progress.blocks += 1;
        self.progress.events += block.events.len() as u64;
        self.progress.rejections += block.rejected.len() as u64;
        self.progress.packs = self.packs.len() as u64;
        self.tip = next;
        Ok(())
    }

    fn stale_or_fail(&mut self, position: u64, error: BlockError) -> Result<(), AuditError> {
        match error {
            BlockError::Height { got, .. } if got <= self.tip.height => {}
            BlockError::Height { got, .. } => {
                return Err(AuditError::Gap {
                    position,
                    height: got,
                    tip: self.tip.height,
                });
            }
            BlockError::PrevHash(_) | BlockError::StaleEpoch { .. } => {}
            source => return Err(AuditError::Block { position, source }),
        }
        self.progress.stale += 1;
        Ok(())
    }
}

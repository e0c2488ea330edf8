//! The canonical chain: a deterministic fold over the blocks topic in offset order.
//!
//! A message of the blocks topic is *canonical* when it is a valid successor of the canonical tip so far
//! ([`check_block`]: height = tip + 1, previous hash, epoch not below the tip's, signature, roots, log). Anything
//! else — a competing block at a height already taken, a block of an older epoch, something that does not decode —
//! is *stale* and skipped. Because the topic is append-only and the rule only looks at what came before, the
//! canonical chain up to an offset never changes once that offset is read: every reader (sequencers, `pedigree
//! verify`, the tests) agrees on it, whoever wrote what.
//!
//! The participant registry is folded with the chain: the genesis registry, then every accepted governance event
//! of every canonical block, in order, each applied at its own position as the audit ([`pedigree_core::audit`])
//! applies it. This fold is the only registry the sequencer judges events against: Redis holds a copy for custody
//! and the verifier, but whoever can write Redis must not be able to add a participant whose events get sealed.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::anyhow;
use pedigree_core::block::{BlockError, Tip, check_block, open_header_at, tip_of};
use pedigree_core::context::BlockContext;
use pedigree_core::envelope::check_envelope;
use pedigree_core::event::event_id;
use pedigree_core::governance::apply_governance;
use pedigree_core::participant::GOVERNANCE_ID;
use pedigree_core::participant::Registry;
use pedigree_core::pb::{Block, BlockHeader};
use prost::Message;

/// Where the canonical chain stands after reading the blocks topic up to (not including) `next_offset`.
#[derive(Clone, Debug)]
pub struct Canon {
    pub tip: Tip,
    /// Next blocks-topic offset to read.
    pub next_offset: i64,
    /// Events-topic offsets the canonical tip resumes from (next offset to read, per partition).
    pub offsets: BTreeMap<i32, i64>,
    /// The registry as of the canonical tip: the genesis with the tip's chain of governance events applied.
    pub registry: Arc<Registry>,
    genesis: Arc<Registry>,
    /// Started from a checkpoint (Redis' head block) rather than folded from offset 0.
    pub from_checkpoint: bool,
    /// Whether a checkpoint may be taken when folding starts over (false once one turned out not canonical).
    pub checkpoints: bool,
}

/// What one message of the blocks topic turned out to be.
pub enum Folded {
    /// The next block of the chain.
    Canonical {
        block: Box<Block>,
        header: Box<BlockHeader>,
    },
    /// Not a successor of the tip: skipped.
    Stale(BlockError),
}

impl Canon {
    /// The chain before any block: the genesis registry, nothing read.
    pub fn new(genesis: Arc<Registry>) -> Self {
        Self {
            tip: Tip::genesis(genesis.chain_id),
            next_offset: 0,
            offsets: BTreeMap::new(),
            registry: genesis.clone(),
            genesis,
            from_checkpoint: false,
            checkpoints: true,
        }
    }

    /// The chain as of a checkpoint: block `bytes`, read at blocks-topic `offset`, whose header verifies under the
    /// sequencer key `registry`'s schedule names for its height and commits to `registry` (its `registry_root`,
    /// which covers the schedule once the key was rotated). Reading goes on after `offset`. `None` when the block
    /// does not check out: then the topic is folded from its start.
    pub fn from_checkpoint(genesis: Arc<Registry>, offset: i64, bytes: &[u8], registry: Registry) -> Option<Self> {
        let block = Block::decode(bytes).ok()?;
        let signed = block.header.as_ref()?;
        open_header_at(signed, &genesis.chain_id, registry.sequencer_keys()).ok()?;
        let (header, tip) = tip_of(&block, &genesis.chain_id).ok()?;
        if header.registry_root != registry.root() {
            return None;
        }
        Some(Self {
            tip,
            next_offset: offset + 1,
            offsets: header
                .resume_offsets
                .iter()
                .map(|o| (o.partition, o.next_offset))
                .collect(),
            registry: Arc::new(registry),
            genesis,
            from_checkpoint: true,
            checkpoints: true,
        })
    }

    /// The genesis registry.
    pub fn genesis(&self) -> &Arc<Registry> {
        &self.genesis
    }

    /// Forgets what was read, to fold the topic again from its start.
    pub fn restart(&mut self) {
        let checkpoints = self.checkpoints;
        *self = Self::new(self.genesis.clone());
        self.checkpoints = checkpoints;
    }

    /// Folds the message at `offset` (the next one: offsets are read in order, gaps allowed). Fails only when a
    /// block that is canonical (signed by the sequencer key the folded schedule names for it, linked to the tip)
    /// holds a governance event that does not apply: the chain is then one the audit refuses, and sealing on top of
    /// it would be wrong.
    pub fn fold(&mut self, offset: i64, payload: &[u8]) -> anyhow::Result<Folded> {
        debug_assert!(offset >= self.next_offset, "blocks are folded in offset order");
        self.next_offset = offset + 1;
        let block = match Block::decode(payload) {
            Ok(block) => block,
            Err(e) => return Ok(Folded::Stale(BlockError::Decode(e.to_string()))),
        };
        let registry_before = self.registry.clone();
        // The key the registry folded so far names for the next block (a rotation sealed in the tip takes over here).
        let sequencer = self.registry.sequencer_key();
        match check_block(&block, &self.tip, &sequencer) {
            Ok((header, tip)) => {
                self.fold_registry(&block, &header)?;
                if header.registry_root != self.registry.root() {
                    // Signed by the sequencer key and linked, but the registry it commits to is not the chain's:
                    // a chain the audit refuses. Nothing of it is kept.
                    self.registry = registry_before;
                    return Err(anyhow!(
                        "canonical block {}: registry_root does not match the registry folded from the chain",
                        header.height
                    ));
                }
                self.tip = tip;
                self.offsets = header
                    .resume_offsets
                    .iter()
                    .map(|o| (o.partition, o.next_offset))
                    .collect();
                Ok(Folded::Canonical {
                    block: Box::new(block),
                    header: Box::new(header),
                })
            }
            Err(e) => Ok(Folded::Stale(e)),
        }
    }

    /// Applies the block's accepted governance events to the registry, each at its index among the block's events
    /// (a later event of the block sees an earlier one's change), exactly as the audit does.
    ///
    /// Only envelopes signed by [`GOVERNANCE_ID`] are decoded and checked: governance events are the ones only the
    /// governance key may sign, and no other signer's event changes the registry, so a bulk block's custody events
    /// (up to 10^5 packs) cost a string comparison each, not a signature check. Nothing changes unless the whole
    /// block applies.
    fn fold_registry(&mut self, block: &Block, header: &BlockHeader) -> anyhow::Result<()> {
        let mut registry = self.registry.clone();
        let mut changed = false;
        for (index, envelope) in block.events.iter().enumerate() {
            if envelope.signer != GOVERNANCE_ID {
                continue;
            }
            let invalid = |reason: String| {
                anyhow!(
                    "canonical block {}, event {index} ({}): the governance event does not apply to the registry \
                     folded from the chain: {reason}",
                    header.height,
                    hex::encode(event_id(&envelope.payload))
                )
            };
            let event = check_envelope(envelope, &registry).map_err(|e| invalid(e.to_string()))?;
            let at = BlockContext::new(header.height, header.time_ms).at_index(index);
            apply_governance(&event, at, Arc::make_mut(&mut registry)).map_err(|r| invalid(r.reason))?;
            changed = true;
        }
        if changed {
            // The fold keeps no change list: a batch applied on this registry reports only its own changes.
            let registry_mut = Arc::make_mut(&mut registry);
            let _ = registry_mut.take_changes();
            let _ = registry_mut.take_sequencer_change();
            self.registry = registry;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use pedigree_core::block::{BlockContent, seal};
    use pedigree_core::envelope::{new_payload, sign_payload};
    use pedigree_core::keys::KeyPair;
    use pedigree_core::participant::Genesis;
    use pedigree_core::pb::{ParticipantRole, PartitionOffset, SignedEnvelope};

    use super::*;

    fn genesis(sequencer: &KeyPair, governance: &KeyPair) -> Genesis {
        Genesis {
            chain_name: "test".into(),
            sequencer_public_key: sequencer.public().to_hex(),
            governance_public_key: Some(governance.public().to_hex()),
            participants: vec![],
        }
    }

    fn canon(sequencer: &KeyPair, governance: &KeyPair) -> Canon {
        Canon::new(Arc::new(
            Registry::from_genesis(&genesis(sequencer, governance)).unwrap(),
        ))
    }

    /// The state before height 1 of the chain [`canon`] makes.
    fn origin(sequencer: &KeyPair, governance: &KeyPair) -> Tip {
        Tip::genesis(genesis(sequencer, governance).chain_id().unwrap())
    }

    /// `body` signed by `governance` for the chain of [`canon`]`(sequencer, governance)`.
    fn governed(
        sequencer: &KeyPair,
        governance: &KeyPair,
        body: pedigree_core::pb::event_payload::Body,
    ) -> SignedEnvelope {
        let chain = genesis(sequencer, governance).chain_id().unwrap();
        sign_payload(governance, &new_payload(&chain, GOVERNANCE_ID, body))
    }

    fn content(epoch: u64, next_offset: i64) -> BlockContent {
        let empty = canon(&KeyPair::generate(), &KeyPair::generate()).registry.root();
        BlockContent {
            registry_root: empty,
            ..with_events(epoch, next_offset, vec![])
        }
    }

    /// A block of `events`; its registry root is the one `base` leads to with them.
    fn on(base: &Registry, height: u64, epoch: u64, next_offset: i64, events: Vec<SignedEnvelope>) -> BlockContent {
        let at = BlockContext::new(height, 0);
        let after = pedigree_core::governance::fold_governance(base, at, &events).expect("the events apply");
        BlockContent {
            registry_root: after.as_ref().unwrap_or(base).root(),
            ..with_events(epoch, next_offset, events)
        }
    }

    fn with_events(epoch: u64, next_offset: i64, events: Vec<SignedEnvelope>) -> BlockContent {
        BlockContent {
            events,
            rejected: vec![],
            resume_offsets: vec![PartitionOffset {
                partition: 0,
                next_offset,
            }],
            time_ms: 0,
            epoch,
            registry_root: [0; 32],
        }
    }

    /// Two sealers on the same tip, an old epoch after a newer one: one chain, in offset order.
    #[test]
    fn competing_and_older_blocks_are_stale() {
        let (key, governance) = (KeyPair::generate(), KeyPair::generate());
        let (b1, t1) = seal(&key, &origin(&key, &governance), content(1, 10));
        let (b2a, t2a) = seal(&key, &t1, content(1, 20));
        let (b2b, _) = seal(&key, &t1, content(2, 25));
        let (b3_old, _) = seal(&key, &t2a, content(1, 30));
        let (b3, _) = seal(&key, &t2a, content(2, 40));
        let (b4_old, _) = seal(&key, &Tip { ..t2a.clone() }, content(1, 50));
        let mut canon = canon(&key, &governance);
        let topic = [&b1, &b2a, &b2b, &b3, &b3_old, &b4_old];
        let verdicts: Vec<bool> = topic
            .iter()
            .enumerate()
            .map(|(i, b)| {
                matches!(
                    canon.fold(i as i64, &b.encode_to_vec()).unwrap(),
                    Folded::Canonical { .. }
                )
            })
            .collect();
        assert_eq!(verdicts, [true, true, false, true, false, false]);
        assert_eq!((canon.tip.height, canon.tip.epoch, canon.next_offset), (3, 2, 6));
        assert_eq!(canon.offsets.get(&0), Some(&40));
        assert!(matches!(
            canon.fold(6, b"not a block").unwrap(),
            Folded::Stale(BlockError::Decode(_))
        ));
    }

    #[test]
    fn a_block_of_an_older_epoch_cannot_extend_a_newer_tip() {
        let (key, governance) = (KeyPair::generate(), KeyPair::generate());
        let (b1, t1) = seal(&key, &origin(&key, &governance), content(3, 1));
        let (b2, _) = seal(&key, &t1, content(2, 2));
        let mut canon = canon(&key, &governance);
        assert!(matches!(
            canon.fold(0, &b1.encode_to_vec()).unwrap(),
            Folded::Canonical { .. }
        ));
        assert!(matches!(
            canon.fold(1, &b2.encode_to_vec()).unwrap(),
            Folded::Stale(BlockError::StaleEpoch { got: 2, head: 3 })
        ));
    }

    /// A rotation sealed in block 1 (signed by the old key) hands block 2 to the new key: a block 2 signed by the
    /// old key is stale, the new key's is canonical, and a checkpoint at block 2 needs the schedule to check out.
    #[test]
    fn a_sequencer_key_rotation_takes_over_from_the_next_block() {
        let (old, new, governance) = (KeyPair::generate(), KeyPair::generate(), KeyPair::generate());
        let mut canon = canon(&old, &governance);
        let rotate = governed(
            &old,
            &governance,
            pedigree_core::body::rotate_sequencer_key(&new.public()),
        );
        let (b1, t1) = seal(
            &old,
            &origin(&old, &governance),
            on(&canon.registry, 1, 1, 1, vec![rotate]),
        );
        assert!(matches!(
            canon.fold(0, &b1.encode_to_vec()).unwrap(),
            Folded::Canonical { .. }
        ));
        assert_eq!(canon.registry.sequencer_key(), new.public());
        let (by_old, _) = seal(&old, &t1, on(&canon.registry, 2, 1, 2, vec![]));
        let (by_new, _) = seal(&new, &t1, on(&canon.registry, 2, 1, 2, vec![]));
        assert!(matches!(
            canon.fold(1, &by_old.encode_to_vec()).unwrap(),
            Folded::Stale(BlockError::Signature(_))
        ));
        assert!(matches!(
            canon.fold(2, &by_new.encode_to_vec()).unwrap(),
            Folded::Canonical { .. }
        ));
        assert_eq!(canon.tip.height, 2);
        // A checkpoint at block 2: with the schedule (what Redis keeps) it checks out; without it, it does not.
        let genesis = canon.genesis().clone();
        let with = (*genesis)
            .clone()
            .with_sequencer_keys(&canon.registry.sequencer_keys().records())
            .unwrap();
        let checkpoint = Canon::from_checkpoint(genesis.clone(), 2, &by_new.encode_to_vec(), with).unwrap();
        assert_eq!(checkpoint.registry.sequencer_key(), new.public());
        assert!(Canon::from_checkpoint(genesis.clone(), 2, &by_new.encode_to_vec(), (*genesis).clone()).is_none());
    }

    fn register(sequencer: &KeyPair, governance: &KeyPair, id: &str) -> SignedEnvelope {
        let key = KeyPair::generate().public();
        let body = pedigree_core::body::register_participant(id, ParticipantRole::Pharmacy, "P", "", &key);
        governed(sequencer, governance, body)
    }

    /// The registry follows the canonical blocks' governance events, event by event; a stale block counts for
    /// nothing, and a restart folds back to the genesis.
    #[test]
    fn the_registry_is_folded_from_canonical_blocks() {
        let (key, governance) = (KeyPair::generate(), KeyPair::generate());
        let k2 = KeyPair::generate();
        let rotate = governed(
            &key,
            &governance,
            pedigree_core::body::rotate_key("bay-pharmacy", &k2.public()),
        );
        // Registered and rotated in one block: the rotation sees the registration before it.
        let base = canon(&key, &governance).registry;
        let first = vec![register(&key, &governance, "bay-pharmacy"), rotate];
        let after_first = pedigree_core::governance::fold_governance(&base, BlockContext::new(1, 0), &first)
            .unwrap()
            .unwrap();
        let (b1, t1) = seal(&key, &origin(&key, &governance), on(&base, 1, 1, 2, first));
        let (stale, _) = seal(
            &key,
            &origin(&key, &governance),
            on(&base, 1, 1, 3, vec![register(&key, &governance, "elm-pharmacy")]),
        );
        let (b2, _) = seal(
            &key,
            &t1,
            on(&after_first, 2, 1, 4, vec![register(&key, &governance, "oak-pharmacy")]),
        );
        let mut canon = canon(&key, &governance);
        for (offset, block) in [&b1, &stale, &b2].into_iter().enumerate() {
            canon.fold(offset as i64, &block.encode_to_vec()).unwrap();
        }
        let bay = canon.registry.get("bay-pharmacy").expect("registered");
        assert_eq!((bay.key, bay.key_since, bay.retired_keys.len()), (k2.public(), 1, 1));
        assert!(canon.registry.get("oak-pharmacy").is_some());
        assert!(canon.registry.get("elm-pharmacy").is_none());
        assert!(!canon.registry.has_changes());
        canon.restart();
        assert_eq!((canon.tip.height, canon.next_offset, canon.registry.len()), (0, 0, 0));
    }

    /// A canonical block whose governance event does not apply (here: a participant registered twice) is a chain
    /// the audit refuses: folding it fails and leaves the registry and tip as they were.
    #[test]
    fn a_governance_event_that_does_not_apply_fails_the_fold() {
        let (key, governance, k1) = (KeyPair::generate(), KeyPair::generate(), KeyPair::generate());
        let chain = genesis(&key, &governance).chain_id().unwrap();
        let base = canon(&key, &governance).registry;
        let (b1, t1) = seal(
            &key,
            &origin(&key, &governance),
            on(&base, 1, 1, 1, vec![register(&key, &governance, "bay-pharmacy")]),
        );
        let twice = vec![
            register(&key, &governance, "oak-pharmacy"),
            register(&key, &governance, "bay-pharmacy"),
        ];
        let (b2, _) = seal(&key, &t1, with_events(1, 2, twice));
        let mut canon = canon(&key, &governance);
        canon.fold(0, &b1.encode_to_vec()).unwrap();
        let Err(error) = canon.fold(1, &b2.encode_to_vec()) else {
            panic!("a duplicate registration folds");
        };
        assert!(error.to_string().contains("already registered"), "{error}");
        assert_eq!((canon.tip.height, canon.registry.len()), (1, 1));
        // A forged governance signature is refused the same way.
        let forged = sign_payload(
            &KeyPair::generate(),
            &new_payload(
                &chain,
                GOVERNANCE_ID,
                pedigree_core::body::register_participant(
                    "elm-pharmacy",
                    ParticipantRole::Pharmacy,
                    "P",
                    "",
                    &k1.public(),
                ),
            ),
        );
        let (b2, _) = seal(&key, &t1, with_events(1, 2, vec![forged]));
        assert!(canon.fold(2, &b2.encode_to_vec()).is_err());
        assert_eq!(canon.registry.len(), 1);
    }
}

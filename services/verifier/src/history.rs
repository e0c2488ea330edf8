//! `TraceService.GetPackHistory`: where a pack has been (DSCSA tracing information for one pack), for the parties in
//! its chain and for those who read everything.
//!
//! The pack's record names its last event; each block's back links (`pedigree_core::history`) name every item's
//! previous event, so the walk reads one event and one block's links per step, never a whole block. While the pack was
//! inside a container (from the event that packed it to the one that took it out) the container's own events moved
//! it: those are walked the same way, and the containers around that one in turn.

use std::collections::HashMap;

use pedigree_core::container::ContainerKey;
use pedigree_core::decode::decode_payload;
use pedigree_core::event::{Body, Event};
use pedigree_core::gs1::{Gtin, Serial, Sscc};
use pedigree_core::history::{ItemDigest, Position, container_digest, pack_digest, previous};
use pedigree_core::pack_key::PackKey;
use pedigree_core::participant::Role;
use pedigree_core::pb::{BlockHeader, BlockLinks, ContainerRecord, PackHistory, PackHistoryEvent, PackHistoryRequest};
use pedigree_core::stored::StoredError;
use pedigree_store::{BlockEvent, StoreError};
use prost::Message;

use crate::access::{Caller, Denied};
use crate::error::VerifyError;
use crate::verify::{Verifier, bundle_from, inconsistent};

/// What a history is of: a pack, or a container (by element string).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tracked {
    Pack { gtin: Gtin, serial: Serial },
    Container(String),
}

impl Tracked {
    fn digest(&self) -> ItemDigest {
        match self {
            Tracked::Pack { gtin, serial } => pack_digest(&PackKey::new(gtin, serial)),
            Tracked::Container(element) => container_digest(element),
        }
    }

    /// The container (element string) an event put this item into, if it did.
    fn packed_into(&self, body: &Body) -> Option<String> {
        let Body::Pack {
            parent,
            lines,
            containers,
        } = body
        else {
            return None;
        };
        let named = match self {
            Tracked::Pack { gtin, serial } => lines
                .iter()
                .any(|l| l.gtin == *gtin && l.serials.iter().any(|s| s == serial)),
            Tracked::Container(element) => containers.iter().any(|c| c.element() == *element),
        };
        named.then(|| parent.element())
    }
}

/// One event of a history, as read.
pub(crate) struct Step {
    pub(crate) at: Position,
    /// The container (element string) the event names instead of the item: one that moved with the item inside, or
    /// was emptied whole; `None` when the event names the item itself.
    pub(crate) via: Option<String>,
    pub(crate) read: BlockEvent,
    pub(crate) event: Event,
}

impl Step {
    /// When its block was sealed (Unix milliseconds).
    pub(crate) fn sealed_at_ms(&self) -> i64 {
        BlockHeader::decode(self.read.header.header.as_slice()).map_or(0, |h| h.time_ms)
    }
}

/// A pack's or container's history as walked.
pub(crate) struct Walked {
    pub(crate) steps: Vec<Step>,
    /// Whether the walk reached the item's first event.
    pub(crate) complete: bool,
    /// Everyone in the pack's chain: who signed its events or was named in them (receiver, sender, owner), its
    /// current holder, receiver and owner, and its product's owner; sorted.
    parties: Vec<String>,
}

impl Walked {
    /// Whether participant `id` is in the item's chain.
    pub(crate) fn concerns(&self, id: &str) -> bool {
        self.parties.binary_search_by(|p| p.as_str().cmp(id)).is_ok()
    }
}

/// The blocks' links read so far (a block's are read once however many steps land in it).
type LinkCache = HashMap<u64, Option<BlockLinks>>;

impl Verifier {
    pub(crate) async fn pack_history(
        &self,
        caller: &Caller,
        request: &PackHistoryRequest,
    ) -> Result<PackHistory, VerifyError> {
        let who = caller.id().ok_or(Denied::History)?.to_string();
        let item = if request.sscc.is_empty() {
            Tracked::Pack {
                gtin: Gtin::parse(&request.gtin)?,
                serial: Serial::parse(&request.serial)?,
            }
        } else {
            if !(request.gtin.is_empty() && request.serial.is_empty()) {
                return Err(VerifyError::Field(
                    "sscc",
                    "names a container: leave gtin and serial empty",
                ));
            }
            Tracked::Container(ContainerKey::Sscc(Sscc::parse(&request.sscc)?).element())
        };
        let height = self.ensure_fresh().await?;
        let walked = self.walk_item(&item).await?.ok_or(VerifyError::UnknownPack)?;
        if !(caller.reads_everything() || walked.concerns(&who)) {
            return Err(Denied::History.into());
        }
        let Walked { steps, complete, .. } = walked;
        // A block sealed since the height was read may be in the walk.
        let height = steps.iter().map(|s| s.at.0).fold(height, u64::max);
        let keys = if request.include_proofs {
            Some(self.proof_keys().await?)
        } else {
            None
        };
        let mut events = Vec::with_capacity(steps.len());
        for step in &steps {
            let proof = match &keys {
                Some(keys) => {
                    let item = match (&step.via, &item) {
                        (Some(element), _) | (None, Tracked::Container(element)) => ("", element.as_str()),
                        (None, Tracked::Pack { gtin, serial }) => (gtin.as_str(), serial.as_str()),
                    };

                    Some(bundle_from(keys, step.at.0, &step.read, item)?)
                }
                None => None,
            };
            events.push(history_event(step, proof));
        }
        let (gtin, serial) = match &item {
            Tracked::Pack { gtin, serial } => (gtin.as_str().to_string(), serial.as_str().to_string()),
            Tracked::Container(_) => (String::new(), String::new()),
        };
        Ok(PackHistory {
            gtin,
            serial,
            height,
            events,
            complete,
        })
    }

    /// Every event of a pack's history, in chain order (`None` for a pack the ledger does not have).
    pub(crate) async fn walk_pack(&self, gtin: &Gtin, serial: &Serial) -> Result<Option<Walked>, VerifyError> {
        self.walk_item(&Tracked::Pack {
            gtin: gtin.clone(),
            serial: serial.clone(),
        })
        .await
    }

    /// Every event of a pack's or container's history, in chain order: its own, and those that moved a container
    /// it was in while it was inside (`None` for an item the ledger does not have).
    pub(crate) async fn walk_item(&self, item: &Tracked) -> Result<Option<Walked>, VerifyError> {
        let (last, mut parties) = match item {
            Tracked::Pack { gtin, serial } => {
                let (product, pack) = self.lookup(gtin.as_str(), serial.as_str()).await?;
                let Some(pack) = pack else { return Ok(None) };
                let parties: Vec<String> = [pack.holder, pack.receiver, pack.owner]
                    .into_iter()
                    .chain(product.map(|p| p.owner))
                    .collect();
                ((pack.last_height, pack.last_index), parties)
            }
            Tracked::Container(element) => {
                self.ensure_fresh().await?;
                let Some(record) = self.container_record(element).await? else {
                    return Ok(None);
                };
                (
                    (record.last_height, record.last_index),
                    vec![record.holder, record.receiver, record.owner],
                )
            }
        };
        let mut cache = LinkCache::new();
        let (mut own, mut complete) = self.walk(&item.digest(), last, None, &mut cache).await?;
        own.reverse();
        let mut steps = Vec::with_capacity(own.len());
        // Containers the item was in: (element, the event that put it (or its container) in, the next event of
        // what was put in, if any).
        let mut windows: Vec<(String, Position, Option<Position>)> = Vec::new();
        for (k, at) in own.iter().enumerate() {
            let mut step = self.step(*at, None).await?;
            // An unpack that names no child takes everything out: it names the container, not the item.
            if let Body::Unpack { parent, .. } = &step.event.body
                && step.event.body.unpacks_everything()
                && !matches!(item, Tracked::Container(e) if *e == parent.element())
            {
                step.via = Some(parent.element());
            }
            if let Some(parent) = item.packed_into(&step.event.body) {
                windows.push((parent, *at, own.get(k + 1).copied()));
            }
            steps.push(step);
        }
        while let Some((element, floor, until)) = windows.pop() {
            let record = self
                .container_record(&element)
                .await?
                .ok_or_else(|| inconsistent("a container the item was in is missing from the store"))?;
            let from = (record.last_height, record.last_index);
            let (mut walked, whole) = self
                .walk(&container_digest(&element), from, Some(floor), &mut cache)
                .await?;
            complete &= whole;
            walked.reverse();
            walked.retain(|p| until.is_none_or(|u| *p < u));
            let inner = Tracked::Container(element.clone());
            for (k, at) in walked.iter().enumerate() {
                let step = self.step(*at, Some(element.clone())).await?;
                if let Some(parent) = inner.packed_into(&step.event.body) {
                    windows.push((parent, *at, walked.get(k + 1).copied().or(until)));
                }
                steps.push(step);
            }
        }
        steps.sort_by_key(|s| s.at);
        for step in &steps {
            parties.extend(step.event.parties().into_iter().map(str::to_string));
        }
        parties.retain(|p| !p.is_empty());
        parties.sort();
        parties.dedup();
        Ok(Some(Walked {
            steps,
            complete,
            parties,
        }))
    }

    async fn container_record(&self, element: &str) -> Result<Option<ContainerRecord>, VerifyError> {
        let asked = [element.to_string()];
        let found = match self.store.containers(&asked, &*self.directory_now()).await {
            Err(StoreError::Stored {
                source: StoredError::UnknownIndex(_),
                ..
            }) => {
                // A participant registered since the directory was read (or it was never read): read it, once.
                let directory = self.refresh_directory().await?;
                self.store.containers(&asked, &*directory).await?
            }
            other => other?,
        };
        Ok(found.into_iter().next().flatten())
    }

    /// The positions of an item's events, newest first, from `from` back to its first event or to the first at or
    /// before `floor` (excluded); and whether the walk ended at the item's first event (not at a block whose links
    /// were never written).
    async fn walk(
        &self,
        item: &ItemDigest,
        from: Position,
        floor: Option<Position>,
        cache: &mut LinkCache,
    ) -> Result<(Vec<Position>, bool), VerifyError> {
        let mut out = Vec::new();
        let mut at = from;
        loop {
            if floor.is_some_and(|f| at <= f) {
                return Ok((out, true));
            }
            out.push(at);
            if let std::collections::hash_map::Entry::Vacant(slot) = cache.entry(at.0) {
                slot.insert(self.store.block_links(at.0).await?);
            }
            let Some(links) = cache.get(&at.0).and_then(Option::as_ref) else {
                return Ok((out, false));
            };
            match previous(links, at.1, item) {
                None => return Ok((out, true)),
                Some(prev) if prev < at => at = prev,
                Some(_) => return Err(inconsistent("a history link does not lead back in the chain")),
            }
        }
    }

    pub(crate) async fn step(&self, at: Position, via: Option<String>) -> Result<Step, VerifyError> {
        let read = self
            .store
            .block_event(at.0, at.1)
            .await?
            .ok_or_else(|| inconsistent("an event of the pack's history is not in its block"))?;
        // Sealed, so it decodes; the role only labels the event.
        let event = decode_payload(&read.envelope.payload, Role::Governance)
            .map_err(|e| inconsistent(&format!("a sealed event does not decode: {e}")))?;
        Ok(Step { at, via, read, event })
    }
}

fn history_event(step: &Step, proof: Option<pedigree_core::pb::ProofBundle>) -> PackHistoryEvent {
    let (counterparty, owner) = step.event.body.counterparty();
    let sealed_at_ms = step.sealed_at_ms();
    PackHistoryEvent {
        height: step.at.0,
        index: step.at.1,
        event_id: step.event.id.to_vec(),
        kind: step.event.body.kind().as_str().to_string(),
        signer: step.event.signer.clone(),
        signed_at_ms: step.event.timestamp_ms,
        sealed_at_ms,
        container: step
            .via
            .as_deref()
            .map(pedigree_core::container::bracketed)
            .unwrap_or_default(),
        counterparty: counterparty.to_string(),
        owner: owner.to_string(),
        decommission_reason: match &step.event.body {
            Body::Decommission { reason, .. } => *reason as i32,
            _ => 0,
        },
        proof,
    }
}

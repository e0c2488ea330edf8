//! DSCSA transaction information and transaction statement (TI/TS) for a sealed shipment, as structured JSON: what
//! was shipped (product, lot, expiry, quantity and serials per line; containers), when, between whom (ids, names,
//! GLNs), under which trade documents, and the seller's statement, which is its signature over the shipment event.
//!
//! Readable by the shipment's two parties and by callers who read everything (authority, auditor). Anyone else, and
//! an id that is not a sealed shipment, get the same NOT_FOUND, so that ids cannot be probed.

use std::collections::BTreeMap;

use pedigree_core::Hash;
use pedigree_core::decode::decode_payload;
use pedigree_core::event::{Body, event_id};
use pedigree_core::pack_key::PackKey;
use pedigree_core::participant::{ParticipantRecord, Role};
use pedigree_core::pb::{BlockHeader, event_outcome};
use prost::Message;
use serde::Serialize;

use crate::access::Caller;
use crate::error::VerifyError;
use crate::verify::{Verifier, inconsistent};

/// The statement a seller makes under FD&C Act section 582 by signing a shipment on the ledger (docs/verdicts.md).
pub const STATEMENT: &str = "Seller has complied with each applicable subsection of FDCA Sec. 581(27)(A)-(G).";

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Party {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub gln: String,
}

/// A product as its owner registered it (DSCSA TI: name, strength, dosage form, container size, national code).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct TiProduct {
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub strength: String,
    pub dosage_form: String,
    pub pack_size: u32,
    /// National codes by system (NDC, PZN...).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub national_codes: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct TiLine {
    pub gtin: String,
    /// The product's master data, where registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<TiProduct>,
    pub lot: String,
    pub expiry: String,
    pub quantity: usize,
    pub serials: Vec<String>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Documents {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub purchase_order: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub invoice: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub despatch_advice: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ship_date: String,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Statement {
    pub text: &'static str,
    /// The seller's signature (ECDSA secp256k1, r||s, hex) over `event_id`: the statement as signed.
    pub signature: String,
}

/// The TI/TS of one shipment.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct TransactionInformation {
    pub event_id: String,
    /// Height of the block that sealed the shipment, and that block's time (ms since the Unix epoch).
    pub height: u64,
    pub sealed_at_ms: i64,
    /// The owner of the goods: the signer, or the client a third-party logistics provider shipped for.
    pub seller: Party,
    pub buyer: Party,
    /// The third-party logistics provider that held and shipped the goods for the seller (and signed), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipped_by: Option<Party>,
    pub documents: Documents,
    /// Packs by product and lot, in the order the shipment names them.
    pub lines: Vec<TiLine>,
    /// Containers shipped whole (bracketed SSCC or case SGTIN).
    pub containers: Vec<String>,
    pub transaction_statement: Statement,
}

fn party(records: &[ParticipantRecord], id: &str) -> Party {
    let record = records.iter().find(|r| r.id == id);
    Party {
        id: id.to_string(),
        name: record.map(|r| r.name.clone()).unwrap_or_default(),
        gln: record.and_then(|r| r.gln.clone()).unwrap_or_default(),
    }
}

impl Verifier {
    /// The TI/TS of shipment `id`, for `caller`.
    pub async fn transaction(&self, id: &[u8], caller: &Caller) -> Result<TransactionInformation, VerifyError> {
        let id: Hash = id.try_into().map_err(|_| VerifyError::EventId(id.len()))?;
        if *caller == Caller::Anonymous {
            return Err(VerifyError::UnknownEvent);
        }
        self.ensure_fresh().await?;
        let Some(outcome) = self.store.event_outcome(&id).await? else {
            return Err(VerifyError::UnknownEvent);
        };
        let Some(event_outcome::Outcome::CommittedHeight(height)) = outcome.outcome else {
            return Err(VerifyError::UnknownEvent);
        };
        let block = self.store.block(height).await?.ok_or(VerifyError::NoBlock(height))?;
        let envelope = block
            .events
            .iter()
            .find(|e| event_id(&e.payload) == id)
            .ok_or_else(|| inconsistent("a committed event is not in its block"))?;
        let registry = self.auth.registry.borrow().clone();
        // Sealed, so checked when it was: decoded only (its signer's key may have been rotated since).
        let event = decode_payload(&envelope.payload, Role::Governance).map_err(|e| inconsistent(&e.to_string()))?;
        let Body::Ship {
            lines,
            containers,
            receiver,
            documents,
            owner,
        } = &event.body
        else {
            return Err(VerifyError::UnknownEvent);
        };
        let seller = owner.as_deref().unwrap_or(&event.signer);
        let party_to_it = caller
            .id()
            .is_some_and(|me| me == event.signer || me == receiver || me == seller);
        if !(party_to_it || caller.reads_everything()) {
            return Err(VerifyError::UnknownEvent);
        }
        let keys: Vec<PackKey> = lines
            .iter()
            .flat_map(|l| l.serials.iter().map(|s| PackKey::new(&l.gtin, s)))
            .collect();
        let records = self.store.packs(&keys, &registry).await?;
        // Lot and expiry never change after commissioning: today's record tells them.
        let mut by_lot: BTreeMap<(usize, String, String), TiLine> = BTreeMap::new();
        let mut order: BTreeMap<String, usize> = BTreeMap::new();
        for (key, record) in keys.iter().zip(records) {
            let record = record.ok_or_else(|| inconsistent("a shipped pack is missing from the store"))?;
            let next = order.len();
            let position = *order.entry(key.gtin().to_string()).or_insert(next);
            let line = by_lot
                .entry((position, record.lot.clone(), record.expiry.clone()))
                .or_insert_with(|| TiLine {
                    gtin: key.gtin().to_string(),
                    product: None,
                    lot: record.lot.clone(),
                    expiry: record.expiry.clone(),
                    quantity: 0,
                    serials: Vec::new(),
                });
            line.quantity += 1;
            line.serials.push(key.serial().to_string());
        }
        let gtins: Vec<String> = order.keys().cloned().collect();
        let products: BTreeMap<String, TiProduct> = gtins
            .iter()
            .zip(self.store.products(&gtins).await?)
            .filter_map(|(gtin, p)| {
                let master = p?.master?;
                Some((
                    gtin.clone(),
                    TiProduct {
                        name: master.name,
                        strength: master.strength,
                        dosage_form: master.dosage_form,
                        pack_size: master.pack_size,
                        national_codes: master.national_codes.into_iter().map(|c| (c.system, c.code)).collect(),
                    },
                ))
            })
            .collect();
        let mut lines: Vec<TiLine> = by_lot.into_values().collect();
        for line in &mut lines {
            line.product = products.get(&line.gtin).cloned();
        }
        let (_, participants) = self.store.participants().await?;
        let documents = documents.clone().unwrap_or_default();
        let header = block
            .header
            .as_ref()
            .and_then(|h| BlockHeader::decode(h.header.as_slice()).ok())
            .ok_or_else(|| inconsistent("a block without a readable header"))?;
        Ok(TransactionInformation {
            event_id: hex::encode(id),
            height,
            sealed_at_ms: header.time_ms,
            seller: party(&participants, seller),
            buyer: party(&participants, receiver),
            shipped_by: owner.as_ref().map(|_| party(&participants, &event.signer)),
            documents: Documents {
                purchase_order: documents.purchase_order,
                invoice: documents.invoice,
                despatch_advice: documents.despatch_advice,
                ship_date: documents.ship_date,
            },
            lines,
            containers: containers.iter().map(ToString::to_string).collect(),
            transaction_statement: Statement {
                text: STATEMENT,
                signature: hex::encode(&envelope.signature),
            },
        })
    }
}

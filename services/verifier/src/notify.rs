//! `NotificationService.Subscribe`: what concerns a signed-in participant, read from the sealed blocks in chain
//! order (the blocks are the durable record, so nothing is lost while a subscriber is away). Every notification
//! carries its cursor (block height, position in the block); a subscriber resuming after the last cursor it
//! processed misses nothing and may see that one again: at-least-once.
//!
//! Alerts raised on a participant's products (read from the alerts log's fold, [`crate::alerts`]) are interleaved
//! with them: each notification's cursor carries the position in both sources.
//!
//! Who is told what: the receiver of a shipment, return or voided shipment; the signer of every event, committed or
//! rejected; the new owner of a transferred product; the owner of a product whose packs are quarantined; for an
//! illegitimate declaration, the product's owner, every authority, and everyone in the pack's chain: who holds or
//! owns it and every earlier holder, sender and receiver, from its history ([`crate::history`]).

use std::time::Duration;

use pedigree_core::Hash;
use pedigree_core::decode::decode_payload;
use pedigree_core::event::{Body, Event};
use pedigree_core::participant::Role;
use pedigree_core::pb::{
    Block, BlockHeader, Notification, NotificationCursor, NotificationKind, SubscribeRequest, event_outcome,
};
use prost::Message;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use crate::access::Caller;
use crate::verify::Verifier;

/// How often a caught-up subscription looks for a new block.
const POLL: Duration = Duration::from_millis(200);
/// Notifications waiting for a slow subscriber before the reader waits for it.
const BUFFER: usize = 256;

/// A subscription's position: the next notification it delivers is the first after `(height, index)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Position {
    height: u64,
    index: u32,
}

impl Verifier {
    /// The stream of notifications for `caller` (a participant) from where `request` says.
    pub(crate) async fn subscribe(
        &self,
        caller: Caller,
        request: &SubscribeRequest,
    ) -> Result<ReceiverStream<Result<Notification, Status>>, Status> {
        let unavailable = |e: pedigree_store::StoreError| Status::unavailable(e.to_string());
        let (after, alerts_after) = match (&request.after, request.from_genesis) {
            (Some(c), _) => (
                Position {
                    height: c.height,
                    index: c.index,
                },
                c.alerts,
            ),
            (None, true) => (Position { height: 0, index: 0 }, 0),
            // From now: the next block sealed, the next alert raised.
            (None, false) => (
                Position {
                    height: self.store.head().await.map_err(unavailable)?,
                    index: u32::MAX,
                },
                self.store.alerts_folded().await.map_err(unavailable)?.unwrap_or(0) as u64,
            ),
        };
        let (tx, rx) = mpsc::channel(BUFFER);
        let verifier = self.clone();
        tokio::spawn(async move {
            if let Err(status) = verifier.feed(&caller, after, alerts_after, &tx).await {
                let _ = tx.send(Err(status)).await;
            }
        });
        Ok(ReceiverStream::new(rx))
    }

    /// Sends every notification after `after` in the blocks and after `alerts` in the alerts log, block by block
    /// and then the alerts raised since, until the subscriber goes away.
    async fn feed(
        &self,
        caller: &Caller,
        after: Position,
        mut alerts: u64,
        tx: &mpsc::Sender<Result<Notification, Status>>,
    ) -> Result<(), Status> {
        let unavailable = |e: pedigree_store::StoreError| Status::unavailable(format!("reading the ledger: {e}"));
        let mut height = if after.index == u32::MAX {
            after.height + 1
        } else {
            after.height.max(1)
        };
        loop {
            if tx.is_closed() {
                return Ok(());
            }
            let head = self.store.head().await.map_err(unavailable)?;
            while height <= head {
                let block = self
                    .store
                    .block(height)
                    .await
                    .map_err(unavailable)?
                    .ok_or_else(|| Status::unavailable(format!("block {height} is not in redis yet")))?;
                for mut n in self.concerning(caller, height, &block).await? {
                    let at = n.cursor.map_or(after, |c| Position {
                        height: c.height,
                        index: c.index,
                    });
                    if let Some(cursor) = n.cursor.as_mut() {
                        cursor.alerts = alerts;
                    }
                    if at > after && tx.send(Ok(n)).await.is_err() {
                        return Ok(());
                    }
                }
                height += 1;
            }
            // Every block up to `height - 1` is delivered: the alerts raised since the last one delivered.
            let delivered = Position {
                height: height - 1,
                index: u32::MAX,
            }
            .max(after);
            for n in self.alerts_for(caller, delivered, &mut alerts).await? {
                if tx.send(Ok(n)).await.is_err() {
                    return Ok(());
                }
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The alerts raised on `caller`'s products after `alerts` (which moves past every alert read, its own scans'
    /// included), each with the cursor `(blocks, its alert cursor)`.
    async fn alerts_for(
        &self,
        caller: &Caller,
        blocks: Position,
        alerts: &mut u64,
    ) -> Result<Vec<Notification>, Status> {
        let Some(id) = caller.id() else {
            return Ok(Vec::new());
        };
        let found = self
            .store
            .alerts_of(id, *alerts, BUFFER)
            .await
            .map_err(|e| Status::unavailable(format!("reading alerts: {e}")))?;
        let mut out = Vec::new();
        for alert in found {
            *alerts = alert.cursor;
            let raised = &alert.raised;
            if raised.owner != id {
                continue;
            }
            out.push(Notification {
                cursor: Some(NotificationCursor {
                    height: blocks.height,
                    index: blocks.index,
                    alerts: alert.cursor,
                }),
                kind: NotificationKind::Alert as i32,
                signer: raised.scanner.clone(),
                sealed_at_ms: raised.raised_at_ms,
                items: vec![format!("01{}21{}", raised.gtin, raised.serial)],
                reason: pedigree_core::pb::AlertCode::try_from(raised.code)
                    .unwrap_or_default()
                    .as_str_name()
                    .trim_start_matches("ALERT_CODE_")
                    .to_string(),
                alert_id: raised.id.clone(),
                ..Notification::default()
            });
        }
        Ok(out)
    }

    /// What in block `height` concerns `caller`, in block order.
    async fn concerning(&self, caller: &Caller, height: u64, block: &Block) -> Result<Vec<Notification>, Status> {
        let Caller::Participant { id, role, index } = caller else {
            return Ok(Vec::new());
        };
        let sealed_at_ms = block
            .header
            .as_ref()
            .and_then(|h| BlockHeader::decode(h.header.as_slice()).ok())
            .map_or(0, |h| h.time_ms);
        let note = |index: usize, kind: NotificationKind, event: &Event| Notification {
            cursor: Some(NotificationCursor {
                height,
                index: index as u32,
                alerts: 0,
            }),
            kind: kind as i32,
            event_id: event.id.to_vec(),
            signer: event.signer.clone(),
            sealed_at_ms,
            items: items(&event.body),
            ..Notification::default()
        };
        let mut out = Vec::new();
        for (i, envelope) in block.events.iter().enumerate() {
            // Sealed, so it decodes; the role only labels the event.
            let Ok(event) = decode_payload(&envelope.payload, Role::Governance) else {
                continue;
            };
            let mine = |who: &str| who == id;
            let kind = match &event.body {
                Body::Ship { receiver, .. } | Body::Return { receiver, .. } if mine(receiver) => {
                    Some(NotificationKind::Shipment)
                }
                Body::VoidShipment { receiver, .. } if mine(receiver) => Some(NotificationKind::ShipmentVoided),
                Body::TransferProduct { new_owner, .. } if mine(new_owner) => {
                    Some(NotificationKind::ProductTransferred)
                }
                Body::Quarantine { gtin, .. } if self.owns(id, gtin.as_str()).await? => Some(NotificationKind::Suspect),
                Body::DeclareIllegitimate { gtin, serials, .. }
                    if *role == Role::Authority || self.concerned(id, gtin.as_str(), serials).await? =>
                {
                    Some(NotificationKind::Illegitimate)
                }
                _ => None,
            };
            if let Some(kind) = kind {
                out.push(note(i, kind, &event));
            }
            if mine(&event.signer) {
                out.push(note(i, NotificationKind::EventCommitted, &event));
            }
        }
        for (j, rejection) in block.rejected.iter().enumerate() {
            let Ok(event_id) = <Hash>::try_from(rejection.event_id.as_slice()) else {
                continue;
            };
            let outcome = self
                .store
                .event_outcome(&event_id)
                .await
                .map_err(|e| Status::unavailable(e.to_string()))?;
            let mine = outcome.is_some_and(|o| {
                o.signer_index == *index
                    && *index != 0
                    && matches!(o.outcome, Some(event_outcome::Outcome::Rejected(_)))
            });
            if mine {
                out.push(Notification {
                    cursor: Some(NotificationCursor {
                        height,
                        index: (block.events.len() + j) as u32,
                        alerts: 0,
                    }),
                    kind: NotificationKind::EventRejected as i32,
                    event_id: event_id.to_vec(),
                    signer: id.clone(),
                    sealed_at_ms,
                    reject_code: rejection.code,
                    reason: rejection.reason.clone(),
                    ..Notification::default()
                });
            }
        }
        Ok(out)
    }

    /// Whether `id` owns product `gtin` (as Redis holds it now).
    async fn owns(&self, id: &str, gtin: &str) -> Result<bool, Status> {
        let products = self
            .store
            .products(&[gtin.to_string()])
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        Ok(products.first().and_then(Option::as_ref).is_some_and(|p| p.owner == id))
    }

    /// Whether `id` owns the product or is in the chain of one of the packs: holds, owns or held it, shipped it or
    /// was shipped it, now or at any time before (its history, [`crate::history`]).
    async fn concerned(&self, id: &str, gtin: &str, serials: &[pedigree_core::gs1::Serial]) -> Result<bool, Status> {
        if self.owns(id, gtin).await? {
            return Ok(true);
        }
        let Ok(gtin) = pedigree_core::gs1::Gtin::parse(gtin) else {
            return Ok(false);
        };
        for serial in serials {
            if let Some(walked) = self.walk_pack(&gtin, serial).await.map_err(Status::from)?
                && walked.concerns(id)
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// The packs and containers a body names, as element strings.
fn items(body: &Body) -> Vec<String> {
    body.lines()
        .into_iter()
        .flat_map(|(gtin, serials)| {
            serials
                .iter()
                .map(move |s| format!("01{}21{}", gtin.as_str(), s.as_str()))
        })
        .chain(body.containers().into_iter().map(|c| c.element()))
        .collect()
}

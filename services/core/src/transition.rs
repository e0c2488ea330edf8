//! Per-pack rules of the custody state machine: the next state of one pack under one event, or why not.

use pedigree_gs1::{Date, Expiry, Serial};

use crate::context::BlockContext;
use crate::event::{Body, Event};
use crate::participant::Role;
use crate::pb::{DecommissionReason, PackRecord, PackStatus, ProductRecord, RejectCode};
use crate::refusal::Refusal;

/// How long a dispense or decommission may be undone (EU Delegated Regulation 2016/161, article 13).
pub const UNDO_WINDOW_MS: i64 = 10 * 24 * 60 * 60 * 1000;

/// The new state of one pack under `event`, from its current state.
pub fn transition(
    event: &Event,
    serial: &Serial,
    current: Option<&PackRecord>,
    product: Option<&ProductRecord>,
    at: BlockContext,
) -> Result<PackRecord, Refusal> {
    let Body::Commission {
        lot, expiry, sources, ..
    } = &event.body
    else {
        let pack = current.ok_or_else(|| Refusal::new(RejectCode::UnknownPack, serial, "not commissioned"))?;
        return move_pack(event, serial, pack, product, at);
    };
    if current.is_some() {
        return Err(Refusal::new(RejectCode::PackExists, serial, "already commissioned"));
    }
    if let Some(code) = blocked(product, lot.as_str()) {
        return Err(Refusal::new(code, serial, "the product or lot is off the market"));
    }
    let mut record = PackRecord {
        lot: lot.as_str().to_string(),
        expiry: expiry.as_str().to_string(),
        holder: event.signer.clone(),
        repackaged_by: if sources.is_empty() {
            Vec::new()
        } else {
            event.id.to_vec()
        },
        ..PackRecord::default()
    };
    record.set_status(PackStatus::Active);
    Ok(record)
}

/// A source pack of a repackager's commission: held by the signer, active, in no container, expiring no earlier
/// than the new packs (`expiry`). It is decommissioned as repackaged.
pub(crate) fn repackage_source(
    event: &Event,
    serial: &Serial,
    current: Option<&PackRecord>,
    expiry: &Expiry,
    at: BlockContext,
) -> Result<PackRecord, Refusal> {
    let pack = current.ok_or_else(|| Refusal::new(RejectCode::UnknownPack, serial, "not commissioned"))?;
    movable(event, serial, pack)?;
    require_active_holder(pack, &event.signer, serial)?;
    let today = Date::from_unix_days(at.time_ms.div_euclid(86_400_000));
    if let Ok(source) = Expiry::parse(&pack.expiry)
        && expiry.resolve(today.year) > source.resolve(today.year)
    {
        let detail = format!(
            "the new packs expire {}, after this source pack ({})",
            expiry.as_str(),
            pack.expiry
        );
        return Err(Refusal::new(RejectCode::ExpiryExtended, serial, detail));
    }
    let mut next = pack.clone();
    next.set_status(PackStatus::Decommissioned);
    next.set_decommission_reason(DecommissionReason::Repackaged);
    next.changed_at_ms = at.time_ms;
    Ok(next)
}

/// Who owns a pack or container: its `owner` when set (a third-party logistics provider holds it for them), else
/// its holder.
pub(crate) fn owner_of<'a>(holder: &'a str, owner: &'a str) -> &'a str {
    if owner.is_empty() { holder } else { owner }
}

/// A shipment names the owner of what it moves exactly when the signer holds it for another (`owner` is the
/// effective owner, `named` what the shipment says).
pub(crate) fn check_ship_owner(owner: &str, signer: &str, named: Option<&str>) -> Result<(), (RejectCode, String)> {
    match named {
        None if owner == signer => Ok(()),
        Some(named) if named == owner && owner != signer => Ok(()),
        None => Err((
            RejectCode::OwnerMismatch,
            format!("held for '{owner}': the shipment must name it as owner"),
        )),
        Some(named) if owner == signer => Err((
            RejectCode::OwnerMismatch,
            format!("owned by the signer, not by '{named}'"),
        )),
        Some(named) => Err((
            RejectCode::OwnerMismatch,
            format!("owned by '{owner}', not by '{named}'"),
        )),
    }
}

/// The `owner` field after a receipt by `signer` (of `role`) of goods owned by `owner`: a third-party logistics
/// provider takes possession only, anyone else ownership too.
pub(crate) fn owner_after_receipt(owner: &str, signer: &str, role: Role) -> String {
    if role == Role::ThirdPartyLogistics && owner != signer {
        owner.to_string()
    } else {
        String::new()
    }
}

/// `Withdrawn` or `Recalled` when the product or the lot is off the market.
fn blocked(product: Option<&ProductRecord>, lot: &str) -> Option<RejectCode> {
    let product = product?;
    if product.withdrawn {
        Some(RejectCode::Withdrawn)
    } else if product.recalled_lots.iter().any(|l| l == lot) {
        Some(RejectCode::Recalled)
    } else {
        None
    }
}

fn expired(pack: &PackRecord, at: BlockContext) -> bool {
    let today = Date::from_unix_days(at.time_ms.div_euclid(86_400_000));
    Expiry::parse(&pack.expiry).is_ok_and(|e| e.is_expired_on(today))
}

fn move_pack(
    event: &Event,
    serial: &Serial,
    pack: &PackRecord,
    product: Option<&ProductRecord>,
    at: BlockContext,
) -> Result<PackRecord, Refusal> {
    let signer = event.signer.as_str();
    if let Body::Undo { .. } = &event.body {
        in_no_container(serial, pack)?;
        return undo(signer, serial, pack, product, at);
    }
    if matches!(
        event.body,
        Body::Quarantine { .. } | Body::ClearSuspect { .. } | Body::DeclareIllegitimate { .. }
    ) {
        return crate::suspect::suspect_transition(event, serial, pack, product);
    }
    movable(event, serial, pack)?;
    let mut next = pack.clone();
    match &event.body {
        Body::Ship { receiver, owner, .. } => {
            require_active_holder(pack, signer, serial)?;
            check_ship_owner(owner_of(&pack.holder, &pack.owner), signer, owner.as_deref())
                .map_err(|(code, detail)| Refusal::new(code, serial, detail))?;
            next.set_status(PackStatus::InTransit);
            next.receiver = receiver.clone();
        }
        Body::Receive { sender, .. } => {
            receive(&mut next, signer, sender, serial)?;
            next.owner = owner_after_receipt(owner_of(&pack.holder, &pack.owner), signer, event.signer_role);
        }
        Body::Dispense { .. } => {
            require_active_holder(pack, signer, serial)?;
            require_supplyable(pack, product, at, serial)?;
            next.set_status(PackStatus::Dispensed);
            next.changed_at_ms = at.time_ms;
        }
        Body::Decommission { reason, .. } => {
            require_active_holder(pack, signer, serial)?;
            next.set_status(PackStatus::Decommissioned);
            next.set_decommission_reason(*reason);
            next.changed_at_ms = at.time_ms;
        }
        Body::VoidShipment { receiver, .. } => void(&mut next, signer, receiver, serial)?,
        Body::Return { receiver, .. } => {
            require_active_holder(pack, signer, serial)?;
            if pack.received_from != *receiver {
                let detail = format!("came from '{}', not from '{receiver}'", pack.received_from);
                return Err(Refusal::new(RejectCode::WrongReturnReceiver, serial, detail));
            }
            next.set_status(PackStatus::InTransit);
            next.receiver = receiver.clone();
        }
        Body::Commission { .. }
        | Body::Undo { .. }
        | Body::Recall { .. }
        | Body::Withdraw { .. }
        | Body::Register { .. }
        | Body::RotateKey { .. }
        | Body::RotateSequencerKey { .. }
        | Body::Revoke { .. }
        | Body::AttestPrefixes { .. }
        | Body::RegisterProduct { .. }
        | Body::TransferProduct { .. }
        | Body::Quarantine { .. }
        | Body::ClearSuspect { .. }
        | Body::DeclareIllegitimate { .. }
        | Body::Pack { .. }
        | Body::Unpack { .. } => {
            unreachable!(
                "handled before: commission, undo, suspect, product and governance events do not move packs here"
            )
        }
    }
    Ok(next)
}

/// A pack in a container moves only with it.
pub(crate) fn in_no_container(serial: &Serial, pack: &PackRecord) -> Result<(), Refusal> {
    if pack.parent.is_empty() {
        return Ok(());
    }
    let detail = format!(
        "inside container {}: it moves with it (unpack it first)",
        crate::container::bracketed(&pack.parent)
    );
    Err(Refusal::new(RejectCode::InContainer, serial, detail))
}

/// A pack `event` may move: in no container, neither dispensed nor decommissioned, and neither quarantined nor
/// illegitimate (unless `event` destroys it).
pub(crate) fn movable(event: &Event, serial: &Serial, pack: &PackRecord) -> Result<(), Refusal> {
    in_no_container(serial, pack)?;
    crate::suspect::not_suspect(event, serial, pack)?;
    match pack.status() {
        PackStatus::Dispensed if pack.holder == event.signer && matches!(event.body, Body::Dispense { .. }) => Err(
            Refusal::new(RejectCode::AlreadyDispensedByYou, serial, "already dispensed by you"),
        ),
        PackStatus::Dispensed => {
            let detail = format!("already dispensed by '{}'", pack.holder);
            Err(Refusal::new(RejectCode::AlreadyDispensed, serial, detail))
        }
        PackStatus::Decommissioned => {
            let detail = format!("decommissioned ({})", reason_name(pack.decommission_reason()));
            Err(Refusal::new(RejectCode::Decommissioned, serial, detail))
        }
        _ => Ok(()),
    }
}

/// The receiver of a pack in transit to it refuses it: back to the sender, active, held by it.
pub(crate) fn refuse_receipt(
    pack: &PackRecord,
    signer: &str,
    sender: &str,
    serial: &Serial,
) -> Result<PackRecord, Refusal> {
    if !pack.parent.is_empty() {
        let detail = format!(
            "inside container {}: refuse the container",
            crate::container::bracketed(&pack.parent)
        );
        return Err(Refusal::new(RejectCode::InContainer, serial, detail));
    }
    let mut next = pack.clone();
    in_transit(next.status(), &next.holder, &next.receiver, sender, signer)
        .map_err(|(code, detail)| Refusal::new(code, serial, detail))?;
    next.set_status(PackStatus::Active);
    next.receiver.clear();
    Ok(next)
}

/// Whether a pack or container (its status, holder and receiver) is in transit from `from` to `to`: the reject code
/// and detail when it is not. Receipts, refusals and voids of packs and of containers all check this one way.
pub(crate) fn in_transit(
    status: PackStatus,
    holder: &str,
    receiver: &str,
    from: &str,
    to: &str,
) -> Result<(), (RejectCode, String)> {
    if status != PackStatus::InTransit {
        return Err((RejectCode::NotInTransit, "not in transit".to_string()));
    }
    if receiver != to {
        return Err((
            RejectCode::WrongReceiver,
            format!("shipped to '{receiver}', not to '{to}'"),
        ));
    }
    if holder != from {
        return Err((RejectCode::NotHolder, format!("shipped by '{holder}', not by '{from}'")));
    }
    Ok(())
}

fn receive(next: &mut PackRecord, signer: &str, sender: &str, serial: &Serial) -> Result<(), Refusal> {
    in_transit(next.status(), &next.holder, &next.receiver, sender, signer)
        .map_err(|(code, detail)| Refusal::new(code, serial, detail))?;
    next.set_status(PackStatus::Active);
    next.received_from = std::mem::take(&mut next.holder);
    next.holder = signer.to_string();
    next.receiver.clear();
    Ok(())
}

/// The sender takes back a pack it shipped (or returned) to `receiver` that is still in transit.
fn void(next: &mut PackRecord, signer: &str, receiver: &str, serial: &Serial) -> Result<(), Refusal> {
    in_transit(next.status(), &next.holder, &next.receiver, signer, receiver)
        .map_err(|(code, detail)| Refusal::new(code, serial, detail))?;
    next.set_status(PackStatus::Active);
    next.receiver.clear();
    Ok(())
}

pub(crate) fn require_active_holder(pack: &PackRecord, signer: &str, serial: &Serial) -> Result<(), Refusal> {
    if pack.status() == PackStatus::InTransit {
        let detail = format!("in transit to '{}'", pack.receiver);
        return Err(Refusal::new(RejectCode::NotHolder, serial, detail));
    }
    if pack.holder != signer {
        let detail = format!("held by '{}', not by '{signer}'", pack.holder);
        return Err(Refusal::new(RejectCode::NotHolder, serial, detail));
    }
    Ok(())
}

/// A pack may reach a patient only if its product and lot are on the market and it has not expired.
fn require_supplyable(
    pack: &PackRecord,
    product: Option<&ProductRecord>,
    at: BlockContext,
    serial: &Serial,
) -> Result<(), Refusal> {
    if let Some(code) = blocked(product, &pack.lot) {
        return Err(Refusal::new(code, serial, "the product or lot is off the market"));
    }
    if expired(pack, at) {
        return Err(Refusal::new(
            RejectCode::Expired,
            serial,
            format!("expired ({})", pack.expiry),
        ));
    }
    Ok(())
}

fn undo(
    signer: &str,
    serial: &Serial,
    pack: &PackRecord,
    product: Option<&ProductRecord>,
    at: BlockContext,
) -> Result<PackRecord, Refusal> {
    let status = pack.status();
    if !matches!(status, PackStatus::Dispensed | PackStatus::Decommissioned) {
        return Err(Refusal::new(
            RejectCode::UndoNotAllowed,
            serial,
            "neither dispensed nor decommissioned",
        ));
    }
    if pack.holder != signer {
        let detail = format!("changed by '{}', only they may undo it", pack.holder);
        return Err(Refusal::new(RejectCode::UndoNotAllowed, serial, detail));
    }
    // Art. 13(1)(d): never for packs registered as stolen or intended for destruction.
    // A repackaged pack lives on in the packs made of it.
    let final_reason = matches!(
        pack.decommission_reason(),
        DecommissionReason::Stolen | DecommissionReason::Destroyed | DecommissionReason::Repackaged
    );
    if status == PackStatus::Decommissioned && final_reason {
        let detail = format!(
            "a {} pack cannot be reactivated",
            reason_name(pack.decommission_reason())
        );
        return Err(Refusal::new(RejectCode::UndoNotAllowed, serial, detail));
    }
    require_supplyable(pack, product, at, serial)?;
    if at.time_ms - pack.changed_at_ms > UNDO_WINDOW_MS {
        return Err(Refusal::new(
            RejectCode::UndoWindowPassed,
            serial,
            "more than 10 days ago",
        ));
    }
    let mut next = pack.clone();
    next.set_status(PackStatus::Active);
    next.set_decommission_reason(DecommissionReason::Unspecified);
    next.changed_at_ms = 0;
    Ok(next)
}

/// Lowercase name of a decommission reason, for messages and the HTTP API.
pub fn reason_name(reason: DecommissionReason) -> &'static str {
    match reason {
        DecommissionReason::Unspecified => "unspecified",
        DecommissionReason::Destroyed => "destroyed",
        DecommissionReason::Stolen => "stolen",
        DecommissionReason::Sample => "sample",
        DecommissionReason::FreeSample => "free_sample",
        DecommissionReason::Exported => "exported",
        DecommissionReason::Locked => "locked",
        DecommissionReason::Repackaged => "repackaged",
    }
}

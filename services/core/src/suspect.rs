//! Suspect and illegitimate product (DSCSA section 582: quarantine, investigation, notification of illegitimate
//! product; EU 2016/161 articles 36-37): a holder quarantines a pack it suspects, the product's owner or an authority
//! clears it after investigation or declares it illegitimate. A quarantined or illegitimate pack neither moves nor is
//! dispensed; the one thing still allowed is its destruction (a decommission with reason DESTROYED). Illegitimate is
//! final.

use pedigree_gs1::Serial;

use crate::event::{Body, Event};
use crate::participant::Role;
use crate::pb::{DecommissionReason, PackRecord, PackStatus, ProductRecord, RejectCode, SuspectState};
use crate::refusal::Refusal;
use crate::transition::{in_no_container, require_active_holder};

/// Refuses `event` on a quarantined or illegitimate pack, unless it destroys it.
pub(crate) fn not_suspect(event: &Event, serial: &Serial, pack: &PackRecord) -> Result<(), Refusal> {
    let destroys = matches!(
        event.body,
        Body::Decommission {
            reason: DecommissionReason::Destroyed,
            ..
        }
    );
    match pack.suspect() {
        SuspectState::Unspecified => Ok(()),
        _ if destroys => Ok(()),
        SuspectState::Quarantined => Err(Refusal::new(
            RejectCode::Suspect,
            serial,
            "quarantined as suspect: it moves only once cleared (or to destruction)",
        )),
        SuspectState::Illegitimate => Err(Refusal::new(
            RejectCode::Illegitimate,
            serial,
            "declared illegitimate: it can only be destroyed",
        )),
    }
}

/// The next state of one pack under a Quarantine, ClearSuspect or DeclareIllegitimate.
pub(crate) fn suspect_transition(
    event: &Event,
    serial: &Serial,
    pack: &PackRecord,
    product: Option<&ProductRecord>,
) -> Result<PackRecord, Refusal> {
    in_no_container(serial, pack)?;
    let mut next = pack.clone();
    match &event.body {
        Body::Quarantine { .. } => {
            match (pack.suspect(), pack.status()) {
                (SuspectState::Quarantined, _) => {
                    return Err(Refusal::new(RejectCode::Suspect, serial, "already quarantined"));
                }
                (SuspectState::Illegitimate, _) => {
                    return Err(Refusal::new(
                        RejectCode::Illegitimate,
                        serial,
                        "already declared illegitimate",
                    ));
                }
                (_, PackStatus::Dispensed | PackStatus::Decommissioned) => {
                    return Err(Refusal::new(
                        RejectCode::NotHolder,
                        serial,
                        "dispensed or decommissioned: out of the supply chain",
                    ));
                }
                _ => {}
            }
            require_active_holder(pack, &event.signer, serial)?;
            next.set_suspect(SuspectState::Quarantined);
        }
        Body::ClearSuspect { .. } => {
            investigator(event, product, serial)?;
            match pack.suspect() {
                SuspectState::Quarantined => next.set_suspect(SuspectState::Unspecified),
                SuspectState::Illegitimate => {
                    return Err(Refusal::new(
                        RejectCode::Illegitimate,
                        serial,
                        "declared illegitimate, which is final",
                    ));
                }
                SuspectState::Unspecified => {
                    return Err(Refusal::new(RejectCode::NotSuspect, serial, "not quarantined"));
                }
            }
        }
        Body::DeclareIllegitimate { .. } => {
            investigator(event, product, serial)?;
            if pack.suspect() == SuspectState::Illegitimate {
                return Err(Refusal::new(
                    RejectCode::Illegitimate,
                    serial,
                    "already declared illegitimate",
                ));
            }
            next.set_suspect(SuspectState::Illegitimate);
        }
        _ => unreachable!("only suspect events are judged here"),
    }
    Ok(next)
}

/// Who closes an investigation: the product's owner, or an authority.
fn investigator(event: &Event, product: Option<&ProductRecord>, serial: &Serial) -> Result<(), Refusal> {
    if event.signer_role == Role::Authority || product.is_some_and(|p| p.owner == event.signer) {
        return Ok(());
    }
    let owner = product.map_or("nobody", |p| p.owner.as_str());
    let detail = format!("only the product's owner ('{owner}') or an authority closes an investigation");
    Err(Refusal::new(RejectCode::NotProductOwner, serial, detail))
}

//! The answer to a scan: is this pack genuine and fit to supply?
//!
//! Identity mismatches come first (a lot or expiry that differs from what the manufacturer commissioned hints at a
//! falsified pack even if the serial exists), then the market status of the product and lot (withdrawn, recalled),
//! then a quarantine, then the pack's status (decommissioned, dispensed), then the date; a pack declared
//! illegitimate is ILLEGITIMATE before anything else. See docs/verdicts.md.

use pedigree_gs1::{Date, Expiry, ScannedCode};

use crate::pb::{PackRecord, PackStatus, ProductRecord, SuspectState, Verdict};

/// What is known about the scanned pack.
pub struct Lookup<'a> {
    /// The product (GTIN), if any pack of it was ever commissioned.
    pub product: Option<&'a ProductRecord>,
    pub pack: Option<&'a PackRecord>,
}

/// The verdict for `code` given the ledger's view, on `today`.
pub fn verdict(code: &ScannedCode, lookup: &Lookup<'_>, today: Date) -> Verdict {
    let Some(pack) = lookup.pack else {
        return if lookup.product.is_some() {
            Verdict::UnknownSerial
        } else {
            Verdict::UnknownProduct
        };
    };
    // A pack declared illegitimate is reported as such, whatever else the scan shows.
    if pack.suspect() == SuspectState::Illegitimate {
        return Verdict::Illegitimate;
    }
    if code.lot.as_ref().is_some_and(|lot| lot.as_str() != pack.lot) {
        return Verdict::LotMismatch;
    }
    if code.expiry.as_ref().is_some_and(|e| e.as_str() != pack.expiry) {
        return Verdict::ExpiryMismatch;
    }
    if let Some(product) = lookup.product {
        if product.withdrawn {
            return Verdict::Withdrawn;
        }
        if product.recalled_lots.contains(&pack.lot) {
            return Verdict::Recalled;
        }
    }
    if pack.suspect() == SuspectState::Quarantined {
        return Verdict::Suspect;
    }
    match pack.status() {
        PackStatus::Decommissioned => return Verdict::Decommissioned,
        PackStatus::Dispensed => return Verdict::Dispensed,
        _ => {}
    }
    // The stored expiry was validated at commission; an unparsable one would be a storage fault, not expiry.
    if Expiry::parse(&pack.expiry).is_ok_and(|e| e.is_expired_on(today)) {
        return Verdict::Expired;
    }
    Verdict::Verified
}

/// The wire name of a verdict, as the HTTP API and CLI print it.
pub fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Unspecified => "UNSPECIFIED",
        Verdict::Verified => "VERIFIED",
        Verdict::UnknownProduct => "UNKNOWN_PRODUCT",
        Verdict::UnknownSerial => "UNKNOWN_SERIAL",
        Verdict::LotMismatch => "LOT_MISMATCH",
        Verdict::ExpiryMismatch => "EXPIRY_MISMATCH",
        Verdict::Expired => "EXPIRED",
        Verdict::Dispensed => "DISPENSED",
        Verdict::Recalled => "RECALLED",
        Verdict::Decommissioned => "DECOMMISSIONED",
        Verdict::Withdrawn => "WITHDRAWN",
        Verdict::AlreadyDispensedByYou => "ALREADY_DISPENSED_BY_YOU",
        Verdict::Suspect => "SUSPECT",
        Verdict::Illegitimate => "ILLEGITIMATE",
    }
}

/// The wire name of a pack status.
pub fn status_name(status: PackStatus) -> &'static str {
    match status {
        PackStatus::Unspecified => "UNKNOWN",
        PackStatus::Active => "ACTIVE",
        PackStatus::InTransit => "IN_TRANSIT",
        PackStatus::Dispensed => "DISPENSED",
        PackStatus::Decommissioned => "DECOMMISSIONED",
    }
}

/// Today's date (UTC) from the system clock.
pub fn today_utc() -> Date {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    Date::from_unix_days(secs.div_euclid(86_400))
}

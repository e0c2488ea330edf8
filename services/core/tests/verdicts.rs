//! `verdict::verdict`: what a pharmacist's scan is told, as a table of ledger states and scanned codes, then the
//! expiry boundary (a `DD = 00` expiry lasts through the last day of its month).

use pedigree_core::gs1::{Date, ScannedCode, parse_scan};
use pedigree_core::pb::{PackRecord, PackStatus, Verdict};
use pedigree_core::verdict::{Lookup, status_name, verdict, verdict_name};

const LOT: &str = "LOT-7";
const EXPIRY: &str = "271231";

/// A day in 2026, well before the default expiry.
const TODAY: Date = Date {
    year: 2026,
    month: 6,
    day: 15,
};

/// The pack's full code as printed: GTIN, expiry, lot and serial.
const FULL: &str = "(01)09506000134352(17)271231(10)LOT-7(21)S1";

fn scan(code: &str) -> ScannedCode {
    parse_scan(code).unwrap_or_else(|e| panic!("{code}: {e}"))
}

fn record(lot: &str, expiry: &str, status: PackStatus) -> PackRecord {
    let mut record = PackRecord {
        lot: lot.into(),
        expiry: expiry.into(),
        holder: "p1".into(),
        receiver: if status == PackStatus::InTransit {
            "p2".into()
        } else {
            String::new()
        },
        last_event_id: vec![1; 32],
        last_height: 3,
        ..PackRecord::default()
    };
    record.set_status(status);
    record
}

/// A product on the market (neither withdrawn nor with a recalled lot).
static KNOWN: pedigree_core::pb::ProductRecord = pedigree_core::pb::ProductRecord {
    owner: String::new(),
    withdrawn: false,
    recalled_lots: Vec::new(),
    case_level: false,
    master: None,
    transfers: 0,
};

fn active() -> PackRecord {
    record(LOT, EXPIRY, PackStatus::Active)
}

/// The verdict for `code` on a known product whose pack is `pack`, on `today`.
fn on(code: &str, pack: &PackRecord, today: Date) -> Verdict {
    verdict(
        &scan(code),
        &Lookup {
            product: Some(&KNOWN),
            pack: Some(pack),
        },
        today,
    )
}

fn date(year: i32, month: u8, day: u8) -> Date {
    Date { year, month, day }
}

#[test]
fn unknown_pack_of_an_unknown_product_is_unknown_product() {
    let lookup = Lookup {
        product: None,
        pack: None,
    };
    assert_eq!(verdict(&scan(FULL), &lookup, TODAY), Verdict::UnknownProduct);
}

#[test]
fn unknown_pack_of_a_known_product_is_unknown_serial() {
    let lookup = Lookup {
        product: Some(&KNOWN),
        pack: None,
    };
    assert_eq!(verdict(&scan(FULL), &lookup, TODAY), Verdict::UnknownSerial);
}

#[test]
fn genuine_active_pack_is_verified() {
    assert_eq!(on(FULL, &active(), TODAY), Verdict::Verified);
}

#[test]
fn lot_differing_from_the_commissioned_lot_is_a_mismatch() {
    assert_eq!(
        on("(01)09506000134352(17)271231(10)LOT-8(21)S1", &active(), TODAY),
        Verdict::LotMismatch
    );
}

#[test]
fn expiry_differing_from_the_commissioned_expiry_is_a_mismatch() {
    assert_eq!(
        on("(01)09506000134352(17)271130(10)LOT-7(21)S1", &active(), TODAY),
        Verdict::ExpiryMismatch
    );
}

#[test]
fn lot_mismatch_wins_over_expiry_mismatch() {
    assert_eq!(
        on("(01)09506000134352(17)271130(10)LOT-8(21)S1", &active(), TODAY),
        Verdict::LotMismatch
    );
}

#[test]
fn lot_mismatch_wins_over_dispensed() {
    let pack = record(LOT, EXPIRY, PackStatus::Dispensed);
    assert_eq!(
        on("(01)09506000134352(17)271231(10)LOT-8(21)S1", &pack, TODAY),
        Verdict::LotMismatch
    );
}

#[test]
fn expiry_mismatch_wins_over_dispensed() {
    let pack = record(LOT, EXPIRY, PackStatus::Dispensed);
    assert_eq!(
        on("(01)09506000134352(17)271130(10)LOT-7(21)S1", &pack, TODAY),
        Verdict::ExpiryMismatch
    );
}

#[test]
fn dispensed_pack_is_dispensed() {
    let pack = record(LOT, EXPIRY, PackStatus::Dispensed);
    assert_eq!(on(FULL, &pack, TODAY), Verdict::Dispensed);
}

#[test]
fn dispensed_wins_over_expired() {
    let pack = record(LOT, "200100", PackStatus::Dispensed);
    assert_eq!(
        on("(01)09506000134352(17)200100(10)LOT-7(21)S1", &pack, TODAY),
        Verdict::Dispensed
    );
}

#[test]
fn pack_past_its_expiry_is_expired() {
    // 200100 is January 2020, long before any day of 2026.
    let pack = record(LOT, "200100", PackStatus::Active);
    assert_eq!(
        on("(01)09506000134352(17)200100(10)LOT-7(21)S1", &pack, TODAY),
        Verdict::Expired
    );
}

#[test]
fn expiry_comes_from_the_ledger_even_when_the_code_has_none() {
    let pack = record(LOT, "200100", PackStatus::Active);
    assert_eq!(on("(01)09506000134352(21)S1", &pack, TODAY), Verdict::Expired);
}

#[test]
fn pack_in_transit_is_verified() {
    let pack = record(LOT, EXPIRY, PackStatus::InTransit);
    assert_eq!(on(FULL, &pack, TODAY), Verdict::Verified);
}

#[test]
fn code_with_only_gtin_and_serial_is_verified_on_a_matching_pack() {
    assert_eq!(on("(01)09506000134352(21)S1", &active(), TODAY), Verdict::Verified);
    // Any of the three scan forms will do.
    assert_eq!(on("010950600013435221S1", &active(), TODAY), Verdict::Verified);
    assert_eq!(
        on("https://id.gs1.org/01/09506000134352/21/S1", &active(), TODAY),
        Verdict::Verified
    );
}

#[test]
fn code_with_lot_but_no_expiry_checks_the_lot_only() {
    assert_eq!(
        on("(01)09506000134352(10)LOT-7(21)S1", &active(), TODAY),
        Verdict::Verified
    );
    assert_eq!(
        on("(01)09506000134352(10)LOT-9(21)S1", &active(), TODAY),
        Verdict::LotMismatch
    );
}

#[test]
fn day_zero_expiry_lasts_through_the_last_day_of_its_month() {
    // 260200: February 2026 (28 days).
    let pack = record(LOT, "260200", PackStatus::Active);
    let code = "(01)09506000134352(17)260200(10)LOT-7(21)S1";
    assert_eq!(on(code, &pack, date(2026, 2, 1)), Verdict::Verified);
    assert_eq!(on(code, &pack, date(2026, 2, 28)), Verdict::Verified);
    assert_eq!(on(code, &pack, date(2026, 3, 1)), Verdict::Expired);
}

#[test]
fn day_zero_expiry_in_a_leap_february_lasts_through_the_29th() {
    let pack = record(LOT, "280200", PackStatus::Active);
    let code = "(01)09506000134352(17)280200(10)LOT-7(21)S1";
    assert_eq!(on(code, &pack, date(2028, 2, 29)), Verdict::Verified);
    assert_eq!(on(code, &pack, date(2028, 3, 1)), Verdict::Expired);
}

#[test]
fn explicit_expiry_day_is_the_last_day_of_use() {
    let pack = record(LOT, "261130", PackStatus::Active);
    let code = "(01)09506000134352(17)261130(10)LOT-7(21)S1";
    assert_eq!(on(code, &pack, date(2026, 11, 30)), Verdict::Verified);
    assert_eq!(on(code, &pack, date(2026, 12, 1)), Verdict::Expired);
}

#[test]
fn unparsable_stored_expiry_is_not_reported_as_expired() {
    let pack = record(LOT, "garbage", PackStatus::Active);
    assert_eq!(on("(01)09506000134352(21)S1", &pack, TODAY), Verdict::Verified);
}

#[test]
fn wire_names_of_verdicts_and_statuses() {
    let verdicts = [
        (Verdict::Unspecified, "UNSPECIFIED"),
        (Verdict::Verified, "VERIFIED"),
        (Verdict::UnknownProduct, "UNKNOWN_PRODUCT"),
        (Verdict::UnknownSerial, "UNKNOWN_SERIAL"),
        (Verdict::LotMismatch, "LOT_MISMATCH"),
        (Verdict::ExpiryMismatch, "EXPIRY_MISMATCH"),
        (Verdict::Expired, "EXPIRED"),
        (Verdict::Dispensed, "DISPENSED"),
        (Verdict::Recalled, "RECALLED"),
    ];
    for (v, name) in verdicts {
        assert_eq!(verdict_name(v), name);
    }
    let statuses = [
        (PackStatus::Unspecified, "UNKNOWN"),
        (PackStatus::Active, "ACTIVE"),
        (PackStatus::InTransit, "IN_TRANSIT"),
        (PackStatus::Dispensed, "DISPENSED"),
    ];
    for (s, name) in statuses {
        assert_eq!(status_name(s), name);
    }
}

#[test]
fn withdrawn_product_and_recalled_lot_win_over_pack_status() {
    let withdrawn = pedigree_core::pb::ProductRecord {
        withdrawn: true,
        ..Default::default()
    };
    let recalled = pedigree_core::pb::ProductRecord {
        recalled_lots: vec![LOT.into()],
        ..Default::default()
    };
    let other_lot = pedigree_core::pb::ProductRecord {
        recalled_lots: vec!["OTHER".into()],
        ..Default::default()
    };
    let dispensed = record(LOT, EXPIRY, PackStatus::Dispensed);
    let active = active();
    let v = |product, pack| {
        verdict(
            &scan(FULL),
            &Lookup {
                product: Some(product),
                pack: Some(pack),
            },
            TODAY,
        )
    };
    assert_eq!(v(&withdrawn, &active), Verdict::Withdrawn);
    assert_eq!(v(&recalled, &dispensed), Verdict::Recalled);
    assert_eq!(v(&other_lot, &active), Verdict::Verified);
}

#[test]
fn decommissioned_pack_is_decommissioned() {
    let pack = record(LOT, EXPIRY, PackStatus::Decommissioned);
    assert_eq!(on(FULL, &pack, TODAY), Verdict::Decommissioned);
}

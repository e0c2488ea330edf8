//! Property tests: every valid code survives each rendering and its parser, and GTIN check digits
//! catch every single-digit error.

use pedigree_gs1::{
    Date, Expiry, Gtin, Lot, ScannedCode, Serial, gtin_check_digit, parse_bracketed, parse_digital_link,
    parse_element_string, parse_scan,
};
use proptest::prelude::*;

/// GS1 AI encodable character set 82.
const CS82: &str = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

fn gtin() -> impl Strategy<Value = Gtin> {
    "[0-9]{13}".prop_map(|body| {
        let check = gtin_check_digit(&body).expect("13 digits");
        Gtin::parse(&format!("{body}{check}")).expect("valid gtin")
    })
}

fn cs82_text() -> impl Strategy<Value = String> {
    let chars: Vec<char> = CS82.chars().collect();
    prop::collection::vec(prop::sample::select(chars), 1..=20).prop_map(String::from_iter)
}

fn expiry() -> impl Strategy<Value = Expiry> {
    (0u8..100, 1u8..=12, 0u8..=31).prop_filter_map("day in month", |(yy, mm, dd)| {
        Expiry::parse(&format!("{yy:02}{mm:02}{dd:02}")).ok()
    })
}

fn scanned_code() -> impl Strategy<Value = ScannedCode> {
    (
        gtin(),
        prop::option::of(cs82_text()),
        prop::option::of(cs82_text()),
        prop::option::of(expiry()),
    )
        .prop_map(|(gtin, serial, lot, expiry)| ScannedCode {
            gtin,
            serial: serial.map(|s| Serial::parse(&s).expect("valid serial")),
            lot: lot.map(|s| Lot::parse(&s).expect("valid lot")),
            expiry,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn element_string_round_trip(code in scanned_code()) {
        let text = code.to_element_string();
        prop_assert!(!text.ends_with(pedigree_gs1::GS), "trailing gs");
        prop_assert_eq!(parse_element_string(&text), Ok(code.clone()));
        prop_assert_eq!(parse_element_string(&format!("]d2{text}\r\n")), Ok(code.clone()));
        prop_assert_eq!(parse_scan(&text), Ok(code));
    }

    #[test]
    fn bracketed_round_trip(code in scanned_code()) {
        let text = code.to_bracketed();
        prop_assert_eq!(parse_bracketed(&text), Ok(code.clone()));
        prop_assert_eq!(parse_scan(&text), Ok(code));
    }

    #[test]
    fn digital_link_round_trip(code in scanned_code()) {
        for base in ["https://id.gs1.org", "https://resolver.example.com/pedigree/"] {
            let uri = code.to_digital_link(base);
            prop_assert_eq!(parse_digital_link(&uri), Ok(code.clone()), "{}", uri);
            prop_assert_eq!(parse_scan(&uri), Ok(code.clone()), "{}", uri);
        }
    }

    #[test]
    fn single_digit_change_is_rejected(g in gtin(), index in 0usize..14, delta in 1u8..10) {
        let mut digits = g.as_str().as_bytes().to_vec();
        digits[index] = b'0' + (digits[index] - b'0' + delta) % 10;
        let changed = String::from_utf8(digits).expect("ascii");
        prop_assert!(Gtin::parse(&changed).is_err(), "{} accepted", changed);
    }

    #[test]
    fn text_parsers_accept_exactly_cs82(s in "\\PC{0,22}") {
        let valid = (1..=20).contains(&s.chars().count()) && s.chars().all(|c| CS82.contains(c));
        prop_assert_eq!(Serial::parse(&s).is_ok(), valid);
        prop_assert_eq!(Lot::parse(&s).is_ok(), valid);
    }

    #[test]
    fn expiry_resolves_to_a_real_date(e in expiry(), current_year in 1900i32..2200) {
        let date = e.resolve(current_year);
        prop_assert!(date.day >= 1 && date.day <= Date::days_in_month(date.year, date.month));
        prop_assert!((date.year - current_year).abs() <= 50);
        prop_assert_eq!(date.year.rem_euclid(100), i32::from(e.as_str()[..2].parse::<u8>().expect("digits")));
        prop_assert!(!e.is_expired_on(date));
        let next = Date::from_unix_days(date.to_unix_days() + 1);
        prop_assert!(e.is_expired_on(next), "{} not expired on {}", e, next);
    }

    #[test]
    fn parsers_never_panic(
        s in prop_oneof![
            prop::collection::vec(any::<char>(), 0..60).prop_map(String::from_iter),
            "(\\]d2|\\(|/|https://h/)?(01|0109506000134352|10|17|21|24|71|[0-9()\x1d/?=&%:A-Za-z\\\\]){0,16}",
        ]
    ) {
        let _ = parse_scan(&s);
        let _ = parse_element_string(&s);
        let _ = parse_bracketed(&s);
        let _ = parse_digital_link(&s);
    }
}

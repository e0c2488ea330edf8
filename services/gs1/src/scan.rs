//! [`parse_scan`]: one entry point for whatever a barcode scanner or an operator types.
//!
//! The form is recognised from the first character after trimming whitespace and any AIM symbology
//! identifier: `(` is a bracketed element string, a digit or GS (FNC1) an unbracketed element
//! string, anything else a GS1 Digital Link URI (`https://...`, `/01/...`, `host/01/...`). A GS1
//! symbology identifier (`]d2`, `]Q3`, `]C1`, `]e0`, `]J1`) always means an element string; a
//! plain one such as `]Q1` in front of a URI is dropped.

use crate::code::GS;
use crate::element_string::{GS1_SYMBOLOGY_IDS, split_symbology_id};
use crate::{Epc, Gs1Error, ScannedCode, Sscc, parse_bracketed, parse_digital_link, parse_element_string, parse_epc};

/// Parses a scanned or typed GS1 code in any of the three forms.
pub fn parse_scan(input: &str) -> Result<ScannedCode, Gs1Error> {
    Gs1Error::check_length("scan", input)?;
    let trimmed = input.trim_matches([' ', '\t', '\r', '\n']);
    let (id, rest) = split_symbology_id(trimmed);
    if rest.trim_start_matches(GS).is_empty() {
        return Err(Gs1Error::Empty { form: "scan" });
    }
    if id.is_some_and(|id| GS1_SYMBOLOGY_IDS.contains(&id)) {
        return parse_element_string(trimmed);
    }
    match rest.chars().next() {
        Some('(') => parse_bracketed(rest),
        Some(c) if c.is_ascii_digit() || c == GS => parse_element_string(trimmed),
        _ => parse_digital_link(rest),
    }
}

/// The SSCC a scanned shipment label carries: `(00)` + 18 digits, or `00` + 18 digits as a scanner types it (with or
/// without a GS1 symbology identifier and a leading GS), or a Digital Link `…/00/{sscc}`. `None` for anything else,
/// a pack's code included.
pub fn parse_sscc_scan(input: &str) -> Option<Sscc> {
    let trimmed = input.trim_matches([' ', '\t', '\r', '\n']);
    let (id, rest) = split_symbology_id(trimmed);
    let bare = match id {
        Some(id) if !GS1_SYMBOLOGY_IDS.contains(&id) => return None,
        _ => rest.trim_start_matches(GS),
    };
    let digits = bare
        .strip_prefix("(00)")
        .or_else(|| bare.strip_prefix("00").filter(|d| d.len() == 18));
    if let Some(digits) = digits {
        return Sscc::parse(digits).ok();
    }
    match parse_epc(bare) {
        Ok(Epc::Sscc(sscc)) if bare.contains("/00/") => Some(sscc),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BRACKETED: &str = "(01)09506000134352(17)201225(10)ABC123(21)XYZ";

    #[test]
    fn detects_every_form() {
        let want = parse_bracketed(BRACKETED).unwrap();
        for input in [
            BRACKETED,
            " (01)09506000134352(17)201225(10)ABC123(21)XYZ\r\n",
            "01095060001343521720122510ABC123\u{1d}21XYZ",
            "]d201095060001343521720122510ABC123\u{1d}21XYZ\r\n",
            "]Q3\u{1d}01095060001343521720122510ABC123\u{1d}21XYZ",
            "]C101095060001343521720122510ABC123\u{1d}21XYZ",
            "\u{1d}01095060001343521720122510ABC123\u{1d}21XYZ\n",
            "https://id.gs1.org/01/09506000134352/10/ABC123/21/XYZ?17=201225",
            "]Q1https://id.gs1.org/01/09506000134352/10/ABC123/21/XYZ?17=201225",
            "/01/09506000134352/10/ABC123/21/XYZ?17=201225",
            "id.gs1.org/01/09506000134352/10/ABC123/21/XYZ?17=201225",
        ] {
            assert_eq!(parse_scan(input).as_ref(), Ok(&want), "{input:?}");
        }
    }

    #[test]
    fn errors_come_from_the_detected_form() {
        let err = |s: &str| parse_scan(s).unwrap_err().to_string();
        assert_eq!(err(""), "scan: input is empty");
        assert_eq!(err(" ]d2\u{1d}\r\n"), "scan: input is empty");
        assert_eq!(err("(01)123"), "gtin: must be 14 digits, got 3");
        assert_eq!(
            err("0109506000134352\u{1d}99X"),
            "element string: unsupported application identifier '99' at position 17"
        );
        assert_eq!(
            err("]d1010950600013435221X"),
            "element string: symbology identifier ']d1' does not announce gs1 data"
        );
        assert_eq!(
            err("https://example.com/"),
            "digital link: path must contain /01/{gtin}"
        );
        assert_eq!(err("hello"), "digital link: path must contain /01/{gtin}");
    }

    proptest::proptest! {
        /// Whatever arrives, in whatever form, the refusal quotes little of it.
        #[test]
        fn an_error_message_is_bounded_whatever_the_input(
            prefix in proptest::sample::select(vec!["", "(", "(01)", "01", "]d2", "\u{1d}", "https://x/01/", "/01/09506000134352/", "/01/09506000134352?"]),
            body in ".{0,1200}",
            filler in proptest::sample::select(vec!['\u{1}', 'x', '(', '/', '%', '\u{1d}', '9']),
            repeat in 0usize..2000,
        ) {
            let input = format!("{prefix}{body}{}", filler.to_string().repeat(repeat));
            if let Err(e) = parse_scan(&input) {
                let message = e.to_string();
                proptest::prop_assert!(message.len() <= 512, "{} bytes for {} bytes of input", message.len(), input.len());
            }
        }
    }

    #[test]
    fn input_longer_than_any_code_is_refused_unread() {
        let err = parse_scan(&"\u{1}".repeat(4 << 20)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "scan: longer than any gs1 code (4194304 bytes, at most 1024)"
        );
        assert_eq!(err.field(), "code");
        let long_segment = format!("/01/09506000134352/{}/1", "9".repeat(900));
        let err = parse_scan(&long_segment).unwrap_err().to_string();
        assert!(err.len() < 200, "{err}");
        assert!(err.contains("… (900 characters)"), "{err}");
    }

    #[test]
    fn reads_shipment_labels_as_scanners_type_them() {
        let want = Sscc::parse("106141411234567897").unwrap();
        for code in [
            "(00)106141411234567897",
            "00106141411234567897",
            "]C100106141411234567897\r\n",
            "]d2\u{1d}00106141411234567897",
            "https://id.example.org/00/106141411234567897",
        ] {
            assert_eq!(parse_sscc_scan(code).as_ref(), Some(&want), "{code:?}");
        }
        for code in [
            "(01)09506000134352(21)X",
            "0109506000134352",
            "(00)106141411234567890",
            "001061414112345678971",
        ] {
            assert_eq!(parse_sscc_scan(code), None, "{code:?}");
        }
    }
}

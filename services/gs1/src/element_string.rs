//! Unbracketed GS1 element strings, as a scanner transmits a GS1 DataMatrix, GS1 QR Code or
//! GS1-128: AIs and values back to back, variable-length values ended by GS (0x1D, FNC1).
//!
//! Accepted around the data: an AIM symbology identifier for GS1 data (`]d2` DataMatrix, `]Q3` QR
//! Code, `]C1` GS1-128, `]e0` DataBar, `]J1` DotCode), a leading FNC1/GS, a GS after a
//! fixed-length value or at the very end, and trailing spaces, tabs, CR and LF.

use crate::ai::{self, Collector, Length};
use crate::code::GS;
use crate::{Gs1Error, ScannedCode, quote};

const FORM: &str = "element string";

/// AIM symbology identifiers that announce GS1 element string data.
pub(crate) const GS1_SYMBOLOGY_IDS: [&str; 5] = ["]d2", "]Q3", "]C1", "]e0", "]J1"];

/// Removes trailing spaces, tabs, CR and LF (not GS, which is data).
pub(crate) fn trim_end_ws(s: &str) -> &str {
    s.trim_end_matches([' ', '\t', '\r', '\n'])
}

/// Splits off a 3-character AIM symbology identifier (`]` + letter + digit), if present.
pub(crate) fn split_symbology_id(s: &str) -> (Option<&str>, &str) {
    let b = s.as_bytes();
    if b.len() >= 3 && b[0] == b']' && b[1].is_ascii_alphabetic() && b[2].is_ascii_digit() {
        (Some(&s[..3]), &s[3..])
    } else {
        (None, s)
    }
}

/// Parses a scanned element string such as `]d2` `0109506000134352` `17271231` `10AB12` GS `21XYZ`.
pub fn parse_element_string(input: &str) -> Result<ScannedCode, Gs1Error> {
    Gs1Error::check_length(FORM, input)?;
    let trimmed = trim_end_ws(input);
    let (id, data) = split_symbology_id(trimmed);
    if let Some(id) = id.filter(|id| !GS1_SYMBOLOGY_IDS.contains(id)) {
        return Err(Gs1Error::malformed(
            FORM,
            format!("symbology identifier '{}' does not announce gs1 data", quote(id)),
        ));
    }
    let offset = trimmed.len() - data.len();
    if data.trim_start_matches(GS).is_empty() {
        return Err(Gs1Error::Empty { form: FORM });
    }
    if let Some((i, ch)) = data.char_indices().find(|(_, c)| !c.is_ascii()) {
        return Err(Gs1Error::malformed(
            FORM,
            format!(
                "character '{}' at position {} is not ascii",
                ch.escape_debug(),
                offset + i
            ),
        ));
    }
    walk(data, offset)
}

/// Walks the ASCII `data`; `offset` is where `data` starts in the caller's input.
fn walk(data: &str, offset: usize) -> Result<ScannedCode, Gs1Error> {
    let gs = GS as u8;
    let bytes = data.as_bytes();
    let mut collector = Collector::new(FORM);
    let mut pos = 0;
    while pos < bytes.len() {
        if bytes[pos] == gs {
            pos += 1;
            continue;
        }
        let spec = identify(&data[pos..], offset + pos)?;
        let start = pos + spec.code.len();
        let rest = &bytes[start..];
        let until_gs = rest.iter().position(|b| *b == gs).unwrap_or(rest.len());
        let len = match spec.length {
            Length::Fixed(n) => until_gs.min(n),
            Length::Variable(_) => until_gs,
        };
        collector.add(spec, &data[start..start + len], offset + pos)?;
        pos = start + len;
    }
    collector.finish()
}

/// The AI at the start of `data`, or an error quoting it.
fn identify(data: &str, position: usize) -> Result<&'static ai::AiSpec, Gs1Error> {
    if let Some(spec) = ai::lookup_prefix(data) {
        return Ok(spec);
    }
    let digits = data.bytes().take_while(u8::is_ascii_digit).count();
    if digits < 2 {
        let shown: String = data.chars().take(4).collect();
        let shown = quote(&shown);
        return Err(Gs1Error::malformed(
            FORM,
            format!("expected an application identifier at position {position}, found '{shown}'"),
        ));
    }
    let len = ai::ai_digits_for_prefix(&data[..2]).min(digits);
    Err(Gs1Error::UnsupportedAi {
        form: FORM,
        ai: data[..len].to_owned(),
        position,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = "01095060001343521720122510ABC123\u{1d}21XYZ";

    fn parts(code: &ScannedCode) -> (String, Option<String>, Option<String>, Option<String>) {
        (
            code.gtin.to_string(),
            code.serial.as_ref().map(ToString::to_string),
            code.lot.as_ref().map(ToString::to_string),
            code.expiry.as_ref().map(ToString::to_string),
        )
    }

    fn ok(input: &str) -> (String, Option<String>, Option<String>, Option<String>) {
        parts(&parse_element_string(input).unwrap())
    }

    fn err(input: &str) -> String {
        parse_element_string(input).unwrap_err().to_string()
    }

    #[test]
    fn parses_gs1_example_with_all_prefix_variants() {
        let want = ok(FULL);
        assert_eq!(
            want,
            (
                "09506000134352".into(),
                Some("XYZ".into()),
                Some("ABC123".into()),
                Some("201225".into())
            )
        );
        for prefix in ["]d2", "]Q3", "]C1", "\u{1d}", "]d2\u{1d}"] {
            for suffix in ["", "\r\n", "\n", " ", "\u{1d}"] {
                assert_eq!(ok(&format!("{prefix}{FULL}{suffix}")), want, "{prefix:?} {suffix:?}");
            }
        }
    }

    #[test]
    fn tolerates_gs_after_fixed_length_values_and_any_order() {
        let want = ok(FULL);
        assert_eq!(ok("0109506000134352\u{1d}17201225\u{1d}10ABC123\u{1d}21XYZ"), want);
        assert_eq!(ok("21XYZ\u{1d}10ABC123\u{1d}172012250109506000134352"), want);
        assert_eq!(
            ok("10ABC123\u{1d}\u{1d}21XYZ\u{1d}0109506000134352\u{1d}17201225"),
            want
        );
    }

    #[test]
    fn skips_known_pharma_ais() {
        // NHRN (710 Germany PZN), count (30), SSCC (00), production date (11), CPV (22), 240.
        let input = "]d2010950600013435221XYZ\u{1d}71012345678\u{1d}305\u{1d}1120010110L1\u{1d}22V1\u{1d}240ADD\u{1d}00106141411234567897";
        let (gtin, serial, lot, expiry) = ok(input);
        assert_eq!(gtin, "09506000134352");
        assert_eq!(
            (serial.as_deref(), lot.as_deref(), expiry),
            (Some("XYZ"), Some("L1"), None)
        );
    }

    #[test]
    fn structural_errors() {
        assert_eq!(err(""), "element string: input is empty");
        assert_eq!(err("]d2\r\n"), "element string: input is empty");
        assert_eq!(err("\u{1d}"), "element string: input is empty");
        assert_eq!(
            err("21XYZ"),
            "element string: application identifier '01' (gtin) is missing"
        );
        assert_eq!(
            err("01095060001343521720122510ABC123\u{1d}99XYZ"),
            "element string: unsupported application identifier '99' at position 33"
        );
        assert_eq!(
            err("]d20109506000134352\u{1d}3103000123"),
            "element string: unsupported application identifier '3103' at position 20"
        );
        assert_eq!(
            err("010950600013435221A\u{1d}21B"),
            "element string: application identifier '21' repeated at position 20"
        );
        assert_eq!(
            err("]d1010950600013435221A"),
            "element string: symbology identifier ']d1' does not announce gs1 data"
        );
        assert_eq!(
            err("010950600013435221\u{e9}"),
            "element string: character '\u{e9}' at position 18 is not ascii"
        );
        assert_eq!(
            err("0109506000134352AB"),
            "element string: expected an application identifier at position 16, found 'AB'"
        );
    }

    #[test]
    fn value_errors_name_the_field() {
        let e = parse_element_string("01095060001343\u{1d}21XYZ").unwrap_err();
        assert_eq!(
            (e.to_string().as_str(), e.field()),
            ("gtin: must be 14 digits, got 12", "gtin")
        );
        let e = parse_element_string("010950600013435317201225").unwrap_err();
        assert_eq!(e.to_string(), "gtin: check digit is 3, expected 2");
        let e = parse_element_string("01095060001343521720113110A").unwrap_err();
        assert_eq!(e.to_string(), "expiry: day 31 does not exist in month 11");
        let e = parse_element_string("01095060001343521712\u{1d}10A").unwrap_err();
        assert_eq!(e.to_string(), "expiry: must be 6 digits yymmdd, got 2 characters");
        let e = parse_element_string("010950600013435210ABCDEFGHIJKLMNOPQRSTU").unwrap_err();
        assert_eq!(e.to_string(), "lot: must be 1 to 20 characters, got 21");
        let e = parse_element_string("010950600013435210\u{1d}21X").unwrap_err();
        assert_eq!(e.to_string(), "lot: must be 1 to 20 characters, got 0");
        let e = parse_element_string("010950600013435221X#Y").unwrap_err();
        assert_eq!(
            (e.to_string().as_str(), e.field()),
            ("serial: character '#' is not in gs1 character set 82", "serial")
        );
    }
}

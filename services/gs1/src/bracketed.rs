//! Bracketed (human-readable) GS1 element strings: `(01)09506000134352(17)271231(10)AB12(21)XYZ`.
//!
//! AIs may come in any order. A literal `(` inside a value must be written `\(` (the GS1 Barcode
//! Syntax Engine convention); `\)` is also accepted for `)`, and a bare `)` inside a value is
//! literal. Surrounding spaces, tabs, CR and LF are ignored.

use crate::ai::{self, Collector};
use crate::{Gs1Error, ScannedCode, quote};

const FORM: &str = "bracketed";

/// Parses a bracketed element string.
pub fn parse_bracketed(input: &str) -> Result<ScannedCode, Gs1Error> {
    Gs1Error::check_length(FORM, input)?;
    let ws = [' ', '\t', '\r', '\n'];
    let data = input.trim_end_matches(ws);
    let trimmed = data.trim_start_matches(ws);
    let offset = data.len() - trimmed.len();
    if trimmed.is_empty() {
        return Err(Gs1Error::Empty { form: FORM });
    }
    let mut collector = Collector::new(FORM);
    let mut pos = 0;
    while pos < trimmed.len() {
        let (spec, value_start) = read_ai(trimmed, pos, offset)?;
        let (value, end) = read_value(trimmed, value_start);
        collector.add(spec, &value, offset + pos)?;
        pos = end;
    }
    collector.finish()
}

/// Reads `(NN)` at byte `pos`; returns the AI and where its value starts.
fn read_ai(s: &str, pos: usize, offset: usize) -> Result<(&'static ai::AiSpec, usize), Gs1Error> {
    let position = offset + pos;
    let rest = &s[pos..];
    if !rest.starts_with('(') {
        let shown: String = rest.chars().take(4).collect();
        return Err(Gs1Error::malformed(
            FORM,
            format!("expected '(' at position {position}, found '{}'", quote(&shown)),
        ));
    }
    let close = rest
        .find(')')
        .ok_or_else(|| Gs1Error::malformed(FORM, format!("unclosed '(' at position {position}")))?;
    let code = &rest[1..close];
    if !(2..=4).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Gs1Error::malformed(
            FORM,
            format!(
                "'{}' at position {position} is not an application identifier",
                quote(code)
            ),
        ));
    }
    let spec = ai::lookup(code).ok_or_else(|| Gs1Error::UnsupportedAi {
        form: FORM,
        ai: code.to_owned(),
        position,
    })?;
    Ok((spec, pos + close + 1))
}

/// Reads an AI value from byte `start` up to the next unescaped `(` or the end, unescaping
/// `\(` and `\)`. Returns the value and the byte index where it ended.
fn read_value(s: &str, start: usize) -> (String, usize) {
    let mut value = String::new();
    let mut chars = s[start..].char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '(' => return (value, start + i),
            '\\' => match chars.peek() {
                Some(&(_, next @ ('(' | ')'))) => {
                    value.push(next);
                    chars.next();
                }
                _ => value.push(c),
            },
            _ => value.push(c),
        }
    }
    (value, s.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_element_string;

    fn err(input: &str) -> String {
        parse_bracketed(input).unwrap_err().to_string()
    }

    #[test]
    fn parses_gs1_example_in_any_order() {
        let want = parse_element_string("01095060001343521720122510ABC123\u{1d}21XYZ").unwrap();
        for input in [
            "(01)09506000134352(17)201225(10)ABC123(21)XYZ",
            "(21)XYZ(10)ABC123(17)201225(01)09506000134352",
            "  (01)09506000134352(10)ABC123(21)XYZ(17)201225\r\n",
        ] {
            assert_eq!(parse_bracketed(input).as_ref(), Ok(&want), "{input}");
        }
    }

    #[test]
    fn parentheses_inside_values() {
        let code = parse_bracketed("(01)09506000134352(21)A\\(1)B(10)x\\)y").unwrap();
        assert_eq!(code.serial.unwrap().as_str(), "A(1)B");
        assert_eq!(code.lot.unwrap().as_str(), "x)y");
        assert_eq!(
            err("(01)09506000134352(21)A\\B"),
            "serial: character '\\\\' is not in gs1 character set 82"
        );
    }

    #[test]
    fn skips_known_ais() {
        let code = parse_bracketed("(01)09506000134352(710)1234567(30)12(21)S").unwrap();
        assert_eq!(code.serial.unwrap().as_str(), "S");
        assert_eq!(code.lot, None);
    }

    #[test]
    fn errors() {
        assert_eq!(err(" \r\n"), "bracketed: input is empty");
        assert_eq!(
            err("01)09506000134352"),
            "bracketed: expected '(' at position 0, found '01)0'"
        );
        assert_eq!(err("(01)09506000134352(21"), "bracketed: unclosed '(' at position 18");
        assert_eq!(
            err("(01)09506000134352(2x)A"),
            "bracketed: '2x' at position 18 is not an application identifier"
        );
        assert_eq!(
            err("(01)09506000134352(99)A"),
            "bracketed: unsupported application identifier '99' at position 18"
        );
        assert_eq!(
            err("(01)09506000134352(01)09506000134352"),
            "bracketed: application identifier '01' repeated at position 18"
        );
        assert_eq!(
            err("(21)XYZ"),
            "bracketed: application identifier '01' (gtin) is missing"
        );
        assert_eq!(err("(01)9506000134352"), "gtin: must be 14 digits, got 13");
        assert_eq!(err("(01)09506000134352(17)271331"), "expiry: month 13 is not 01..12");
        assert_eq!(
            err("(01)09506000134352(21)"),
            "serial: must be 1 to 20 characters, got 0"
        );
    }
}

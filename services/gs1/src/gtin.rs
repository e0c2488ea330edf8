//! Global Trade Item Numbers (GS1 application identifier 01).
//!
//! A [`Gtin`] is always held as GTIN-14: fourteen ASCII digits whose last digit is the GS1 mod-10
//! check digit of the first thirteen (General Specifications section 7.9.1). Shorter GTIN-8, -12
//! and -13 are only accepted through [`Gtin::from_short`], which left-pads them with zeros.

use std::fmt;
use std::str::FromStr;

use crate::Gs1Error;

/// A validated GTIN-14.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gtin(String);

impl Gtin {
    /// Parses exactly 14 ASCII digits with a valid check digit.
    ///
    /// GTIN-8/12/13 are rejected here; use [`Gtin::from_short`] where short forms are allowed.
    pub fn parse(s: &str) -> Result<Gtin, Gs1Error> {
        let got = s.chars().count();
        if got != 14 {
            return Err(Gs1Error::GtinLength { allowed: "14", got });
        }
        check_digits(s)?;
        let (body, last) = s.split_at(13);
        let expected = gtin_check_digit(body).unwrap_or(0);
        let found = last.as_bytes()[0] - b'0';
        if found != expected {
            return Err(Gs1Error::GtinCheckDigit { found, expected });
        }
        Ok(Gtin(s.to_owned()))
    }

    /// Parses a GTIN-8, -12, -13 or -14, left-padding the short forms with zeros to 14 digits.
    pub fn from_short(s: &str) -> Result<Gtin, Gs1Error> {
        let got = s.chars().count();
        if !matches!(got, 8 | 12 | 13 | 14) {
            return Err(Gs1Error::GtinLength {
                allowed: "8, 12, 13 or 14",
                got,
            });
        }
        check_digits(s)?;
        Gtin::parse(&format!("{s:0>14}"))
    }

    /// The 14 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Rejects the first character that is not an ASCII digit.
fn check_digits(s: &str) -> Result<(), Gs1Error> {
    match s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
        Some((position, ch)) => Err(Gs1Error::GtinCharacter { ch, position }),
        None => Ok(()),
    }
}

/// The GS1 mod-10 check digit for the first 13 digits of a GTIN-14.
///
/// Returns `None` unless `first13` is exactly 13 ASCII digits. Weights alternate 3, 1, 3, ...
/// starting from the leftmost digit (that is, 3 for the digit next to the check digit).
pub fn gtin_check_digit(first13: &str) -> Option<u8> {
    let bytes = first13.as_bytes();
    if bytes.len() != 13 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = bytes
        .iter()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    u8::try_from((10 - sum % 10) % 10).ok()
}

impl fmt::Display for Gtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Gtin {
    type Err = Gs1Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Gtin::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_world_gtins_are_valid() {
        // GS1's example GTIN, and the classic 4012345 German example prefix.
        for s in ["09506000134352", "04012345678901", "00012345600012"] {
            assert_eq!(Gtin::parse(s).map(|g| g.as_str().to_owned()), Ok(s.to_owned()));
        }
        assert_eq!(gtin_check_digit("0950600013435"), Some(2));
        assert_eq!(gtin_check_digit("0401234567890"), Some(1));
    }

    #[test]
    fn wrong_check_digit_names_both_digits() {
        let err = Gtin::parse("04012345678903").unwrap_err();
        assert_eq!(err.to_string(), "gtin: check digit is 3, expected 1");
        assert_eq!(err.field(), "gtin");
    }

    #[test]
    fn parse_requires_fourteen_digits() {
        assert_eq!(
            Gtin::parse("9506000134352").unwrap_err().to_string(),
            "gtin: must be 14 digits, got 13"
        );
        assert_eq!(
            Gtin::parse("").unwrap_err().to_string(),
            "gtin: must be 14 digits, got 0"
        );
        assert_eq!(
            Gtin::parse("0950600013435x").unwrap_err().to_string(),
            "gtin: character 'x' at position 13 is not a digit"
        );
        assert_eq!(
            Gtin::parse("0950600013435é").unwrap_err().to_string(),
            "gtin: character 'é' at position 13 is not a digit"
        );
    }

    #[test]
    fn from_short_pads_gtin_8_12_13() {
        let gtin13 = Gtin::from_short("9506000134352").unwrap();
        assert_eq!(gtin13.as_str(), "09506000134352");
        let gtin12 = Gtin::from_short("012345678905").unwrap();
        assert_eq!(gtin12.as_str(), "00012345678905");
        let gtin8 = Gtin::from_short("96385074").unwrap();
        assert_eq!(gtin8.as_str(), "00000096385074");
        assert_eq!(Gtin::from_short("09506000134352"), Ok(gtin13));
        assert_eq!(
            Gtin::from_short("1234567890").unwrap_err().to_string(),
            "gtin: must be 8, 12, 13 or 14 digits, got 10"
        );
        assert_eq!(
            Gtin::from_short("96385075").unwrap_err().to_string(),
            "gtin: check digit is 5, expected 4"
        );
    }

    #[test]
    fn check_digit_rejects_bad_input() {
        assert_eq!(gtin_check_digit("123"), None);
        assert_eq!(gtin_check_digit("095060001343a"), None);
        assert_eq!(gtin_check_digit("0000000000000"), Some(0));
    }
}

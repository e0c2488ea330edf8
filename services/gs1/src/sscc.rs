//! Serial Shipping Container Codes (GS1 application identifier 00): the identity of a logistic unit (a pallet, a
//! case, a tote) that packs or other units are aggregated into.
//!
//! An [`Sscc`] is eighteen ASCII digits (an extension digit, the GS1 company prefix and a serial reference) whose last
//! digit is the GS1 mod-10 check digit of the first seventeen (General Specifications sections 2.2.1 and 7.9.1).

use std::fmt;

use crate::Gs1Error;

/// A validated SSCC.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sscc(String);

impl Sscc {
    /// Parses exactly 18 ASCII digits with a valid check digit.
    pub fn parse(s: &str) -> Result<Sscc, Gs1Error> {
        let got = s.chars().count();
        if got != 18 {
            return Err(Gs1Error::SsccLength { got });
        }
        if let Some((position, ch)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(Gs1Error::SsccCharacter { ch, position });
        }
        let (body, last) = s.split_at(17);
        let expected = check_digit(body);
        let found = last.as_bytes()[0] - b'0';
        if found != expected {
            return Err(Gs1Error::SsccCheckDigit { found, expected });
        }
        Ok(Sscc(s.to_owned()))
    }

    /// The SSCC whose first seventeen digits are `first17`, its check digit computed.
    pub fn with_check_digit(first17: &str) -> Result<Sscc, Gs1Error> {
        if first17.len() != 17 || !first17.bytes().all(|b| b.is_ascii_digit()) {
            // Parsed whole, so that the error names what is wrong with the digits given.
            return Sscc::parse(first17);
        }
        Sscc::parse(&format!("{first17}{}", check_digit(first17)))
    }

    /// The 18 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The GS1 mod-10 check digit of ASCII digits: weights 3, 1, 3, ... from the rightmost digit.
pub(crate) fn check_digit(digits: &str) -> u8 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

impl fmt::Display for Sscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gs1_example_parses() {
        // GS1 General Specifications, figure 2.2.1-1: (00) 1 0614141 123456789 0... check digit computed.
        let s = Sscc::parse("106141411234567897").unwrap();
        assert_eq!(s.as_str(), "106141411234567897");
    }

    #[test]
    fn a_wrong_check_digit_is_refused_with_the_expected_one() {
        let err = Sscc::parse("106141411234567890").unwrap_err();
        assert_eq!(err, Gs1Error::SsccCheckDigit { found: 0, expected: 7 });
        assert_eq!(err.to_string(), "sscc: check digit is 0, expected 7");
    }

    #[test]
    fn length_and_characters_are_checked() {
        assert_eq!(Sscc::parse("1234").unwrap_err(), Gs1Error::SsccLength { got: 4 });
        assert!(matches!(
            Sscc::parse("10614141123456789x").unwrap_err(),
            Gs1Error::SsccCharacter { ch: 'x', position: 17 }
        ));
    }

    #[test]
    fn the_check_digit_is_computed_for_seventeen_digits() {
        assert_eq!(
            Sscc::with_check_digit("10614141123456789").unwrap().as_str(),
            "106141411234567897"
        );
        assert!(Sscc::with_check_digit("1061414112345678").is_err());
        assert!(Sscc::with_check_digit("1061414112345678x").is_err());
    }

    #[test]
    fn the_check_digit_agrees_with_the_gtin_one_on_thirteen_digits() {
        for body in ["0950600013435", "4006381333931", "0000000000000"] {
            assert_eq!(Some(check_digit(body)), crate::gtin_check_digit(body));
        }
    }
}

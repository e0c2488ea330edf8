//! Serial numbers (AI 21) and batch/lot numbers (AI 10).
//!
//! Both are 1 to 20 characters from GS1 AI encodable character set 82 (General Specifications
//! figure 7.11-1): `! " % & ' ( ) * + , - . / 0-9 : ; < = > ? A-Z _ a-z`. Space, `#`, `$`, `@`,
//! `[ \ ] ^ { | } ~` and backtick are not in the set, nor is anything outside ASCII.

use std::fmt;
use std::str::FromStr;

use crate::Gs1Error;

/// Longest serial or lot GS1 allows.
pub const MAX_TEXT_LEN: usize = 20;

/// Whether `c` belongs to GS1 AI encodable character set 82.
pub fn is_cs82(c: char) -> bool {
    matches!(c, '!' | '"' | '%'..='/' | '0'..='9' | ':'..='?' | 'A'..='Z' | '_' | 'a'..='z')
}

/// Checks length 1..=20 and the character set, naming `field` in the error.
fn validate(field: &'static str, s: &str) -> Result<(), Gs1Error> {
    let got = s.chars().count();
    if got == 0 || got > MAX_TEXT_LEN {
        return Err(Gs1Error::TextLength { field, got });
    }
    match s.chars().find(|c| !is_cs82(*c)) {
        Some(ch) => Err(Gs1Error::TextCharacter { field, ch }),
        None => Ok(()),
    }
}

/// A validated serial number (AI 21).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Serial(String);

impl Serial {
    /// Parses 1 to 20 characters of GS1 character set 82.
    pub fn parse(s: &str) -> Result<Serial, Gs1Error> {
        validate("serial", s)?;
        Ok(Serial(s.to_owned()))
    }

    /// The serial number as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A validated batch or lot number (AI 10).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Lot(String);

impl Lot {
    /// Parses 1 to 20 characters of GS1 character set 82.
    pub fn parse(s: &str) -> Result<Lot, Gs1Error> {
        validate("lot", s)?;
        Ok(Lot(s.to_owned()))
    }

    /// The lot number as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for Lot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Serial {
    type Err = Gs1Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Serial::parse(s)
    }
}

impl FromStr for Lot {
    type Err = Gs1Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Lot::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn character_set_82_is_exactly_82_characters() {
        let count = (0u8..=127).filter(|b| is_cs82(char::from(*b))).count();
        assert_eq!(count, 82);
        for c in [' ', '#', '$', '@', '[', '\\', ']', '^', '`', '{', '|', '}', '~', 'é'] {
            assert!(!is_cs82(c), "{c:?} must not be in cs82");
        }
    }

    #[test]
    fn accepts_full_charset_and_max_length() {
        for all in ["!\"%&'()*+,-./09", ":;<=>?AZ_az"] {
            assert_eq!(Serial::parse(all).map(|s| s.to_string()), Ok(all.to_owned()));
        }
        assert!(Lot::parse(&"L".repeat(20)).is_ok());
        assert_eq!(Lot::parse("ABC123").map(|l| l.as_str().to_owned()), Ok("ABC123".into()));
    }

    #[test]
    fn rejects_bad_length_and_characters() {
        let cases = [
            (
                Lot::parse(&"L".repeat(21)).unwrap_err(),
                "lot: must be 1 to 20 characters, got 21",
                "lot",
            ),
            (
                Serial::parse("").unwrap_err(),
                "serial: must be 1 to 20 characters, got 0",
                "serial",
            ),
            (
                Serial::parse("AB#1").unwrap_err(),
                "serial: character '#' is not in gs1 character set 82",
                "serial",
            ),
            (
                Lot::parse("A B").unwrap_err(),
                "lot: character ' ' is not in gs1 character set 82",
                "lot",
            ),
            (
                Serial::parse("ü").unwrap_err(),
                "serial: character 'ü' is not in gs1 character set 82",
                "serial",
            ),
        ];
        for (err, msg, field) in cases {
            assert_eq!(err.to_string(), msg);
            assert_eq!(err.field(), field);
        }
    }
}

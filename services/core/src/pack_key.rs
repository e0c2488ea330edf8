//! A pack's identity as one key: what the state machine, the sequencer and the store index packs by.

use std::borrow::Borrow;
use std::fmt;

use pedigree_gs1::{Gs1Error, Gtin, Serial};

/// Length of a GTIN-14: where the serial starts in a key.
const GTIN_LEN: usize = 14;

/// A pack: its GTIN-14 followed by its serial, in one string (unambiguous, since a GTIN-14 has a fixed length).
///
/// The string is what custody keys a pack's events by on the events topic, so it must not change; the store splits
/// it back into the GTIN (which names the pack's Redis hashes) and the serial (the field within them). One string
/// rather than a [`Gtin`] and a [`Serial`] keeps a key to one allocation: a bulk block loads and writes ~10^5 of
/// them. Both parts are valid by construction, so [`PackKey::gtin`] and [`PackKey::serial`] need not check.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackKey(String);

impl PackKey {
    pub fn new(gtin: &Gtin, serial: &Serial) -> Self {
        let mut key = String::with_capacity(GTIN_LEN + serial.as_str().len());
        key.push_str(gtin.as_str());
        key.push_str(serial.as_str());
        Self(key)
    }

    /// Parses a key as [`PackKey::as_str`] writes it: a valid GTIN-14, then a valid serial.
    pub fn parse(key: &str) -> Result<Self, Gs1Error> {
        // Split after the 14th character, not byte, so that a non-ASCII key fails as a bad GTIN rather than
        // panicking; a valid GTIN is 14 ASCII digits, so a key that passes splits at byte 14.
        let split = key.char_indices().nth(GTIN_LEN).map_or(key.len(), |(i, _)| i);
        let (gtin, serial) = key.split_at(split);
        Gtin::parse(gtin)?;
        Serial::parse(serial)?;
        Ok(Self(key.to_owned()))
    }

    /// The 14 digits of the GTIN.
    pub fn gtin(&self) -> &str {
        &self.0[..GTIN_LEN]
    }

    /// The serial, as given.
    pub fn serial(&self) -> &str {
        &self.0[GTIN_LEN..]
    }

    /// The GTIN followed by the serial.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Keys hash and compare as their string, so maps keyed by [`PackKey`] can be queried with a `&str`.
impl Borrow<str> for PackKey {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PackKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GTIN: &str = "09506000134352";

    #[test]
    fn a_key_is_the_gtin_then_the_serial() {
        let key = PackKey::new(&Gtin::parse(GTIN).unwrap(), &Serial::parse("AB-1").unwrap());
        assert_eq!(key.as_str(), "09506000134352AB-1");
        assert_eq!((key.gtin(), key.serial()), (GTIN, "AB-1"));
        assert_eq!(PackKey::parse(key.as_str()), Ok(key));
    }

    #[test]
    fn parsing_checks_both_parts() {
        assert!(PackKey::parse(GTIN).is_err());
        assert!(PackKey::parse("0950600013435").is_err());
        assert!(PackKey::parse("09506000134353S1").is_err());
        assert!(PackKey::parse("09506000134352S 1").is_err());
        assert!(PackKey::parse("0950600013435éS1").is_err());
        assert!(PackKey::parse(&format!("{GTIN}{}", "x".repeat(21))).is_err());
    }
}

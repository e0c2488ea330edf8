//! A container's identity: a logistic unit (pallet or case) named by its SSCC, or a case named by its own SGTIN.
//!
//! Its one string form, the **element string** (`"00"` + 18 digits, or `"01"` + GTIN-14 + `"21"` + serial, the GS1
//! element string without separators: unambiguous because AI 00 and AI 01 have fixed lengths), keys its record in
//! the store, names it in a pack's `parent`, and is what an event's container leaf commits to
//! (docs/ledger-format.md, section 3.3). People read it bracketed: `(00)106141411234567897`.

use std::fmt;

use pedigree_gs1::{Gs1Error, Gtin, Serial, Sscc};

use crate::pb::{self, container_id};

/// Most levels of containers one inside another (a case of packs is one level, a pallet of cases two).
pub const MAX_DEPTH: u32 = 4;

/// A validated container id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContainerKey {
    Sscc(Sscc),
    Case { gtin: Gtin, serial: Serial },
}

/// Why a container id does not parse.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ContainerError {
    #[error("container: names neither an sscc nor a case")]
    Empty,
    #[error("container: {0}")]
    Field(Gs1Error),
    #[error("container: '{}' is not an element string of an sscc (00) or a case sgtin (01 ... 21 ...)", pedigree_gs1::quote(.0))]
    Element(String),
}

impl ContainerKey {
    /// From its protobuf form, every part checked.
    pub fn from_pb(id: &pb::ContainerId) -> Result<Self, ContainerError> {
        match &id.id {
            None => Err(ContainerError::Empty),
            Some(container_id::Id::Sscc(s)) => Sscc::parse(s).map(Self::Sscc).map_err(ContainerError::Field),
            Some(container_id::Id::Case(c)) => Ok(Self::Case {
                gtin: Gtin::parse(&c.gtin).map_err(ContainerError::Field)?,
                serial: Serial::parse(&c.serial).map_err(ContainerError::Field)?,
            }),
        }
    }

    pub fn to_pb(&self) -> pb::ContainerId {
        pb::ContainerId {
            id: Some(match self {
                Self::Sscc(s) => container_id::Id::Sscc(s.as_str().to_string()),
                Self::Case { gtin, serial } => container_id::Id::Case(pb::CaseId {
                    gtin: gtin.as_str().to_string(),
                    serial: serial.as_str().to_string(),
                }),
            }),
        }
    }

    /// The element string: `00` + SSCC, or `01` + GTIN + `21` + serial.
    pub fn element(&self) -> String {
        match self {
            Self::Sscc(s) => format!("00{s}"),
            Self::Case { gtin, serial } => format!("01{gtin}21{serial}"),
        }
    }

    /// Parses an element string as [`ContainerKey::element`] writes it.
    pub fn parse_element(s: &str) -> Result<Self, ContainerError> {
        let bad = || ContainerError::Element(s.to_string());
        if let Some(sscc) = s.strip_prefix("00") {
            return Sscc::parse(sscc).map(Self::Sscc).map_err(|_| bad());
        }
        let rest = s.strip_prefix("01").ok_or_else(bad)?;
        let (gtin, serial) = (rest.get(..14).ok_or_else(bad)?, rest.get(14..).ok_or_else(bad)?);
        let serial = serial.strip_prefix("21").ok_or_else(bad)?;
        Ok(Self::Case {
            gtin: Gtin::parse(gtin).map_err(|_| bad())?,
            serial: Serial::parse(serial).map_err(|_| bad())?,
        })
    }

    /// Parses what a person types: the element string, the bracketed form (`(00)…`, `(01)…(21)…`) or a bare
    /// 18-digit SSCC.
    pub fn parse_human(s: &str) -> Result<Self, ContainerError> {
        let trimmed = s.trim();
        if trimmed.len() == 18 && trimmed.bytes().all(|b| b.is_ascii_digit()) {
            return Self::parse_element(&format!("00{trimmed}"));
        }
        let element: String = trimmed.chars().filter(|c| *c != '(' && *c != ')').collect();
        Self::parse_element(&element).map_err(|_| ContainerError::Element(s.to_string()))
    }

    /// The case-level GTIN of a case id.
    pub fn case_gtin(&self) -> Option<&Gtin> {
        match self {
            Self::Sscc(_) => None,
            Self::Case { gtin, .. } => Some(gtin),
        }
    }
}

/// Bracketed, as people read GS1 codes: `(00)106141411234567897`, `(01)10950600013436(21)C-1`.
impl fmt::Display for ContainerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sscc(s) => write!(f, "(00){s}"),
            Self::Case { gtin, serial } => write!(f, "(01){gtin}(21){serial}"),
        }
    }
}

/// The bracketed form of an element string as stored (itself if it does not parse).
pub fn bracketed(element: &str) -> String {
    ContainerKey::parse_element(element).map_or_else(|_| element.to_string(), |k| k.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(gtin: &str, serial: &str) -> ContainerKey {
        ContainerKey::Case {
            gtin: Gtin::parse(gtin).unwrap(),
            serial: Serial::parse(serial).unwrap(),
        }
    }

    #[test]
    fn element_strings_round_trip() {
        let keys = [
            ContainerKey::Sscc(Sscc::parse("106141411234567897").unwrap()),
            case("10950600013436", "C-1"),
            case("10950600013436", "2100"),
        ];
        for key in keys {
            assert_eq!(ContainerKey::parse_element(&key.element()).unwrap(), key);
            assert_eq!(ContainerKey::from_pb(&key.to_pb()).unwrap(), key);
        }
        assert_eq!(case("10950600013436", "C-1").element(), "011095060001343621C-1");
        assert_eq!(case("10950600013436", "C-1").to_string(), "(01)10950600013436(21)C-1");
    }

    #[test]
    fn people_type_any_of_the_three_forms() {
        let sscc = ContainerKey::Sscc(Sscc::parse("106141411234567897").unwrap());
        for typed in ["106141411234567897", "00106141411234567897", "(00)106141411234567897"] {
            assert_eq!(ContainerKey::parse_human(typed).unwrap(), sscc, "{typed}");
        }
        let case = case("10950600013436", "C-1");
        assert_eq!(ContainerKey::parse_human("(01)10950600013436(21)C-1").unwrap(), case);
        assert!(ContainerKey::parse_human("(02)10950600013436").is_err());
    }

    #[test]
    fn bad_ids_are_refused_naming_the_part() {
        assert_eq!(
            ContainerKey::from_pb(&pb::ContainerId { id: None }).unwrap_err(),
            ContainerError::Empty
        );
        let bad = pb::ContainerId {
            id: Some(container_id::Id::Sscc("106141411234567890".into())),
        };
        assert_eq!(
            ContainerKey::from_pb(&bad).unwrap_err().to_string(),
            "container: sscc: check digit is 0, expected 7"
        );
        for s in [
            "",
            "00",
            "0110950600013436",
            "011095060001343699x",
            "02106141411234567897",
        ] {
            assert!(ContainerKey::parse_element(s).is_err(), "{s}");
        }
    }
}

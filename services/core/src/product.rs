//! Product master data: GS1 company prefixes, a product's registered data, and the digest a new owner signs to
//! consent to a product transfer.
//!
//! Who owns a GTIN is decided on the ledger, not by who commissions it first: governance attests a manufacturer's
//! (or repackager's) GS1 company prefixes (`AttestPrefixes`), the owner of a prefix registers the products under it
//! (`RegisterProduct`), and only a registered product's packs are commissioned, by its owner. A product changes owner
//! (a change of marketing-authorisation holder) by a `TransferProduct` its owner signs and the new owner consents to
//! with its own signature over [`transfer_digest`].

use pedigree_gs1::{Gtin, quote};

use crate::Hash;
use crate::keys::tagged_hash_parts;

/// Tag of the digest a new owner signs to consent to a product transfer.
pub const TRANSFER_TAG: &[u8] = b"pedigree.v2.product-transfer";

/// A GS1 company prefix: 4 to 12 digits, as GS1 writes it (the GTIN-13 form: a U.P.C. prefix with its leading 0).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CompanyPrefix(String);

impl CompanyPrefix {
    pub fn parse(s: &str) -> Result<Self, String> {
        if !(4..=12).contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("'{}' is not a gs1 company prefix (4 to 12 digits)", quote(s)));
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `gtin` is under this prefix: the GTIN-14 without its first digit (its GTIN-13 form, whose leading 0
    /// lines a U.P.C. prefix up) starts with it.
    pub fn covers(&self, gtin: &Gtin) -> bool {
        gtin.as_str().get(1..).is_some_and(|g| g.starts_with(&self.0))
    }

    /// Whether either prefix starts with the other: two such prefixes cannot belong to two companies.
    pub fn overlaps(&self, other: &CompanyPrefix) -> bool {
        self.0.starts_with(&other.0) || other.0.starts_with(&self.0)
    }
}

impl std::fmt::Display for CompanyPrefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A product's master data as registered (each field checked by [`crate::decode`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProductData {
    pub name: String,
    pub strength: String,
    pub dosage_form: String,
    pub pack_size: u32,
    /// (system, code) pairs, e.g. ("NDC", "0777-3105-02").
    pub national_codes: Vec<(String, String)>,
    /// ISO 3166-1 alpha-2 codes.
    pub markets: Vec<String>,
    /// Links by GS1 link type (checked: see `decode`).
    pub links: Vec<crate::pb::ProductLink>,
}

/// The digest a new owner signs to consent to receiving product `gtin` from `from` as its transfer number `sequence`
/// (0 for a product's first): `TH("pedigree.v2.product-transfer", chain id || str(gtin) || str(from) || str(to) ||
/// u32 sequence)`, `str` being a 4-byte big-endian length and the UTF-8 bytes. Bound to the chain, the product, both
/// parties and the product's transfer count, a consent is good for one transfer only.
pub fn transfer_digest(chain_id: &Hash, gtin: &str, from: &str, to: &str, sequence: u32) -> Hash {
    let mut parts = Vec::with_capacity(32 + 12 + gtin.len() + from.len() + to.len() + 4);
    parts.extend_from_slice(chain_id);
    for s in [gtin, from, to] {
        parts.extend_from_slice(&(s.len() as u32).to_be_bytes());
        parts.extend_from_slice(s.as_bytes());
    }
    parts.extend_from_slice(&sequence.to_be_bytes());
    tagged_hash_parts(TRANSFER_TAG, &[&parts])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gtin(s: &str) -> Gtin {
        Gtin::parse(s).unwrap()
    }

    #[test]
    fn a_prefix_covers_gtins_in_their_gtin13_form() {
        let prefix = CompanyPrefix::parse("9506000").unwrap();
        assert!(prefix.covers(&gtin("09506000134352")));
        // Another packaging level (indicator digit 1) of the same company's item.
        assert!(prefix.covers(&gtin("19506000134359")));
        assert!(!prefix.covers(&gtin("09506001134351")));
        // A U.P.C. company prefix is written with its leading 0; a GTIN-12 is a GTIN-14 with two leading zeros.
        let upc = CompanyPrefix::parse("0312345").unwrap();
        assert!(upc.covers(&gtin("00312345678906")));
    }

    #[test]
    fn prefixes_overlap_when_one_starts_with_the_other() {
        let p = |s| CompanyPrefix::parse(s).unwrap();
        assert!(p("950600").overlaps(&p("9506000")));
        assert!(p("9506000").overlaps(&p("950600")));
        assert!(!p("9506000").overlaps(&p("9506001")));
    }

    #[test]
    fn a_prefix_is_4_to_12_digits() {
        for bad in ["", "123", "1234567890123", "95060a0", " 9506000"] {
            assert!(CompanyPrefix::parse(bad).is_err(), "{bad:?}");
        }
        assert!(CompanyPrefix::parse("1234").is_ok());
        assert!(CompanyPrefix::parse("123456789012").is_ok());
    }

    #[test]
    fn a_consent_is_bound_to_every_part_of_the_transfer() {
        let base = transfer_digest(&[1; 32], "09506000134352", "a", "b", 0);
        assert_ne!(base, transfer_digest(&[2; 32], "09506000134352", "a", "b", 0));
        assert_ne!(base, transfer_digest(&[1; 32], "09506000134369", "a", "b", 0));
        assert_ne!(base, transfer_digest(&[1; 32], "09506000134352", "b", "a", 0));
        assert_ne!(base, transfer_digest(&[1; 32], "09506000134352", "a", "b", 1));
        // Lengths delimit the strings: moving a character from one id to the next changes the digest.
        assert_ne!(
            transfer_digest(&[1; 32], "g", "ab", "c", 0),
            transfer_digest(&[1; 32], "g", "a", "bc", 0)
        );
    }
}

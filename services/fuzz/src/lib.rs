//! What the fuzz targets share: the registry of the published ledger vectors (docs/vectors/ledger-v2.json), so that
//! envelopes, blocks and bundles are checked against real keys and a real chain id; and the invariants every parsed
//! GS1 code and every error message must hold.

#![forbid(unsafe_code)]

use pedigree_core::participant::Registry;
use pedigree_gs1::{Gtin, ScannedCode, parse_bracketed, parse_digital_link, parse_element_string, parse_scan};

const VECTORS: &str = include_str!("../../../docs/vectors/ledger-v2.json");

/// The longest error message a parser of outside bytes may return (issue 15: a message quotes at most a few dozen
/// characters of the input, escaped: `pedigree_gs1::quote`).
pub const MAX_MESSAGE_LEN: usize = 200;

/// The vectors' genesis registry.
pub fn registry() -> Registry {
    let vectors: serde_json::Value = serde_json::from_str(VECTORS).expect("the vectors are JSON");
    let genesis = vectors.get("genesis").expect("the vectors hold a genesis").to_string();
    Registry::from_genesis_json(&genesis).expect("the vectors' genesis is valid")
}

/// A parsed code holds a valid GTIN and reads back unchanged from each of its three renderings, both with the
/// parser of that form and with [`parse_scan`].
pub fn check_round_trips(code: &ScannedCode) {
    assert!(Gtin::parse(code.gtin.as_str()).is_ok(), "{code:?}");
    let element_string = code.to_element_string();
    let bracketed = code.to_bracketed();
    let link = code.to_digital_link("https://id.gs1.org");
    assert_eq!(
        parse_element_string(&element_string).as_ref(),
        Ok(code),
        "{element_string:?}"
    );
    assert_eq!(parse_bracketed(&bracketed).as_ref(), Ok(code), "{bracketed:?}");
    assert_eq!(parse_digital_link(&link).as_ref(), Ok(code), "{link:?}");
    for rendering in [&element_string, &bracketed, &link] {
        assert_eq!(parse_scan(rendering).as_ref(), Ok(code), "{rendering:?}");
    }
}

/// An error message says something, is short, and holds no control character taken from the input.
pub fn check_message(message: &str) {
    assert!(!message.is_empty());
    {
        assert!(
            message.len() <= MAX_MESSAGE_LEN,
            "a {}-byte error message: {:?}...",
            message.len(),
            message.chars().take(80).collect::<String>()
        );
        assert!(
            !message.chars().any(char::is_control),
            "a control character in {message:?}"
        );
    }
}

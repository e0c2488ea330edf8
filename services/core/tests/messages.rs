//! Issue 15: an error message quotes at most a few dozen characters of the input, escaped. Found by the `envelope`
//! fuzz target with its message check (services/fuzz, docs/reliability.md): an envelope's signer id is quoted whole
//! and raw, so a long id makes a message (and a gRPC status, and a log line) as long as the id, and control
//! characters reach logs as they are; these are its regression tests.

use pedigree_core::envelope::check_envelope;
use pedigree_core::participant::Registry;
use pedigree_core::pb::SignedEnvelope;

fn registry() -> Registry {
    let vectors: serde_json::Value =
        serde_json::from_str(include_str!("../../../docs/vectors/ledger-v2.json")).expect("the vectors are JSON");
    Registry::from_genesis_json(&vectors["genesis"].to_string()).expect("the vectors' genesis is valid")
}

fn message(signer: String) -> String {
    let envelope = SignedEnvelope {
        signer,
        ..SignedEnvelope::default()
    };
    check_envelope(&envelope, &registry()).unwrap_err().to_string()
}

#[test]
fn a_long_signer_id_is_quoted_in_part() {
    let m = message("x".repeat(10_000));
    assert!(m.len() <= 200, "{} bytes: {}...", m.len(), &m[..60]);
}

#[test]
fn control_characters_of_a_signer_id_are_escaped() {
    // The fuzzer's input: the vectors' governance envelope with its signer id changed to "govern\u{6}\u{6}ce".
    let m = message("govern\u{6}\u{6}ce".into());
    assert!(!m.chars().any(char::is_control), "{m:?}");
}

//! What the fuzz targets share: the registry of the published ledger vectors (docs/vectors/ledger-v2.json), so that
//! envelopes, blocks and bundles are checked against real keys and a real chain id.

#![forbid(unsafe_code)]

use pedigree_core::participant::Registry;

const VECTORS: &str = include_str!("../../../docs/vectors/ledger-v2.json");

/// The vectors' genesis registry.
pub fn registry() -> Registry {
    let vectors: serde_json::Value = serde_json::from_str(VECTORS).expect("the vectors are JSON");
    let genesis = vectors.get("genesis").expect("the vectors hold a genesis").to_string();
    Registry::from_genesis_json(&genesis).expect("the vectors' genesis is valid")
}

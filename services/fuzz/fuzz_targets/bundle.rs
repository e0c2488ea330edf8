//! A proof bundle as `pedigree verify --offline` and a third-party verifier check it: protobuf decoding, then
//! `check_bundle` with the sequencer key and the chain id. Nothing may panic.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use pedigree_core::participant::Registry;
use pedigree_core::pb::ProofBundle;
use pedigree_core::proof::check_bundle;
use prost::Message;

static REGISTRY: LazyLock<Registry> = LazyLock::new(pedigree_fuzz::registry);

fuzz_target!(|data: &[u8]| {
    if let Ok(bundle) = ProofBundle::decode(data) {
        let _ = check_bundle(&bundle, &REGISTRY.sequencer_key, Some(&REGISTRY.chain_id));
    }
});

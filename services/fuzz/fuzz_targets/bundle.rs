//! A proof bundle as a third-party verifier and `pedigree verify --offline` read it: protobuf decoding (the gRPC
//! answer), or the JSON form (the HTTP answer's `proof`, the CLI's bundle file) through `BundleJson::to_bundle`; then
//! `check_bundle` with the vectors' sequencer key and chain id. Nothing may panic; a JSON bundle converts back and
//! forth without change and checks the same after a protobuf round trip; every error message says something.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use pedigree_core::participant::Registry;
use pedigree_core::pb::ProofBundle;
use pedigree_core::proof::{BundleJson, check_bundle};
use pedigree_fuzz::check_message;
use prost::Message;

static REGISTRY: LazyLock<Registry> = LazyLock::new(pedigree_fuzz::registry);

/// `check_bundle`'s verdict, as text to compare.
fn check(bundle: &ProofBundle) -> String {
    match check_bundle(bundle, &REGISTRY.sequencer_key(), Some(&REGISTRY.chain_id)) {
        Ok(checked) => format!("{checked:?}"),
        Err(e) => {
            let message = e.to_string();
            check_message(&message);
            message
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(bundle) = ProofBundle::decode(data) {
        check(&bundle);
    }
    if let Ok(json) = serde_json::from_slice::<BundleJson>(data) {
        match json.to_bundle() {
            Ok(bundle) => {
                let again = BundleJson::from_bundle(&bundle).expect("a bundle from JSON has every part");
                assert_eq!(again.to_bundle().as_ref(), Ok(&bundle));
                let decoded = ProofBundle::decode(bundle.encode_to_vec().as_slice()).expect("re-encoded bundle");
                assert_eq!(decoded, bundle);
                assert_eq!(check(&decoded), check(&bundle));
            }
            Err(e) => check_message(&e),
        }
    }
});

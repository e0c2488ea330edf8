//! A signed envelope as custody and the sequencer receive it: protobuf decoding, then every check against the
//! registry (signature, signer, role, payload fields). Nothing may panic; every error message says something (and,
//! is short).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use pedigree_core::envelope::check_envelope;
use pedigree_core::participant::Registry;
use pedigree_core::pb::SignedEnvelope;
use pedigree_fuzz::check_message;
use prost::Message;

static REGISTRY: LazyLock<Registry> = LazyLock::new(pedigree_fuzz::registry);

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = SignedEnvelope::decode(data)
        && let Err(e) = check_envelope(&envelope, &REGISTRY)
    {
        check_message(&e.to_string());
    }
});

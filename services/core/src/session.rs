//! Signing in: a participant proves once, with the key the ledger holds for it, that it is who it says, and gets a
//! session token the verifier checks cheaply on every call (see docs/access.md).
//!
//! The signed message binds the chain, the participant, the caller's clock and a fresh nonce, each length-prefixed:
//!
//! ```text
//! u16be(32) || chain_id (32 bytes) || u16be(len(participant_id)) || participant_id || i64be(timestamp_ms) || nonce
//! ```
//!
//! signed like any Pedigree object, over `SHA-256("pedigree.v1.session" || 0x00 || message)`. The verifier accepts
//! a request whose clock is within [`MAX_CLOCK_SKEW_MS`] of its own, and each nonce once.

use crate::keys::KeyPair;
use crate::pb;

/// Tag of session requests: a session signature can never pass for an event's or a header's.
pub const SESSION_TAG: &[u8] = b"pedigree.v1.session";
/// How far the caller's clock may be from the verifier's.
pub const MAX_CLOCK_SKEW_MS: i64 = 60_000;
/// Nonce length bounds, in bytes.
pub const NONCE_MIN: usize = 16;
pub const NONCE_MAX: usize = 64;

/// The bytes a session request signs (see the module docs).
pub fn session_message(chain_id: &[u8], participant_id: &str, timestamp_ms: i64, nonce: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(4 + chain_id.len() + participant_id.len() + 8 + nonce.len());
    for field in [chain_id, participant_id.as_bytes()] {
        // Both are short by construction (ids are at most 64 characters); a longer one is cut to keep the frame.
        let len = u16::try_from(field.len()).unwrap_or(u16::MAX);
        message.extend_from_slice(&len.to_be_bytes());
        message.extend_from_slice(&field[..usize::from(len)]);
    }
    message.extend_from_slice(&timestamp_ms.to_be_bytes());
    message.extend_from_slice(nonce);
    message
}

/// A signed session request for `participant_id` on chain `chain_id`, at `timestamp_ms`, with `nonce`.
pub fn sign_session(
    key: &KeyPair,
    chain_id: &[u8],
    participant_id: &str,
    timestamp_ms: i64,
    nonce: Vec<u8>,
) -> pb::StartSessionRequest {
    let signature = key.sign(
        SESSION_TAG,
        &session_message(chain_id, participant_id, timestamp_ms, &nonce),
    );
    pb::StartSessionRequest {
        participant_id: participant_id.to_string(),
        timestamp_ms,
        nonce,
        signature,
    }
}

/// A session request signed now, with a fresh random nonce.
pub fn new_session_request(key: &KeyPair, chain_id: &[u8], participant_id: &str) -> pb::StartSessionRequest {
    let mut nonce = vec![0u8; 32];
    getrandom::fill(&mut nonce).expect("the operating system's random source failed");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    sign_session(key, chain_id, participant_id, now, nonce)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::EVENT_TAG;

    #[test]
    fn the_message_frames_each_field() {
        // Moving a character from one field to the next changes the message.
        assert_ne!(
            session_message(b"ab", "c", 1, &[0; 16]),
            session_message(b"a", "bc", 1, &[0; 16])
        );
        let m = session_message(&[9; 32], "acme", 0x0102, &[7; 16]);
        assert_eq!(&m[..2], &[0, 32]);
        assert_eq!(&m[34..36], &[0, 4]);
        assert_eq!(&m[40..48], &0x0102i64.to_be_bytes());
        assert_eq!(m.len(), 48 + 16);
    }

    #[test]
    fn a_session_signature_verifies_only_as_a_session() {
        let key = KeyPair::generate();
        let request = sign_session(&key, &[1; 32], "acme", 5, vec![1; 16]);
        let message = session_message(&[1; 32], "acme", 5, &request.nonce);
        key.public().verify(SESSION_TAG, &message, &request.signature).unwrap();
        assert!(key.public().verify(EVENT_TAG, &message, &request.signature).is_err());
        let other_chain = session_message(&[2; 32], "acme", 5, &request.nonce);
        assert!(
            key.public()
                .verify(SESSION_TAG, &other_chain, &request.signature)
                .is_err()
        );
    }
}

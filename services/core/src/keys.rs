//! Keys and signatures: ECDSA over secp256k1 (k256) with SHA-256 and domain separation.
//!
//! Every signed object is hashed as `SHA-256(tag || 0x00 || bytes)`, with a tag per kind of object, so a signature
//! made for one kind can never be replayed as another. Only low-S signatures are accepted, which makes a valid
//! signature unique for its message (no malleability).

use k256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use k256::ecdsa::{Signature, SigningKey, VerifyingKey};
use k256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use sha2::{Digest, Sha256};

use crate::Hash;

/// Tag for event payloads (custody and governance events); the payload names its chain.
pub const EVENT_TAG: &[u8] = b"pedigree.v2.event";
/// Tag for block headers (signed by the sequencer), hashed as `chain id || header bytes`.
pub const HEADER_TAG: &[u8] = b"pedigree.v2.header";
/// Tag for the chain id: the hash of the genesis' canonical encoding.
pub const GENESIS_TAG: &[u8] = b"pedigree.v2.genesis";

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum KeyError {
    #[error("public key: {0}")]
    PublicKey(String),
    #[error("private key: {0}")]
    PrivateKey(String),
    #[error("signature must be 64 bytes r||s, got {0} bytes")]
    SignatureLength(usize),
    #[error("signature is not a valid ecdsa signature")]
    SignatureEncoding,
    #[error("signature has a high s value (only low-s signatures are accepted)")]
    HighS,
    #[error("signature does not match the signed bytes and the signer's key")]
    Mismatch,
}

/// SHA-256 over `tag || 0x00 || bytes`.
pub fn tagged_hash(tag: &[u8], bytes: &[u8]) -> Hash {
    Sha256::new()
        .chain_update(tag)
        .chain_update([0u8])
        .chain_update(bytes)
        .finalize()
        .into()
}

/// SHA-256 over `tag || 0x00 || part_1 || part_2 || ...` (the tagged hash of the parts' concatenation).
pub fn tagged_hash_parts(tag: &[u8], parts: &[&[u8]]) -> Hash {
    let mut hasher = Sha256::new().chain_update(tag).chain_update([0u8]);
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// Plain SHA-256.
pub fn sha256(bytes: &[u8]) -> Hash {
    Sha256::digest(bytes).into()
}

/// A signing key with helpers for the encodings Pedigree uses.
#[derive(Clone)]
pub struct KeyPair {
    signing: SigningKey,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyPair({})", self.key_id())
    }
}

impl KeyPair {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Self {
        loop {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).expect("the operating system's random source failed");
            // A random 32-byte string is out of range with negligible probability; draw again then.
            if let Ok(signing) = SigningKey::from_slice(&bytes) {
                return Self { signing };
            }
        }
    }

    /// From the 32-byte big-endian secret scalar (test vectors; real keys come from [`KeyPair::generate`]).
    pub fn from_secret_bytes(bytes: &[u8; 32]) -> Result<Self, KeyError> {
        SigningKey::from_slice(bytes)
            .map(|signing| Self { signing })
            .map_err(|_| KeyError::PrivateKey("not a valid secp256k1 scalar".into()))
    }

    /// From a PKCS#8 PEM private key.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        SigningKey::from_pkcs8_pem(pem)
            .map(|signing| Self { signing })
            .map_err(|e| KeyError::PrivateKey(e.to_string().to_lowercase()))
    }

    /// As a PKCS#8 PEM private key.
    pub fn to_pem(&self) -> String {
        self.signing
            .to_pkcs8_pem(LineEnding::LF)
            .expect("a valid k256 key always encodes")
            .to_string()
    }

    pub fn public(&self) -> PublicKey {
        PublicKey(*self.signing.verifying_key())
    }

    pub fn key_id(&self) -> String {
        self.public().key_id()
    }

    /// Signs `SHA-256(tag || 0x00 || bytes)`; returns the 64-byte low-S signature.
    pub fn sign(&self, tag: &[u8], bytes: &[u8]) -> Vec<u8> {
        self.sign_digest(&tagged_hash(tag, bytes))
    }

    /// Signs a 32-byte digest (already a tagged hash); returns the 64-byte low-S signature.
    pub fn sign_digest(&self, prehash: &Hash) -> Vec<u8> {
        let signature: Signature = self
            .signing
            .sign_prehash(prehash)
            .expect("signing a 32-byte prehash cannot fail");
        // k256 already emits low-S; normalise anyway so the invariant does not rest on a library default.
        let signature = signature.normalize_s();
        signature.to_bytes().to_vec()
    }
}

/// A participant's or sequencer's public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// From SEC1 bytes (compressed or uncompressed).
    pub fn from_sec1(bytes: &[u8]) -> Result<Self, KeyError> {
        VerifyingKey::from_sec1_bytes(bytes)
            .map(PublicKey)
            .map_err(|_| KeyError::PublicKey("not a valid sec1 secp256k1 point".into()))
    }

    /// From hex of SEC1 bytes.
    pub fn from_hex(hex_str: &str) -> Result<Self, KeyError> {
        let bytes =
            hex::decode(hex_str.trim()).map_err(|e| KeyError::PublicKey(format!("not hex: {e}").to_lowercase()))?;
        Self::from_sec1(&bytes)
    }

    /// SEC1 compressed (33 bytes).
    pub fn to_sec1(&self) -> Vec<u8> {
        self.0.to_sec1_point(true).as_bytes().to_vec()
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.to_sec1())
    }

    /// Hex of the first 8 bytes of SHA-256 of the compressed key: short, stable, collision-safe enough to name keys.
    pub fn key_id(&self) -> String {
        hex::encode(&sha256(&self.to_sec1())[..8])
    }

    /// Checks a 64-byte low-S signature over `SHA-256(tag || 0x00 || bytes)`.
    pub fn verify(&self, tag: &[u8], bytes: &[u8], signature: &[u8]) -> Result<(), KeyError> {
        self.verify_digest(&tagged_hash(tag, bytes), signature)
    }

    /// Checks a 64-byte low-S signature over a 32-byte digest (already a tagged hash).
    pub fn verify_digest(&self, prehash: &Hash, signature: &[u8]) -> Result<(), KeyError> {
        if signature.len() != 64 {
            return Err(KeyError::SignatureLength(signature.len()));
        }
        let signature = Signature::from_slice(signature).map_err(|_| KeyError::SignatureEncoding)?;
        if signature.normalize_s() != signature {
            return Err(KeyError::HighS);
        }
        self.0
            .verify_prehash(prehash, &signature)
            .map_err(|_| KeyError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_then_verify() {
        let key = KeyPair::generate();
        let sig = key.sign(EVENT_TAG, b"payload");
        assert_eq!(sig.len(), 64);
        key.public().verify(EVENT_TAG, b"payload", &sig).unwrap();
    }

    #[test]
    fn other_bytes_tag_or_key_fail() {
        let key = KeyPair::generate();
        let sig = key.sign(EVENT_TAG, b"payload");
        let pk = key.public();
        assert_eq!(pk.verify(EVENT_TAG, b"payloaD", &sig), Err(KeyError::Mismatch));
        assert_eq!(pk.verify(HEADER_TAG, b"payload", &sig), Err(KeyError::Mismatch));
        let other = KeyPair::generate().public();
        assert_eq!(other.verify(EVENT_TAG, b"payload", &sig), Err(KeyError::Mismatch));
        assert_eq!(
            pk.verify(EVENT_TAG, b"payload", &sig[..63]),
            Err(KeyError::SignatureLength(63))
        );
    }

    #[test]
    fn high_s_is_refused() {
        let key = KeyPair::generate();
        let sig = key.sign(EVENT_TAG, b"x");
        let parsed = Signature::from_slice(&sig).unwrap();
        // s' = n - s is the other valid signature for the same message: it must be refused.
        let (r, s) = parsed.split_scalars();
        let high = Signature::from_scalars(r, -*s).unwrap();
        assert_eq!(
            key.public().verify(EVENT_TAG, b"x", &high.to_bytes()),
            Err(KeyError::HighS)
        );
    }

    #[test]
    fn pem_and_hex_round_trip() {
        let key = KeyPair::generate();
        let again = KeyPair::from_pem(&key.to_pem()).unwrap();
        assert_eq!(again.public(), key.public());
        assert_eq!(PublicKey::from_hex(&key.public().to_hex()).unwrap(), key.public());
        assert_eq!(key.key_id().len(), 16);
        assert!(PublicKey::from_hex("02ff").is_err());
    }
}

//! The RFC 6962 hashing primitives: domain-separated SHA-256 for leaves and interior nodes.

use sha2::block_api::compress256;
use sha2::{Digest, Sha256};

/// Length in bytes of a SHA-256 digest.
pub const HASH_LEN: usize = 32;

/// A SHA-256 digest: a leaf hash, an interior node hash or a tree root.
pub type Hash = [u8; HASH_LEN];

/// Prefix of a leaf's preimage, so a leaf hash can never equal an interior node hash.
const LEAF_PREFIX: u8 = 0x00;
/// Prefix of an interior node's preimage.
const NODE_PREFIX: u8 = 0x01;

/// Hashes one log entry: `SHA-256(0x00 || data)`.
#[must_use]
pub fn leaf_hash(data: &[u8]) -> Hash {
    Sha256::new()
        .chain_update([LEAF_PREFIX])
        .chain_update(data)
        .finalize()
        .into()
}

/// Hashes two child subtrees into their parent: `SHA-256(0x01 || left || right)`.
///
/// This is the hot loop of every root and proof, so it feeds the two padded 64-byte blocks of the fixed
/// 65-byte preimage straight to the SHA-256 compression function, skipping the streaming hasher's
/// buffering; `node_hash_matches_streaming_sha256` pins it to the plain definition.
#[must_use]
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut blocks = [[0u8; 64]; 2];
    let [first, second] = &mut blocks;
    first[0] = NODE_PREFIX;
    first[1..33].copy_from_slice(left);
    first[33..].copy_from_slice(&right[..31]);
    second[0] = right[31];
    // SHA-256 padding: a 1 bit, zeros, then the message length in bits (65 bytes = 520 bits).
    second[1] = 0x80;
    second[56..].copy_from_slice(&NODE_PREIMAGE_BITS.to_be_bytes());
    let mut state = SHA256_IV;
    compress256(&mut state, &blocks);
    let mut out = [0u8; HASH_LEN];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// Bit length of a node preimage: prefix byte plus two hashes.
const NODE_PREIMAGE_BITS: u64 = (1 + 2 * HASH_LEN as u64) * 8;

/// SHA-256 initial hash value (FIPS 180-4 section 5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The root of the tree with no leaves: `SHA-256("")`.
#[must_use]
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex32(s: &str) -> Hash {
        let bytes = hex::decode(s).expect("valid hex");
        bytes.try_into().expect("32 bytes")
    }

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(
            empty_root(),
            hex32("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
    }

    #[test]
    fn leaf_hash_of_empty_entry() {
        // RFC 6962 reference: the hash of the empty leaf is SHA-256(0x00).
        assert_eq!(
            leaf_hash(b""),
            hex32("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
        );
    }

    #[test]
    fn node_hash_is_prefixed_and_ordered() {
        let a = leaf_hash(b"a");
        let b = leaf_hash(b"b");
        let mut preimage = vec![0x01];
        preimage.extend_from_slice(&a);
        preimage.extend_from_slice(&b);
        let want: Hash = Sha256::digest(&preimage).into();
        assert_eq!(node_hash(&a, &b), want);
        assert_ne!(node_hash(&a, &b), node_hash(&b, &a));
    }

    #[test]
    fn node_hash_matches_streaming_sha256() {
        let mut a = [0u8; HASH_LEN];
        let mut b = [0u8; HASH_LEN];
        for i in 0..=255u8 {
            a.fill(i);
            b.iter_mut().enumerate().for_each(|(j, x)| *x = i ^ j as u8);
            let want: Hash = Sha256::new()
                .chain_update([NODE_PREFIX])
                .chain_update(a)
                .chain_update(b)
                .finalize()
                .into();
            assert_eq!(node_hash(&a, &b), want);
        }
    }

    #[test]
    fn leaf_and_node_domains_differ() {
        let a = leaf_hash(b"a");
        let mut concat = a.to_vec();
        concat.extend_from_slice(&a);
        assert_ne!(leaf_hash(&concat), node_hash(&a, &a));
    }
}

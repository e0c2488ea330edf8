//! Errors returned when building or checking Merkle proofs.
//!
//! Verification failures are ordinary values, not panics: proofs arrive from untrusted peers, so every
//! malformed size, length or hash must come back as a [`MerkleError`] the caller can log and reject.

/// Why a Merkle proof could not be produced or did not verify.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum MerkleError {
    /// The leaf index does not name a leaf of the tree (this includes every index of an empty tree).
    #[error("leaf index {index} is out of range for a tree of size {size}")]
    IndexOutOfRange {
        /// The requested leaf index.
        index: u64,
        /// The number of leaves in the tree.
        size: u64,
    },
    /// A consistency proof was asked for or checked against the empty tree, which proves nothing.
    #[error("consistency with the empty tree is meaningless: old size must be at least 1")]
    OldSizeZero,
    /// The old tree is larger than the new one, so the new one cannot extend it.
    #[error("old tree size {old_size} exceeds new tree size {new_size}")]
    OldSizeExceedsNew {
        /// The earlier tree's size.
        old_size: u64,
        /// The later tree's size.
        new_size: u64,
    },
    /// The proof has the wrong number of hashes for the given sizes and index.
    #[error("wrong proof length: expected {expected} hashes, got {got}")]
    WrongProofLength {
        /// The number of hashes a proof for these parameters must have.
        expected: usize,
        /// The number of hashes supplied.
        got: usize,
    },
    /// The root recomputed from the proof differs from the (new) root supplied.
    #[error("computed root does not match the expected root")]
    RootMismatch,
    /// The old root recomputed from a consistency proof differs from the old root supplied.
    #[error("computed old root does not match the expected old root")]
    OldRootMismatch,
    /// A frontier does not have one hash per set bit of the tree size.
    #[error("frontier for tree size {size} must hold {expected} hashes, got {got}")]
    FrontierLength {
        /// The claimed tree size.
        size: u64,
        /// The number of perfect subtrees of a tree of that size.
        expected: usize,
        /// The number of hashes supplied.
        got: usize,
    },
    /// A proof plan was given the wrong number of node hashes.
    #[error("proof plan needs {expected} node hashes, got {got}")]
    NodeCount {
        /// The number of nodes the plan lists.
        expected: usize,
        /// The number of hashes supplied.
        got: usize,
    },
    /// A kept level's tail does not have the length the tree size implies.
    #[error("tail of kept level {level} must hold {expected} hashes, got {got}")]
    TailLength {
        /// The kept level.
        level: u32,
        /// The number of hashes its tail must hold.
        expected: usize,
        /// The number of hashes supplied.
        got: usize,
    },
    /// Kept levels must be 1 to 16 levels apart.
    #[error("stride {0} is not in 1..=16")]
    Stride(u32),
}

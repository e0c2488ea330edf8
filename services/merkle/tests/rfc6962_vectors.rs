//! Runs every transparency-dev RFC 6962 proof vector in the shared test data through the verifiers.
//!
//! Each file says whether verification must succeed (`wantErr: false`) or fail (`wantErr: true`). The
//! happy-path files are built over the RFC 6962 reference leaves, so for those the generators must also
//! reproduce the published proofs byte for byte.

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use pedigree_merkle::{
    HASH_LEN, Hash, MerkleError, consistency_proof, inclusion_proof, leaf_hash, root, verify_consistency,
    verify_inclusion,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Number of JSON files under inclusion/ and consistency/ in the vendored vectors.
const INCLUSION_FILES: usize = 98;
const CONSISTENCY_FILES: usize = 98;
/// Of those, the files that must verify.
const INCLUSION_VALID: usize = 6;
const CONSISTENCY_VALID: usize = 6;
/// Of the valid files, those built over the reference leaves (all but one in each folder, whose tree is
/// a single leaf of other data), for which the generators must reproduce the proof.
const REGENERATED: usize = 5;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct InclusionVector {
    leaf_idx: u64,
    tree_size: u64,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConsistencyVector {
    size1: u64,
    size2: u64,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/rfc6962")
}

/// Every `.json` file below `dir`, sorted so failures are reported in a stable order.
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let entries = fs::read_dir(&d).unwrap_or_else(|e| panic!("cannot read {}: {e}", d.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|x| x == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Decodes a base64 root or proof element into the fixed-size type the API takes.
///
/// Some negative vectors carry values that are not 32 bytes ("", "WrongRoot", "don't care 1"), which the
/// typed API cannot even express. Like the reference verifier, which treats roots and proof elements as
/// opaque byte strings, such a value becomes SHA-256 of a tagged copy of its bytes: equal inputs stay
/// equal (one valid vector compares two equal 12-byte roots of a one-leaf tree), and the stand-in never
/// matches a computed hash, so the library itself still decides every case.
fn hash_field(b64: &str) -> Hash {
    let bytes = STANDARD.decode(b64).expect("valid base64");
    match <Hash>::try_from(bytes.as_slice()) {
        Ok(hash) => hash,
        Err(_) => Sha256::new()
            .chain_update(b"not a 32-byte hash:")
            .chain_update(&bytes)
            .finalize()
            .into(),
    }
}

/// Decodes a leaf hash, which must be exactly 32 bytes: the reference verifier rejects any other length
/// up front, and a caller of the typed API would fail to decode it before verifying anything.
fn leaf_field(b64: &str) -> Result<Hash, String> {
    let bytes = STANDARD.decode(b64).expect("valid base64");
    <Hash>::try_from(bytes.as_slice()).map_err(|_| format!("leaf hash is {} bytes", bytes.len()))
}

fn is_hash_sized(b64: &str) -> bool {
    STANDARD.decode(b64).is_ok_and(|b| b.len() == HASH_LEN)
}

fn proof_field(proof: Option<&Vec<String>>) -> Vec<Hash> {
    proof.map_or_else(Vec::new, |p| p.iter().map(|h| hash_field(h)).collect())
}

/// The RFC 6962 reference leaves behind every happy-path vector.
fn reference_leaves() -> Vec<Hash> {
    [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
    .iter()
    .map(|h| leaf_hash(&hex::decode(h).expect("valid hex")))
    .collect()
}

/// The reference leaves behind a valid vector whose tree is a prefix of the reference tree, so the
/// generators can be checked against its proof too.
fn reference_prefix<'a>(reference: &'a [Hash], want_err: bool, size: u64, root_b64: &str) -> Option<&'a [Hash]> {
    let leaves = reference.get(..usize::try_from(size).ok()?)?;
    let matches = !want_err && is_hash_sized(root_b64) && root(leaves) == hash_field(root_b64);
    matches.then_some(leaves)
}

fn read<T: for<'de> Deserialize<'de>>(path: &Path) -> T {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What checking one vector file found.
struct Outcome {
    /// The file says verification must succeed.
    valid: bool,
    /// The generator was run over the reference leaves and compared with the file's proof.
    regenerated: bool,
    /// Why the file's expectation was not met, if it was not.
    failure: Option<String>,
}

impl Outcome {
    fn new(path: &Path, desc: &str, want_err: bool, result: &Result<(), String>) -> Self {
        let failure = match (want_err, result) {
            (false, Err(e)) => Some(format!("valid vector rejected: {e}")),
            (true, Ok(())) => Some("invalid vector accepted".to_owned()),
            _ => None,
        };
        Self {
            valid: !want_err,
            regenerated: false,
            failure: failure.map(|f| format!("{} ({desc}): {f}", path.display())),
        }
    }

    /// Records a comparison of the generator's output with the file's proof.
    fn regenerated(mut self, path: &Path, generated: Result<Vec<Hash>, MerkleError>, want: &[Hash]) -> Self {
        self.regenerated = true;
        if generated.as_deref() != Ok(want) {
            self.failure = Some(format!("{}: generated proof differs: {generated:?}", path.display()));
        }
        self
    }
}

fn check_inclusion(path: &Path, reference: &[Hash]) -> Outcome {
    let v: InclusionVector = read(path);
    let proof = proof_field(v.proof.as_ref());
    let head = hash_field(&v.root);
    let result = leaf_field(&v.leaf_hash)
        .and_then(|leaf| verify_inclusion(&leaf, v.leaf_idx, v.tree_size, &proof, &head).map_err(|e| e.to_string()));
    let outcome = Outcome::new(path, &v.desc, v.want_err, &result);
    match reference_prefix(reference, v.want_err, v.tree_size, &v.root) {
        Some(leaves) => outcome.regenerated(path, inclusion_proof(leaves, v.leaf_idx), &proof),
        None => outcome,
    }
}

fn check_consistency(path: &Path, reference: &[Hash]) -> Outcome {
    let v: ConsistencyVector = read(path);
    let proof = proof_field(v.proof.as_ref());
    let (root1, root2) = (hash_field(&v.root1), hash_field(&v.root2));
    let result = verify_consistency(v.size1, v.size2, &root1, &root2, &proof).map_err(|e| e.to_string());
    let outcome = Outcome::new(path, &v.desc, v.want_err, &result);
    match reference_prefix(reference, v.want_err, v.size2, &v.root2) {
        Some(leaves) => outcome.regenerated(path, consistency_proof(leaves, v.size1), &proof),
        None => outcome,
    }
}

/// Runs `check` over every file in `kind`, asserting the file counts so a missing or partial checkout
/// fails loudly instead of passing vacuously.
fn run(kind: &str, files: usize, valid: usize, check: fn(&Path, &[Hash]) -> Outcome) {
    let dir = vectors_dir().join(kind);
    assert!(dir.is_dir(), "missing test vectors at {}", dir.display());
    let reference = reference_leaves();
    let paths = json_files(&dir);
    let outcomes: Vec<_> = paths.iter().map(|p| check(p, &reference)).collect();
    let failures: Vec<_> = outcomes.iter().filter_map(|o| o.failure.clone()).collect();
    assert!(
        failures.is_empty(),
        "{} {kind} vectors failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(paths.len(), files, "unexpected number of {kind} vector files");
    let valid_seen = outcomes.iter().filter(|o| o.valid).count();
    assert_eq!(valid_seen, valid, "unexpected number of valid {kind} vectors");
    let regenerated = outcomes.iter().filter(|o| o.regenerated).count();
    assert_eq!(
        regenerated, REGENERATED,
        "unexpected number of regenerated {kind} proofs"
    );
}

#[test]
fn inclusion_vectors() {
    run("inclusion", INCLUSION_FILES, INCLUSION_VALID, check_inclusion);
}

#[test]
fn consistency_vectors() {
    run("consistency", CONSISTENCY_FILES, CONSISTENCY_VALID, check_consistency);
}

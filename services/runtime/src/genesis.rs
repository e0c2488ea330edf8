//! Loading the participant registry from the genesis file, the same way in every service.

use std::path::Path;

use anyhow::Context;
use pedigree_core::participant::Registry;

/// Reads and parses the genesis file at `path`.
pub fn load_registry(path: &Path) -> anyhow::Result<Registry> {
    let json = std::fs::read_to_string(path).with_context(|| format!("reading genesis file {}", path.display()))?;
    Registry::from_genesis_json(&json).with_context(|| format!("parsing genesis file {}", path.display()))
}

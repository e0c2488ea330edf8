//! The participant registry as of Redis `head`: the genesis with the stored records laid over it, re-read only
//! when the registry version (`rv`) moves.

use std::sync::Arc;

use pedigree_core::participant::Registry;

use crate::{Result, Store};

/// A reader's copy of the registry.
#[derive(Clone, Debug)]
pub struct RegistryView {
    genesis: Arc<Registry>,
    /// Version the current registry was read at (`None`: not read yet).
    version: Option<u64>,
    current: Arc<Registry>,
}

impl RegistryView {
    /// Starts from the genesis registry (what a chain without blocks has).
    pub fn new(genesis: Registry) -> Self {
        let genesis = Arc::new(genesis);
        Self {
            current: genesis.clone(),
            genesis,
            version: None,
        }
    }

    /// The registry as last read.
    pub fn current(&self) -> Arc<Registry> {
        self.current.clone()
    }

    /// The genesis registry (trust anchors and founding participants).
    pub fn genesis(&self) -> &Registry {
        &self.genesis
    }

    /// Re-reads the registry if its version moved since the last read; returns the current one.
    pub async fn refresh(&mut self, store: &Store) -> Result<Arc<Registry>> {
        let version = store.registry_version().await?;
        if self.version == Some(version) {
            return Ok(self.current.clone());
        }
        let (version, records) = store.participants().await?;
        self.current = Arc::new((*self.genesis).clone().with_records(&records)?);
        self.version = Some(version);
        Ok(self.current.clone())
    }
}

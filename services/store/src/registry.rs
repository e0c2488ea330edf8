//! The participant registry as of Redis `head`: the genesis with the stored records laid over it, re-read only
//! when the registry version (`rv`) moves.

use std::sync::Arc;
use std::time::Duration;

use pedigree_core::participant::{GenesisError, ParticipantRecord, Registry};
use pedigree_core::sequencer_keys::SequencerKeyRecord;
use tokio::sync::watch;

use crate::error::Result;
use crate::schema::{REGISTRY, REGISTRY_VERSION, SEQUENCER_KEYS};
use crate::store::Store;

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

    /// Re-reads the registry if its version moved forward since the last read; returns the current one.
    ///
    /// A version below the one last read means Redis lost its state (restarted empty, or being rebuilt from the
    /// log): the registry only ever grows along the chain, so the last one read stays in force until Redis is back
    /// at it, rather than forgetting participants registered since genesis.
    pub async fn refresh(&mut self, store: &Store) -> Result<Arc<Registry>> {
        let version = store.registry_version().await?;
        if self.version.is_some_and(|v| version <= v) {
            return Ok(self.current.clone());
        }
        let (version, records, schedule) = store.registry_records().await?;
        if self.version.is_some_and(|v| version <= v) {
            return Ok(self.current.clone());
        }
        self.current = Arc::new(
            (*self.genesis)
                .clone()
                .with_records(&records)?
                .with_sequencer_keys(&schedule)?,
        );
        self.version = Some(version);
        Ok(self.current.clone())
    }
}

/// Reads the registry once, then every `every` in the background; the receiver always holds the latest read. When
/// Redis cannot be read, the last registry stays in force (the sequencer re-checks every event anyway).
pub async fn follow_registry(genesis: Registry, store: Store, every: Duration) -> watch::Receiver<Arc<Registry>> {
    let mut view = RegistryView::new(genesis);
    if let Err(e) = view.refresh(&store).await {
        tracing::warn!(error = %e, "cannot read the registry from redis yet: using the genesis participants");
    }
    let (tx, rx) = watch::channel(view.current());
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                () = tx.closed() => return,
            }
            match view.refresh(&store).await {
                Ok(registry) => {
                    tx.send_if_modified(|current| {
                        let moved = !Arc::ptr_eq(current, &registry);
                        if moved {
                            tracing::info!(participants = registry.len(), "registry changed");
                            *current = registry;
                        }
                        moved
                    });
                }
                Err(e) => tracing::warn!(error = %e, "reading the registry from redis failed; keeping the last one"),
            }
        }
    });
    rx
}

impl Store {
    /// Height of the last block that changed the registry (0: none).
    pub async fn registry_version(&self) -> Result<u64> {
        let mut con = self.con.clone();
        let version: Option<u64> = redis::cmd("GET").arg(REGISTRY_VERSION).query_async(&mut con).await?;
        Ok(version.unwrap_or(0))
    }

    /// Every stored participant record and the registry version they are at, read atomically.
    pub async fn participants(&self) -> Result<(u64, Vec<ParticipantRecord>)> {
        let (version, records, _) = self.registry_records().await?;
        Ok((version, records))
    }

    /// The registry's version, every participant's record and the sequencer key schedule (empty while the genesis
    /// key was never rotated), read atomically: what [`Registry::with_records`] and
    /// [`Registry::with_sequencer_keys`] rebuild the registry from.
    pub async fn registry_records(&self) -> Result<(u64, Vec<ParticipantRecord>, Vec<SequencerKeyRecord>)> {
        let mut con = self.con.clone();
        let (version, raw): (Option<u64>, Vec<(String, Vec<u8>)>) = redis::pipe()
            .atomic()
            .get(REGISTRY_VERSION)
            .hgetall(REGISTRY)
            .query_async(&mut con)
            .await?;
        let mut schedule = Vec::new();
        let mut records = Vec::with_capacity(raw.len());
        for (field, json) in &raw {
            if field == SEQUENCER_KEYS {
                schedule = serde_json::from_slice(json)
                    .map_err(|e| GenesisError::RecordJson(format!("sequencer key schedule: {e}")))?;
            } else {
                records.push(Registry::parse_record(json)?);
            }
        }
        Ok((version.unwrap_or(0), records, schedule))
    }

    /// One participant's stored record.
    pub async fn participant(&self, id: &str) -> Result<Option<ParticipantRecord>> {
        let mut con = self.con.clone();
        let raw: Option<Vec<u8>> = redis::cmd("HGET").arg(REGISTRY).arg(id).query_async(&mut con).await?;
        Ok(raw.as_deref().map(Registry::parse_record).transpose()?)
    }
}

//! The write-behind: the one owner of sealed blocks' Redis writes.
//!
//! The sealing loop hands every canonical block it sealed to a [`WriteBehind`], and the chain follower hands it the
//! blocks it replays from the log. It writes them in chain order through [`crate::effects::write_block`], and it is
//! the only code that starts, awaits or abandons such a write:
//!
//! - [`WriteBehind::hold`] keeps one block's write for later (Redis stays at its parent). Under a backlog the
//!   sealing loop reads the next batch's packs first, with the held block's effects laid over them
//!   ([`WriteBehind::held`]), then makes the write while the state machine runs ([`WriteBehind::flush_alongside`]):
//!   the two halves of the loop overlap.
//! - [`WriteBehind::write`] writes a block now, after the held one if any, so Redis never skips a height.
//! - [`WriteBehind::flush`] makes the held write (a quiet topic, a registry change, the end of a term).
//! - A held write that is never made (the sequencer fails or is killed) is abandoned: Redis stays one block behind
//!   the log, and the next sync replays that block from the blocks topic. Every write is fenced on Redis `head`,
//!   so a late or repeated one changes nothing.

use pedigree_store::{Fenced, Store};
use tokio::time::Instant;

use crate::apply::Applied;
use crate::effects::{BlockEffects, write_block};
use crate::metrics::Metrics;

/// Sealed blocks on their way to Redis; at most one is held back.
pub struct WriteBehind {
    store: Store,
    held: Option<BlockEffects>,
    /// Every write's duration (phase `redis_write`).
    metrics: Metrics,
}

/// [`write_block`], timed.
async fn timed_write(store: &Store, metrics: &Metrics, block: &BlockEffects) -> anyhow::Result<Fenced> {
    let started = Instant::now();
    let fenced = write_block(store, block).await?;
    metrics.phase("redis_write", started.elapsed());
    Ok(fenced)
}

impl WriteBehind {
    pub fn new(store: Store, metrics: Metrics) -> Self {
        Self {
            store,
            held: None,
            metrics,
        }
    }

    /// The effects of the held block (Redis is at its parent), to lay over what is read from Redis.
    pub fn held(&self) -> Option<&Applied> {
        self.held.as_ref().map(|h| h.applied.as_ref())
    }

    /// How many canonical blocks Redis lacks because of a write held here: 0 or 1.
    pub fn lag(&self) -> u64 {
        u64::from(self.held.is_some())
    }

    /// Holds `block`'s write for later; a block already held is written first.
    pub async fn hold(&mut self, block: BlockEffects) -> anyhow::Result<()> {
        self.flush().await?;
        self.held = Some(block);
        Ok(())
    }

    /// Writes `block` now, after the held block if any; whether Redis holds it afterwards.
    pub async fn write(&mut self, block: BlockEffects) -> anyhow::Result<bool> {
        self.flush().await?;
        let fenced = timed_write(&self.store, &self.metrics, &block).await?;
        Ok(block.landed(fenced))
    }

    /// Makes the held write, if any; whether Redis holds that block afterwards (true when nothing was held). A
    /// refusal is left to the caller's next look at Redis `head`.
    pub async fn flush(&mut self) -> anyhow::Result<bool> {
        let Some(block) = self.held.take() else {
            return Ok(true);
        };
        let fenced = timed_write(&self.store, &self.metrics, &block).await?;
        Ok(block.landed(fenced))
    }

    /// Makes the held write while `work` runs on a blocking thread, and waits for both: `work`'s result, and whether
    /// Redis holds the held block afterwards (false: Redis moved to another chain meanwhile).
    pub async fn flush_alongside<T: Send + 'static>(
        &mut self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<(T, bool)> {
        let held = self.held.take();
        let (store, metrics) = (&self.store, &self.metrics);
        let write = async move {
            match &held {
                Some(block) => Ok::<_, anyhow::Error>(block.landed(timed_write(store, metrics, block).await?)),
                None => Ok(true),
            }
        };
        // Both are awaited whatever happens to the other: the write is never left running unobserved.
        let (done, landed) = tokio::join!(tokio::task::spawn_blocking(work), write);
        Ok((done?, landed?))
    }
}

impl Drop for WriteBehind {
    fn drop(&mut self) {
        if let Some(block) = &self.held {
            tracing::warn!(
                height = block.height,
                "a sealed block's redis write is abandoned: redis stays at its parent until the next sync replays it"
            );
        }
    }
}

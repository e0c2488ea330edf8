//! Finding where the chain stands after a (re)start, and bringing Redis up to it.
//!
//! The last message of the blocks topic is the chain head. Redis is a cache of the log: if its head is behind (a
//! crash between the Kafka acknowledgement and the Redis transaction, or an emptied Redis), the missing blocks are
//! read back from the blocks topic and applied again before anything new is sealed.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{Context, bail};
use pedigree_core::block::{Tip, open_header, tip_of};
use pedigree_core::participant::Registry;
use pedigree_core::pb::{Block, BlockHeader};
use pedigree_log::reader;
use pedigree_store::Store;
use prost::Message;
use tokio::sync::mpsc;

use crate::batch::Raw;
use crate::process::{Checked, apply_batch, check_all};

/// Where sealing continues.
pub struct Resumed {
    pub tip: Tip,
    /// Next offset to read, per events-topic partition.
    pub offsets: BTreeMap<i32, i64>,
}

/// Reads the chain head from the blocks topic and replays into Redis whatever it lacks.
pub async fn resume(
    brokers: &str,
    blocks_topic: &str,
    registry: &Arc<Registry>,
    store: &Store,
) -> anyhow::Result<Resumed> {
    let (b, t) = (brokers.to_string(), blocks_topic.to_string());
    let last = tokio::task::spawn_blocking(move || reader::read_last(&b, &t, 0)).await??;
    let redis_head = store.head().await?;
    let Some((_, bytes)) = last else {
        if redis_head > 0 {
            bail!("redis is at height {redis_head} but the blocks topic is empty: redis belongs to another chain");
        }
        return Ok(Resumed {
            tip: Tip::default(),
            offsets: BTreeMap::new(),
        });
    };
    let block = Block::decode(bytes.as_slice()).context("decoding the last block")?;
    let signed = block.header.clone().unwrap_or_default();
    open_header(&signed, &registry.sequencer_key).context("the last block's header does not verify")?;
    let (header, tip) = tip_of(&block).context("reading the chain tip from the last block")?;
    if redis_head > header.height {
        bail!(
            "redis is at height {redis_head}, ahead of the blocks topic at {}",
            header.height
        );
    }
    if redis_head < header.height {
        tracing::warn!(
            redis_head,
            chain_head = header.height,
            "redis is behind the log, replaying"
        );
        replay(brokers, blocks_topic, redis_head, registry, store).await?;
    }
    Ok(Resumed {
        tip,
        offsets: offsets_of(&header),
    })
}

fn offsets_of(header: &BlockHeader) -> BTreeMap<i32, i64> {
    header
        .resume_offsets
        .iter()
        .map(|o| (o.partition, o.next_offset))
        .collect()
}

/// Applies every block above `redis_head` to Redis, in order.
pub(crate) async fn replay(
    brokers: &str,
    topic: &str,
    redis_head: u64,
    registry: &Arc<Registry>,
    store: &Store,
) -> anyhow::Result<()> {
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(16);
    let (b, t) = (brokers.to_string(), topic.to_string());
    let reading = tokio::task::spawn_blocking(move || {
        reader::read_range(&b, &t, 0, 0, |_, payload| {
            // A closed channel means the applier failed; its error is the one reported.
            let _ = tx.blocking_send(payload.to_vec());
            Ok(())
        })
    });
    let mut applied = 0u64;
    while let Some(bytes) = rx.recv().await {
        let block = Block::decode(bytes.as_slice()).context("decoding a block during replay")?;
        let (header, _) = tip_of(&block)?;
        if header.height <= redis_head {
            continue;
        }
        replay_block(&block, &header, &bytes, registry, store).await?;
        applied += 1;
    }
    reading.await??;
    tracing::info!(blocks = applied, "replay done");
    Ok(())
}

async fn replay_block(
    block: &Block,
    header: &BlockHeader,
    bytes: &[u8],
    registry: &Arc<Registry>,
    store: &Store,
) -> anyhow::Result<()> {
    let raws = block
        .events
        .iter()
        .map(|e| Raw {
            partition: 0,
            offset: 0,
            payload: e.encode_to_vec(),
        })
        .collect();
    let mut checked = check_all(raws, registry.clone()).await?;
    checked.extend(block.rejected.iter().cloned().map(Checked::Invalid));
    let applied = apply_batch(checked, store, header.height).await?;
    if applied.events.len() != block.events.len() {
        bail!(
            "block {}: {} of its {} events apply again; the log and redis disagree",
            header.height,
            applied.events.len(),
            block.events.len()
        );
    }
    crate::app::write_effects(store, header.height, bytes, &applied).await
}

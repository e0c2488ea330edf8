//! Fenced Redis writes: a block's effects land only if Redis `head` is exactly the block's parent height.
//!
//! `pedigree_store::Store::write_block` applies a block unconditionally. With two sequencers that each believe they
//! lead, that would let a late writer move `head` back or apply a block twice, so the sequencer writes through this
//! compare-and-set instead: one Lua script (atomic in Redis) that checks `head == height - 1`, then sets every key of
//! the block and `head`. The keys are the store's schema (see `pedigree_store`'s module doc); this duplicates
//! `write_block`'s key layout until the store grows a `write_block_if_head`.

use pedigree_store::BlockWrite;
use prost::Message;
use redis::aio::ConnectionManager;

const SCRIPT: &str = r"
local head = tonumber(redis.call('GET', KEYS[1]) or '0')
if head ~= tonumber(ARGV[1]) then return head end
for i = 2, #KEYS do redis.call('SET', KEYS[i], ARGV[i + 1]) end
redis.call('SET', KEYS[1], ARGV[2])
return -1
";

/// What a fenced write did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fenced {
    /// The block's effects and `head` were written.
    Written,
    /// Redis `head` was not the parent height (nothing written): it holds this height instead.
    Refused { head: u64 },
}

/// A connection for fenced writes.
#[derive(Clone)]
pub struct Fence {
    con: ConnectionManager,
}

impl Fence {
    pub async fn connect(url: &str) -> redis::RedisResult<Self> {
        let con = ConnectionManager::new(redis::Client::open(url)?).await?;
        Ok(Self { con })
    }

    /// Writes `write` if and only if Redis `head` is `write.height - 1`, atomically.
    pub async fn write_block(&self, write: &BlockWrite<'_>) -> redis::RedisResult<Fenced> {
        let mut cmd = redis::cmd("EVAL");
        let keys = 1 + write.packs.len() + write.products.len() + write.outcomes.len() + 1;
        cmd.arg(SCRIPT).arg(keys).arg("head");
        for (key, _) in &write.packs {
            cmd.arg(format!("p:{key}"));
        }
        for gtin in &write.products {
            cmd.arg(format!("g:{gtin}"));
        }
        for (id, _) in &write.outcomes {
            let mut key = Vec::with_capacity(34);
            key.extend_from_slice(b"e:");
            key.extend_from_slice(id);
            cmd.arg(key);
        }
        cmd.arg(format!("b:{}", write.height));
        cmd.arg(write.height.saturating_sub(1)).arg(write.height);
        for (_, record) in &write.packs {
            cmd.arg(record.encode_to_vec());
        }
        for _ in &write.products {
            cmd.arg(1);
        }
        for (_, outcome) in &write.outcomes {
            cmd.arg(outcome.encode_to_vec());
        }
        cmd.arg(write.block);
        let mut con = self.con.clone();
        let answer: i64 = cmd.query_async(&mut con).await?;
        Ok(match u64::try_from(answer) {
            Ok(head) => Fenced::Refused { head },
            Err(_) => Fenced::Written,
        })
    }
}

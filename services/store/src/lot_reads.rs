//! Every pack of a GTIN in one consistent read: what tracing a lot needs (where its packs are now). The bucket
//! layout and every bucket are read in one MULTI/EXEC transaction with `head`, so a block written meanwhile (a bucket
//! split moves packs between buckets) can neither hide a pack nor count it twice; a layout that moved between the
//! two round trips is read again.

use pedigree_core::pb::PackRecord;
use pedigree_core::stored::{ParticipantIds, decode_pack};

use crate::Result;
use crate::buckets::Meta;
use crate::error::StoreError;
use crate::schema::{HEAD, bucket_key, meta_key};
use crate::store::Store;

/// A value of the transaction's answer, as `T`.
fn parse<T: redis::FromRedisValue>(value: Option<redis::Value>) -> Result<T> {
    let value = value.unwrap_or(redis::Value::Nil);
    Ok(redis::from_redis_value(value).map_err(redis::RedisError::from)?)
}

/// How many times a read is tried again when the layout moved under it.
const ATTEMPTS: usize = 5;

impl Store {
    /// Every pack of `gtin` as `(serial, record)`, and the height they were read at (0 and none for a GTIN with no
    /// packs). Costs one read of every bucket of the GTIN, during which Redis serves nothing else: for occasional
    /// queries (a recall), not per scan.
    pub async fn packs_of_gtin(
        &self,
        gtin: &str,
        ids: &(impl ParticipantIds + ?Sized),
    ) -> Result<(u64, Vec<(String, PackRecord)>)> {
        let mut con = self.con.clone();
        for _ in 0..ATTEMPTS {
            let raw: Option<String> = redis::cmd("GET").arg(meta_key(gtin)).query_async(&mut con).await?;
            let Some(meta) = Meta::parse(raw.as_deref()) else {
                if raw.is_none() {
                    return Ok((0, Vec::new()));
                }
                return Err(StoreError::BadMeta(meta_key(gtin)));
            };
            let mut pipe = redis::pipe();
            pipe.atomic();
            pipe.cmd("GET").arg(HEAD).cmd("GET").arg(meta_key(gtin));
            for b in 0..meta.buckets() {
                pipe.cmd("HGETALL").arg(bucket_key(gtin, b));
            }
            let mut values: Vec<redis::Value> = pipe.query_async(&mut con).await?;
            if values.len() < 2 {
                continue;
            }
            let buckets = values.split_off(2);
            let mut values = values.into_iter();
            let head: Option<u64> = parse(values.next())?;
            let seen: Option<String> = parse(values.next())?;
            if seen.as_deref() != raw.as_deref() {
                continue;
            }
            let mut packs = Vec::new();
            for (b, bucket) in buckets.into_iter().enumerate() {
                let entries: Vec<(String, Vec<u8>)> = parse(Some(bucket))?;
                for (serial, bytes) in entries {
                    let record = decode_pack(&bytes, ids).map_err(|source| StoreError::Stored {
                        key: format!("{}[{serial}]", bucket_key(gtin, b as u64)),
                        source,
                    })?;
                    packs.push((serial, record));
                }
            }
            return Ok((head.unwrap_or(0), packs));
        }
        Err(StoreError::Config(format!(
            "the bucket layout of {gtin} kept moving while it was read"
        )))
    }
}

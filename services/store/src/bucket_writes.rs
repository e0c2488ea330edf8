//! Which entries a block write puts in which bucket: the entries that leave the buckets a growing GTIN splits, and
//! the block's own packs, grouped per bucket so that the write script runs one HSET per bucket.
//!
//! Moves are read at write time, under the same fence as the write: the script only runs if `head` and every layout
//! are still the ones these moves were computed from, and only the sequencer's block writes (which move both) change
//! buckets.

use std::collections::{BTreeMap, HashMap};

use pedigree_core::pack_key::PackKey;
use pedigree_core::participant::Registry;
use pedigree_core::pb::PackRecord;
use pedigree_core::stored::{StoredError, encode_pack};

use crate::buckets::Meta;
use crate::error::{Result, StoreError};
use crate::schema::bucket_key;
use crate::store::Store;

/// Most pairs one HSET of the write script takes (Lua's `unpack` has a stack limit of a few thousand values).
const MAX_PAIRS_PER_HSET: usize = 256;

/// A block's pack writes grouped by bucket, in first-write order: (bucket key, [(serial, stored pack)]).
type BucketWrites<'a> = Vec<(String, Vec<(&'a str, Vec<u8>)>)>;

/// Groups a block's changed packs (key, record, whether new) by their bucket under the layouts after the block;
/// `registry` (the one after the block) encodes them.
pub(crate) fn bucket_groups<'a>(
    packs: &[(&'a PackKey, &'a PackRecord, bool)],
    registry: Option<&Registry>,
    layouts: &BTreeMap<&str, (Meta, Meta)>,
) -> Result<BucketWrites<'a>> {
    if packs.is_empty() {
        return Ok(Vec::new());
    }
    let registry = registry.ok_or(StoreError::Encode(StoredError::UnknownIndex(0)))?;
    let mut groups: BucketWrites<'a> = Vec::new();
    let mut open: HashMap<(&str, u64), usize, foldhash::fast::RandomState> = HashMap::default();
    for (key, record, _) in packs {
        let (gtin, serial) = (key.gtin(), key.serial());
        let bytes = encode_pack(record, registry).map_err(StoreError::Encode)?;
        let bucket = layouts[gtin].1.bucket(serial);
        let at = *open.entry((gtin, bucket)).or_insert_with(|| {
            groups.push((bucket_key(gtin, bucket), Vec::new()));
            groups.len() - 1
        });
        groups[at].1.push((serial, bytes));
        if groups[at].1.len() == MAX_PAIRS_PER_HSET {
            open.remove(&(gtin, bucket));
        }
    }
    Ok(groups)
}

/// A bucket entry as Redis returns it: serial and stored pack.
type Entry = (Vec<u8>, Vec<u8>);

/// Entries that change bucket: fields to delete per source bucket, pairs to insert per destination bucket (both
/// in chunks a single HDEL / HSET of the script can take).
#[derive(Debug, Default)]
pub(crate) struct Moves {
    pub dels: Vec<(String, Vec<Vec<u8>>)>,
    pub puts: Vec<(String, Vec<Entry>)>,
}

impl Store {
    /// Reads every bucket that splits between each GTIN's layouts (one pipeline of HGETALLs) and sorts its entries
    /// by their bucket under the new layout.
    pub(crate) async fn moves(&self, layouts: &BTreeMap<&str, (Meta, Meta)>) -> Result<Moves> {
        let sources: Vec<(&str, &Meta, u64)> = layouts
            .iter()
            .flat_map(|(gtin, (before, after))| before.split_sources(after).into_iter().map(move |b| (*gtin, after, b)))
            .collect();
        if sources.is_empty() {
            return Ok(Moves::default());
        }
        let mut pipe = redis::pipe();
        for (gtin, _, bucket) in &sources {
            pipe.hgetall(bucket_key(gtin, *bucket));
        }
        let mut con = self.con.clone();
        let contents: Vec<Vec<Entry>> = pipe.query_async(&mut con).await?;
        let mut moves = Moves::default();
        let mut puts: HashMap<(&str, u64), Vec<Entry>> = HashMap::new();
        for ((gtin, after, bucket), entries) in sources.iter().zip(contents) {
            let mut leaving = Vec::new();
            for (serial, value) in entries {
                let to = after.bucket_of(&serial);
                if to != *bucket {
                    leaving.push(serial.clone());
                    puts.entry((gtin, to)).or_default().push((serial, value));
                }
            }
            for chunk in leaving.chunks(2 * MAX_PAIRS_PER_HSET) {
                moves.dels.push((bucket_key(gtin, *bucket), chunk.to_vec()));
            }
        }
        for ((gtin, bucket), pairs) in puts {
            for chunk in pairs.chunks(MAX_PAIRS_PER_HSET) {
                moves.puts.push((bucket_key(gtin, bucket), chunk.to_vec()));
            }
        }
        Ok(moves)
    }
}

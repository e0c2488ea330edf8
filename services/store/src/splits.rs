//! Growing a GTIN's bucket layout within a block write: which entries leave the buckets that split, and where they go.
//!
//! Read at write time, under the same fence as the write: the script only runs if `head` and every layout are still
//! the ones these moves were computed from, and only the sequencer's block writes (which move both) change buckets.

use std::collections::{BTreeMap, HashMap};

use crate::buckets::{Meta, bucket_key};
use crate::{MAX_PAIRS_PER_HSET, Result, Store};

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

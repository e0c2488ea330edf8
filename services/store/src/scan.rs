//! Reading one pack for a scan: the bucket guessed from the GTIN's last-seen layout, checked in the same round trip.

use pedigree_core::pb::{PackRecord, ProductRecord};
use pedigree_core::stored::ParticipantIds;

use crate::buckets::{Meta, bucket_key, meta_key};
use crate::{Result, Store, StoreError, decode, decode_stored, product_key};

impl Store {
    /// What a scan needs, in one round trip (two when the GTIN's bucket layout moved since this store last saw
    /// it): the product and the pack.
    pub async fn lookup(
        &self,
        gtin: &str,
        serial: &str,
        registry: &(impl ParticipantIds + ?Sized),
    ) -> Result<(Option<ProductRecord>, Option<PackRecord>)> {
        let mut guess = self.cached_layout(gtin);
        for _ in 0..3 {
            let mut con = self.con.clone();
            // The pack is read before the layout: layouts only grow, so if the layout read after the pack is still
            // the guessed one, it was that one when the pack was read too (no MULTI needed).
            let (pack, layout, product): (Option<Vec<u8>>, Option<String>, Option<Vec<u8>>) = redis::pipe()
                .hget(bucket_key(gtin, guess.bucket(serial)), serial)
                .get(meta_key(gtin))
                .get(product_key(gtin))
                .query_async(&mut con)
                .await?;
            let layout = Meta::parse(layout.as_deref()).ok_or_else(|| StoreError::BadMeta(meta_key(gtin)))?;
            if layout.level != guess.level || layout.split != guess.split {
                self.remember_layout(gtin, layout);
                guess = layout;
                continue;
            }
            let product = product.as_deref().map(|b| decode(product_key(gtin), b)).transpose()?;
            let key = || format!("{gtin}{serial}");
            let pack = pack.as_deref().map(|b| decode_stored(key, b, registry)).transpose()?;
            return Ok((product, pack));
        }
        Err(StoreError::BadMeta(format!("{} keeps moving", meta_key(gtin))))
    }

    fn cached_layout(&self, gtin: &str) -> Meta {
        let layouts = self.layouts.lock().unwrap_or_else(|e| e.into_inner());
        layouts.get(gtin).copied().unwrap_or_default()
    }

    fn remember_layout(&self, gtin: &str, layout: Meta) {
        let mut layouts = self.layouts.lock().unwrap_or_else(|e| e.into_inner());
        // Bounded by the number of GTINs scanned; a verifier that sees more than this many starts over.
        if layouts.len() > 1_000_000 {
            layouts.clear();
        }
        layouts.insert(gtin.to_string(), layout);
    }
}

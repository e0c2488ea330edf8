//! `TraceService.TraceLot`: where the packs of a lot are now, by holder and status (DSCSA tracing information; what
//! an owner needs during a recall), for the product's owner and for those who read everything. One consistent read of
//! every pack of the GTIN ([`pedigree_store::Store::packs_of_gtin`]); packs in containers counted where their
//! outermost container is.

use std::collections::{BTreeMap, HashMap};

use pedigree_core::gs1::{Gtin, Lot};
use pedigree_core::pb::{LotPlace, LotTrace, TraceLotRequest};

use crate::access::{Caller, Denied};
use crate::error::VerifyError;
use crate::verify::{Verifier, inconsistent};

impl Verifier {
    pub(crate) async fn trace_lot(&self, caller: &Caller, request: &TraceLotRequest) -> Result<LotTrace, VerifyError> {
        let who = caller.id().ok_or(Denied::Trace)?;
        let gtin = Gtin::parse(&request.gtin)?;
        let lot = Lot::parse(&request.lot)?;
        self.ensure_fresh().await?;
        let product = self.store.products(&[gtin.as_str().to_string()]).await?.pop().flatten();
        let owns = product.as_ref().is_some_and(|p| p.owner == who);
        if !(owns || caller.reads_everything()) {
            return Err(Denied::Trace.into());
        }
        let directory = self.refresh_directory().await?;
        let (height, packs) = self.store.packs_of_gtin(gtin.as_str(), &*directory).await?;
        // (holder, status) -> (packs, suspect)
        let mut places: BTreeMap<(String, i32), (u64, u64)> = BTreeMap::new();
        let mut outermost: HashMap<String, (String, i32)> = HashMap::new();
        let mut count = 0;
        for (_, pack) in packs.iter().filter(|(_, p)| p.lot == lot.as_str()) {
            count += 1;
            let place = if pack.parent.is_empty() {
                (pack.holder.clone(), pack.status)
            } else if let Some(place) = outermost.get(&pack.parent) {
                place.clone()
            } else {
                let chain = self.store.container_chain(&pack.parent, &*directory).await?;
                let top = chain
                    .last()
                    .filter(|c| c.parent.is_empty())
                    .ok_or_else(|| inconsistent("a container around a pack is missing from the store"))?;
                let place = (top.holder.clone(), top.status);
                outermost.insert(pack.parent.clone(), place.clone());
                place
            };
            let entry = places.entry(place).or_default();
            entry.0 += 1;
            entry.1 += u64::from(pack.suspect != 0);
        }
        Ok(LotTrace {
            gtin: gtin.as_str().to_string(),
            lot: lot.as_str().to_string(),
            height,
            packs: count,
            places: places
                .into_iter()
                .map(|((holder, status), (packs, suspect))| LotPlace {
                    holder,
                    status,
                    packs,
                    suspect,
                })
                .collect(),
        })
    }
}

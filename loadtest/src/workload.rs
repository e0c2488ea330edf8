//! The events each scenario submits, as specs to sign: single-pack chains, bulk chains and a scan population.

use std::sync::Arc;

use anyhow::Context;
use pedigree_core::body;
use pedigree_core::container::ContainerKey;

use crate::ids::{EXPIRY, RunIds};
use crate::parties::{Parties, Party};
use crate::presign::Spec;

fn spec(signer: &Arc<Party>, body: pedigree_core::pb::event_payload::Body) -> Spec {
    Spec {
        signer: signer.clone(),
        body,
        inside: 0,
    }
}

/// Commission → ship to a wholesaler → receive → ship to a pharmacy → receive → dispense, for `serials`.
fn full_chain(parties: &Parties, i: usize, gtin: &str, lot: &str, serials: &[String]) -> Vec<Spec> {
    let (m, d, p) = parties.route(i);
    vec![
        spec(m, body::commission(gtin, lot, EXPIRY, serials)),
        spec(m, body::ship(gtin, serials, &d.id)),
        spec(d, body::receive(gtin, serials, &m.id)),
        spec(d, body::ship(gtin, serials, &p.id)),
        spec(p, body::receive(gtin, serials, &d.id)),
        spec(p, body::dispense(gtin, serials)),
    ]
}

/// The six events of one pack's chain, routed by `i` (the chaos run's clients).
pub fn single_pack_chain(parties: &Parties, i: usize, gtin: &str, lot: &str, serial: &str) -> Vec<Spec> {
    full_chain(parties, i, gtin, lot, &[serial.to_string()])
}

/// Enough single-pack chains (six events each) for `events` events; serials of series `series`.
pub fn ingest(ids: &RunIds, parties: &Parties, series: char, events: usize, gtin: &str) -> Vec<Vec<Spec>> {
    let lot = ids.lot(series, 0);
    (0..events.div_ceil(6).max(1))
        .map(|i| full_chain(parties, i, gtin, &lot, &[ids.serial(series, i)]))
        .collect()
}

/// Bulk chains: commission `pack_size` packs → ship them to a wholesaler → receive, until `packs` packs.
pub fn bulk(ids: &RunIds, parties: &Parties, packs: usize, pack_size: usize, gtin: &str) -> Vec<Vec<Spec>> {
    let size = pack_size.max(1);
    (0..packs.div_ceil(size).max(1))
        .map(|k| {
            let (m, d, _) = parties.route(k);
            let first = k * size;
            let serials: Vec<String> = (first..(first + size).min(packs.max(1)))
                .map(|i| ids.serial('B', i))
                .collect();
            vec![
                spec(m, body::commission(gtin, &ids.lot('B', k), EXPIRY, &serials)),
                spec(m, body::ship(gtin, &serials, &d.id)),
                spec(d, body::receive(gtin, &serials, &m.id)),
            ]
        })
        .collect()
}

/// Bulk chains as warehouses ship: commission `pack_size` packs → pack them into cases of `case_size` (one event
/// per case, each case an SSCC) → the cases onto a pallet (an SSCC) → ship the pallet → receive it, until `packs`
/// packs. A pallet shipment and receipt count the packs on the pallet.
pub fn bulk_aggregated(
    ids: &RunIds,
    parties: &Parties,
    packs: usize,
    pack_size: usize,
    case_size: usize,
    gtin: &str,
) -> anyhow::Result<Vec<Vec<Spec>>> {
    let (size, case_size) = (pack_size.max(1), case_size.max(1));
    let mut containers = 0;
    let mut next_sscc = || -> anyhow::Result<ContainerKey> {
        containers += 1;
        ContainerKey::parse_human(&ids.sscc(containers)).context("a generated sscc")
    };
    (0..packs.div_ceil(size).max(1))
        .map(|k| {
            let (m, d, _) = parties.route(k);
            let first = k * size;
            let serials: Vec<String> = (first..(first + size).min(packs.max(1)))
                .map(|i| ids.serial('B', i))
                .collect();
            let mut chain = vec![spec(m, body::commission(gtin, &ids.lot('B', k), EXPIRY, &serials))];
            let mut cases = Vec::new();
            for case in serials.chunks(case_size) {
                let key = next_sscc()?;
                chain.push(spec(m, body::pack(&key, &[(gtin, case)], &[])));
                cases.push(key);
            }
            let pallet = next_sscc()?;
            let inside = u32::try_from(serials.len()).unwrap_or(u32::MAX);
            chain.push(spec(m, body::pack(&pallet, &[], &cases)));
            for (signer, body) in [
                (m, body::ship_containers(std::slice::from_ref(&pallet), &d.id)),
                (d, body::receive_containers(std::slice::from_ref(&pallet), &m.id)),
            ] {
                chain.push(Spec {
                    inside,
                    ..spec(signer, body)
                });
            }
            Ok(chain)
        })
        .collect()
}

/// One lot of the scan population.
#[derive(Clone, Debug)]
pub struct PopLot {
    pub lot: String,
    /// Index of the first serial (serials of series 'V').
    pub first: usize,
    pub count: usize,
    /// Dispensed at a pharmacy; otherwise in stock at the manufacturer.
    pub dispensed: bool,
}

/// Packs to scan: one GTIN, lots in stock and lots dispensed.
#[derive(Clone, Debug)]
pub struct Population {
    pub gtin: String,
    pub lots: Vec<PopLot>,
}

impl Population {
    /// `packs` packs of product `gtin` in lots of at most `pack_size`; a tenth of them (at least one) dispensed.
    pub fn plan(ids: &RunIds, gtin: String, packs: usize, pack_size: usize) -> anyhow::Result<Self> {
        let packs = packs.max(2);
        let dispensed = (packs / 10).max(1);
        let size = pack_size.max(1);
        let mut lots = Vec::new();
        let mut first = 0;
        for (total, is_dispensed) in [(dispensed, true), (packs - dispensed, false)] {
            let end = first + total;
            while first < end {
                let count = size.min(end - first);
                lots.push(PopLot {
                    lot: ids.lot('V', lots.len()),
                    first,
                    count,
                    dispensed: is_dispensed,
                });
                first += count;
            }
        }
        Ok(Self { gtin, lots })
    }

    /// Stock lots are commissioned only; dispensed lots travel the full chain.
    pub fn specs(&self, ids: &RunIds, parties: &Parties) -> Vec<Vec<Spec>> {
        self.lots
            .iter()
            .enumerate()
            .map(|(k, lot)| {
                let serials: Vec<String> = (lot.first..lot.first + lot.count).map(|i| ids.serial('V', i)).collect();
                if lot.dispensed {
                    full_chain(parties, k, &self.gtin, &lot.lot, &serials)
                } else {
                    let (m, _, _) = parties.route(k);
                    vec![spec(m, body::commission(&self.gtin, &lot.lot, EXPIRY, &serials))]
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parties::Party;
    use pedigree_core::keys::KeyPair;
    use pedigree_core::participant::Role;

    fn parties() -> Parties {
        let party = |id: &str, role| Party {
            id: id.into(),
            role,
            key: KeyPair::generate(),
            chain_id: [0; 32],
        };
        Parties::new([
            party("m", Role::Manufacturer),
            party("d", Role::Distributor),
            party("p", Role::Pharmacy),
        ])
        .unwrap()
    }

    #[test]
    fn sizes_add_up() {
        let ids = RunIds::fresh().unwrap();
        let p = parties();
        assert_eq!(ingest(&ids, &p, 'I', 60, "09506000134352").len(), 10);
        let b = bulk(&ids, &p, 2500, 1000, "09506000134352");
        assert_eq!(b.len(), 3);
        let pop = Population::plan(&ids, ids.gtin().unwrap(), 2500, 1000).unwrap();
        assert_eq!(pop.lots.iter().map(|l| l.count).sum::<usize>(), 2500);
        assert_eq!(
            pop.lots.iter().filter(|l| l.dispensed).map(|l| l.count).sum::<usize>(),
            250
        );
    }
}

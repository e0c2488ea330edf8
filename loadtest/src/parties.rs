//! Who signs: the participants whose keys the load tester holds, grouped by role.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use pedigree_core::Hash;
use pedigree_core::keys::KeyPair;
use pedigree_core::participant::{Genesis, Role};

/// A participant with its private key.
#[derive(Clone, Debug)]
pub struct Party {
    pub id: String,
    pub role: Role,
    pub key: KeyPair,
    /// The chain it signs for (the genesis' chain id).
    pub chain_id: Hash,
}

/// Signers by role; each role has at least one.
#[derive(Clone, Debug)]
pub struct Parties {
    pub manufacturers: Vec<Arc<Party>>,
    pub distributors: Vec<Arc<Party>>,
    pub pharmacies: Vec<Arc<Party>>,
    /// Auditors and authorities: who the load tester signs in to the verifier as (to read event statuses).
    pub readers: Vec<Arc<Party>>,
}

impl Parties {
    pub fn new(all: impl IntoIterator<Item = Party>) -> anyhow::Result<Self> {
        let mut parties = Parties {
            manufacturers: Vec::new(),
            distributors: Vec::new(),
            pharmacies: Vec::new(),
            readers: Vec::new(),
        };
        for party in all {
            let list = match party.role {
                Role::Manufacturer => &mut parties.manufacturers,
                Role::Distributor => &mut parties.distributors,
                // Hospitals dispense like pharmacies: the end of a chain either way.
                Role::Pharmacy | Role::Hospital => &mut parties.pharmacies,
                Role::Auditor | Role::Authority => &mut parties.readers,
                // The governance key registers participants; it signs no custody event. The load's chains of custody
                // (manufacturer, distributor, pharmacy) leave 3PLs and repackagers out.
                Role::Governance | Role::ThirdPartyLogistics | Role::Repackager => continue,
            };
            list.push(Arc::new(party));
        }
        for (role, list) in [
            ("manufacturer", &parties.manufacturers),
            ("distributor", &parties.distributors),
            ("pharmacy", &parties.pharmacies),
        ] {
            if list.is_empty() {
                bail!("no {role} key available: the load test needs one of each role");
            }
        }
        Ok(parties)
    }

    /// The auditor or authority the load tester signs in to the verifier as.
    pub fn reader(&self) -> anyhow::Result<&Party> {
        match self.readers.first() {
            Some(reader) => Ok(reader),
            None => bail!("no auditor or authority key available: the load test reads event statuses as one"),
        }
    }

    /// The chain id of `dir/genesis.json`.
    pub fn chain_id(dir: &Path) -> anyhow::Result<Hash> {
        let path = dir.join("genesis.json");
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let genesis: Genesis = serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        Ok(genesis.chain_id()?)
    }

    /// Every participant of `dir/genesis.json` whose key `dir/{id}.pem` exists.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join("genesis.json");
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let genesis: Genesis = serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        let chain_id = genesis
            .chain_id()
            .with_context(|| format!("the chain id of {}", path.display()))?;
        let mut all = Vec::new();
        for entry in genesis.participants {
            let key_path = dir.join(format!("{}.pem", entry.id));
            let Ok(pem) = std::fs::read_to_string(&key_path) else {
                continue;
            };
            let key = KeyPair::from_pem(&pem).with_context(|| format!("parsing {}", key_path.display()))?;
            all.push(Party {
                id: entry.id,
                role: entry.role,
                key,
                chain_id,
            });
        }
        Self::new(all)
    }

    /// The i-th manufacturer, distributor and pharmacy, round robin, so load spreads over every participant.
    pub fn route(&self, i: usize) -> (&Arc<Party>, &Arc<Party>, &Arc<Party>) {
        let d = self.distributors.len();
        (
            &self.manufacturers[i % self.manufacturers.len()],
            &self.distributors[i % d],
            &self.pharmacies[(i / d) % self.pharmacies.len()],
        )
    }
}

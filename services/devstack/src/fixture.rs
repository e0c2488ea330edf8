//! A demo supply chain: one manufacturer, two distributors, two pharmacies, a sequencer key and the genesis file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use pedigree_core::keys::KeyPair;
use pedigree_core::participant::{Genesis, ParticipantEntry, Role};

/// A participant of the fixture with its key.
#[derive(Clone, Debug)]
pub struct Party {
    pub id: String,
    pub role: Role,
    pub key: KeyPair,
}

/// Keys and genesis written to a folder.
pub struct Fixture {
    pub dir: PathBuf,
    pub genesis_path: PathBuf,
    pub sequencer_key_path: PathBuf,
    pub sequencer: KeyPair,
    /// Signs registry changes (the genesis governance key).
    pub governance: KeyPair,
    pub parties: BTreeMap<String, Party>,
    pub genesis: Genesis,
    /// The genesis' chain id: every payload names it.
    pub chain_id: pedigree_core::Hash,
}

/// The demo participants: id, role, display name.
pub const DEMO_PARTIES: [(&str, Role, &str); 7] = [
    ("acme-pharma", Role::Manufacturer, "Acme Pharma GmbH"),
    ("medline-wholesale", Role::Distributor, "Medline Wholesale"),
    ("north-wholesale", Role::Distributor, "North Wholesale"),
    ("city-pharmacy", Role::Pharmacy, "City Pharmacy"),
    ("harbour-pharmacy", Role::Pharmacy, "Harbour Pharmacy"),
    ("ledger-auditor", Role::Auditor, "Ledger Audit LLP"),
    ("health-authority", Role::Authority, "National Medicines Authority"),
];

/// The GLN of the `i`-th demo participant: `095060000`, three digits, and the check digit.
pub fn demo_gln(i: usize) -> String {
    let first12 = format!("095060000{i:03}");
    let check = pedigree_core::gs1::gtin_check_digit(&format!("0{first12}")).unwrap_or_default();
    format!("{first12}{check}")
}

impl Fixture {
    /// Fresh keys for the demo participants and the sequencer, written into `dir`: `genesis.json`,
    /// `sequencer.pem` and `{id}.pem` per participant.
    pub fn create(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let sequencer = KeyPair::generate();
        let governance = KeyPair::generate();
        let parties: BTreeMap<String, Party> = DEMO_PARTIES
            .iter()
            .map(|(id, role, _)| {
                (
                    id.to_string(),
                    Party {
                        id: id.to_string(),
                        role: *role,
                        key: KeyPair::generate(),
                    },
                )
            })
            .collect();
        let participants = DEMO_PARTIES
            .iter()
            .enumerate()
            .map(|(i, (id, role, name))| ParticipantEntry {
                id: id.to_string(),
                role: *role,
                name: name.to_string(),
                gln: Some(demo_gln(i)),
                public_key: parties[*id].key.public().to_hex(),
            })
            .collect();
        let genesis = Genesis {
            chain_name: "pedigree-demo".into(),
            sequencer_public_key: sequencer.public().to_hex(),
            governance_public_key: Some(governance.public().to_hex()),
            participants,
        };
        let chain_id = genesis.chain_id()?;
        let genesis_path = dir.join("genesis.json");
        std::fs::write(&genesis_path, serde_json::to_string_pretty(&genesis)?)?;
        let sequencer_key_path = dir.join("sequencer.pem");
        std::fs::write(&sequencer_key_path, sequencer.to_pem())?;
        // The public half, for offline checks of proof bundles (`pedigree verify --offline ... --key`).
        std::fs::write(dir.join("sequencer.pub"), sequencer.public().to_hex())?;
        // The governance key signs registry changes (`pedigree register|rotate-key|revoke --key governance.pem`).
        std::fs::write(dir.join("governance.pem"), governance.to_pem())?;
        for party in parties.values() {
            std::fs::write(dir.join(format!("{}.pem", party.id)), party.key.to_pem())?;
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            genesis_path,
            sequencer_key_path,
            sequencer,
            governance,
            parties,
            genesis,
            chain_id,
        })
    }

    pub fn party(&self, id: &str) -> &Party {
        &self.parties[id]
    }
}

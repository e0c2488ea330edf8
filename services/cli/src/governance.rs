//! Registry changes signed with the governance key: register a participant, rotate its key, revoke it.

use std::path::PathBuf;

use anyhow::{Context, bail};
use pedigree_core::body;
use pedigree_core::governance::GOVERNANCE_ID;
use pedigree_core::keys::{KeyPair, PublicKey};
use pedigree_core::pb::ParticipantRole;

use crate::submit::{Signer, send_and_report};

/// The governance key and where to send.
#[derive(Clone, Debug, clap::Args)]
pub struct GovernanceSigner {
    /// Governance private key (PKCS#8 PEM); default {dir}/governance.pem.
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// Folder with the keys (as written by `pedigree up`).
    #[arg(long, env = "PEDIGREE_DIR", default_value = ".pedigree")]
    pub dir: PathBuf,
    /// Custody gRPC endpoint.
    #[arg(long, env = "PEDIGREE_CUSTODY", default_value = "http://127.0.0.1:50051")]
    pub custody: String,
    /// Verifier gRPC endpoint (for --wait).
    #[arg(long, env = "PEDIGREE_LEDGER", default_value = "http://127.0.0.1:50052")]
    pub ledger: String,
    /// Wait until the change is sealed or rejected, and print the outcome.
    #[arg(long)]
    pub wait: bool,
}

impl GovernanceSigner {
    fn signer(&self) -> Signer {
        Signer {
            id: GOVERNANCE_ID.to_string(),
            key: self.key.clone(),
            dir: self.dir.clone(),
            custody: self.custody.clone(),
            ledger: self.ledger.clone(),
            wait: self.wait,
        }
    }
}

/// The participant's public key: given as hex, or taken from its private key file.
#[derive(Clone, Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub struct NewKey {
    /// SEC1 public key, hex (as `pedigree keygen` prints it).
    #[arg(long)]
    pub public_key: Option<String>,
    /// Private key file (PKCS#8 PEM) whose public half to register.
    #[arg(long)]
    pub public_key_of: Option<PathBuf>,
}

impl NewKey {
    fn resolve(&self) -> anyhow::Result<PublicKey> {
        match (&self.public_key, &self.public_key_of) {
            (Some(hex), _) => PublicKey::from_hex(hex).context("--public-key"),
            (None, Some(path)) => {
                let pem = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                Ok(KeyPair::from_pem(&pem)?.public())
            }
            (None, None) => bail!("give --public-key or --public-key-of"),
        }
    }
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum RoleArg {
    Manufacturer,
    Distributor,
    Pharmacy,
}

#[derive(clap::Args)]
pub struct RegisterArgs {
    #[command(flatten)]
    pub signer: GovernanceSigner,
    /// New participant id (a-z, 0-9, '-', '_', '.'; never reused).
    #[arg(long)]
    pub id: String,
    #[arg(long, value_enum)]
    pub role: RoleArg,
    #[arg(long)]
    pub name: String,
    /// GS1 Global Location Number (13 digits).
    #[arg(long, default_value = "")]
    pub gln: String,
    #[command(flatten)]
    pub key: NewKey,
}

#[derive(clap::Args)]
pub struct RotateKeyArgs {
    #[command(flatten)]
    pub signer: GovernanceSigner,
    #[arg(long)]
    pub id: String,
    #[command(flatten)]
    pub key: NewKey,
}

#[derive(clap::Args)]
pub struct RevokeArgs {
    #[command(flatten)]
    pub signer: GovernanceSigner,
    #[arg(long)]
    pub id: String,
    #[arg(long)]
    pub reason: String,
}

pub async fn register(a: RegisterArgs) -> anyhow::Result<()> {
    let role = match a.role {
        RoleArg::Manufacturer => ParticipantRole::Manufacturer,
        RoleArg::Distributor => ParticipantRole::Distributor,
        RoleArg::Pharmacy => ParticipantRole::Pharmacy,
    };
    let body = body::register_participant(&a.id, role, &a.name, &a.gln, &a.key.resolve()?);
    send_and_report(&a.signer.signer(), body).await
}

pub async fn rotate_key(a: RotateKeyArgs) -> anyhow::Result<()> {
    send_and_report(&a.signer.signer(), body::rotate_key(&a.id, &a.key.resolve()?)).await
}

pub async fn revoke(a: RevokeArgs) -> anyhow::Result<()> {
    send_and_report(&a.signer.signer(), body::revoke_participant(&a.id, &a.reason)).await
}

//! Registry changes signed with the governance key: register a participant, rotate its key, revoke it, attest its
//! GS1 company prefixes.

use std::path::PathBuf;

use anyhow::{Context, bail};
use pedigree_core::body;
use pedigree_core::keys::{KeyPair, PublicKey};
use pedigree_core::participant::GOVERNANCE_ID;
use pedigree_core::pb::ParticipantRole;

use crate::submit::{Sending, sign_and_send};

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
    Hospital,
    #[value(name = "3pl")]
    ThirdPartyLogistics,
    Repackager,
    Auditor,
    Authority,
}

#[derive(clap::Args)]
pub struct RegisterArgs {
    // Signed as `governance`: the key defaults to {dir}/governance.pem.
    #[command(flatten)]
    pub signer: Sending,
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
    // Signed as `governance`: the key defaults to {dir}/governance.pem.
    #[command(flatten)]
    pub signer: Sending,
    #[arg(long)]
    pub id: String,
    #[command(flatten)]
    pub key: NewKey,
}

#[derive(clap::Args)]
pub struct RevokeArgs {
    // Signed as `governance`: the key defaults to {dir}/governance.pem.
    #[command(flatten)]
    pub signer: Sending,
    #[arg(long)]
    pub id: String,
    #[arg(long)]
    pub reason: String,
}

#[derive(clap::Args)]
pub struct AttestPrefixesArgs {
    // Signed as `governance`: the key defaults to {dir}/governance.pem.
    #[command(flatten)]
    pub signer: Sending,
    /// The manufacturer or repackager the prefixes are attested to.
    #[arg(long)]
    pub id: String,
    /// A GS1 company prefix (4 to 12 digits); repeat for several.
    #[arg(long = "prefix", required = true)]
    pub prefixes: Vec<String>,
}

pub async fn attest_prefixes(a: AttestPrefixesArgs) -> anyhow::Result<()> {
    sign_and_send(GOVERNANCE_ID, &a.signer, body::attest_prefixes(&a.id, &a.prefixes)).await
}

pub async fn register(a: RegisterArgs) -> anyhow::Result<()> {
    let role = match a.role {
        RoleArg::Manufacturer => ParticipantRole::Manufacturer,
        RoleArg::Distributor => ParticipantRole::Distributor,
        RoleArg::Pharmacy => ParticipantRole::Pharmacy,
        RoleArg::Hospital => ParticipantRole::Hospital,
        RoleArg::ThirdPartyLogistics => ParticipantRole::ThirdPartyLogistics,
        RoleArg::Repackager => ParticipantRole::Repackager,
        RoleArg::Auditor => ParticipantRole::Auditor,
        RoleArg::Authority => ParticipantRole::Authority,
    };
    let body = body::register_participant(&a.id, role, &a.name, &a.gln, &a.key.resolve()?);
    sign_and_send(GOVERNANCE_ID, &a.signer, body).await
}

pub async fn rotate_key(a: RotateKeyArgs) -> anyhow::Result<()> {
    sign_and_send(GOVERNANCE_ID, &a.signer, body::rotate_key(&a.id, &a.key.resolve()?)).await
}

#[derive(clap::Args)]
pub struct RotateSequencerKeyArgs {
    // Signed as `governance`: the key defaults to {dir}/governance.pem.
    #[command(flatten)]
    pub signer: Sending,
    /// The new sequencer key (configure it on the sequencers as PEDIGREE_SEQUENCER_NEXT_KEY first).
    #[command(flatten)]
    pub key: NewKey,
}

pub async fn rotate_sequencer_key(a: RotateSequencerKeyArgs) -> anyhow::Result<()> {
    sign_and_send(GOVERNANCE_ID, &a.signer, body::rotate_sequencer_key(&a.key.resolve()?)).await
}

pub async fn revoke(a: RevokeArgs) -> anyhow::Result<()> {
    sign_and_send(GOVERNANCE_ID, &a.signer, body::revoke_participant(&a.id, &a.reason)).await
}

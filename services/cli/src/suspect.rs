//! Suspect product from the command line: quarantine packs you hold; as the product's owner or an authority, clear
//! them or declare them illegitimate.

use pedigree_core::body;

use crate::submit::{Signer, sign_and_send};

#[derive(clap::Args)]
pub struct SuspectArgs {
    #[command(flatten)]
    pub signer: Signer,
    #[arg(long)]
    pub gtin: String,
    /// A serial; repeat for several.
    #[arg(long = "serial", required = true)]
    pub serials: Vec<String>,
    /// Why (quarantine, illegitimate) or what the investigation found (clear), for the record.
    #[arg(long)]
    pub reason: String,
}

pub async fn quarantine(a: SuspectArgs) -> anyhow::Result<()> {
    let body = body::quarantine(&a.gtin, &a.serials, &a.reason);
    sign_and_send(&a.signer.id, &a.signer.sending, body).await
}

pub async fn clear(a: SuspectArgs) -> anyhow::Result<()> {
    let body = body::clear_suspect(&a.gtin, &a.serials, &a.reason);
    sign_and_send(&a.signer.id, &a.signer.sending, body).await
}

pub async fn illegitimate(a: SuspectArgs) -> anyhow::Result<()> {
    let body = body::declare_illegitimate(&a.gtin, &a.serials, &a.reason);
    sign_and_send(&a.signer.id, &a.signer.sending, body).await
}

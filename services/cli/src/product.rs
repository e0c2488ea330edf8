//! Product master data from the command line: register a product (or change its data), consent to taking a product
//! over, and hand a product to a new owner with that consent.

use anyhow::{Context, bail};
use pedigree_core::body;
use pedigree_core::pb::{self, event_payload::Body};

use crate::submit::{Signer, credentials, sign_and_send};

#[derive(clap::Args)]
pub struct RegisterProductArgs {
    #[command(flatten)]
    pub signer: Signer,
    /// GTIN-14 of the trade item packs are commissioned under (under a GS1 company prefix attested to you).
    #[arg(long)]
    pub gtin: String,
    /// Product name as printed on the pack.
    #[arg(long)]
    pub name: String,
    /// Strength, e.g. "500 mg".
    #[arg(long, default_value = "")]
    pub strength: String,
    /// Dose form, e.g. "film-coated tablet".
    #[arg(long)]
    pub form: String,
    /// Units in one pack.
    #[arg(long)]
    pub pack_size: u32,
    /// A national code as SYSTEM=CODE (e.g. NDC=0777-3105-02, PZN=01234567); repeat for several.
    #[arg(long = "national-code")]
    pub national_codes: Vec<String>,
    /// A market the product is placed on (ISO 3166-1 alpha-2, e.g. DE); repeat for several.
    #[arg(long = "market")]
    pub markets: Vec<String>,
    /// A link the Digital Link resolver redirects to, as TYPE=URL or TYPE@LANG=URL (e.g.
    /// gs1:epil@de=https://example.com/pil-de.pdf); repeat for several.
    #[arg(long = "link")]
    pub links: Vec<String>,
}

pub async fn register_product(a: RegisterProductArgs) -> anyhow::Result<()> {
    let Body::RegisterProduct(mut message) =
        body::register_product(&a.gtin, &a.name, &a.strength, &a.form, a.pack_size)
    else {
        unreachable!("register_product builds a RegisterProduct");
    };
    for code in &a.national_codes {
        let Some((system, code)) = code.split_once('=') else {
            bail!("--national-code: give SYSTEM=CODE, e.g. NDC=0777-3105-02");
        };
        message.national_codes.push(pb::NationalCode {
            system: system.to_string(),
            code: code.to_string(),
        });
    }
    message.markets.clone_from(&a.markets);
    for link in &a.links {
        let Some((kind, href)) = link.split_once('=') else {
            bail!("--link: give TYPE=URL or TYPE@LANG=URL, e.g. gs1:pip=https://example.com/p");
        };
        let (link_type, lang) = kind.split_once('@').unwrap_or((kind, ""));
        message.links.push(pb::ProductLink {
            link_type: link_type.to_string(),
            href: href.to_string(),
            title: String::new(),
            lang: lang.to_string(),
        });
    }
    sign_and_send(&a.signer.id, &a.signer.sending, Body::RegisterProduct(message)).await
}

#[derive(clap::Args)]
pub struct ConsentArgs {
    /// You: the new owner, whose key signs the consent.
    #[command(flatten)]
    pub signer: Signer,
    #[arg(long)]
    pub gtin: String,
    /// The product's current owner.
    #[arg(long)]
    pub from: String,
    /// The product's number of earlier transfers (0 for its first).
    #[arg(long, default_value_t = 0)]
    pub sequence: u32,
}

/// Prints the new owner's consent (hex) for the current owner to send with `transfer-product`. Nothing is submitted.
pub fn consent(a: ConsentArgs) -> anyhow::Result<()> {
    let me = credentials(&a.signer.id, &a.signer.sending)?;
    let consent = body::transfer_consent(&me.key, &me.chain_id, &a.gtin, &a.from, &a.signer.id, a.sequence);
    println!("consent {}", hex::encode(consent));
    Ok(())
}

#[derive(clap::Args)]
pub struct TransferProductArgs {
    /// You: the product's current owner.
    #[command(flatten)]
    pub signer: Signer,
    #[arg(long)]
    pub gtin: String,
    /// The new owner (a manufacturer or repackager).
    #[arg(long)]
    pub to: String,
    /// The product's number of earlier transfers (0 for its first), as the consent was signed for.
    #[arg(long, default_value_t = 0)]
    pub sequence: u32,
    /// The new owner's consent, hex (as `pedigree product-consent` prints it).
    #[arg(long)]
    pub consent: String,
}

pub async fn transfer_product(a: TransferProductArgs) -> anyhow::Result<()> {
    let consent = hex::decode(a.consent.trim()).context("--consent: not hex")?;
    let body = body::transfer_product(&a.gtin, &a.to, a.sequence, consent);
    sign_and_send(&a.signer.id, &a.signer.sending, body).await
}

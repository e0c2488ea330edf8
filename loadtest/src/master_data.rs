//! Before packs of a GTIN are commissioned, the GTIN is a registered product of the manufacturer: governance attests
//! the load's GS1 company prefix to it (when the load tester holds the governance key), the manufacturer registers
//! the product, and the load waits until the verifier knows it. Untimed: set-up, not load.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use pedigree_core::body;
use pedigree_core::envelope::{new_payload, sign_payload};
use pedigree_core::keys::KeyPair;
use pedigree_core::kind::EventKind;
use pedigree_core::participant::{GOVERNANCE_ID, Role};
use pedigree_core::pb::Verdict;

use crate::ids::LOAD_PREFIX;
use crate::parties::Party;
use crate::submit::Pool;

/// How long custody may take to see the attestation, and the verifier the product.
const SETTLE: Duration = Duration::from_secs(60);

/// Registers `gtin` (under [`LOAD_PREFIX`]) as `owner`'s product, attesting the prefix first with `governance`
/// when given (a stack whose governance already attested it needs none).
pub async fn register_product(
    custody: &Pool,
    verifier: &Pool,
    governance: Option<&KeyPair>,
    owner: &Party,
    gtin: &str,
) -> anyhow::Result<()> {
    if let Some(key) = governance {
        let attest = body::attest_prefixes(&owner.id, &[LOAD_PREFIX]);
        let envelope = sign_payload(key, &new_payload(&owner.chain_id, GOVERNANCE_ID, attest));
        custody
            .submit(Role::Governance, EventKind::AttestPrefixes, envelope)
            .await
            .context("attesting the load's gs1 company prefix")?;
    }
    let register = body::register_product(gtin, "Load test product", "10 mg", "tablet", 30);
    let started = Instant::now();
    loop {
        let envelope = sign_payload(&owner.key, &new_payload(&owner.chain_id, &owner.id, register.clone()));
        match custody.submit(owner.role, EventKind::RegisterProduct, envelope).await {
            Ok(_) => break,
            // Custody knows the attestation once it has read the block that sealed it.
            Err(s) if s.message().contains("prefix") && started.elapsed() < SETTLE => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(s) => bail!("registering product {gtin} as {}: {}", owner.id, s.message()),
        }
    }
    // Sealed once a scan of the GTIN no longer says the product is unknown.
    let probe = format!("01{gtin}21PROBE");
    while started.elapsed() < SETTLE {
        if let Ok(answer) = verifier.verify(probe.clone()).await
            && answer.get_ref().verdict() != Verdict::UnknownProduct
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("product {gtin} was not registered within {} s", SETTLE.as_secs())
}

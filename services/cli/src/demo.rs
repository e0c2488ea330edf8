//! The demo scenario: a lot travels manufacturer → wholesaler → pharmacy, one pack is dispensed, four scans.

use std::time::Duration;

use anyhow::bail;
use pedigree_core::body;
use pedigree_core::envelope::{new_payload, sign_payload};
use pedigree_core::gs1::GS;
use pedigree_core::keys::KeyPair;
use pedigree_core::participant::GOVERNANCE_ID;
use pedigree_core::pb::{EventState, ParticipantRole, event_payload::Body};
use pedigree_devstack::Fixture;

use crate::connect::Credentials;
use crate::submit::{describe, submit, wait_outcome};
use crate::verify::{to_json, verify};

const GTIN: &str = "09506000134352";
/// The demo manufacturer's GS1 company prefix (GS1's example prefix, which `GTIN` is under).
const PREFIX: &str = "9506000";
const LOT: &str = "LOT42A";
const EXPIRY: &str = "281231";

async fn step(fixture: &Fixture, custody: &str, ledger: &str, who: &str, what: &str, body: Body) -> anyhow::Result<()> {
    signed_step(fixture, &fixture.party(who).key, (custody, ledger), who, what, body).await
}

async fn signed_step(
    fixture: &Fixture,
    key: &KeyPair,
    (custody, ledger): (&str, &str),
    who: &str,
    what: &str,
    body: Body,
) -> anyhow::Result<()> {
    let envelope = sign_payload(key, &new_payload(&fixture.chain_id, who, body));
    let id = submit(custody, envelope).await?;
    let signer = Credentials {
        id: who.to_string(),
        key: key.clone(),
        chain_id: fixture.chain_id,
    };
    let status = wait_outcome(ledger, &signer, &id, Duration::from_secs(30)).await?;
    println!("  {who:<18} {what:<40} {}", describe(&status));
    if status.state() != EventState::Committed {
        bail!("demo event was not committed: {}", describe(&status));
    }
    Ok(())
}

pub async fn run(fixture: &Fixture, custody: &str, verifier: &str) -> anyhow::Result<()> {
    let serials: Vec<String> = (1..=6).map(|i| format!("SN{i:06}")).collect();
    let to_pharmacy = &serials[..3];
    println!("demo: custody events");
    let (mfr, dist, pharm) = ("acme-pharma", "medline-wholesale", "city-pharmacy");
    let s = |x: &str| x.to_string();
    master_data(fixture, custody, verifier, mfr).await?;
    step(
        fixture,
        custody,
        verifier,
        mfr,
        &format!("commission {} packs, lot {LOT}", serials.len()),
        body::commission(GTIN, LOT, EXPIRY, &serials),
    )
    .await?;
    step(
        fixture,
        custody,
        verifier,
        mfr,
        &format!("ship {} packs to {dist}", serials.len()),
        body::ship(GTIN, &serials, dist),
    )
    .await?;
    step(
        fixture,
        custody,
        verifier,
        dist,
        &s("receive them"),
        body::receive(GTIN, &serials, mfr),
    )
    .await?;
    step(
        fixture,
        custody,
        verifier,
        dist,
        &format!("ship {} packs to {pharm}", to_pharmacy.len()),
        body::ship(GTIN, to_pharmacy, pharm),
    )
    .await?;
    step(
        fixture,
        custody,
        verifier,
        pharm,
        &s("receive them"),
        body::receive(GTIN, to_pharmacy, dist),
    )
    .await?;
    step(
        fixture,
        custody,
        verifier,
        pharm,
        &format!("dispense {}", serials[0]),
        body::dispense(GTIN, &serials[..1]),
    )
    .await?;
    onboard(fixture, custody, verifier, dist, &serials[3..4]).await?;
    println!("demo: scans at {pharm}");
    let scans = [
        (
            "in-stock pack",
            format!("]d201{GTIN}17{EXPIRY}10{LOT}{GS}21{}", serials[1]),
        ),
        (
            "dispensed pack",
            format!("]d201{GTIN}17{EXPIRY}10{LOT}{GS}21{}", serials[0]),
        ),
        ("unknown serial", format!("]d201{GTIN}17{EXPIRY}10{LOT}{GS}21FAKE0001")),
        (
            "wrong lot",
            format!("]d201{GTIN}17{EXPIRY}10LOT99Z{GS}21{}", serials[2]),
        ),
    ];
    println!("demo: anonymous scans (no holder, no height)");
    for (label, code) in &scans {
        let answer = to_json(&verify(verifier, code, false, None).await?);
        println!(
            "  {label:<16} {:<16} {}",
            answer["verdict"].as_str().unwrap_or("?"),
            answer
        );
    }
    println!("demo: the same scans by {pharm}, signed in");
    let pharmacy = Credentials {
        id: pharm.to_string(),
        key: fixture.party(pharm).key.clone(),
        chain_id: fixture.chain_id,
    };
    for (label, code) in &scans {
        let answer = to_json(&verify(verifier, code, false, Some(&pharmacy)).await?);
        println!(
            "  {label:<16} {:<24} {}",
            answer["verdict"].as_str().unwrap_or("?"),
            answer
        );
    }
    Ok(())
}

/// Governance attests the manufacturer's GS1 company prefix, and the manufacturer registers its product: packs of
/// a GTIN are commissioned only once it is registered, by the owner of its prefix.
async fn master_data(fixture: &Fixture, custody: &str, ledger: &str, mfr: &str) -> anyhow::Result<()> {
    println!("demo: master data");
    let attest = body::attest_prefixes(mfr, &[PREFIX]);
    let what = format!("attest prefix {PREFIX} to {mfr}");
    signed_step(
        fixture,
        &fixture.governance,
        (custody, ledger),
        GOVERNANCE_ID,
        &what,
        attest,
    )
    .await?;
    let Body::RegisterProduct(mut product) =
        body::register_product(GTIN, "Paracetamol Acme 500 mg", "500 mg", "film-coated tablet", 20)
    else {
        unreachable!("register_product builds a RegisterProduct");
    };
    product.national_codes.push(pedigree_core::pb::NationalCode {
        system: "PZN".into(),
        code: "01234567".into(),
    });
    product.markets = vec!["DE".into(), "AT".into()];
    // Where the resolver sends a `linkType=gs1:pip` or `gs1:epil` request (example addresses).
    product.links = vec![
        pedigree_core::pb::ProductLink {
            link_type: "gs1:pip".into(),
            href: "https://acme-pharma.example/paracetamol-500".into(),
            title: "Paracetamol Acme 500 mg".into(),
            lang: "en".into(),
        },
        pedigree_core::pb::ProductLink {
            link_type: "gs1:epil".into(),
            href: "https://acme-pharma.example/paracetamol-500/pil-de.pdf".into(),
            title: "Gebrauchsinformation".into(),
            lang: "de".into(),
        },
    ];
    let register = Body::RegisterProduct(product);
    // Custody follows the sealed registry: the registration is taken once custody has seen the attestation.
    let what = format!("register product {GTIN}");
    let mut tries = 0;
    while let Err(e) = step(fixture, custody, ledger, mfr, &what, register.clone()).await {
        tries += 1;
        if tries > 40 {
            return Err(e);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// A pharmacy that is not in the genesis joins through governance and receives a pack: the registry lives on the
/// ledger. Its key is written next to the others, so it can sign with `pedigree ... --as bay-pharmacy`.
async fn onboard(fixture: &Fixture, custody: &str, ledger: &str, dist: &str, serials: &[String]) -> anyhow::Result<()> {
    let newcomer = "bay-pharmacy";
    let key = KeyPair::generate();
    std::fs::write(fixture.dir.join(format!("{newcomer}.pem")), key.to_pem())?;
    println!("demo: governance");
    let register = body::register_participant(newcomer, ParticipantRole::Pharmacy, "Bay Pharmacy", "", &key.public());
    let what = format!("register {newcomer} (pharmacy)");
    signed_step(
        fixture,
        &fixture.governance,
        (custody, ledger),
        GOVERNANCE_ID,
        &what,
        register,
    )
    .await?;
    // Custody follows the sealed registry: the newcomer may be named once custody has seen its registration.
    let ship = body::ship(GTIN, serials, newcomer);
    let what = format!("ship {} to {newcomer}", serials[0]);
    let mut tries = 0;
    while let Err(e) = step(fixture, custody, ledger, dist, &what, ship.clone()).await {
        tries += 1;
        if tries > 40 {
            return Err(e);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let receive = body::receive(GTIN, serials, dist);
    signed_step(fixture, &key, (custody, ledger), newcomer, "receive it", receive).await
}

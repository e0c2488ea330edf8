//! Rotating the sequencer key on a running stack (real broker, real Redis): governance announces the new key, the
//! sequencer that holds both keys signs the announcing block with the old one and every later block with the new
//! one; bundles check against the schedule; a sequencer that holds only the retired key refuses to seal, naming the
//! key it lacks; one that holds only the new key resumes from Redis' checkpoint and seals.

use std::time::Duration;

use pedigree_core::block::open_header_at;
use pedigree_core::gs1::gtin_check_digit;
use pedigree_core::keys::KeyPair;
use pedigree_core::participant::Registry;
use pedigree_core::pb::{BlockHeader, EventState, GetBlockRequest, VerifyRequest};
use pedigree_core::proof::{BundleError, check_bundle, check_bundle_with};
use pedigree_core::sequencer_keys::{SequencerKey, SequencerKeys};
use pedigree_e2e::{Stack, body};
use prost::Message;

const MFR: &str = "acme-pharma";

fn header(block: &pedigree_core::pb::Block) -> BlockHeader {
    BlockHeader::decode(block.header.as_ref().unwrap().header.as_slice()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sequencer_key_rotates_on_a_running_chain() {
    let stack = Stack::spawn_bare(100).await;
    let dir = tempfile::tempdir().unwrap();
    let next = KeyPair::generate();
    let next_path = dir.path().join("sequencer-next.pem");
    std::fs::write(&next_path, next.to_pem()).unwrap();
    let old = Registry::from_genesis(&stack.fixture.genesis).unwrap().sequencer_key();

    // A sequencer holding both keys, as an operator configures it before the rotation.
    let both = pedigree_sequencer::Config {
        next_key: Some(next_path.clone()),
        ..stack.sequencer_config()
    };
    let sequencer = stack.sequencer_with(both).await;
    let g = format!("0950600013435{}", gtin_check_digit("0950600013435").unwrap());
    stack.product(MFR, &g).await;
    // Through GovernanceService.RotateSequencerKey, the RPC for the kind.
    let rotate = stack.sign_governance(body::rotate_sequencer_key(&next.public()));
    let id = stack.submit(rotate).await.unwrap().event_id;
    let announced = stack.outcome(&id).await;
    assert_eq!(announced.state(), EventState::Committed, "{announced:?}");
    let rotated_at = announced.height;
    // Giving the sequencer the old key back is refused (a key is never reused).
    let back = stack.sign_governance(body::rotate_sequencer_key(&old));
    let id = stack.submit(back).await.unwrap().event_id;
    assert_eq!(stack.outcome(&id).await.state(), EventState::Rejected);

    let commission = body::commission(&g, "LOTK", "281231", &["K1", "K2"]);
    let id = stack.submit_as(MFR, commission).await.unwrap().event_id;
    let sealed = stack.outcome(&id).await;
    assert_eq!(sealed.state(), EventState::Committed);
    assert!(sealed.height > rotated_at);

    // The announcing block is the old key's, the next ones the new key's.
    let mut ledger = stack.ledger().await;
    let announcing = ledger
        .get_block(GetBlockRequest { height: rotated_at })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(header(&announcing).sequencer_key_id, old.key_id());
    let later = ledger
        .get_block(GetBlockRequest { height: sealed.height })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(header(&later).sequencer_key_id, next.public().key_id());
    let chain = stack.fixture.chain_id;
    let schedule = SequencerKeys::new(vec![
        SequencerKey {
            key: old,
            from_height: 1,
        },
        SequencerKey {
            key: next.public(),
            from_height: rotated_at + 1,
        },
    ])
    .unwrap();
    let keys = &schedule;
    open_header_at(later.header.as_ref().unwrap(), &chain, keys).expect("the new key signs the later block");
    // The chain checks block by block with the key each height's schedule names, and audits from genesis.
    assert!(stack.sealed_ids().await.len() >= 4);
    let auditor = stack.audit().await.expect("the rotated chain audits");
    assert_eq!(auditor.registry().sequencer_keys(), keys);

    // A bundle from a block after the rotation checks against the schedule, not against the retired key.
    let answer = stack
        .verifier_as(MFR)
        .await
        .verify(VerifyRequest {
            code: format!("01{g}21K1"),
            include_proof: true,
        })
        .await
        .unwrap()
        .into_inner();
    let bundle = answer.proof.expect("the owner gets a bundle");
    check_bundle_with(&bundle, keys, Some(&chain)).expect("the bundle checks against the schedule");
    assert!(matches!(
        check_bundle(&bundle, &old, Some(&chain)),
        Err(BundleError::Header(_))
    ));

    // A sequencer with only the retired key refuses to seal the next block and says which key it lacks.
    sequencer.stop().await.unwrap();
    let retired_only = stack.sequencer_with(stack.sequencer_config()).await;
    let pending = body::commission(&g, "LOTK", "281231", &["K3"]);
    let pending_id = stack.submit_as(MFR, pending).await.unwrap().event_id;
    for _ in 0..600 {
        if retired_only.is_finished() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        retired_only.is_finished(),
        "a sequencer without the chain's key must not keep running"
    );
    let error = format!("{:#}", retired_only.stop().await.expect_err("it halted"));
    assert!(
        error.contains(&next.public().key_id()) && error.contains("does not hold"),
        "{error}"
    );

    // One holding only the new key resumes (Redis' checkpoint carries the schedule) and seals what was pending.
    let new_only = pedigree_sequencer::Config {
        key: next_path,
        ..stack.sequencer_config()
    };
    let sequencer = stack.sequencer_with(new_only).await;
    assert_eq!(stack.outcome(&pending_id).await.state(), EventState::Committed);
    stack.audit().await.expect("still audits");
    sequencer.stop().await.unwrap();
    stack.shutdown().await;
}

//! A backlog sealed one event per block. Under a backlog the sequencer reads each block's packs while the block
//! before it is not written to Redis yet (that block's effects laid over them) and runs the state machine while Redis
//! writes: each event below depends on the one just before it, so a pack read from Redis instead of from the unwritten
//! block would give a different verdict, and the end state must equal a replay's, which seals nothing and writes one
//! block at a time.

use std::collections::HashSet;
use std::time::Duration;

use pedigree_core::gs1::gtin_check_digit;
use pedigree_core::pb::{EventState, RejectCode, VerifyRequest, VerifyResponse};
use pedigree_e2e::{Stack, body};

const MFR: &str = "acme-pharma";
const WHOLESALE: &str = "medline-wholesale";
const PHARMACY: &str = "city-pharmacy";
const SERIALS: [&str; 3] = ["B1", "B2", "B3"];

fn gtin(prefix13: &str) -> String {
    format!("{prefix13}{}", gtin_check_digit(prefix13).expect("13 digits"))
}

async fn scans(stack: &Stack, g: &str) -> Vec<VerifyResponse> {
    let mut verifier = stack.verifier_as(pedigree_e2e::AUTHORITY).await;
    let mut out = Vec::new();
    for serial in SERIALS {
        let request = VerifyRequest {
            code: format!("01{g}21{serial}"),
            include_proof: true,
        };
        out.push(verifier.verify(request).await.expect("verify").into_inner());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_sealed_block_on_block_matches_a_replay() {
    let mut stack = Stack::spawn_bare(1).await;
    let g = gtin("0950600013435");
    let product = stack.product_in_topic(MFR, &g).await;
    let (mut m, mut d, mut p) = (
        stack.manufacturer().await,
        stack.distributor().await,
        stack.pharmacy().await,
    );
    let s = &stack;
    let sign = |who: &str, b| s.sign(who, b);

    // No sequencer runs yet: everything waits on the events topic.
    let commission = sign(MFR, body::commission(&g, "L1", "281231", &SERIALS));
    let mut accepted = product.to_vec();
    accepted.push(m.commission(commission.clone()).await.unwrap().into_inner().event_id);
    // The same envelope again, right behind: decided in the block before, which is not in Redis yet.
    stack.append_unchecked(&commission).await;
    let chain = [
        m.ship(sign(MFR, body::ship(&g, &["B1", "B2"], WHOLESALE))).await,
        d.receive(sign(WHOLESALE, body::receive(&g, &["B1", "B2"], MFR))).await,
        d.ship(sign(WHOLESALE, body::ship(&g, &["B1"], PHARMACY))).await,
        p.receive(sign(PHARMACY, body::receive(&g, &["B1"], WHOLESALE))).await,
        p.dispense(sign(PHARMACY, body::dispense(&g, &["B1"]))).await,
    ];
    accepted.extend(chain.into_iter().map(|r| r.unwrap().into_inner().event_id));
    let refused = [
        // B2 never reached the pharmacy.
        (
            p.dispense(sign(PHARMACY, body::dispense(&g, &["B2"]))).await,
            RejectCode::NotHolder,
        ),
        // B1 was dispensed one block earlier.
        (
            p.dispense(sign(PHARMACY, body::dispense(&g, &["B1"]))).await,
            RejectCode::AlreadyDispensedByYou,
        ),
    ];

    stack.start_sequencer().await;
    for id in &accepted {
        assert_eq!(stack.outcome(id).await.state(), EventState::Committed);
    }
    for (response, code) in refused {
        let status = stack.outcome(&response.unwrap().into_inner().event_id).await;
        assert_eq!(status.state(), EventState::Rejected);
        assert_eq!(status.reject_code(), code, "{}", status.reason);
    }
    let ids = stack.sealed_ids().await;
    assert_eq!(ids.len(), accepted.len(), "the duplicate commission was sealed twice");
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
    stack.audit().await.expect("the chain audits clean");
    let sealed = scans(&stack, &g).await;
    assert_eq!(
        sealed
            .iter()
            .map(|r| (r.verdict(), r.holder.as_str()))
            .collect::<Vec<_>>(),
        [
            (pedigree_core::pb::Verdict::Dispensed, PHARMACY),
            (pedigree_core::pb::Verdict::Verified, WHOLESALE),
            (pedigree_core::pb::Verdict::Verified, MFR),
        ]
    );

    // Rebuilt from the log, block by block: every answer, proofs included, is the same.
    stack.stop_sequencer().await;
    let store = pedigree_store::Store::connect(&stack.redis.admin_config())
        .await
        .unwrap();
    let head = store.head().await.unwrap();
    store.flush_all_for_tests().await.unwrap();
    stack.start_sequencer().await;
    for _ in 0..600 {
        if store.head().await.unwrap() == head {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(store.head().await.unwrap(), head);
    assert_eq!(scans(&stack, &g).await, sealed);
    stack.shutdown().await;
}

//! `TraceService.GetPackHistory` and the illegitimate-product notice to past holders, through the real stack: a
//! pack's events in chain order (its own and those of the pallet it travelled in), each with a proof that checks
//! offline and discloses that pack (or that pallet) only; for the parties in its chain and authorities; and an
//! illegitimate declaration reaches a holder two hops back, and nobody outside the pack's chain; a Redis rebuilt from
//! the log gives the same history.

use std::time::Duration;

use pedigree_core::container::bracketed;
use pedigree_core::gs1::gtin_check_digit;
use pedigree_core::participant::Registry;
use pedigree_core::pb::notification_service_client::NotificationServiceClient;
use pedigree_core::pb::trace_service_client::TraceServiceClient;
use pedigree_core::pb::{Notification, NotificationKind, PackHistory, PackHistoryRequest, SubscribeRequest};
use pedigree_core::proof::check_bundle;
use pedigree_e2e::{AUTHORITY, Stack, body};
use tonic::Code;

const MFR: &str = "acme-pharma";
const WHOLESALER: &str = "medline-wholesale";
const NORTH: &str = "north-wholesale";
const PHARMACY: &str = "city-pharmacy";
const HARBOUR: &str = "harbour-pharmacy";

async fn history(stack: &Stack, who: &str, gtin: &str, serial: &str) -> Result<PackHistory, tonic::Status> {
    TraceServiceClient::new(stack.authed(who).await)
        .get_pack_history(PackHistoryRequest {
            gtin: gtin.into(),
            serial: serial.into(),
            include_proofs: true,
            ..PackHistoryRequest::default()
        })
        .await
        .map(tonic::Response::into_inner)
}

/// `who`'s notifications from the chain's start up to and including the first for which `last` holds.
async fn notes_until(stack: &Stack, who: &str, last: impl Fn(&Notification) -> bool) -> Vec<Notification> {
    let mut client = NotificationServiceClient::new(stack.authed(who).await);
    let request = SubscribeRequest {
        from_genesis: true,
        after: None,
    };
    let mut stream = client.subscribe(request).await.expect("subscribed").into_inner();
    let mut out = Vec::new();
    loop {
        let item = tokio::time::timeout(Duration::from_secs(30), stream.message())
            .await
            .unwrap_or_else(|_| panic!("{who}: not there after 30 s: {out:?}"))
            .expect("the stream stays up")
            .expect("the stream does not end");
        let done = last(&item);
        out.push(item);
        if done {
            return out;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pack_history_follows_it_through_its_pallet_and_past_holders_hear_it_declared_illegitimate() {
    let mut stack = Stack::spawn().await;
    let g = format!("0950600013441{}", gtin_check_digit("0950600013441").unwrap());
    stack.product(MFR, &g).await;
    stack
        .committed(MFR, body::commission(&g, "L1", "291231", &["H1", "H2", "H3"]))
        .await;

    // H1 travels on a pallet to the wholesaler, which unpacks it and ships H1 on to the pharmacy, which dispenses it.
    let line = vec!["H1".to_string(), "H3".to_string()];
    let pallet = stack.pallet_delivered(41, &g, &line, MFR, WHOLESALER).await;
    stack.committed(WHOLESALER, body::unpack(&pallet, &[], &[])).await;
    stack.committed(WHOLESALER, body::ship(&g, &["H1"], PHARMACY)).await;
    stack.committed(PHARMACY, body::receive(&g, &["H1"], WHOLESALER)).await;
    stack.committed(PHARMACY, body::dispense(&g, &["H1"])).await;

    let h = history(&stack, PHARMACY, &g, "H1").await.expect("its holder reads it");
    assert!(h.complete, "the walk reached the commission");
    let steps: Vec<(&str, &str, &str, &str)> = h
        .events
        .iter()
        .map(|e| {
            (
                e.kind.as_str(),
                e.signer.as_str(),
                e.counterparty.as_str(),
                e.container.as_str(),
            )
        })
        .collect();
    let via = bracketed(&pallet.element());
    assert_eq!(
        steps,
        [
            ("commission", MFR, "", ""),
            ("pack", MFR, "", ""),
            ("ship", MFR, WHOLESALER, via.as_str()),
            ("receive", WHOLESALER, MFR, via.as_str()),
            // It names the pallet only ("everything out").
            ("unpack", WHOLESALER, "", via.as_str()),
            ("ship", WHOLESALER, PHARMACY, ""),
            ("receive", PHARMACY, WHOLESALER, ""),
            ("dispense", PHARMACY, "", ""),
        ]
    );
    assert!(
        h.events
            .windows(2)
            .all(|w| (w[0].height, w[0].index) < (w[1].height, w[1].index)),
        "in chain order"
    );
    assert!(h.height >= h.events.last().unwrap().height);

    // Every event's proof checks offline against the sequencer key and opens the pack, or the pallet that moved it
    // (the neighbours it was packed with stay salted commitments, as in every bundle).
    let registry = Registry::from_genesis(&stack.fixture.genesis).unwrap();
    for e in &h.events {
        let bundle = e.proof.as_ref().expect("proofs were asked for");
        let checked =
            check_bundle(bundle, &registry.sequencer_key(), Some(&registry.chain_id)).expect("bundle checks out");
        assert_eq!(checked.id.to_vec(), e.event_id);
        assert_eq!(checked.core.kind.as_str(), e.kind);
        let opened = (checked.pack.gtin.as_str(), checked.pack.serial.as_str());
        if e.container.is_empty() {
            assert_eq!(opened, (g.as_str(), "H1"));
        } else {
            assert_eq!(opened, ("", pallet.element().as_str()));
        }
    }

    // The parties in its chain (a past holder, the owner) and an authority read the same history; nobody else.
    for who in [WHOLESALER, MFR, AUTHORITY] {
        let other = history(&stack, who, &g, "H1").await.expect("in the chain");
        assert_eq!(other.events, h.events, "{who}");
    }
    let refused = history(&stack, NORTH, &g, "H1").await.expect_err("never held it");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let anonymous = TraceServiceClient::new(stack.verifier_channel().await)
        .get_pack_history(PackHistoryRequest {
            gtin: g.clone(),
            serial: "H1".into(),
            include_proofs: false,
            ..PackHistoryRequest::default()
        })
        .await
        .expect_err("anonymous");
    assert_eq!(anonymous.code(), Code::PermissionDenied);
    let unknown = history(&stack, AUTHORITY, &g, "H9")
        .await
        .expect_err("never commissioned");
    assert_eq!(unknown.code(), Code::NotFound);
    let bad = history(&stack, AUTHORITY, "0950600013441", "H1")
        .await
        .expect_err("13 digits");
    assert_eq!(bad.code(), Code::InvalidArgument);

    // H2 goes manufacturer -> wholesaler -> north -> harbour pharmacy, where it is found counterfeit. The wholesaler,
    // two hops back (neither its holder nor the one it came from), hears of the declaration; the city pharmacy,
    // outside H2's chain, does not.
    stack.committed(MFR, body::ship(&g, &["H2"], WHOLESALER)).await;
    stack.committed(WHOLESALER, body::receive(&g, &["H2"], MFR)).await;
    stack.committed(WHOLESALER, body::ship(&g, &["H2"], NORTH)).await;
    stack.committed(NORTH, body::receive(&g, &["H2"], WHOLESALER)).await;
    stack.committed(NORTH, body::ship(&g, &["H2"], HARBOUR)).await;
    stack.committed(HARBOUR, body::receive(&g, &["H2"], NORTH)).await;
    stack
        .committed(HARBOUR, body::quarantine(&g, &["H2"], "hologram missing"))
        .await;
    let declared = stack
        .committed(AUTHORITY, body::declare_illegitimate(&g, &["H2"], "counterfeit"))
        .await;

    let told = notes_until(&stack, WHOLESALER, |n| n.kind() == NotificationKind::Illegitimate).await;
    let notice = told.last().unwrap();
    assert_eq!((notice.event_id.clone(), notice.signer.as_str()), (declared, AUTHORITY));
    assert_eq!(notice.items, [format!("01{g}21H2")]);

    // The city pharmacy's stream up to an event of its own sealed after the declaration holds no such notice.
    let marker = stack.committed(PHARMACY, body::undo(&g, &["H1"])).await;
    let city = notes_until(&stack, PHARMACY, |n| {
        n.kind() == NotificationKind::EventCommitted && n.event_id == marker
    })
    .await;
    assert!(
        city.iter().all(|n| n.kind() != NotificationKind::Illegitimate),
        "told of a pack it never held: {city:?}"
    );

    // The links are derived state: Redis emptied while the sequencer is down, the replay of the blocks topic writes
    // them again, and the history reads the same.
    let before = history(&stack, AUTHORITY, &g, "H1").await.expect("read").events;
    let store = pedigree_store::Store::connect(&stack.redis.admin_config())
        .await
        .unwrap();
    let head = store.head().await.unwrap();
    stack.stop_sequencer().await;
    store.flush_all_for_tests().await.unwrap();
    stack.start_sequencer().await;
    let mut after = None;
    for _ in 0..600 {
        if store.head().await.unwrap_or(0) >= head
            && let Ok(h) = history(&stack, AUTHORITY, &g, "H1").await
        {
            after = Some(h);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = after.expect("redis rebuilt and the history read again");
    assert!(after.complete);
    assert_eq!(after.events, before);
    stack.shutdown().await;
}

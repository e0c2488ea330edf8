//! Notifications through the real pipeline: a participant's stream tells it what concerns it (a shipment addressed
//! to it, its events' outcomes, a quarantine of its product's packs, an illegitimate declaration), in chain order
//! from the sealed blocks; a subscriber that was away resumes after its last cursor and misses nothing.

use std::time::Duration;

use pedigree_core::gs1::gtin_check_digit;
use pedigree_core::pb::notification_service_client::NotificationServiceClient;
use pedigree_core::pb::{Notification, NotificationCursor, NotificationKind, RejectCode, SubscribeRequest};
use pedigree_e2e::{AUTHORITY, Stack, body};
use tonic::Code;

const MFR: &str = "acme-pharma";
const PHARMACY: &str = "city-pharmacy";

/// The first `n` notifications of `who`'s stream after `after` (from the chain's start when `None`).
async fn next(stack: &Stack, who: &str, after: Option<NotificationCursor>, n: usize) -> Vec<Notification> {
    let mut client = NotificationServiceClient::new(stack.authed(who).await);
    let request = SubscribeRequest {
        from_genesis: after.is_none(),
        after,
    };
    let mut stream = client.subscribe(request).await.expect("subscribed").into_inner();
    let mut out = Vec::new();
    while out.len() < n {
        let item = tokio::time::timeout(Duration::from_secs(30), stream.message())
            .await
            .unwrap_or_else(|_| panic!("{who}: {} of {n} notifications after 30 s: {out:?}", out.len()))
            .expect("the stream stays up")
            .expect("the stream does not end");
        out.push(item);
    }
    out
}

fn kinds(notes: &[Notification]) -> Vec<NotificationKind> {
    notes.iter().map(|n| n.kind()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_party_is_told_what_concerns_it_and_a_returning_subscriber_misses_nothing() {
    let stack = Stack::spawn().await;
    let g = format!("0950600013435{}", gtin_check_digit("0950600013435").unwrap());
    stack.product(MFR, &g).await;
    let sealed = |who: &'static str, b| {
        let stack = &stack;
        async move {
            let id = stack.submit_as(who, b).await.expect("taken").event_id;
            stack.outcome(&id).await
        }
    };
    sealed(MFR, body::commission(&g, "L1", "291231", &["N1", "N2"])).await;
    sealed(MFR, body::ship(&g, &["N1", "N2"], PHARMACY)).await;

    // The pharmacy was not listening: from the chain's start, its stream opens with the shipment addressed to it.
    let first = next(&stack, PHARMACY, None, 1).await;
    assert_eq!(kinds(&first), [NotificationKind::Shipment]);
    assert_eq!(first[0].signer, MFR);
    assert_eq!(first[0].items, [format!("01{g}21N1"), format!("01{g}21N2")]);
    let cursor = first[0].cursor;

    // While it is away: its receipt, a refused dispense of its own, a quarantine, an illegitimate declaration.
    sealed(PHARMACY, body::receive(&g, &["N1", "N2"], MFR)).await;
    let refused = sealed(PHARMACY, body::dispense(&g, &["N9"])).await;
    assert_eq!(refused.reject_code(), RejectCode::UnknownPack);
    sealed(PHARMACY, body::quarantine(&g, &["N1"], "seal broken")).await;
    sealed(AUTHORITY, body::declare_illegitimate(&g, &["N1"], "counterfeit")).await;

    // Resuming after the cursor it had: everything since, in chain order, nothing before.
    let resumed = next(&stack, PHARMACY, cursor, 4).await;
    assert_eq!(
        kinds(&resumed),
        [
            NotificationKind::EventCommitted,
            NotificationKind::EventRejected,
            NotificationKind::EventCommitted,
            NotificationKind::Illegitimate,
        ]
    );
    assert_eq!(resumed[1].reject_code(), RejectCode::UnknownPack);
    assert!(
        resumed
            .windows(2)
            .all(|w| (w[0].cursor.unwrap().height, w[0].cursor.unwrap().index)
                < (w[1].cursor.unwrap().height, w[1].cursor.unwrap().index))
    );

    // The owner hears of the quarantine of its product's pack and of the declaration; the authority of the latter.
    let owner = next(&stack, MFR, None, 5).await;
    assert_eq!(
        kinds(&owner),
        [
            // Its product's registration, the commission and the shipment.
            NotificationKind::EventCommitted,
            NotificationKind::EventCommitted,
            NotificationKind::EventCommitted,
            NotificationKind::Suspect,
            NotificationKind::Illegitimate,
        ]
    );
    let authority = next(&stack, AUTHORITY, None, 2).await;
    assert_eq!(
        kinds(&authority),
        [NotificationKind::Illegitimate, NotificationKind::EventCommitted]
    );

    // A stream outlives the server's request time limit (10 s): quiet for 12 s, it still delivers.
    let mut client = NotificationServiceClient::new(stack.authed(PHARMACY).await);
    let request = SubscribeRequest {
        after: resumed[3].cursor,
        from_genesis: false,
    };
    let mut stream = client.subscribe(request).await.expect("subscribed").into_inner();
    tokio::time::sleep(Duration::from_secs(12)).await;
    sealed(PHARMACY, body::dispense(&g, &["N2"])).await;
    let late = tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .expect("delivered within 10 s")
        .expect("the stream stays up")
        .expect("the stream does not end");
    assert_eq!(late.kind(), NotificationKind::EventCommitted);

    // Anonymous callers get no stream.
    let mut anonymous = NotificationServiceClient::new(stack.verifier_channel().await);
    let refused = anonymous
        .subscribe(SubscribeRequest::default())
        .await
        .expect_err("anonymous");
    assert_eq!(refused.code(), Code::PermissionDenied);
    stack.shutdown().await;
}

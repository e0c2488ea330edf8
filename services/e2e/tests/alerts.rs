//! Alerts through the real stack (broker, Redis, verifier): a pharmacy's LOT_MISMATCH scan raises exactly one alert,
//! recorded in the alerts log before the verdict answers with its id; only the product's owner and the scanner can
//! read it; only the owner closes it, once, with a root cause; it survives a Redis that lost its state.

use std::time::Duration;

use pedigree_core::gs1::gtin_check_digit;
use pedigree_core::pb::alert_service_client::AlertServiceClient;
use pedigree_core::pb::notification_service_client::NotificationServiceClient;
use pedigree_core::pb::{
    AlertCode, AlertState, CloseAlertRequest, GetAlertRequest, ListAlertsRequest, NotificationKind, RootCause,
    SubscribeRequest, Verdict, VerifyRequest, VerifyResponse,
};
use pedigree_e2e::{AUTHORITY, Authed, Stack, body};
use tonic::Code;

const MFR: &str = "acme-pharma";
const PHARMACY: &str = "city-pharmacy";
const OTHER: &str = "harbour-pharmacy";

async fn alerts_as(stack: &Stack, who: &str) -> AlertServiceClient<Authed> {
    AlertServiceClient::new(stack.authed(who).await)
}

async fn scan_as(stack: &Stack, who: Option<&str>, code: String) -> VerifyResponse {
    let request = VerifyRequest {
        code,
        include_proof: false,
    };
    match who {
        Some(who) => stack.verifier_as(who).await.verify(request).await,
        None => stack.verifier().await.verify(request).await,
    }
    .expect("a verdict")
    .into_inner()
}

async fn list(stack: &Stack, who: &str) -> Vec<pedigree_core::pb::Alert> {
    alerts_as(stack, who)
        .await
        .list_alerts(ListAlertsRequest::default())
        .await
        .expect("a list")
        .into_inner()
        .alerts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mismatch_scan_raises_one_alert_only_its_owner_and_scanner_read_and_the_owner_closes() {
    let mut stack = Stack::spawn().await;
    let g = format!("0950600013436{}", gtin_check_digit("0950600013436").unwrap());
    stack.product(MFR, &g).await;
    stack
        .committed(MFR, body::commission(&g, "L1", "291231", &["A1", "A2"]))
        .await;
    stack.committed(MFR, body::ship(&g, &["A1", "A2"], PHARMACY)).await;
    stack.committed(PHARMACY, body::receive(&g, &["A1", "A2"], MFR)).await;
    let wrong_lot = format!("01{g}21A1\u{1d}10L9\u{1d}17291231");

    // Anonymous scans raise nothing (nobody to quote it to, nobody accountable for the scan).
    let anonymous = scan_as(&stack, None, wrong_lot.clone()).await;
    assert_eq!(
        (anonymous.verdict(), anonymous.alert_id.as_str()),
        (Verdict::LotMismatch, "")
    );
    // Nor does an authority's inspection.
    let inspected = scan_as(&stack, Some(AUTHORITY), wrong_lot.clone()).await;
    assert_eq!(
        (inspected.verdict(), inspected.alert_id.as_str()),
        (Verdict::LotMismatch, "")
    );
    // Nor does a scan that agrees with the ledger.
    let fine = scan_as(&stack, Some(PHARMACY), format!("01{g}21A2\u{1d}10L1\u{1d}17291231")).await;
    assert_eq!((fine.verdict(), fine.alert_id.as_str()), (Verdict::Verified, ""));

    // The owner follows its notifications from now on.
    let mut notes = NotificationServiceClient::new(stack.authed(MFR).await)
        .subscribe(SubscribeRequest::default())
        .await
        .expect("subscribed")
        .into_inner();

    // The pharmacy's mismatch scan answers with the alert's id, readable at once.
    let scanned = scan_as(&stack, Some(PHARMACY), wrong_lot.clone()).await;
    assert_eq!(scanned.verdict(), Verdict::LotMismatch);
    let id = scanned.alert_id.clone();
    assert!(pedigree_core::alert::AlertId::parse(&id).is_ok(), "{id}");

    // Exactly one alert, the same for the owner and the scanner.
    let owners = list(&stack, MFR).await;
    assert_eq!(owners.len(), 1, "{owners:?}");
    let alert = &owners[0];
    assert_eq!(alert.id, id);
    assert_eq!(
        (alert.code(), alert.state(), alert.gtin.as_str(), alert.serial.as_str()),
        (AlertCode::LotMismatch, AlertState::Open, g.as_str(), "A1")
    );
    assert_eq!(
        (alert.scanned_lot.as_str(), alert.scanner.as_str(), alert.owner.as_str()),
        ("L9", PHARMACY, MFR)
    );
    assert_eq!(list(&stack, PHARMACY).await, owners);
    let got = alerts_as(&stack, PHARMACY)
        .await
        .get_alert(GetAlertRequest { id: id.to_lowercase() })
        .await
        .expect("the scanner reads its alert")
        .into_inner();
    assert_eq!(&got, alert);

    // The owner is told, on its stream, with a cursor that resumes past it.
    let told = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let note = notes.message().await.expect("the stream").expect("a notification");
            if note.kind() == NotificationKind::Alert {
                return note;
            }
        }
    })
    .await
    .expect("an alert notification");
    assert_eq!(
        (told.alert_id.as_str(), told.reason.as_str(), told.signer.as_str()),
        (id.as_str(), "LOT_MISMATCH", PHARMACY)
    );
    assert_eq!(told.items, vec![format!("01{g}21A1")]);
    assert_eq!(told.cursor.unwrap().alerts, alert.cursor);
    drop(notes);
    let resumed = NotificationServiceClient::new(stack.authed(MFR).await)
        .subscribe(SubscribeRequest {
            after: told.cursor,
            from_genesis: false,
        })
        .await
        .unwrap()
        .into_inner();
    let mut resumed = resumed;
    let again = tokio::time::timeout(Duration::from_millis(1500), resumed.message()).await;
    assert!(again.is_err(), "nothing after the cursor yet: {again:?}");

    // Nobody else learns it exists: the same answer as for an id never raised.
    assert!(list(&stack, OTHER).await.is_empty());
    for asked in [id.clone(), "AL-0000-0000-0000".to_string()] {
        let refused = alerts_as(&stack, OTHER)
            .await
            .get_alert(GetAlertRequest { id: asked })
            .await
            .expect_err("not its alert");
        assert_eq!(refused.code(), Code::NotFound, "{refused:?}");
    }
    let anonymous =
        pedigree_core::pb::alert_service_client::AlertServiceClient::new(stack.channel(stack.verifier_grpc).await)
            .get_alert(GetAlertRequest { id: id.clone() })
            .await
            .expect_err("anonymous");
    assert_eq!(anonymous.code(), Code::PermissionDenied);
    let malformed = alerts_as(&stack, MFR)
        .await
        .get_alert(GetAlertRequest { id: "AL-1".into() })
        .await
        .expect_err("malformed");
    assert_eq!(malformed.code(), Code::InvalidArgument);
    assert!(malformed.message().starts_with("id: "), "{}", malformed.message());

    // Only the owner closes, with a root cause, once.
    let close = |root_cause: RootCause| CloseAlertRequest {
        id: id.clone(),
        root_cause: root_cause as i32,
        note: "the wedge scanner sent no group separator".into(),
    };
    let refused = alerts_as(&stack, PHARMACY)
        .await
        .close_alert(close(RootCause::ScanningError))
        .await
        .expect_err("the scanner does not close");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let refused = alerts_as(&stack, MFR)
        .await
        .close_alert(close(RootCause::Unspecified))
        .await
        .expect_err("no root cause");
    assert_eq!(refused.code(), Code::InvalidArgument);
    let closed = alerts_as(&stack, MFR)
        .await
        .close_alert(close(RootCause::ScanningError))
        .await
        .expect("the owner closes")
        .into_inner();
    assert_eq!(
        (closed.state(), closed.root_cause(), closed.closed_by.as_str()),
        (AlertState::Closed, RootCause::ScanningError, MFR)
    );
    let again = alerts_as(&stack, MFR)
        .await
        .close_alert(close(RootCause::ProcessError))
        .await
        .expect_err("closed already");
    assert_eq!(again.code(), Code::FailedPrecondition);
    let seen = alerts_as(&stack, PHARMACY)
        .await
        .get_alert(GetAlertRequest { id: id.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(seen, closed, "the scanner sees the outcome");
    let open = alerts_as(&stack, MFR)
        .await
        .list_alerts(ListAlertsRequest {
            open_only: true,
            ..ListAlertsRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(open.alerts.is_empty());
    assert_eq!(open.next, closed.cursor);

    // Redis loses its state: the sequencer rebuilds the ledger, the verifier folds the alerts log again.
    stack.stop_sequencer().await;
    let store = pedigree_store::Store::connect(&stack.redis.admin_config())
        .await
        .unwrap();
    store.flush_all_for_tests().await.unwrap();
    assert_eq!(store.alert(&id).await.unwrap(), None);
    stack.start_sequencer().await;
    let mut back = None;
    for _ in 0..200 {
        if let Some(alert) = store.alert(&id).await.unwrap() {
            back = Some(alert.alert());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        back,
        Some(closed),
        "the alert and its closing, folded again from the log"
    );
    stack.shutdown().await;
}

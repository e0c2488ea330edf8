//! Who may read what, on a running stack (docs/access.md): TLS on every port, anonymous answers that name nobody,
//! sessions signed with the ledger's keys, and the refusals: PERMISSION_DENIED / 403 for what a caller may not see,
//! UNAUTHENTICATED / 401 for credentials that do not check out, NOT_FOUND for an event the caller may not know of.

use std::time::Duration;

use pedigree_core::gs1::gtin_check_digit;
use pedigree_core::pb::auth_service_client::AuthServiceClient;
use pedigree_core::pb::{
    EventState, GetBlockRequest, GetEventStatusRequest, GetHeadRequest, Verdict, VerifyRequest, event_payload::Body,
};
use pedigree_core::session::{new_session_request, sign_session};
use pedigree_e2e::{AUDITOR, AUTHORITY, Stack, body};
use pedigree_runtime::sign_in::Bearer;
use tonic::Code;
use tonic::service::interceptor::InterceptedService;

const MFR: &str = "acme-pharma";
const WHOLESALE: &str = "medline-wholesale";
const PHARMACY: &str = "city-pharmacy";
const OTHER_PHARMACY: &str = "harbour-pharmacy";

fn gtin(prefix13: &str) -> String {
    format!("{prefix13}{}", gtin_check_digit(prefix13).expect("13 digits"))
}

/// Submits and waits until sealed; the event id.
async fn sealed(stack: &Stack, who: &str, body: Body) -> Vec<u8> {
    let id = stack.submit_as(who, body).await.expect("accepted").event_id;
    assert_eq!(stack.outcome(&id).await.state(), EventState::Committed);
    id
}

/// A pack commissioned, shipped, received and dispensed by the pharmacy; another still in stock there.
async fn dispensed_pack(stack: &Stack, g: &str) -> Vec<Vec<u8>> {
    let serials = ["D1", "D2"];
    vec![
        sealed(stack, MFR, body::commission(g, "L1", "281231", &serials)).await,
        sealed(stack, MFR, body::ship(g, &serials, WHOLESALE)).await,
        sealed(stack, WHOLESALE, body::receive(g, &serials, MFR)).await,
        sealed(stack, WHOLESALE, body::ship(g, &serials, PHARMACY)).await,
        sealed(stack, PHARMACY, body::receive(g, &serials, WHOLESALE)).await,
        sealed(stack, PHARMACY, body::dispense(g, &serials[..1])).await,
    ]
}

fn scan(code: String) -> VerifyRequest {
    VerifyRequest {
        code,
        include_proof: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_callers_get_verdicts_and_nothing_else() {
    let stack = Stack::spawn().await;
    let g = gtin("0950600013435");
    stack.product(MFR, &g).await;
    dispensed_pack(&stack, &g).await;

    // The ledger is closed to them.
    let mut ledger = stack.ledger_anonymous().await;
    let err = ledger.get_block(GetBlockRequest { height: 1 }).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert!(err.message().contains("auditors"), "{}", err.message());
    let err = ledger.get_head(GetHeadRequest {}).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    // So it is to a pharmacy.
    let err = stack
        .ledger_as(PHARMACY)
        .await
        .get_block(GetBlockRequest { height: 1 })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    // An auditor and an authority read it.
    for reader in [AUDITOR, AUTHORITY] {
        let head = stack.ledger_as(reader).await.get_head(GetHeadRequest {}).await.unwrap();
        assert!(head.into_inner().height >= 1);
    }

    // A scan names neither holder nor height; a proof bundle is refused.
    let mut v = stack.verifier().await;
    let r = v.verify(scan(format!("01{g}21D2"))).await.unwrap().into_inner();
    assert_eq!(r.verdict(), Verdict::Verified);
    assert_eq!((r.holder.as_str(), r.height, r.proof.is_none()), ("", 0, true));
    let r = v.verify(scan(format!("01{g}21D1"))).await.unwrap().into_inner();
    assert_eq!(r.verdict(), Verdict::Dispensed);
    assert_eq!((r.holder.as_str(), r.height), ("", 0));
    let err = v
        .verify(VerifyRequest {
            code: format!("01{g}21D2"),
            include_proof: true,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    // Over HTTPS alike: no holder in the JSON, 403 for a proof.
    let http = stack.http_client();
    let answer: serde_json::Value = http
        .get(stack.http_url("/v1/verify"))
        .query(&[("code", format!("01{g}21D1"))])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["verdict"], "DISPENSED");
    assert_eq!(
        (answer["holder"].as_str(), answer["height"].as_u64()),
        (Some(""), Some(0))
    );
    assert!(!answer.to_string().contains(PHARMACY), "{answer}");
    let response = http
        .get(stack.http_url("/v1/verify"))
        .query(&[("code", format!("01{g}21D2")), ("proof", "1".into())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn participants_see_their_packs_and_the_pharmacy_its_own_dispense() {
    let stack = Stack::spawn().await;
    let g = gtin("0950600013436");
    stack.product(MFR, &g).await;
    dispensed_pack(&stack, &g).await;
    let code = format!("01{g}21D1");

    // The pharmacy that dispensed it: EMVS's "already dispensed by you", with the full answer and a bundle.
    let r = stack
        .verifier_as(PHARMACY)
        .await
        .verify(VerifyRequest {
            code: code.clone(),
            include_proof: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.verdict(), Verdict::AlreadyDispensedByYou);
    assert_eq!(r.holder, PHARMACY);
    assert!(r.height >= 1 && r.proof.is_some());

    // Another pharmacy: dispensed, by whom it does not learn.
    let r = stack
        .verifier_as(OTHER_PHARMACY)
        .await
        .verify(scan(code.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.verdict(), Verdict::Dispensed);
    assert_eq!((r.holder.as_str(), r.height), ("", 0));

    // The wholesaler it came from, the manufacturer that owns the product and the authority see it in full.
    for who in [WHOLESALE, MFR, AUTHORITY] {
        let r = stack
            .verifier_as(who)
            .await
            .verify(scan(code.clone()))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            (r.verdict(), r.holder.as_str()),
            (Verdict::Dispensed, PHARMACY),
            "{who}"
        );
    }

    // Over HTTPS with the session token.
    let token = stack.sign_in(PHARMACY).await;
    let answer: serde_json::Value = stack
        .http_client()
        .get(stack.http_url("/v1/verify"))
        .bearer_auth(&token)
        .query(&[("code", code)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["verdict"], "ALREADY_DISPENSED_BY_YOU");
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_status_is_for_its_signer() {
    let mut stack = Stack::spawn().await;
    let g = gtin("0950600013437");
    stack.product(MFR, &g).await;
    let id = sealed(&stack, MFR, body::commission(&g, "L1", "281231", &["S1"])).await;
    let ask = |id: &[u8]| GetEventStatusRequest { event_id: id.to_vec() };

    let status = stack
        .ledger_as(MFR)
        .await
        .get_event_status(ask(&id))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.state(), EventState::Committed);
    // Someone else's event and an id nobody submitted get the same answer.
    let err = stack
        .ledger_as(WHOLESALE)
        .await
        .get_event_status(ask(&id))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = stack
        .ledger_as(MFR)
        .await
        .get_event_status(ask(&[7; 32]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(
        stack
            .ledger_anonymous()
            .await
            .get_event_status(ask(&id))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );

    // Acknowledged but not sealed yet: PENDING to its signer, never NOT_FOUND.
    stack.stop_sequencer().await;
    let waiting = stack
        .submit_as(MFR, body::commission(&g, "L1", "281231", &["S2"]))
        .await
        .unwrap()
        .event_id;
    let status = stack
        .ledger_as(MFR)
        .await
        .get_event_status(ask(&waiting))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.state(), EventState::Pending);
    let err = stack
        .ledger_as(WHOLESALE)
        .await
        .get_event_status(ask(&waiting))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    stack.start_sequencer().await;
    assert_eq!(stack.outcome(&waiting).await.state(), EventState::Committed);
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_expired_replayed_or_revoked_credentials_are_refused() {
    let stack = Stack::spawn().await;
    let chain = stack.fixture.chain_id;
    let key = stack.fixture.party(PHARMACY).key.clone();
    let mut auth = AuthServiceClient::new(stack.verifier_channel().await);

    // Signed with another key, for another chain, with a stale clock: refused.
    let stranger = pedigree_core::keys::KeyPair::generate();
    for (request, why) in [
        (new_session_request(&stranger, &chain, PHARMACY), "signature"),
        (new_session_request(&key, &[7; 32], PHARMACY), "signature"),
        (sign_session(&key, &chain, PHARMACY, 1_000, vec![1; 32]), "timestamp_ms"),
        (new_session_request(&key, &chain, "nobody"), "participant_id"),
    ] {
        let err = auth.start_session(request).await.unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated, "{why}: {err:?}");
        assert!(err.message().contains(why), "{why}: {}", err.message());
    }
    // A replayed sign-in: the same signed request twice.
    let request = new_session_request(&key, &chain, PHARMACY);
    auth.start_session(request.clone()).await.unwrap();
    let err = auth.start_session(request).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert!(err.message().contains("already used"), "{}", err.message());

    // A forged token: refused, never taken for anonymous.
    let forged = Bearer::new("v1.AAAA.BBBB").unwrap();
    let mut v = pedigree_core::pb::verifier_service_client::VerifierServiceClient::new(InterceptedService::new(
        stack.verifier_channel().await,
        forged,
    ));
    let err = v.verify(scan("010950600013435221X".into())).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let response = stack
        .http_client()
        .get(stack.http_url("/v1/verify"))
        .bearer_auth("v1.AAAA.BBBB")
        .query(&[("code", "010950600013435221X")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("www-authenticate"));

    // An expired session: a verifier whose sessions last one second.
    let mut short = stack.verifier_config();
    short.session_ttl_secs = 1;
    let app = pedigree_verifier::App::build(short).await.unwrap();
    let addr = app.grpc_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let channel = stack.channel(addr).await;
    let session = pedigree_runtime::sign_in::sign_in(channel.clone(), &key, &chain, PHARMACY)
        .await
        .unwrap();
    let mut v = pedigree_core::pb::verifier_service_client::VerifierServiceClient::new(InterceptedService::new(
        channel,
        Bearer::new(&session.token).unwrap(),
    ));
    v.verify(scan("010950600013435221X".into())).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let err = v.verify(scan("010950600013435221X".into())).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert!(err.message().contains("expired"), "{}", err.message());
    let _ = stop.send(());
    running.await.unwrap().unwrap();

    // A revoked participant: its open session ends once the revocation is sealed.
    let mut v = stack.verifier_as(OTHER_PHARMACY).await;
    v.verify(scan("010950600013435221X".into())).await.unwrap();
    let revoke = stack.sign_governance(body::revoke_participant(OTHER_PHARMACY, "licence withdrawn"));
    let id = stack.submit(revoke).await.unwrap().event_id;
    assert_eq!(stack.outcome(&id).await.state(), EventState::Committed);
    let mut refused = None;
    for _ in 0..100 {
        match v.verify(scan("010950600013435221X".into())).await {
            Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    let err = refused.expect("the revoked participant's session still works");
    assert_eq!(err.code(), Code::Unauthenticated);
    assert!(err.message().contains("revoked"), "{}", err.message());
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_port_speaks_tls_only() {
    let stack = Stack::spawn_bare(200).await;
    let sequencer = stack.sequencer_with(stack.sequencer_config()).await;
    // A plaintext gRPC client on each TLS port fails (the handshake never completes).
    let plain = pedigree_runtime::tls::ClientTls::load(&pedigree_runtime::tls::ClientTlsConfig {
        ca: None,
        insecure_plaintext: true,
    })
    .unwrap();
    for addr in [stack.custody_addr, stack.verifier_grpc, sequencer.health] {
        let endpoint = plain
            .endpoint(&format!("http://{addr}"))
            .unwrap()
            .timeout(Duration::from_secs(3));
        let result = match endpoint.connect().await {
            Ok(channel) => tonic_health::pb::health_client::HealthClient::new(channel)
                .check(tonic_health::pb::HealthCheckRequest::default())
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        assert!(result.is_err(), "{addr} answered plaintext gRPC");
    }
    // Plaintext HTTP to the HTTPS port gets no answer; a client that does not trust the CA is refused.
    let plain_http = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    assert!(
        plain_http
            .get(format!("http://{}/healthz", stack.verifier_http))
            .send()
            .await
            .is_err()
    );
    // The same on every metrics port.
    let sequencer_metrics = sequencer.metrics.expect("the sequencer serves metrics");
    for addr in [stack.custody_metrics, stack.verifier_metrics, sequencer_metrics] {
        let plain = plain_http.get(format!("http://{addr}/metrics")).send().await;
        assert!(plain.is_err(), "{addr} answered plaintext HTTP");
    }
    let untrusting = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .build()
        .unwrap();
    let err = untrusting.get(stack.http_url("/healthz")).send().await.unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    // And a client without TLS settings refuses an http:// endpoint with a clear message.
    let strict = pedigree_runtime::tls::ClientTls::load(&Default::default()).unwrap();
    let err = strict.endpoint(&format!("http://{}", stack.verifier_grpc)).unwrap_err();
    assert!(err.to_string().contains("plaintext"), "{err}");
    // The right CA works.
    let ok = stack
        .http_client()
        .get(stack.http_url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    sequencer.stop().await.unwrap();
    stack.shutdown().await;
}

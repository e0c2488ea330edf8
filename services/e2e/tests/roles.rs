//! The third-party logistics and repackager roles through the real pipeline: both registered by governance and
//! signing through their own services; a 3PL holds a manufacturer's stock (the manufacturer stays the owner, sees it
//! and is the seller of its shipment's transaction information) and a repackager turns received packs into new ones.
//! The audit replays it all.

use std::time::Duration;

use pedigree_core::custody_rpc::Rpc;
use pedigree_core::envelope::{new_payload, sign_payload};
use pedigree_core::gs1::gtin_check_digit;
use pedigree_core::keys::KeyPair;
use pedigree_core::pb::event_payload::Body;
use pedigree_core::pb::{
    DecommissionReason, EventState, EventStatus, ParticipantRole, RejectCode, SignedEnvelope, VerifyRequest,
    VerifyResponse,
};
use pedigree_e2e::{AUTHORITY, Stack, body};
use serde_json::Value;

const MFR: &str = "acme-pharma";
const WHOLESALE: &str = "medline-wholesale";
const DEPOT: &str = "harbour-3pl";
const REPACK: &str = "unit-dose-repack";

fn gtin(body: &str) -> String {
    format!("{body}{}", gtin_check_digit(body).unwrap())
}

struct Party {
    id: &'static str,
    key: KeyPair,
}

impl Party {
    async fn register(stack: &Stack, id: &'static str, role: ParticipantRole) -> Party {
        let key = KeyPair::generate();
        let register = body::register_participant(id, role, id, "", &key.public());
        let status = outcome(stack, stack.sign_governance(register)).await;
        assert_eq!(status.state(), EventState::Committed, "{}", status.reason);
        Party { id, key }
    }

    fn sign(&self, stack: &Stack, body: Body) -> SignedEnvelope {
        sign_payload(&self.key, &new_payload(&stack.fixture.chain_id, self.id, body))
    }

    /// Sends through `rpc`, retrying while custody does not know the party yet (it follows the sealed registry
    /// asynchronously); the sealed outcome.
    async fn send(&self, stack: &Stack, rpc: Rpc, body: Body) -> EventStatus {
        self.send_id(stack, rpc, body).await.1
    }

    /// As [`Party::send`], with the event id.
    async fn send_id(&self, stack: &Stack, rpc: Rpc, body: Body) -> (Vec<u8>, EventStatus) {
        for _ in 0..100 {
            match rpc
                .call(stack.custody_channel().await, self.sign(stack, body.clone()))
                .await
            {
                Ok(answer) => {
                    let id = answer.into_inner().event_id;
                    let status = stack.outcome(&id).await;
                    return (id, status);
                }
                Err(s) if s.code() == tonic::Code::InvalidArgument && s.message().contains("unknown") => {
                    tokio::time::sleep(Duration::from_millis(50)).await
                }
                Err(s) => panic!("{rpc:?} refused at the gate: {s}"),
            }
        }
        panic!("custody does not know '{}' after 5 s", self.id);
    }
}

async fn outcome(stack: &Stack, envelope: SignedEnvelope) -> EventStatus {
    let answer = stack.submit(envelope).await.expect("accepted by custody");
    stack.outcome(&answer.event_id).await
}

/// Submits as a demo participant, retrying while custody does not know a counterparty registered just before.
async fn committed_as(stack: &Stack, who: &str, body: Body) -> Vec<u8> {
    for _ in 0..100 {
        match stack.submit_as(who, body.clone()).await {
            Ok(answer) => {
                let status = stack.outcome(&answer.event_id).await;
                assert_eq!(status.state(), EventState::Committed, "{}", status.reason);
                return answer.event_id;
            }
            Err(s) if s.code() == tonic::Code::InvalidArgument && s.message().contains("unknown") => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(s) => panic!("refused at the gate: {s}"),
        }
    }
    panic!("custody does not know a counterparty after 5 s");
}

async fn verify(stack: &Stack, who: &str, gtin: &str, serial: &str) -> VerifyResponse {
    let request = VerifyRequest {
        code: format!("01{gtin}21{serial}"),
        include_proof: false,
    };
    let mut v = stack.verifier_as(who).await;
    v.verify(request).await.unwrap().into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_3pl_holds_and_ships_a_manufacturers_stock_in_its_name() {
    let stack = Stack::spawn().await;
    let depot = Party::register(&stack, DEPOT, ParticipantRole::ThirdPartyLogistics).await;
    let g = gtin("0950600013435");
    stack.product(MFR, &g).await;
    committed_as(&stack, MFR, body::commission(&g, "L1", "291231", &["T1", "T2"])).await;
    committed_as(&stack, MFR, body::ship(&g, &["T1", "T2"], DEPOT)).await;
    let status = depot
        .send(
            &stack,
            Rpc::ThirdPartyLogisticsReceive,
            body::receive(&g, &["T1", "T2"], MFR),
        )
        .await;
    assert_eq!(status.state(), EventState::Committed, "{}", status.reason);

    // The manufacturer owns what the 3PL holds, and sees it in full.
    let seen = verify(&stack, MFR, &g, "T1").await;
    assert_eq!((seen.holder.as_str(), seen.owner.as_str()), (DEPOT, MFR));

    // A shipment that does not name the owner is refused; one that does is sealed.
    let status = depot
        .send(&stack, Rpc::ThirdPartyLogisticsShip, body::ship(&g, &["T1"], WHOLESALE))
        .await;
    assert_eq!(
        (status.state(), status.reject_code()),
        (EventState::Rejected, RejectCode::OwnerMismatch),
        "{}",
        status.reason
    );
    let ship = body::ship_for(&g, &["T1"], WHOLESALE, MFR);
    let (shipment, status) = depot.send_id(&stack, Rpc::ThirdPartyLogisticsShip, ship).await;
    assert_eq!(status.state(), EventState::Committed, "{}", status.reason);
    committed_as(&stack, WHOLESALE, body::receive(&g, &["T1"], DEPOT)).await;
    let bought = verify(&stack, AUTHORITY, &g, "T1").await;
    assert_eq!((bought.holder.as_str(), bought.owner.as_str()), (WHOLESALE, ""));

    // The transaction information names the owner as seller and the 3PL as the party that shipped.
    let (code, ti): (u16, Value) = {
        let response = stack
            .http_client()
            .get(stack.http_url(&format!("/v1/transactions/{}", hex::encode(&shipment))))
            .bearer_auth(stack.sign_in(MFR).await)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    };
    assert_eq!(code, 200, "{ti}");
    assert_eq!(
        (&ti["seller"]["id"], &ti["buyer"]["id"], &ti["shipped_by"]["id"]),
        (&Value::from(MFR), &Value::from(WHOLESALE), &Value::from(DEPOT))
    );

    // A 3PL may not dispense, nor commission.
    let refused = stack
        .submit(depot.sign(&stack, body::dispense(&g, &["T2"])))
        .await
        .unwrap_err();
    assert!(
        refused.message().contains("role 3pl may not sign dispense"),
        "{}",
        refused.message()
    );
    stack.audit().await.expect("the chain audits clean");
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repackager_makes_new_packs_from_packs_it_received() {
    let stack = Stack::spawn().await;
    let repack = Party::register(&stack, REPACK, ParticipantRole::Repackager).await;
    let (source, unit) = (gtin("0950600013435"), gtin("0401234567890"));
    stack.product(MFR, &source).await;
    stack.product_of(REPACK, &repack.key, &unit).await;
    committed_as(&stack, MFR, body::commission(&source, "L1", "290630", &["B1", "B2"])).await;
    committed_as(&stack, MFR, body::ship(&source, &["B1", "B2"], REPACK)).await;
    let status = repack
        .send(
            &stack,
            Rpc::RepackagerReceive,
            body::receive(&source, &["B1", "B2"], MFR),
        )
        .await;
    assert_eq!(status.state(), EventState::Committed, "{}", status.reason);

    let used = ["B1".to_string(), "B2".to_string()];
    let later = body::repackage(&unit, "U1", "290701", &["U1", "U2", "U3"], &[(&source, &used[..])]);
    let status = repack.send(&stack, Rpc::RepackagerCommission, later).await;
    assert_eq!(status.reject_code(), RejectCode::ExpiryExtended, "{}", status.reason);
    let made = body::repackage(&unit, "U1", "290630", &["U1", "U2", "U3"], &[(&source, &used[..])]);
    let (made_by, status) = repack.send_id(&stack, Rpc::RepackagerCommission, made).await;
    assert_eq!(status.state(), EventState::Committed, "{}", status.reason);

    let old = verify(&stack, AUTHORITY, &source, "B1").await;
    assert_eq!(old.decommission_reason(), DecommissionReason::Repackaged);
    let new = verify(&stack, AUTHORITY, &unit, "U2").await;
    assert_eq!(new.holder.as_str(), REPACK);
    assert_eq!(new.repackaged_by, made_by, "the new pack names the event that made it");

    // A manufacturer's commission cannot name sources (refused at the gate).
    let sources = body::repackage(&unit, "U2", "290630", &["U9"], &[(&source, &used[..1])]);
    let refused = stack.submit_as(MFR, sources).await.unwrap_err();
    assert!(refused.message().contains("sources"), "{}", refused.message());
    stack.audit().await.expect("the chain audits clean");
    stack.shutdown().await;
}

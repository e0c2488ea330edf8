//! Verify answers carry proofs a third party checks offline; the log serves inclusion and consistency proofs that
//! match the signed block headers.

use pedigree_core::Hash;
use pedigree_core::block::open_header;
use pedigree_core::gs1::gtin_check_digit;
use pedigree_core::merkle::{verify_consistency, verify_inclusion};
use pedigree_core::participant::Registry;
use pedigree_core::pb::{
    BlockHeader, EventState, GetBlockRequest, GetConsistencyProofRequest, GetHeadRequest, GetInclusionProofRequest,
    LogInclusionProof, ProofBundle, Verdict, VerifyRequest,
};
use pedigree_core::proof::{BundleError, BundleJson, block_inclusion, check_bundle};
use pedigree_e2e::{Stack, body};
use tonic::Code;

const MFR: &str = "acme-pharma";
const WHOLESALE: &str = "medline-wholesale";

fn hashes(raw: &[Vec<u8>]) -> Vec<Hash> {
    raw.iter().map(|h| h.as_slice().try_into().unwrap()).collect()
}

async fn populate(stack: &Stack, g: &str) -> Vec<Vec<u8>> {
    let mut m = stack.manufacturer().await;
    let mut ids = Vec::new();
    for batch in 0..4 {
        let serials: Vec<String> = (0..3).map(|i| format!("B{batch}S{i}")).collect();
        let e = stack.sign(MFR, body::commission(g, "LOTP", "281231", &serials));
        ids.push(m.commission(e).await.unwrap().into_inner().event_id);
        let e = stack.sign(MFR, body::ship(g, &serials[..1], WHOLESALE));
        ids.push(m.ship(e).await.unwrap().into_inner().event_id);
        for id in &ids {
            assert_eq!(stack.outcome(id).await.state(), EventState::Committed);
        }
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_answers_carry_a_bundle_that_checks_offline() {
    let stack = Stack::spawn().await;
    let g = format!("0950600013435{}", gtin_check_digit("0950600013435").unwrap());
    stack.product(MFR, &g).await;
    populate(&stack, &g).await;
    let registry = Registry::from_genesis(&stack.fixture.genesis).unwrap();
    let (chain, sequencer) = (registry.chain_id, registry.sequencer_key());
    // The product's owner may have the bundle of any of its packs (docs/access.md).
    let mut v = stack.verifier_as("acme-pharma").await;
    let answer = v
        .verify(VerifyRequest {
            code: format!("01{g}21B2S0"),
            include_proof: true,
        })
        .await
        .unwrap();
    let answer = answer.into_inner();
    assert_eq!(answer.verdict(), Verdict::Verified);
    let bundle = answer.proof.expect("a bundle was asked for");
    let checked = check_bundle(&bundle, &sequencer, Some(&chain)).expect("bundle checks out");
    assert_eq!(checked.header.height, answer.height);
    assert_eq!(
        (checked.core.signer.as_str(), checked.core.kind.as_str()),
        (MFR, "ship")
    );
    assert_eq!(
        (checked.pack.gtin.as_str(), checked.pack.serial.as_str()),
        (g.as_str(), "B2S0")
    );
    assert_eq!(checked.core.chain_id, chain);

    // The JSON form round-trips and still checks; tampering or the wrong key does not.
    let json = serde_json::to_string(&BundleJson::from_bundle(&bundle).unwrap()).unwrap();
    let back: BundleJson = serde_json::from_str(&json).unwrap();
    check_bundle(&back.to_bundle().unwrap(), &sequencer, None).unwrap();
    let mut forged = bundle.clone();
    forged.event_core[40] ^= 1;
    assert!(check_bundle(&forged, &sequencer, None).is_err());
    let mut other_chain = [0u8; 32];
    other_chain[0] = 1;
    assert!(matches!(
        check_bundle(&bundle, &sequencer, Some(&other_chain)),
        Err(BundleError::WrongChain { .. })
    ));
    let mut moved = bundle.clone();
    moved.inclusion.as_mut().unwrap().leaf_index ^= 1;
    assert!(matches!(
        check_bundle(&moved, &sequencer, None),
        Err(BundleError::Inclusion(_)) | Err(BundleError::TreeSize { .. })
    ));
    let stranger = pedigree_core::keys::KeyPair::generate().public();
    assert!(matches!(
        check_bundle(&bundle, &stranger, None),
        Err(BundleError::Header(_))
    ));

    // Over HTTP with ?proof=1; an unknown pack has no bundle.
    let url = stack.http_url("/v1/verify");
    let http = stack.http_client();
    let token = stack.sign_in("acme-pharma").await;
    let body: serde_json::Value = http
        .get(&url)
        .bearer_auth(&token)
        .query(&[("code", format!("01{g}21B0S1")), ("proof", "1".into())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bundle: BundleJson = serde_json::from_value(body["proof"].clone()).unwrap();
    check_bundle(&bundle.to_bundle().unwrap(), &sequencer, None).unwrap();
    let unknown = v
        .verify(VerifyRequest {
            code: format!("01{g}21NOPE"),
            include_proof: true,
        })
        .await
        .unwrap();
    assert!(unknown.into_inner().proof.is_none());
    stack.shutdown().await;
}

/// Per-pack disclosure: the bundle for one pack of a 1,000-pack receipt names that pack and nothing of the 999
/// others, nor the sender (beyond a salted commitment), and still checks offline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_discloses_one_pack_of_a_large_receipt_and_not_the_sender() {
    let stack = Stack::spawn().await;
    let g = format!("0950600013435{}", gtin_check_digit("0950600013435").unwrap());
    stack.product(MFR, &g).await;
    let serials: Vec<String> = (0..1000).map(|i| format!("Q{i:04}Z")).collect();
    let mut m = stack.manufacturer().await;
    let commission = stack.sign(MFR, body::commission(&g, "LOTQ", "281231", &serials));
    let id = m.commission(commission).await.unwrap().into_inner().event_id;
    assert_eq!(stack.outcome(&id).await.state(), EventState::Committed);
    let ship = stack.sign(MFR, body::ship(&g, &serials, WHOLESALE));
    let id = m.ship(ship).await.unwrap().into_inner().event_id;
    assert_eq!(stack.outcome(&id).await.state(), EventState::Committed);
    let receipt = stack.sign(WHOLESALE, body::receive(&g, &serials, MFR));
    let id = stack
        .distributor()
        .await
        .receive(receipt)
        .await
        .unwrap()
        .into_inner()
        .event_id;
    assert_eq!(stack.outcome(&id).await.state(), EventState::Committed);

    // Asked by the wholesaler that holds the pack (a bundle is for those who hold or held it: docs/access.md).
    let answer = stack
        .verifier_as(WHOLESALE)
        .await
        .verify(VerifyRequest {
            code: format!("01{g}21Q0500Z"),
            include_proof: true,
        })
        .await
        .unwrap()
        .into_inner();
    let bundle = answer.proof.expect("a bundle was asked for");
    let registry = Registry::from_genesis(&stack.fixture.genesis).unwrap();
    let checked = check_bundle(&bundle, &registry.sequencer_key(), Some(&registry.chain_id)).expect("checks offline");
    assert_eq!(
        (
            checked.core.kind.as_str(),
            checked.core.signer.as_str(),
            checked.core.pack_count
        ),
        ("receive", WHOLESALE, 1000)
    );
    assert_eq!(checked.pack.serial, "Q0500Z");
    // Search every byte of the bundle, as protobuf and as JSON: no other serial, no sender.
    let json = serde_json::to_string(&BundleJson::from_bundle(&bundle).unwrap()).unwrap();
    let raw = prost::Message::encode_to_vec(&bundle);
    let contains = |hay: &[u8], needle: &str| hay.windows(needle.len()).any(|w| w == needle.as_bytes());
    for serial in serials.iter().filter(|s| s.as_str() != "Q0500Z") {
        assert!(
            !contains(&raw, serial) && !json.contains(serial.as_str()),
            "{serial} is in the bundle"
        );
    }
    assert!(contains(&raw, "Q0500Z"));
    assert!(
        !contains(&raw, MFR) && !json.contains(MFR),
        "the sender is in the bundle"
    );
    assert!(json.len() < 4_000, "a one-pack bundle is small: {} bytes", json.len());
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_proofs_match_the_signed_headers() {
    let stack = Stack::spawn().await;
    let g = format!("0950600013435{}", gtin_check_digit("0950600013435").unwrap());
    stack.product(MFR, &g).await;
    let ids = populate(&stack, &g).await;
    let registry = Registry::from_genesis(&stack.fixture.genesis).unwrap();
    let (chain, sequencer) = (registry.chain_id, registry.sequencer_key());
    let mut ledger = stack.ledger().await;
    let head = ledger.get_head(GetHeadRequest {}).await.unwrap().into_inner();
    let head_header = open_header(head.header.as_ref().unwrap(), &chain, &sequencer).unwrap();
    // The product's attestation and registration come first, then `ids`.
    assert_eq!(head_header.tree_size, ids.len() as u64 + 2);

    // Every committed event is in the log at the head's size, under the head's signed log root.
    for id in &ids {
        let proof = ledger
            .get_inclusion_proof(GetInclusionProofRequest {
                event_id: id.clone(),
                tree_size: 0,
            })
            .await;
        let proof = proof.unwrap().into_inner();
        assert_eq!(proof.root, head_header.log_root);
        let p = proof.proof.unwrap();
        let leaf: Hash = proof.leaf_hash.as_slice().try_into().unwrap();
        let root: Hash = proof.root.as_slice().try_into().unwrap();
        verify_inclusion(&leaf, p.leaf_index, p.tree_size, &hashes(&p.hashes), &root).unwrap();
    }

    // Consistency between every earlier block's log and the head's.
    for height in 1..head.height {
        let block = ledger.get_block(GetBlockRequest { height }).await.unwrap().into_inner();
        let old = open_header(block.header.as_ref().unwrap(), &chain, &sequencer).unwrap();
        let request = GetConsistencyProofRequest {
            old_size: old.tree_size,
            new_size: head_header.tree_size,
        };
        let proof = ledger.get_consistency_proof(request).await.unwrap().into_inner();
        assert_eq!(proof.old_root, old.log_root);
        let (old_root, new_root): (Hash, Hash) = (
            old.log_root.as_slice().try_into().unwrap(),
            head_header.log_root.as_slice().try_into().unwrap(),
        );
        verify_consistency(
            old.tree_size,
            head_header.tree_size,
            &old_root,
            &new_root,
            &hashes(&proof.hashes),
        )
        .unwrap();
    }

    // Bad requests are refused clearly.
    let err = ledger
        .get_inclusion_proof(GetInclusionProofRequest {
            event_id: vec![1; 31],
            tree_size: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let err = ledger
        .get_inclusion_proof(GetInclusionProofRequest {
            event_id: vec![7; 32],
            tree_size: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let request = GetConsistencyProofRequest {
        old_size: 5,
        new_size: 2,
    };
    assert_eq!(
        ledger.get_consistency_proof(request).await.unwrap_err().code(),
        Code::InvalidArgument
    );
    let request = GetConsistencyProofRequest {
        old_size: 1,
        new_size: 10_000,
    };
    assert_eq!(
        ledger.get_consistency_proof(request).await.unwrap_err().code(),
        Code::InvalidArgument
    );
    stack.shutdown().await;
}

/// Log proofs and bundles over a log that spans the kept levels (more than 256 events, blocks of up to 40 events)
/// verify and match the signed headers and the blocks; after Redis is emptied and rebuilt by replaying the blocks
/// topic, every proof and bundle comes back identical.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proofs_span_kept_levels_and_survive_a_rebuild() {
    const EVENTS: usize = 300;
    let mut stack = Stack::spawn_with(40).await;
    let g = format!("0950600013435{}", gtin_check_digit("0950600013435").unwrap());
    stack.product(MFR, &g).await;
    let registry = Registry::from_genesis(&stack.fixture.genesis).unwrap();
    let (chain, sequencer) = (registry.chain_id, registry.sequencer_key());
    let mut m = stack.manufacturer().await;
    let mut ids = Vec::new();
    for i in 0..EVENTS {
        let e = stack.sign(MFR, body::commission(&g, "LOTK", "281231", &[format!("K{i}")]));
        ids.push(m.commission(e).await.unwrap().into_inner().event_id);
    }
    for id in &ids {
        assert_eq!(stack.outcome(id).await.state(), EventState::Committed);
    }
    let mut ledger = stack.ledger().await;
    let head = ledger.get_head(GetHeadRequest {}).await.unwrap().into_inner();
    let head_header = open_header(head.header.as_ref().unwrap(), &chain, &sequencer).unwrap();
    // The product's attestation and registration, then the commissions.
    assert_eq!(head_header.tree_size, EVENTS as u64 + 2);
    assert!(head.height > 7, "{} blocks", head.height);
    let mut headers = Vec::new();
    for height in 1..=head.height {
        let block = ledger.get_block(GetBlockRequest { height }).await.unwrap().into_inner();
        headers.push(open_header(block.header.as_ref().unwrap(), &chain, &sequencer).unwrap());
    }

    let sample: Vec<usize> = (0..EVENTS).step_by(13).chain([EVENTS - 2, EVENTS - 1]).collect();
    let asked = Asked {
        sample: &sample,
        ids: &ids,
        headers: &headers,
        head: &head_header,
        gtin: &g,
    };
    let before = asked.answers(&stack).await;

    // Redis emptied while the sequencer is down: the restarted sequencer rebuilds it from the blocks topic.
    stack.stop_sequencer().await;
    let store = pedigree_store::Store::connect(&stack.redis.admin_config())
        .await
        .unwrap();
    store.flush_all_for_tests().await.unwrap();
    stack.start_sequencer().await;
    let mut rebuilt = false;
    for _ in 0..600 {
        if store.head().await.unwrap() == head.height && store.log_size().await.unwrap() == EVENTS as u64 + 2 {
            rebuilt = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(rebuilt, "redis rebuilt to height {}", head.height);
    let mut after = Vec::new();
    for _ in 0..100 {
        // Readers answer once the replay's target is reached.
        let request = VerifyRequest {
            code: format!("01{g}21K0"),
            include_proof: false,
        };
        if stack.verifier().await.verify(request).await.is_ok() {
            after = asked.answers(&stack).await;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(after, before, "proofs after the rebuild");
    stack.shutdown().await;
}

/// What [`proofs_span_kept_levels_and_survive_a_rebuild`] asks for: the events sampled (of `ids`, pack `K{i}` of GTIN
/// `gtin`), every block's header and the head's.
struct Asked<'a> {
    sample: &'a [usize],
    ids: &'a [Vec<u8>],
    headers: &'a [BlockHeader],
    head: &'a BlockHeader,
    gtin: &'a str,
}

impl Asked<'_> {
    /// Everything the log and the verifier answer for the sample, checked as a third party would.
    async fn answers(&self, stack: &Stack) -> Vec<(LogInclusionProof, LogInclusionProof, ProofBundle)> {
        let registry = Registry::from_genesis(&stack.fixture.genesis).unwrap();
        let (chain, sequencer) = (registry.chain_id, registry.sequencer_key());
        let (ids, headers, head_header, g) = (self.ids, self.headers, self.head, self.gtin);
        let mut ledger = stack.ledger().await;
        let mut v = stack.verifier_as(MFR).await;
        let mut out = Vec::new();
        for &i in self.sample {
            // Inclusion at the head's size and at the size of the block that sealed the event.
            let at_head = ledger
                .get_inclusion_proof(GetInclusionProofRequest {
                    event_id: ids[i].clone(),
                    tree_size: 0,
                })
                .await
                .unwrap()
                .into_inner();
            assert_eq!(at_head.root, head_header.log_root);
            let sealed = &headers[at_head.height as usize - 1];
            let at_block = ledger
                .get_inclusion_proof(GetInclusionProofRequest {
                    event_id: ids[i].clone(),
                    tree_size: sealed.tree_size,
                })
                .await
                .unwrap()
                .into_inner();
            assert_eq!(at_block.root, sealed.log_root);
            for proof in [&at_head, &at_block] {
                let p = proof.proof.as_ref().unwrap();
                let leaf: Hash = proof.leaf_hash.as_slice().try_into().unwrap();
                let root: Hash = proof.root.as_slice().try_into().unwrap();
                verify_inclusion(&leaf, p.leaf_index, p.tree_size, &hashes(&p.hashes), &root).unwrap();
            }
            // The bundle: its inclusion in the block and its header are the block's own.
            let answer = v
                .verify(VerifyRequest {
                    code: format!("01{g}21K{i}"),
                    include_proof: true,
                })
                .await
                .unwrap()
                .into_inner();
            let bundle = answer.proof.expect("a bundle was asked for");
            check_bundle(&bundle, &sequencer, Some(&chain)).expect("bundle checks out");
            let block = ledger
                .get_block(GetBlockRequest { height: answer.height })
                .await
                .unwrap()
                .into_inner();
            let id: Hash = ids[i].as_slice().try_into().unwrap();
            assert_eq!(bundle.inclusion, block_inclusion(&block, &id));
            assert_eq!(bundle.header, block.header);
            out.push((at_head, at_block, bundle));
        }
        // Consistency of every block's log with the head's.
        for old in headers {
            let request = GetConsistencyProofRequest {
                old_size: old.tree_size.max(1),
                new_size: head_header.tree_size,
            };
            let proof = ledger.get_consistency_proof(request).await.unwrap().into_inner();
            if old.tree_size > 0 {
                assert_eq!(proof.old_root, old.log_root);
                let (old_root, new_root): (Hash, Hash) = (
                    old.log_root.as_slice().try_into().unwrap(),
                    head_header.log_root.as_slice().try_into().unwrap(),
                );
                verify_consistency(
                    old.tree_size,
                    head_header.tree_size,
                    &old_root,
                    &new_root,
                    &hashes(&proof.hashes),
                )
                .unwrap();
            }
            assert_eq!(proof.new_root, head_header.log_root);
        }
        out
    }
}

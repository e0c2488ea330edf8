//! The Digital Link resolver through the real stack: a product owner registers links with its master data; a
//! `linkType` redirects (307) to the link in the language asked for, `linkType=all` and `Accept:
//! application/linkset+json` answer the linkset, `/.well-known/gs1resolver` describes the resolver, and without a
//! link type the same path still verifies the pack.

use pedigree_core::gs1::gtin_check_digit;
use pedigree_core::pb::event_payload::Body;
use pedigree_core::pb::{EventState, ProductLink};
use pedigree_e2e::{Stack, body};
use reqwest::redirect::Policy;
use serde_json::Value;

const MFR: &str = "acme-pharma";

fn link(link_type: &str, lang: &str, href: &str) -> ProductLink {
    ProductLink {
        link_type: link_type.into(),
        href: href.into(),
        title: String::new(),
        lang: lang.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn product_links_resolve_by_type_and_language_and_as_a_linkset() {
    let stack = Stack::spawn().await;
    let g = format!("0950600013438{}", gtin_check_digit("0950600013438").unwrap());
    stack.product(MFR, &g).await;
    let Body::RegisterProduct(mut master) =
        body::register_product(&g, "Paracetamol Acme 500 mg", "500 mg", "tablet", 20)
    else {
        unreachable!()
    };
    master.links = vec![
        link("gs1:pip", "", "https://acme.example/paracetamol"),
        link("gs1:epil", "de", "https://acme.example/pil-de.pdf"),
        link("gs1:epil", "fr", "https://acme.example/pil-fr.pdf"),
    ];
    let id = stack
        .submit_as(MFR, Body::RegisterProduct(master))
        .await
        .expect("custody takes it")
        .event_id;
    assert_eq!(stack.outcome(&id).await.state(), EventState::Committed);
    let id = stack
        .submit_as(MFR, body::commission(&g, "L1", "291231", &["P1"]))
        .await
        .unwrap()
        .event_id;
    assert_eq!(stack.outcome(&id).await.state(), EventState::Committed);

    let ca = std::fs::read(&stack.ca_path).unwrap();
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .redirect(Policy::none())
        .build()
        .unwrap();
    let get = |path: String, headers: &[(&str, &str)]| {
        let mut request = client.get(stack.http_url(&path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };
    let location = |r: &reqwest::Response| r.headers().get("location").map(|l| l.to_str().unwrap().to_string());

    let pip = get(format!("/01/{g}?linkType=gs1:pip"), &[]).await.unwrap();
    assert_eq!(pip.status(), 307);
    assert_eq!(location(&pip).as_deref(), Some("https://acme.example/paracetamol"));
    // From a pack's own Digital Link (its serial, lot and expiry), in the language asked for.
    let french = get(
        format!("/01/{g}/10/L1/21/P1?17=291231&linkType=gs1:epil"),
        &[("accept-language", "fr-CH, de;q=0.5")],
    )
    .await
    .unwrap();
    assert_eq!(french.status(), 307);
    assert_eq!(location(&french).as_deref(), Some("https://acme.example/pil-fr.pdf"));
    let other = get(format!("/01/{g}?linkType=gs1:epil"), &[("accept-language", "it")])
        .await
        .unwrap();
    assert_eq!(
        location(&other).as_deref(),
        Some("https://acme.example/pil-de.pdf"),
        "the first, failing a match"
    );

    for asked in [
        get(format!("/01/{g}?linkType=all"), &[]).await.unwrap(),
        get(format!("/01/{g}/21/P1"), &[("accept", "application/linkset+json")])
            .await
            .unwrap(),
    ] {
        assert_eq!(asked.status(), 200);
        assert_eq!(asked.headers()["content-type"], "application/linkset+json");
        let set: Value = asked.json().await.unwrap();
        let context = &set["linkset"][0];
        assert!(
            context["anchor"].as_str().unwrap().ends_with(&format!("/01/{g}")),
            "{set}"
        );
        assert_eq!(
            context["https://gs1.org/voc/epil"].as_array().unwrap().len(),
            2,
            "{set}"
        );
        assert_eq!(
            context["https://gs1.org/voc/pip"][0]["href"],
            "https://acme.example/paracetamol"
        );
    }

    // No such link, no such product: 404 naming linkType.
    let missing = get(format!("/01/{g}?linkType=gs1:smpc"), &[]).await.unwrap();
    assert_eq!(missing.status(), 404);
    let answer: Value = missing.json().await.unwrap();
    assert_eq!(answer["field"], "linkType", "{answer}");
    let unknown = format!("0950600099998{}", gtin_check_digit("0950600099998").unwrap());
    assert_eq!(
        get(format!("/01/{unknown}?linkType=gs1:pip"), &[])
            .await
            .unwrap()
            .status(),
        404
    );

    let described: Value = get("/.well-known/gs1resolver".into(), &[])
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(described["supportedPrimaryKeys"], serde_json::json!(["01"]));
    assert!(
        described["resolverRoot"].as_str().unwrap().starts_with("https://"),
        "{described}"
    );

    // Without a link type, the pack's Digital Link still verifies it.
    let verified: Value = get(format!("/01/{g}/10/L1/21/P1?17=291231"), &[])
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(verified["verdict"], "VERIFIED", "{verified}");
    stack.shutdown().await;
}

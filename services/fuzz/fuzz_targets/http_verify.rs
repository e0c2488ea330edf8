//! The verifier's HTTP scan routes up to the store: a request URI as hyper hands it over (any bytes `http::Uri`
//! accepts: percent-encoding good or bad, non-UTF-8 once decoded, NUL, absolute form) is routed by an axum router
//! on the verifier's own route patterns to handlers that call its pure request parsing
//! (`pedigree_verifier::route`), as the real handlers do before reading Redis.
//!
//! Checked: nothing panics; a VRS request's parameters (`vrs::vrs_request`) are checked or refused naming the field; the router answers what `route::scan_request` says (404 off the scan routes, 200 for a
//! code, the error's status otherwise); every error is a 400 naming a field, with a short message; a code that parses reads back from its renderings and, sent again as a canonical
//! `/v1/verify?code=` query or Digital Link path, routes to the same code.
#![no_main]

use std::future::Future;
use std::pin::pin;
use std::sync::LazyLock;
use std::task::{Context, Poll, Waker};

use axum::Router;
use axum::body::Body;
use axum::extract::OriginalUri;
use axum::http::{Request, StatusCode, Uri};
use axum::routing::get;
use libfuzzer_sys::fuzz_target;
use pedigree_fuzz::{check_message, check_round_trips};
use pedigree_gs1::ScannedCode;
use pedigree_verifier::VerifyError;
use pedigree_verifier::route::{self, DIGITAL_LINK_PATH, ScanRequest, VERIFY_PATH};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use tower::Service;

fn status(result: Result<ScanRequest, VerifyError>) -> StatusCode {
    result.map_or_else(|e| e.http_status(), |_| StatusCode::OK)
}

static ROUTER: LazyLock<Router> = LazyLock::new(|| {
    Router::new()
        .route(
            VERIFY_PATH,
            get(|OriginalUri(uri): OriginalUri| async move { status(route::verify_query(&uri)) }),
        )
        .route(
            DIGITAL_LINK_PATH,
            get(|OriginalUri(uri): OriginalUri| async move { status(route::digital_link(&uri)) }),
        )
});

/// The status the router answers `GET uri` with; the handlers never wait, so one poll finishes it.
fn routed(uri: Uri) -> StatusCode {
    let request = Request::get(uri)
        .body(Body::empty())
        .expect("a request from a valid URI");
    let mut router = ROUTER.clone();
    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(
        Service::<Request<Body>>::poll_ready(&mut router, &mut cx),
        Poll::Ready(Ok(()))
    ));
    match pin!(router.call(request)).poll(&mut cx) {
        Poll::Ready(Ok(response)) => response.status(),
        Poll::Ready(Err(e)) => match e {},
        Poll::Pending => panic!("routing a scan waited"),
    }
}

fn scan(uri: &str) -> Option<Result<ScanRequest, String>> {
    let uri: Uri = uri.parse().expect("a canonical scan URI is a URI");
    route::scan_request(&uri).map(|r| r.map_err(|e| e.to_string()))
}

/// `code` sent again in canonical form, on either route, is `code`.
fn check_canonical_routes(code: &ScannedCode) {
    let query = format!(
        "{VERIFY_PATH}?code={}&proof=1",
        utf8_percent_encode(&code.to_element_string(), NON_ALPHANUMERIC)
    );
    let want = |proof| {
        Some(Ok(ScanRequest {
            code: code.clone(),
            proof,
        }))
    };
    assert_eq!(scan(&query), want(true), "{query}");
    let link = code.to_digital_link("");
    assert_eq!(scan(&link), want(false), "{link}");
}

fuzz_target!(|data: &[u8]| {
    let Ok(uri) = Uri::try_from(data) else {
        return;
    };
    // A VRS request's parameters (on the Digital Link route): checked, or refused naming the field.
    match pedigree_verifier::vrs::vrs_request(&uri) {
        None => {}
        Some(Ok(asked)) => {
            assert!(pedigree_verifier::vrs::is_gln(&asked.req_gln), "{asked:?}");
            assert_eq!(asked.corr_uuid.len(), 36, "{asked:?}");
        }
        Some(Err(e)) => {
            assert!(e.field().is_some(), "{e}");
            check_message(&e.to_string());
        }
    }
    let expected = route::scan_request(&uri);
    let want = match &expected {
        None => StatusCode::NOT_FOUND,
        Some(Ok(_)) => StatusCode::OK,
        Some(Err(e)) => e.http_status(),
    };
    assert_eq!(routed(uri.clone()), want, "{uri}");
    match expected {
        None => {}
        Some(Ok(request)) => {
            check_round_trips(&request.code);
            check_canonical_routes(&request.code);
        }
        Some(Err(e)) => {
            assert_eq!(e.http_status(), StatusCode::BAD_REQUEST, "{e}");
            assert!(e.field().is_some(), "{e}");
            check_message(&e.to_string());
        }
    }
});

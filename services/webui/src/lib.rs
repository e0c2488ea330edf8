//! The pharmacist's scan page (docs/pharmacy.md): plain ES modules, a stylesheet and the vendored DataMatrix decoder
//! (zxing-wasm, `scripts/vendor-web.sh`), embedded in the binary at build time so that nothing runs Node.js and
//! nothing is fetched from elsewhere at run time. The verifier serves it at `/` (scanning only); `pedigree console`
//! serves the same page with the pharmacy's actions.
//!
//! Every answer carries the page's security headers ([`security_headers`]): a Content-Security-Policy that allows
//! scripts, styles, images and fetches from this origin only (and WebAssembly compilation, for the decoder), no
//! framing, no referrer, no MIME sniffing, the camera for this origin only.
#![forbid(unsafe_code)]

use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

/// One embedded file.
pub struct Asset {
    /// Its path under `/assets/` (the page itself is `index.html`, served at `/`).
    pub path: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $type:expr) => {
        Asset {
            path: $path,
            content_type: $type,
            bytes: include_bytes!(concat!("../assets/", $path)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file the page is made of.
pub static ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("app.js", JS),
    asset!("wedge.js", JS),
    asset!("verdicts.js", JS),
    asset!("card.js", JS),
    asset!("console.js", JS),
    asset!("camera.js", JS),
    asset!("vendor/zxing/reader/index.js", JS),
    asset!("vendor/zxing/share.js", JS),
    asset!("vendor/zxing/zxing_reader.wasm", "application/wasm"),
    asset!("vendor/zxing/LICENSE", "text/plain; charset=utf-8"),
    asset!("vendor/zxing/NOTICE", "text/plain; charset=utf-8"),
];

/// The page's Content-Security-Policy: everything from this origin only, no inline script or style, WebAssembly
/// compiled (the decoder), images also as `data:` (the icon) and the camera's stream as `blob:`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' data:; media-src 'self' blob:; connect-src 'self'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// Each asset's strong validator (`ETag`): its SHA-256, so a browser revalidates with a `304` instead of a download.
static ETAGS: LazyLock<Vec<HeaderValue>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| {
            let digest = Sha256::digest(a.bytes);
            HeaderValue::from_str(&format!("\"{}\"", hex::encode(&digest[..16])))
                .expect("a hex digest in quotes is a valid header value")
        })
        .collect()
});

/// The routes of the page: `/` and `/assets/{path}`. `tls` says whether it is served over HTTPS (then browsers are
/// told to keep to HTTPS: `Strict-Transport-Security`).
pub fn router<S: Clone + Send + Sync + 'static>(tls: bool) -> Router<S> {
    Router::new()
        .route(
            "/",
            get(move |headers: HeaderMap| async move { serve("index.html", &headers, tls) }),
        )
        .route(
            "/assets/{*path}",
            get(move |Path(path): Path<String>, headers: HeaderMap| async move { serve(&path, &headers, tls) }),
        )
}

fn serve(path: &str, request: &HeaderMap, tls: bool) -> Response {
    let Some(at) = ASSETS.iter().position(|a| a.path == path) else {
        let mut response = (StatusCode::NOT_FOUND, "no such asset\n").into_response();
        security_headers(response.headers_mut(), tls);
        return response;
    };
    let asset = &ASSETS[at];
    let etag = &ETAGS[at];
    let fresh = request.get(header::IF_NONE_MATCH).is_some_and(|given| {
        given
            .as_bytes()
            .split(|b| *b == b',')
            .any(|t| t.trim_ascii() == etag.as_bytes())
    });
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type))],
            asset.bytes,
        )
            .into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, etag.clone());
    // Revalidated on every load: a new release's page is never mixed with an old one's modules.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    security_headers(headers, tls);
    response
}

/// The headers every answer of the page carries.
pub fn security_headers(headers: &mut HeaderMap, tls: bool) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(self), microphone=(), geolocation=(), payment=(), usb=()"),
    );
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    headers.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    if tls {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    async fn get(path: &str, headers: &[(&str, &str)]) -> Response {
        let mut request = Request::get(path);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        router::<()>(true)
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn serves_the_page_with_its_headers() {
        let r = get("/", &[]).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(r.headers()[header::CONTENT_SECURITY_POLICY], CONTENT_SECURITY_POLICY);
        assert_eq!(r.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(r.headers().contains_key(header::STRICT_TRANSPORT_SECURITY));
        let wasm = get("/assets/vendor/zxing/zxing_reader.wasm", &[]).await;
        assert_eq!(wasm.headers()[header::CONTENT_TYPE], "application/wasm");
    }

    #[tokio::test]
    async fn revalidates_by_etag_and_refuses_unknown_paths() {
        let first = get("/assets/app.js", &[]).await;
        let etag = first.headers()[header::ETAG].to_str().unwrap().to_string();
        let again = get("/assets/app.js", &[("if-none-match", &format!("\"x\", {etag}"))]).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(get("/assets/../Cargo.toml", &[]).await.status(), StatusCode::NOT_FOUND);
        assert_eq!(get("/assets/nothing.js", &[]).await.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn every_module_the_page_imports_is_embedded() {
        for asset in ASSETS
            .iter()
            .filter(|a| a.path.ends_with(".js") || a.path.ends_with(".html"))
        {
            let text = std::str::from_utf8(asset.bytes).unwrap();
            for quote in ["'/assets/", "\"/assets/"] {
                for (at, _) in text.match_indices(quote) {
                    let rest = &text[at + quote.len()..];
                    let end = rest.find(['\'', '"', '`', '$']).unwrap();
                    let path = &rest[..end];
                    if path.ends_with('/') {
                        continue;
                    }
                    assert!(
                        ASSETS.iter().any(|a| a.path == path),
                        "{} refers to {path}, not embedded",
                        asset.path
                    );
                }
            }
        }
    }
}

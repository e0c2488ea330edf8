//! From a scan's request URI to the code to verify, before any state is read: `GET /v1/verify?code=...&proof=...`
//! (the code in any GS1 form) and GS1 Digital Link paths `GET /01/{gtin}/...` (the path and query are a Digital Link
//! URI relative to this host). Pure, so that services/fuzz drives it with arbitrary URIs through an axum router
//! built on the same [`VERIFY_PATH`] and [`DIGITAL_LINK_PATH`] as the verifier's.

use axum::extract::Query;
use axum::http::Uri;
use pedigree_core::gs1::{ScannedCode, parse_digital_link, parse_scan};
use serde::Deserialize;

use crate::error::VerifyError;

/// The route of `GET /v1/verify?code=...&proof=...`.
pub const VERIFY_PATH: &str = "/v1/verify";
/// The route of GS1 Digital Link paths (AI 01 first, as this verifier only resolves packs).
pub const DIGITAL_LINK_PATH: &str = "/01/{*rest}";

/// What a scan request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRequest {
    pub code: ScannedCode,
    /// Whether a proof bundle is to be attached (`proof=1`, `true` or `yes` on `/v1/verify`).
    pub proof: bool,
}

#[derive(Deserialize)]
struct CodeQuery {
    code: Option<String>,
    proof: Option<String>,
}

/// `GET /v1/verify?code=...&proof=...`: the query string decoded as axum's `Query` extractor does, then the code
/// parsed in whichever GS1 form it is written.
pub fn verify_query(uri: &Uri) -> Result<ScanRequest, VerifyError> {
    let Query(q) = Query::<CodeQuery>::try_from_uri(uri)
        .map_err(|_| VerifyError::Field("query", "must be code=...&proof=..., each at most once"))?;
    let code = parse_scan(q.code.as_deref().unwrap_or_default())?;
    Ok(ScanRequest {
        code,
        proof: matches!(q.proof.as_deref(), Some("1" | "true" | "yes")),
    })
}

/// `GET /01/...`: the path and query as a Digital Link URI relative to this host (never with a proof).
pub fn digital_link(uri: &Uri) -> Result<ScanRequest, VerifyError> {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    Ok(ScanRequest {
        code: parse_digital_link(path)?,
        proof: false,
    })
}

/// What the verifier's router does with `uri` up to the store: `None` when no scan route matches (404).
pub fn scan_request(uri: &Uri) -> Option<Result<ScanRequest, VerifyError>> {
    let path = uri.path();
    if path == VERIFY_PATH {
        Some(verify_query(uri))
    } else if path.len() > "/01/".len() && path.starts_with("/01/") {
        Some(digital_link(uri))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pedigree_core::gs1::parse_bracketed;

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    fn scan(s: &str) -> Option<Result<ScanRequest, String>> {
        scan_request(&uri(s)).map(|r| r.map_err(|e| e.to_string()))
    }

    #[test]
    fn routes_every_form() {
        let code = parse_bracketed("(01)09506000134352(17)201225(10)ABC123(21)XYZ").unwrap();
        let want = |proof| {
            Some(Ok(ScanRequest {
                code: code.clone(),
                proof,
            }))
        };
        assert_eq!(
            scan("/v1/verify?code=01095060001343521720122510ABC123%1D21XYZ"),
            want(false)
        );
        assert_eq!(
            scan("/v1/verify?code=%5Dd201095060001343521720122510ABC123%1D21XYZ&proof=1"),
            want(true)
        );
        assert_eq!(
            scan("/v1/verify?proof=yes&code=(01)09506000134352(17)201225(10)ABC123(21)XYZ"),
            want(true)
        );
        assert_eq!(
            scan(
                "/v1/verify?code=https%3A%2F%2Fid.gs1.org%2F01%2F09506000134352%2F10%2FABC123%2F21%2FXYZ%3F17%3D201225&proof=0"
            ),
            want(false)
        );
        assert_eq!(scan("/01/09506000134352/10/ABC123/21/XYZ?17=201225"), want(false));
        assert_eq!(
            scan("https://verifier.example/01/09506000134352/10/ABC123/21/XYZ?17=201225&proof=1"),
            want(false)
        );
    }

    #[test]
    fn other_paths_are_not_scans() {
        for s in [
            "/",
            "/01/",
            "/v1/verify/",
            "/V1/verify?code=1",
            "/healthz",
            "/01",
            "/02/09506000134352",
        ] {
            assert_eq!(scan(s), None, "{s}");
        }
    }

    #[test]
    fn errors_are_bad_requests_naming_the_part() {
        let err = |s: &str| scan_request(&uri(s)).unwrap().unwrap_err();
        for (s, message, field) in [
            ("/v1/verify", "scan: input is empty", "code"),
            ("/v1/verify?code=", "scan: input is empty", "code"),
            (
                "/v1/verify?code=1&code=2",
                "query: must be code=...&proof=..., each at most once",
                "query",
            ),
            ("/v1/verify?code=(01)123", "gtin: must be 14 digits, got 3", "gtin"),
            (
                "/01/09506000134352/21/%FF",
                "digital link: value at position 22 is not utf-8 once percent-decoded",
                "code",
            ),
            (
                "/01/0950600013435x",
                "gtin: character 'x' at position 13 is not a digit",
                "gtin",
            ),
        ] {
            let e = err(s);
            assert_eq!((e.to_string().as_str(), e.field()), (message, Some(field)), "{s}");
            assert_eq!(e.http_status(), axum::http::StatusCode::BAD_REQUEST, "{s}");
        }
    }

    /// Issue 15: an error message quotes at most a few dozen characters of the input. A Digital Link path segment or
    /// a bracketed AI was once quoted whole (services/gs1/src/{digital_link,bracketed}.rs), and the message goes
    /// back in the 400's JSON. Found by the `http_verify` fuzz target with its message check (services/fuzz,
    /// docs/reliability.md); services/gs1/tests/messages.rs has the GS1 side.
    #[test]
    fn error_messages_quote_a_bounded_part_of_the_input() {
        let long = "A".repeat(10_000);
        for s in [
            // The fuzzer's input.
            "/v1/verify?code=%280152909506000133++++++++++++++]e0q+++++++1/verify?code=00547530000671'/v1++++++++\
             ++++++0134+++++++++++++%++++++++++++++++++++++++++++++++++++++++++++%290950+++++++++352+5rify?code=0\
             1683918684ify?c~ode=01095060)001343+52221510710ABC12;D19X%YZ2221510743+52221510710ABC12;D19X%YZ22215\
             10710BC12;++++++++352%9"
                .to_string(),
            format!("/01/09506000134352/{long}"),
            format!("/v1/verify?code=(01)09506000134352({long})"),
        ] {
            let message = scan_request(&uri(&s)).unwrap().unwrap_err().to_string();
            assert!(message.len() <= 200, "{} bytes: {}...", message.len(), &message[..80]);
        }
    }
}

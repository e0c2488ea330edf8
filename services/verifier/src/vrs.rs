//! A DSCSA verification responder (VRS) per the GS1 Lightweight Messaging Standard for Verification of Product
//! Identifiers (LMS): `GET /01/{gtin}/10/{lot}/21/{serial}?17={expiry}&linkType=verificationService&context=
//! dscsaSaleableReturn&reqGLN={GLN}&corrUUID={UUID}` on the Digital Link route, answered with the LMS JSON
//! (docs/verdicts.md, "VRS responder"); `linkType=checkConnectivity` answers without verifying anything. The
//! requester is a signed-in participant whose registered GLN is `reqGLN`.
//!
//! The mapping and the request checks are pure: golden files (`services/verifier/vrs-golden/`) hold the answer for
//! every verdict.

use axum::http::Uri;
use pedigree_core::pb::Verdict;
use serde::Serialize;

/// The one context Pedigree answers: a wholesaler verifying a saleable return (DSCSA).
pub const CONTEXT: &str = "dscsaSaleableReturn";

/// What a VRS request asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Verify,
    CheckConnectivity,
}

/// A VRS request's parameters beyond the product identifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VrsRequest {
    pub method: Method,
    pub req_gln: String,
    pub corr_uuid: String,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VrsError {
    #[error("{0}: {1}")]
    Field(&'static str, &'static str),
    #[error("reqGLN: not the GLN registered for the signed-in participant")]
    UnknownRequester,
    #[error("the requester must be signed in (a participant's session token): VRS answers only trading partners")]
    Anonymous,
    #[error("no responder for this GTIN: no pack of it was ever commissioned on this ledger")]
    UnknownProduct,
}

impl VrsError {
    pub fn field(&self) -> Option<&'static str> {
        match self {
            VrsError::Field(field, _) => Some(field),
            VrsError::UnknownRequester => Some("reqGLN"),
            _ => None,
        }
    }
}

/// The VRS request a Digital Link URI carries, if it carries one (`linkType` of a verification service or a
/// connectivity check); `None` for a plain Digital Link scan.
pub fn vrs_request(uri: &Uri) -> Option<Result<VrsRequest, VrsError>> {
    let query = uri.query().unwrap_or_default();
    let param = |name: &str| {
        query
            .split('&')
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    };
    let method = match param("linkType")? {
        "verificationService" | "gs1:verificationService" | "gs1%3AverificationService" => Method::Verify,
        "checkConnectivity" | "gs1:checkConnectivity" | "gs1%3AcheckConnectivity" => Method::CheckConnectivity,
        _ => return None,
    };
    Some(parse(method, param("context"), param("reqGLN"), param("corrUUID")))
}

fn parse(
    method: Method,
    context: Option<&str>,
    req_gln: Option<&str>,
    corr_uuid: Option<&str>,
) -> Result<VrsRequest, VrsError> {
    if context != Some(CONTEXT) {
        return Err(VrsError::Field("context", "must be dscsaSaleableReturn"));
    }
    let req_gln = req_gln.ok_or(VrsError::Field("reqGLN", "missing: the requester's GLN"))?;
    if !is_gln(req_gln) {
        return Err(VrsError::Field(
            "reqGLN",
            "must be a GLN: 13 digits with a valid check digit",
        ));
    }
    let corr_uuid = corr_uuid.ok_or(VrsError::Field("corrUUID", "missing: the request's correlation UUID"))?;
    if !is_uuid(corr_uuid) {
        return Err(VrsError::Field(
            "corrUUID",
            "must be a UUID (8-4-4-4-12 hexadecimal digits)",
        ));
    }
    Ok(VrsRequest {
        method,
        req_gln: req_gln.to_string(),
        corr_uuid: corr_uuid.to_ascii_lowercase(),
    })
}

/// 13 digits, the last the GS1 mod-10 check digit of the first 12.
pub fn is_gln(value: &str) -> bool {
    value.len() == 13
        && value.bytes().all(|b| b.is_ascii_digit())
        && pedigree_core::gs1::gtin_check_digit(&format!("0{}", &value[..12])) == Some(value.as_bytes()[12] - b'0')
}

fn is_uuid(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The `data` of a verification answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VrsData {
    pub verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification_failure_reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_info: Option<&'static str>,
}

/// An LMS answer: to a verification (with `data`) or to a connectivity check (without).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VrsResponse {
    pub verification_timestamp: String,
    #[serde(rename = "responderGLN")]
    pub responder_gln: String,
    #[serde(rename = "corrUUID")]
    pub corr_uuid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<VrsData>,
}

/// What a verdict answers to a VRS requester (docs/verdicts.md, the VRS column); `Err` for an unknown product,
/// which no responder answers (HTTP 404).
pub fn vrs_data(verdict: Verdict) -> Result<VrsData, VrsError> {
    let verified = |info| VrsData {
        verified: true,
        verification_failure_reason: None,
        additional_info: info,
    };
    let failed = |reason| VrsData {
        verified: false,
        verification_failure_reason: Some(reason),
        additional_info: None,
    };
    Ok(match verdict {
        Verdict::UnknownProduct | Verdict::Unspecified => return Err(VrsError::UnknownProduct),
        Verdict::UnknownSerial => failed("No_match_GTIN_Serial"),
        Verdict::LotMismatch => failed("No_match_GTIN_Serial_Lot"),
        Verdict::ExpiryMismatch => failed("No_match_GTIN_Serial_Expiry"),
        Verdict::Illegitimate => verified(Some("Illegitimate")),
        Verdict::Suspect => verified(Some("Suspect")),
        // LMS: "Recalled" means recalled or withdrawn.
        Verdict::Recalled | Verdict::Withdrawn => verified(Some("Recalled")),
        Verdict::Expired => verified(Some("Expired")),
        // A stolen or destroyed pack returned as saleable is not to be redistributed.
        Verdict::Decommissioned => failed("Not_for_re-distribution"),
        // The manufacturer's repository is not told of dispensing under DSCSA: the product identifier is genuine.
        Verdict::Dispensed | Verdict::AlreadyDispensedByYou | Verdict::Verified => verified(None),
    })
}

/// RFC 3339 UTC with milliseconds, as LMS examples write `verificationTimestamp`.
pub fn timestamp(ms_since_epoch: i64) -> String {
    let secs = ms_since_epoch.div_euclid(1000);
    let millis = ms_since_epoch.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

impl crate::verify::Verifier {
    /// Answers a VRS request for the pack `uri` names, asked by `caller`.
    pub(crate) async fn vrs(
        &self,
        uri: &Uri,
        asked: VrsRequest,
        caller: &crate::access::Caller,
    ) -> Result<VrsResponse, crate::error::VerifyError> {
        let id = caller.id().ok_or(VrsError::Anonymous)?;
        let gln_of = |who: &str| self.auth.registry.borrow().get(who).and_then(|p| p.gln.clone());
        if gln_of(id).as_deref() != Some(asked.req_gln.as_str()) {
            return Err(VrsError::UnknownRequester.into());
        }
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let code = pedigree_core::gs1::parse_digital_link(path)?;
        let answer = |responder_gln: String, data| VrsResponse {
            verification_timestamp: timestamp(crate::alerts::now_ms()),
            responder_gln,
            corr_uuid: asked.corr_uuid.clone(),
            data,
        };
        if asked.method == Method::CheckConnectivity {
            return Ok(answer(self.responder_gln.clone(), None));
        }
        if code.lot.is_none() {
            return Err(VrsError::Field("lot", "a verification request names the lot (path segment 10)").into());
        }
        if code.expiry.is_none() {
            return Err(VrsError::Field("17", "a verification request names the expiry (query parameter 17)").into());
        }
        let verified = self.verify(&code, false, caller).await?;
        let data = vrs_data(verified.verdict())?;
        // The product's owner answers for its products when it registered a GLN; the operator's GLN otherwise.
        let owner = verified.product.as_ref().map(|p| p.owner.as_str()).unwrap_or_default();
        let responder = gln_of(owner).unwrap_or_else(|| self.responder_gln.clone());
        Ok(answer(responder, Some(data)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str) -> Option<Result<VrsRequest, VrsError>> {
        vrs_request(&format!("/01/09506000134352/10/L1/21/S1?{query}").parse().unwrap())
    }

    const OK: &str = "reqGLN=0614141000005&corrUUID=0B5DDC5C-B1D8-4C6B-A3A5-6E2B6C37A2A1";

    #[test]
    fn a_vrs_request_is_recognised_by_its_link_type_and_checked() {
        assert_eq!(request("17=291231"), None, "a plain Digital Link scan");
        assert_eq!(request("linkType=gs1:pip"), None);
        let asked = request(&format!(
            "17=291231&linkType=verificationService&context=dscsaSaleableReturn&{OK}"
        ))
        .unwrap()
        .unwrap();
        assert_eq!(
            asked,
            VrsRequest {
                method: Method::Verify,
                req_gln: "0614141000005".into(),
                corr_uuid: "0b5ddc5c-b1d8-4c6b-a3a5-6e2b6c37a2a1".into(),
            }
        );
        let check = request(&format!("linkType=checkConnectivity&context=dscsaSaleableReturn&{OK}"));
        assert_eq!(check.unwrap().unwrap().method, Method::CheckConnectivity);
        let refused = |query: &str| request(query).unwrap().unwrap_err().field();
        assert_eq!(refused(&format!("linkType=verificationService&{OK}")), Some("context"));
        assert_eq!(
            refused(&format!("linkType=verificationService&context=dscsaSaleable&{OK}")),
            Some("context")
        );
        assert_eq!(
            refused("linkType=verificationService&context=dscsaSaleableReturn&reqGLN=0614141000006&corrUUID=x"),
            Some("reqGLN")
        );
        assert_eq!(
            refused("linkType=verificationService&context=dscsaSaleableReturn&reqGLN=0614141000005&corrUUID=12-34"),
            Some("corrUUID")
        );
        assert_eq!(
            refused("linkType=verificationService&context=dscsaSaleableReturn&reqGLN=0614141000005"),
            Some("corrUUID")
        );
    }

    #[test]
    fn timestamps_are_rfc_3339_utc_with_milliseconds() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(timestamp(1_796_043_600_123), "2026-11-30T13:00:00.123Z");
        assert_eq!(timestamp(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    /// Every verdict's answer, against the golden files a third party can read (regenerate with
    /// `PEDIGREE_WRITE_VECTORS=1`).
    #[test]
    fn every_verdict_answers_as_its_golden_file() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("vrs-golden");
        let write = std::env::var_os("PEDIGREE_WRITE_VECTORS").is_some();
        for v in 1..=13 {
            let verdict = Verdict::try_from(v).unwrap();
            let name = pedigree_core::verdict::verdict_name(verdict).to_lowercase();
            let path = dir.join(format!("{name}.json"));
            let (status, body) = match vrs_data(verdict) {
                Ok(data) => (
                    200,
                    serde_json::to_value(VrsResponse {
                        verification_timestamp: timestamp(1_796_043_600_123),
                        responder_gln: "0950600000001".into(),
                        corr_uuid: "0b5ddc5c-b1d8-4c6b-a3a5-6e2b6c37a2a1".into(),
                        data: Some(data),
                    })
                    .unwrap(),
                ),
                Err(e) => (404, serde_json::json!({ "error": e.to_string(), "field": e.field() })),
            };
            let golden = serde_json::json!({ "verdict": pedigree_core::verdict::verdict_name(verdict), "status": status, "body": body });
            let text = serde_json::to_string_pretty(&golden).unwrap() + "\n";
            if write {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &text).unwrap();
            }
            let kept = std::fs::read_to_string(&path).unwrap_or_default();
            assert_eq!(
                kept,
                text,
                "{}: regenerate with PEDIGREE_WRITE_VECTORS=1",
                path.display()
            );
        }
    }
}

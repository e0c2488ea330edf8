//! An EPCIS 2.0 capture document (JSON-LD) as the custody events a participant signs: the inverse of the verifier's
//! EPCIS mapping (docs/epcis.md). Pure; the participant's gateway (`pedigree gateway`) signs and submits what this
//! returns.
//!
//! A document is mapped whole or refused whole: the first event that cannot be mapped is named with the field that is
//! wrong (`epcisBody.eventList[3].bizStep: …`), and nothing is submitted.

use std::collections::HashMap;
use std::fmt;

use crate::body;
use crate::container::ContainerKey;
use crate::gs1::{Epc, parse_epc};
use crate::pb::DecommissionReason;
use crate::pb::event_payload::Body;
use serde_json::Value;

/// Why a document cannot be captured: the event (its index in `eventList`, if any) and the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureError {
    pub event: Option<usize>,
    pub field: String,
    pub why: String,
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.event {
            Some(i) => write!(f, "epcisBody.eventList[{i}].{}: {}", self.field, self.why),
            None => write!(f, "{}: {}", self.field, self.why),
        }
    }
}

/// How parties are named in `sourceList` / `destinationList`: `urn:pedigree:participant:{id}`, or a party GLN
/// (`https://id.gs1.org/417/{gln}`, any host) that `glns` maps to a participant id.
pub struct PartyNames {
    pub glns: HashMap<String, String>,
}

impl PartyNames {
    fn participant(&self, uri: &str) -> Option<String> {
        if let Some(id) = uri.strip_prefix("urn:pedigree:participant:") {
            return Some(id.to_string()).filter(|id| !id.is_empty());
        }
        let path = uri
            .split_once("://")
            .map(|(_, rest)| rest.find('/').map_or("", |i| &rest[i..]))?;
        let gln = path.strip_prefix("/417/")?;
        self.glns.get(gln).cloned()
    }
}

/// The most events one document may hold.
pub const MAX_EVENTS: usize = 1000;

/// One captured event: the custody event it stands for, and its `eventTime` (Unix milliseconds), which the
/// participant signs as the event's time.
#[derive(Clone, Debug, PartialEq)]
pub struct Captured {
    pub body: Body,
    pub time_ms: i64,
}

/// The custody events of an `EPCISDocument`, in document order.
pub fn map_document(doc: &Value, parties: &PartyNames) -> Result<Vec<Captured>, CaptureError> {
    let top = |field: &str, why: &str| CaptureError {
        event: None,
        field: field.to_string(),
        why: why.to_string(),
    };
    if doc.get("type").and_then(Value::as_str) != Some("EPCISDocument") {
        return Err(top("type", "must be EPCISDocument"));
    }
    let events = doc
        .pointer("/epcisBody/eventList")
        .and_then(Value::as_array)
        .ok_or_else(|| top("epcisBody.eventList", "missing: the events to capture"))?;
    if events.is_empty() || events.len() > MAX_EVENTS {
        return Err(top("epcisBody.eventList", "must hold 1 to 1000 events"));
    }
    events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let time_ms = e
                .get("eventTime")
                .and_then(Value::as_str)
                .and_then(crate::gs1::Date::parse_rfc3339_millis)
                .ok_or_else(|| no("eventTime", "missing, or not an RFC 3339 time"));
            time_ms
                .and_then(|time_ms| {
                    Ok(Captured {
                        body: map_event(e, parties)?,
                        time_ms,
                    })
                })
                .map_err(|(field, why)| CaptureError {
                    event: Some(i),
                    field: field.to_string(),
                    why,
                })
        })
        .collect()
}

type Refused = (&'static str, String);

fn no(field: &'static str, why: impl Into<String>) -> Refused {
    (field, why.into())
}

/// A CBV value without its web vocabulary or URN prefix.
fn bare<'a>(value: &'a str, kind: &str) -> &'a str {
    value
        .strip_prefix(&format!("https://ref.gs1.org/cbv/{kind}-"))
        .or_else(|| value.strip_prefix(&format!("urn:epcglobal:cbv:{}:", kind.to_ascii_lowercase())))
        .unwrap_or(value)
}

/// The EPCs of a list field (absent: none).
fn epcs(e: &Value, field: &'static str) -> Result<Vec<Epc>, Refused> {
    let Some(list) = e.get(field) else {
        return Ok(Vec::new());
    };
    let list = list.as_array().ok_or_else(|| no(field, "must be a list of EPCs"))?;
    list.iter()
        .map(|v| {
            let s = v.as_str().ok_or_else(|| no(field, "must be a list of EPCs"))?;
            parse_epc(s).map_err(|err| no(field, err.to_string()))
        })
        .collect()
}

/// Packs grouped by GTIN (in order of first appearance) and containers (SSCCs), from EPCs.
#[derive(Default)]
struct Items {
    lines: Vec<(String, Vec<String>)>,
    containers: Vec<ContainerKey>,
}

impl Items {
    fn of(list: Vec<Epc>) -> Self {
        let mut items = Items::default();
        for epc in list {
            match epc {
                Epc::Sgtin { gtin, serial } => match items.lines.iter_mut().find(|(g, _)| g == gtin.as_str()) {
                    Some((_, serials)) => serials.push(serial.as_str().to_string()),
                    None => items
                        .lines
                        .push((gtin.as_str().to_string(), vec![serial.as_str().to_string()])),
                },
                Epc::Sscc(sscc) => items.containers.push(ContainerKey::Sscc(sscc)),
            }
        }
        items
    }

    fn lines(&self) -> Vec<(&str, &[String])> {
        self.lines.iter().map(|(g, s)| (g.as_str(), s.as_slice())).collect()
    }

    /// The packs of one GTIN, for the events that take one.
    fn one_gtin(&self, field: &'static str) -> Result<(&str, &[String]), Refused> {
        match (self.lines.as_slice(), self.containers.is_empty()) {
            ([(g, s)], true) => Ok((g.as_str(), s.as_slice())),
            _ => Err(no(field, "this event takes packs of one GTIN (and no SSCC)")),
        }
    }
}

/// The participant named in a `sourceList` or `destinationList` (the possessing party, else the owning party).
fn party(e: &Value, list: &'static str, key: &str, parties: &PartyNames) -> Result<String, Refused> {
    let entries = e
        .get(list)
        .and_then(Value::as_array)
        .ok_or_else(|| no(list, "missing: who the goods go to or come from"))?;
    let of_type = |t: &str| {
        entries.iter().find(|p| {
            p.get("type")
                .and_then(Value::as_str)
                .is_some_and(|v| bare(v, "SDT") == t)
        })
    };
    let entry = of_type("possessing_party")
        .or_else(|| of_type("owning_party"))
        .ok_or_else(|| no(list, "names no possessing_party or owning_party"))?;
    let uri = entry
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| no(list, format!("an entry has no {key}")))?;
    parties.participant(uri).ok_or_else(|| {
        no(
            list,
            "names a party this gateway does not know: use urn:pedigree:participant:{id} or a registered party GLN",
        )
    })
}

fn map_event(e: &Value, parties: &PartyNames) -> Result<Body, Refused> {
    let text = |field: &'static str| e.get(field).and_then(Value::as_str);
    if e.get("errorDeclaration").is_some() {
        return Err(no(
            "errorDeclaration",
            "corrections are ledger events of their own: void the shipment or undo the dispense",
        ));
    }
    let kind = text("type").ok_or_else(|| no("type", "missing"))?;
    let action = text("action").unwrap_or_default();
    let step = bare(text("bizStep").ok_or_else(|| no("bizStep", "missing"))?, "BizStep");
    let disposition = text("disposition").map(|d| bare(d, "Disp"));
    match (kind, action, step) {
        ("ObjectEvent", "ADD", "commissioning") => {
            let items = Items::of(epcs(e, "epcList")?);
            let (gtin, serials) = items.one_gtin("epcList")?;
            let ilmd = e
                .get("ilmd")
                .ok_or_else(|| no("ilmd", "missing: the lot and expiry of the new packs"))?;
            let field = |names: [&str; 2]| names.iter().find_map(|n| ilmd.get(*n).and_then(Value::as_str));
            let lot = field(["cbvmda:lotNumber", "https://ref.gs1.org/cbv/MDA-lotNumber"])
                .ok_or_else(|| no("ilmd", "missing cbvmda:lotNumber"))?;
            let expiry = field([
                "cbvmda:itemExpirationDate",
                "https://ref.gs1.org/cbv/MDA-itemExpirationDate",
            ])
            .ok_or_else(|| no("ilmd", "missing cbvmda:itemExpirationDate"))?;
            Ok(body::commission(gtin, lot, &yymmdd(expiry)?, serials))
        }
        ("ObjectEvent", "OBSERVE", "shipping") => {
            let items = Items::of(epcs(e, "epcList")?);
            let receiver = party(e, "destinationList", "destination", parties)?;
            if disposition == Some("returned") {
                let (gtin, serials) = items.one_gtin("epcList")?;
                return Ok(body::return_to(gtin, serials, &receiver));
            }
            Ok(body::ship_all(&items.lines(), &items.containers, &receiver))
        }
        ("ObjectEvent", "OBSERVE", "receiving") => {
            let items = Items::of(epcs(e, "epcList")?);
            let sender = party(e, "sourceList", "source", parties)?;
            Ok(body::receive_all(&items.lines(), &items.containers, &sender))
        }
        ("ObjectEvent", "OBSERVE", "dispensing") => {
            let items = Items::of(epcs(e, "epcList")?);
            let (gtin, serials) = items.one_gtin("epcList")?;
            Ok(body::dispense(gtin, serials))
        }
        ("ObjectEvent", "DELETE", "decommissioning" | "destroying" | "sampling") => {
            let items = Items::of(epcs(e, "epcList")?);
            let (gtin, serials) = items.one_gtin("epcList")?;
            let reason = match (step, disposition) {
                ("sampling", _) => DecommissionReason::Sample,
                (_, Some("destroyed")) => DecommissionReason::Destroyed,
                (_, Some("stolen")) => DecommissionReason::Stolen,
                _ => {
                    return Err(no(
                        "disposition",
                        "a decommissioning says why: destroyed or stolen (or bizStep sampling)",
                    ));
                }
            };
            Ok(body::decommission(gtin, serials, reason))
        }
        ("AggregationEvent", "ADD" | "DELETE", "packing" | "unpacking") => {
            let parent_id = text("parentID").ok_or_else(|| no("parentID", "missing: the container"))?;
            let parent = match parse_epc(parent_id).map_err(|err| no("parentID", err.to_string()))? {
                Epc::Sscc(sscc) => ContainerKey::Sscc(sscc),
                Epc::Sgtin { gtin, serial } => ContainerKey::Case { gtin, serial },
            };
            let children = Items::of(epcs(e, "childEPCs")?);
            if (action == "ADD") != (step == "packing") {
                return Err(no("action", "packing adds (ADD), unpacking removes (DELETE)"));
            }
            if action == "ADD" {
                if children.lines.is_empty() && children.containers.is_empty() {
                    return Err(no("childEPCs", "missing: what goes into the container"));
                }
                Ok(body::pack(&parent, &children.lines(), &children.containers))
            } else {
                Ok(body::unpack(&parent, &children.lines(), &children.containers))
            }
        }
        ("ObjectEvent" | "AggregationEvent", _, _) => Err(no(
            "bizStep",
            format!(
                "'{}' with action '{}' is not an event this gateway captures (commissioning ADD; shipping, receiving, \
                 dispensing OBSERVE; decommissioning, destroying, sampling DELETE; packing ADD and unpacking DELETE)",
                crate::gs1::quote(step),
                crate::gs1::quote(action)
            ),
        )),
        _ => Err(no("type", "this gateway captures ObjectEvent and AggregationEvent")),
    }
}

/// `YYYY-MM-DD` as GS1's `YYMMDD`.
fn yymmdd(date: &str) -> Result<String, Refused> {
    let b = date.as_bytes();
    let ok = b.len() == 10 && b[4] == b'-' && b[7] == b'-' && date.bytes().filter(u8::is_ascii_digit).count() == 8;
    if !ok {
        return Err(no("ilmd", "cbvmda:itemExpirationDate must be YYYY-MM-DD"));
    }
    let out = format!("{}{}{}", &date[2..4], &date[5..7], &date[8..10]);
    crate::gs1::Expiry::parse(&out).map_err(|err| no("ilmd", err.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names() -> PartyNames {
        PartyNames {
            glns: HashMap::from([("0950600000026".to_string(), "medline-wholesale".to_string())]),
        }
    }

    /// A document of `events`, each given an `eventTime` if it has none.
    fn doc(mut events: Value) -> Value {
        for e in events.as_array_mut().into_iter().flatten() {
            if e.get("eventTime").is_none() {
                e["eventTime"] = "2026-11-30T10:00:00Z".into();
            }
        }
        json!({ "type": "EPCISDocument", "schemaVersion": "2.0", "epcisBody": { "eventList": events } })
    }

    #[test]
    fn the_verifiers_own_events_map_back() {
        let events = json!([
            { "type": "ObjectEvent", "action": "ADD", "bizStep": "commissioning", "eventTime": "2026-11-30T10:00:00Z",
              "epcList": ["https://id.gs1.org/01/09506000134352/21/A1", "urn:epc:id:sgtin:9506000.013435.A2"],
              "ilmd": { "cbvmda:lotNumber": "L1", "cbvmda:itemExpirationDate": "2029-06-30" } },
            { "type": "AggregationEvent", "action": "ADD", "bizStep": "https://ref.gs1.org/cbv/BizStep-packing",
              "parentID": "https://id.gs1.org/00/106141411234567897",
              "childEPCs": ["https://id.gs1.org/01/09506000134352/21/A1"] },
            { "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit",
              "epcList": ["https://id.gs1.org/00/106141411234567897", "https://id.gs1.org/01/09506000134352/21/A2"],
              "destinationList": [{ "type": "owning_party", "destination": "https://id.gs1.org/417/0950600000026" }] },
            { "type": "ObjectEvent", "action": "DELETE", "bizStep": "decommissioning", "disposition": "stolen",
              "epcList": ["https://id.gs1.org/01/09506000134352/21/A3"] }
        ]);
        let captured = map_document(&doc(events), &names()).unwrap();
        assert_eq!(captured[0].time_ms, 1_796_032_800_000);
        let bodies: Vec<Body> = captured.into_iter().map(|c| c.body).collect();
        assert_eq!(
            bodies[0],
            body::commission("09506000134352", "L1", "290630", &["A1", "A2"])
        );
        let pallet = ContainerKey::parse_element("00106141411234567897").unwrap();
        assert_eq!(
            bodies[1],
            body::pack(&pallet, &[("09506000134352", &["A1".to_string()])], &[])
        );
        assert_eq!(
            bodies[2],
            body::ship_all(
                &[("09506000134352", &["A2".to_string()])],
                std::slice::from_ref(&pallet),
                "medline-wholesale"
            )
        );
        assert_eq!(
            bodies[3],
            body::decommission("09506000134352", &["A3"], DecommissionReason::Stolen)
        );
    }

    #[test]
    fn a_document_is_refused_whole_naming_the_event_and_field() {
        let err = |events: Value| map_document(&doc(events), &names()).unwrap_err().to_string();
        let good = json!({ "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "dispensing",
                           "eventTime": "2026-11-30T10:00:00Z",
                           "epcList": ["https://id.gs1.org/01/09506000134352/21/A1"] });
        assert!(map_document(&doc(json!([good.clone()])), &names()).is_ok());
        let e = err(
            json!([good.clone(), { "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "loading",
                                           "epcList": [] }]),
        );
        assert!(e.starts_with("epcisBody.eventList[1].bizStep: 'loading'"), "{e}");
        let e = err(
            json!([{ "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping",
                             "epcList": ["https://id.gs1.org/01/09506000134352/21/A1"],
                             "destinationList": [{ "type": "owning_party", "destination": "https://id.gs1.org/417/0000000000000" }] }]),
        );
        assert!(
            e.starts_with("epcisBody.eventList[0].destinationList: names a party"),
            "{e}"
        );
        let e = err(
            json!([{ "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "dispensing",
                             "epcList": ["https://id.gs1.org/01/09506000134353/21/A1"] }]),
        );
        assert!(
            e.starts_with("epcisBody.eventList[0].epcList: gtin: check digit"),
            "{e}"
        );
        let e = err(
            json!([{ "type": "ObjectEvent", "action": "ADD", "bizStep": "commissioning",
                             "epcList": ["https://id.gs1.org/01/09506000134352/21/A1"],
                             "ilmd": { "cbvmda:lotNumber": "L1", "cbvmda:itemExpirationDate": "2029-13-01" } }]),
        );
        assert!(e.starts_with("epcisBody.eventList[0].ilmd: expiry: month 13"), "{e}");
        assert_eq!(
            map_document(&json!({ "type": "EPCISQueryDocument" }), &names())
                .unwrap_err()
                .to_string(),
            "type: must be EPCISDocument"
        );
        let e = err(
            json!([{ "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "dispensing",
                             "eventTime": "today", "epcList": [] }]),
        );
        assert!(e.starts_with("epcisBody.eventList[0].eventTime: missing"), "{e}");
        let e = err(json!([]));
        assert_eq!(e, "epcisBody.eventList: must hold 1 to 1000 events");
    }
}

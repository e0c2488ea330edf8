//! GS1 EPCIS 2.0 / CBV 2.0 events made from a pack's or container's history (pure: no IO).
//!
//! Every step of a history ([`crate::history`]) becomes one EPCIS event in JSON-LD: a commission an `ObjectEvent`
//! ADD `commissioning` with lot and expiry in `ilmd`, shipments and receipts `shipping` / `receiving` with the
//! owning and possessing parties as source and destination, packing and unpacking `AggregationEvent`s, a
//! repackager's use of a pack a `TransformationEvent`, a voided shipment or an undone dispense the `errorDeclaration`
//! of the event it cancels (docs/epcis.md has the whole table). An event lists the item asked about (or the
//! container that moved it), never the event's other packs: an EPCIS answer discloses what a proof bundle does.
//!
//! `eventID` is the event's hash ID (`ni:///sha-256;…?ver=CBV2.0`) computed by the EPCIS event hash algorithm
//! (CBV 2.0 section 8.9 and its reference implementation, `epcis-event-hash-generator`): the pre-hash string of
//! the canonical property order, CBV values as web vocabulary URIs, times in UTC at millisecond precision,
//! numbers without insignificant zeros; an `errorDeclaration` does not take part, so an event and its
//! correction share their ID.

use pedigree_core::container::ContainerKey;
use pedigree_core::event::Body;
use pedigree_core::gs1::{Date, Epc, Gtin, Serial};
use pedigree_core::pb::DecommissionReason;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::history::{Step, Tracked};

/// The JSON-LD context of an EPCIS 2.0 document.
pub const CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";
/// The namespace of this ledger's one extension, `pedigree:eventId` (the ledger's event id, hex: what a proof
/// bundle proves).
pub const NAMESPACE: &str = "https://pedigree.dev/ns/epcis#";
/// Where GS1 keys are rooted in the URIs this module writes (the canonical Digital Link host).
const ID_HOST: &str = "https://id.gs1.org";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    Object,
    Aggregation,
    Transformation,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Object => "ObjectEvent",
            EventType::Aggregation => "AggregationEvent",
            EventType::Transformation => "TransformationEvent",
        }
    }
}

/// One EPCIS event, as this module builds it: the fields it uses and nothing else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpcisEvent {
    pub kind: EventType,
    /// When the signer says it happened (Unix milliseconds, written in UTC).
    pub time_ms: i64,
    pub parent_id: Option<String>,
    pub epc_list: Vec<String>,
    pub child_epcs: Vec<String>,
    pub input_epcs: Vec<String>,
    /// `ADD`, `OBSERVE` or `DELETE` (not for a TransformationEvent).
    pub action: Option<&'static str>,
    /// CBV business step, bare (`shipping`).
    pub biz_step: &'static str,
    /// CBV disposition, bare (`in_transit`).
    pub disposition: Option<&'static str>,
    pub biz_location: Option<String>,
    /// (CBV source/destination type, bare; party URI).
    pub sources: Vec<(&'static str, String)>,
    pub destinations: Vec<(&'static str, String)>,
    /// Lot and expiry date (YYYY-MM-DD) of a commission.
    pub ilmd: Option<(String, String)>,
    /// When this event declares an earlier one (the same content) erroneous: the declaration's time.
    pub error_declared_ms: Option<i64>,
    /// The ledger's id of the event (hex), as `pedigree:eventId`; in a correction, the id of the ledger event
    /// that cancelled it goes in the `errorDeclaration` (which the hash leaves out).
    pub ledger_event_id: String,
    pub correcting_event_id: Option<String>,
}

/// How parties are named: a participant's party GLN (AI 417) when it has one, its ledger id otherwise.
pub trait Parties {
    fn gln(&self, participant: &str) -> Option<String>;
}

/// A party's URI: `https://id.gs1.org/417/{gln}`, or `urn:pedigree:participant:{id}` for one without a GLN.
pub fn party_uri(parties: &dyn Parties, participant: &str) -> String {
    match parties.gln(participant) {
        Some(gln) => format!("{ID_HOST}/417/{gln}"),
        None => format!("urn:pedigree:participant:{participant}"),
    }
}

/// A location's URI from a participant's GLN (AI 414), if it has one.
fn location_uri(parties: &dyn Parties, participant: &str) -> Option<String> {
    parties.gln(participant).map(|gln| format!("{ID_HOST}/414/{gln}"))
}

/// A pack's EPC: its canonical GS1 Digital Link URI (`https://id.gs1.org/01/{gtin}/21/{serial}`).
pub fn pack_epc(gtin: &Gtin, serial: &Serial) -> String {
    Epc::Sgtin {
        gtin: gtin.clone(),
        serial: serial.clone(),
    }
    .to_uri()
}

/// A container's EPC: `https://id.gs1.org/00/{sscc}`, or a case's GTIN and serial as a pack's.
pub fn container_epc(element: &str) -> String {
    match ContainerKey::parse_element(element) {
        Ok(ContainerKey::Sscc(sscc)) => Epc::Sscc(sscc).to_uri(),
        Ok(ContainerKey::Case { gtin, serial }) => pack_epc(&gtin, &serial),
        // Sealed element strings always parse; an impossible one is named as it is.
        Err(_) => format!("urn:pedigree:container:{element}"),
    }
}

/// The EPC of what a history is of.
pub fn item_epc(item: &Tracked) -> String {
    match item {
        Tracked::Pack { gtin, serial } => pack_epc(gtin, serial),
        Tracked::Container(element) => container_epc(element),
    }
}

/// The EPCIS events of a history, in chain order. `year` resolves expiry centuries (GS1 sliding window).
pub(crate) fn events_of(item: &Tracked, steps: &[Step], parties: &dyn Parties, year: i32) -> Vec<EpcisEvent> {
    let mut out: Vec<EpcisEvent> = Vec::with_capacity(steps.len());
    for step in steps {
        let (epc, named) = match &step.via {
            Some(element) => (container_epc(element), Tracked::Container(element.clone())),
            None => (item_epc(item), item.clone()),
        };
        if let Some(event) = event_of(step, &named, &epc, out.last(), parties, year) {
            out.push(event);
        }
    }
    out
}

/// An event as a participant's own query answers it: with every pack and container it names (the participant
/// signed it or is the other party of the movement, so it knows them all), or `None` for an event that names none
/// (product, lot and registry events). `before` is the event an undo or a voided shipment corrects, mapped the same
/// way.
pub(crate) fn whole_event(
    step: &Step,
    before: Option<&EpcisEvent>,
    parties: &dyn Parties,
    year: i32,
) -> Option<EpcisEvent> {
    let body = &step.event.body;
    let packs: Vec<(&Gtin, &Serial)> = match body {
        // A repackager's source packs are not what it commissions.
        Body::Commission { gtin, serials, .. } => serials.iter().map(|s| (gtin, s)).collect(),
        _ => body
            .lines()
            .into_iter()
            .flat_map(|(g, serials)| serials.iter().map(move |s| (g, s)))
            .collect(),
    };
    let parent = match body {
        Body::Pack { parent, .. } | Body::Unpack { parent, .. } => Some(parent.element()),
        _ => None,
    };
    let containers: Vec<String> = body
        .containers()
        .into_iter()
        .map(|c| c.element())
        .filter(|e| Some(e) != parent.as_ref())
        .collect();
    let named = match (packs.first(), containers.first(), &parent) {
        (Some((gtin, serial)), _, _) => Tracked::Pack {
            gtin: (*gtin).clone(),
            serial: (*serial).clone(),
        },
        (None, Some(element), _) | (None, None, Some(element)) => Tracked::Container(element.clone()),
        (None, None, None) => return None,
    };
    let mut e = event_of(step, &named, &item_epc(&named), before, parties, year)?;
    let all: Vec<String> = packs
        .iter()
        .map(|(g, s)| pack_epc(g, s))
        .chain(containers.iter().map(|c| container_epc(c)))
        .collect();
    if e.error_declared_ms.is_some() {
        // The corrected event, as mapped whole already.
        return Some(e);
    }
    match e.kind {
        EventType::Aggregation => e.child_epcs = children(body),
        EventType::Transformation => e.input_epcs = all,
        _ => e.epc_list = all,
    }
    Some(e)
}

fn event_of(
    step: &Step,
    named: &Tracked,
    epc: &str,
    before: Option<&EpcisEvent>,
    parties: &dyn Parties,
    year: i32,
) -> Option<EpcisEvent> {
    let event = &step.event;
    let signer = event.signer.as_str();
    let mut e = EpcisEvent {
        kind: EventType::Object,
        time_ms: event.timestamp_ms,
        parent_id: None,
        epc_list: vec![epc.to_string()],
        child_epcs: Vec::new(),
        input_epcs: Vec::new(),
        action: Some("OBSERVE"),
        biz_step: "other",
        disposition: None,
        biz_location: location_uri(parties, signer),
        sources: Vec::new(),
        destinations: Vec::new(),
        ilmd: None,
        error_declared_ms: None,
        ledger_event_id: hex::encode(event.id),
        correcting_event_id: None,
    };
    let both = |who: &str| {
        vec![
            ("owning_party", party_uri(parties, who)),
            ("possessing_party", party_uri(parties, who)),
        ]
    };
    match &event.body {
        Body::Commission { gtin, lot, expiry, .. } => {
            let made = matches!(named, Tracked::Pack { gtin: g, .. } if g == gtin);
            if made {
                e.action = Some("ADD");
                e.biz_step = "commissioning";
                e.disposition = Some("active");
                e.ilmd = Some((lot.as_str().to_string(), iso_date(expiry.resolve(year))));
            } else {
                // A repackager's source pack: consumed by the transformation into the new packs.
                e.kind = EventType::Transformation;
                e.action = None;
                e.input_epcs = std::mem::take(&mut e.epc_list);
                e.biz_step = "repackaging";
                e.disposition = Some("inactive");
            }
        }
        Body::Ship { receiver, owner, .. } => {
            e.biz_step = "shipping";
            e.disposition = Some("in_transit");
            e.sources = vec![
                ("owning_party", party_uri(parties, owner.as_deref().unwrap_or(signer))),
                ("possessing_party", party_uri(parties, signer)),
            ];
            e.destinations = both(receiver);
        }
        Body::Return { receiver, .. } => {
            e.biz_step = "shipping";
            e.disposition = Some("returned");
            e.sources = both(signer);
            e.destinations = both(receiver);
        }
        Body::Receive { sender, .. } => {
            e.biz_step = "receiving";
            e.disposition = Some("in_progress");
            e.sources = both(sender);
            e.destinations = both(signer);
        }
        Body::Dispense { .. } => {
            e.biz_step = "dispensing";
            e.disposition = Some("dispensed");
        }
        Body::Decommission { reason, .. } => {
            e.action = Some("DELETE");
            (e.biz_step, e.disposition) = match reason {
                DecommissionReason::Destroyed => ("destroying", Some("destroyed")),
                DecommissionReason::Stolen => ("decommissioning", Some("stolen")),
                DecommissionReason::Sample | DecommissionReason::FreeSample => ("sampling", Some("inactive")),
                DecommissionReason::Locked => ("decommissioning", Some("non_sellable_other")),
                _ => ("decommissioning", Some("inactive")),
            };
        }
        Body::Pack { parent, .. } => {
            e.kind = EventType::Aggregation;
            e.action = Some("ADD");
            e.biz_step = "packing";
            e.disposition = Some("in_progress");
            e.parent_id = Some(container_epc(&parent.element()));
            e.child_epcs = std::mem::take(&mut e.epc_list);
            if matches!(named, Tracked::Container(c) if *c == parent.element()) {
                // The history of the container packed into: what went in (its holders hold that too).
                e.child_epcs = children(&event.body);
            }
        }
        Body::Unpack { parent, .. } => {
            e.kind = EventType::Aggregation;
            e.action = Some("DELETE");
            e.biz_step = "unpacking";
            e.disposition = Some("in_progress");
            e.parent_id = Some(container_epc(&parent.element()));
            // Everything out (no child named) lists no child: EPCIS reads that as all of them.
            e.child_epcs = if matches!(named, Tracked::Container(c) if *c == parent.element()) {
                children(&event.body)
            } else if event.body.unpacks_everything() {
                Vec::new()
            } else {
                std::mem::take(&mut e.epc_list)
            };
            e.epc_list.clear();
        }
        Body::Quarantine { .. } => {
            e.biz_step = "holding";
            e.disposition = Some("non_sellable_other");
        }
        Body::ClearSuspect { .. } => {
            e.biz_step = "inspecting";
            e.disposition = Some("active");
        }
        Body::DeclareIllegitimate { .. } => {
            e.biz_step = "inspecting";
            e.disposition = Some("non_sellable_other");
        }
        Body::VoidShipment { .. } | Body::Undo { .. } => {
            // The correction of the event it cancels: that event again, declared erroneous.
            let mut corrected = before?.clone();
            corrected.error_declared_ms = Some(event.timestamp_ms);
            corrected.correcting_event_id = Some(hex::encode(event.id));
            return Some(corrected);
        }
        _ => return None,
    }
    Some(e)
}

/// An event as EPCIS 2.0 JSON-LD writes it (members in this order).
#[derive(Clone, Debug, Serialize)]
pub struct EventJson {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(rename = "eventID")]
    pub event_id: String,
    #[serde(rename = "eventTime")]
    pub event_time: String,
    #[serde(rename = "eventTimeZoneOffset")]
    pub event_time_zone_offset: &'static str,
    #[serde(rename = "errorDeclaration", skip_serializing_if = "Option::is_none")]
    pub error_declaration: Option<ErrorDeclarationJson>,
    #[serde(rename = "parentID", skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    #[serde(rename = "epcList", skip_serializing_if = "Option::is_none")]
    pub epc_list: Option<Vec<String>>,
    #[serde(rename = "childEPCs", skip_serializing_if = "Vec::is_empty")]
    pub child_epcs: Vec<String>,
    #[serde(rename = "inputEPCList", skip_serializing_if = "Vec::is_empty")]
    pub input_epc_list: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<&'static str>,
    #[serde(rename = "bizStep")]
    pub biz_step: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disposition: Option<&'static str>,
    #[serde(rename = "bizLocation", skip_serializing_if = "Option::is_none")]
    pub biz_location: Option<IdJson>,
    #[serde(rename = "sourceList", skip_serializing_if = "Vec::is_empty")]
    pub source_list: Vec<SourceJson>,
    #[serde(rename = "destinationList", skip_serializing_if = "Vec::is_empty")]
    pub destination_list: Vec<DestinationJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ilmd: Option<IlmdJson>,
    #[serde(rename = "pedigree:eventId")]
    pub pedigree_event_id: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ErrorDeclarationJson {
    #[serde(rename = "declarationTime")]
    pub declaration_time: String,
    pub reason: &'static str,
    #[serde(rename = "pedigree:eventId", skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct IdJson {
    pub id: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct SourceJson {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub source: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct DestinationJson {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub destination: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct IlmdJson {
    #[serde(rename = "cbvmda:lotNumber")]
    pub lot_number: String,
    #[serde(rename = "cbvmda:itemExpirationDate")]
    pub item_expiration_date: String,
}

/// The EPCs of the packs and containers an aggregation event names besides its parent.
fn children(body: &Body) -> Vec<String> {
    let (Body::Pack { lines, containers, .. } | Body::Unpack { lines, containers, .. }) = body else {
        return Vec::new();
    };
    lines
        .iter()
        .flat_map(|l| l.serials.iter().map(|s| pack_epc(&l.gtin, s)))
        .chain(containers.iter().map(|c| container_epc(&c.element())))
        .collect()
}

/// YYYY-MM-DD.
fn iso_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn iso_time(ms: i64) -> String {
    Date::rfc3339_millis(ms)
}

impl EpcisEvent {
    /// The event in EPCIS 2.0 JSON-LD (bare CBV values, as the standard context expands them), its members in the
    /// standard's order: a source's or destination's `type` before the party (the order the hash algorithm's
    /// reference implementation reads them in).
    pub fn to_json(&self) -> EventJson {
        let list = |wanted: bool, v: &[String]| if wanted { v.to_vec() } else { Vec::new() };
        EventJson {
            kind: self.kind.as_str(),
            event_id: self.hash_id(),
            event_time: iso_time(self.time_ms),
            event_time_zone_offset: "+00:00",
            error_declaration: self.error_declared_ms.map(|ms| ErrorDeclarationJson {
                declaration_time: iso_time(ms),
                reason: "incorrect_data",
                event_id: self.correcting_event_id.clone(),
            }),
            parent_id: self.parent_id.clone(),
            epc_list: (self.kind == EventType::Object).then(|| self.epc_list.clone()),
            child_epcs: list(self.kind == EventType::Aggregation, &self.child_epcs),
            input_epc_list: list(self.kind == EventType::Transformation, &self.input_epcs),
            action: self.action,
            biz_step: self.biz_step,
            disposition: self.disposition,
            biz_location: self.biz_location.clone().map(|id| IdJson { id }),
            source_list: self
                .sources
                .iter()
                .map(|(kind, source)| SourceJson {
                    kind,
                    source: source.clone(),
                })
                .collect(),
            destination_list: self
                .destinations
                .iter()
                .map(|(kind, destination)| DestinationJson {
                    kind,
                    destination: destination.clone(),
                })
                .collect(),
            ilmd: self.ilmd.clone().map(|(lot, expiry)| IlmdJson {
                lot_number: lot,
                item_expiration_date: expiry,
            }),
            pedigree_event_id: self.ledger_event_id.clone(),
        }
    }

    /// The EPCIS event hash ID of this event.
    pub fn hash_id(&self) -> String {
        format!(
            "ni:///sha-256;{}?ver=CBV2.0",
            hex::encode(Sha256::digest(self.pre_hash().as_bytes()))
        )
    }

    /// The pre-hash string: `eventType=…`, the properties in the canonical order (lists sorted), then the others
    /// (`sourceList`, `destinationList`, `ilmd`, the extension) sorted; `eventID` and `errorDeclaration` left out.
    pub fn pre_hash(&self) -> String {
        let mut s = format!("eventType={}", self.kind.as_str());
        s.push_str(&format!("eventTime={}", iso_time(self.time_ms)));
        s.push_str("eventTimeZoneOffset=+00:00");
        if let Some(parent) = &self.parent_id {
            s.push_str(&format!("parentID={}", canonical(parent)));
        }
        for (name, list) in [
            ("epcList", &self.epc_list),
            ("inputEPCList", &self.input_epcs),
            ("childEPCs", &self.child_epcs),
        ] {
            if !list.is_empty() {
                let mut epcs: Vec<String> = list.iter().map(|e| format!("epc={}", canonical(e))).collect();
                epcs.sort();
                s.push_str(name);
                s.push_str(&epcs.concat());
            }
        }
        if let Some(action) = self.action {
            s.push_str(&format!("action={action}"));
        }
        s.push_str(&format!("bizStep=https://ref.gs1.org/cbv/BizStep-{}", self.biz_step));
        if let Some(d) = self.disposition {
            s.push_str(&format!("disposition=https://ref.gs1.org/cbv/Disp-{d}"));
        }
        if let Some(location) = &self.biz_location {
            s.push_str(&format!("bizLocationid={}", canonical(location)));
        }
        let mut rest = Vec::new();
        for (name, key, list) in [
            ("sourceList", "source", &self.sources),
            ("destinationList", "destination", &self.destinations),
        ] {
            if !list.is_empty() {
                let mut entries: Vec<String> = list
                    .iter()
                    .map(|(t, uri)| format!("type=https://ref.gs1.org/cbv/SDT-{t}{key}={}", canonical(uri)))
                    .collect();
                entries.sort();
                rest.push(format!("{name}{}", entries.concat()));
            }
        }
        if let Some((lot, expiry)) = &self.ilmd {
            let mut entries = [
                format!("cbvmda:itemExpirationDate={}", canonical(expiry)),
                format!("cbvmda:lotNumber={}", canonical(lot)),
            ];
            entries.sort();
            rest.push(format!("ilmd{}", entries.concat()));
        }
        // The extension, its prefix expanded to the namespace in braces.
        rest.push(format!("{{{NAMESPACE}}}eventId={}", canonical(&self.ledger_event_id)));
        rest.sort();
        s.push_str(&rest.concat());
        s
    }
}

/// A value as the hash algorithm canonicalises it: a number without insignificant zeros (as Python's `float` reads
/// and prints it), anything else as it is (the URIs this module writes are canonical already).
pub fn canonical(value: &str) -> String {
    python_number(value).unwrap_or_else(|| value.to_string())
}

/// What `str(float(v))` (or `str(int(...))` for a whole number) gives in Python, for a `v` Python reads as a
/// finite number: sign, digits with single underscores between them, an optional fraction and exponent.
fn python_number(v: &str) -> Option<String> {
    let t = v.trim();
    let digits_ok = |part: &str| {
        !part.is_empty()
            && part.bytes().all(|b| b.is_ascii_digit() || b == b'_')
            && !part.starts_with('_')
            && !part.ends_with('_')
            && !part.contains("__")
    };
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let int_ok = int.is_empty() || digits_ok(int);
    let frac_ok = frac.is_none_or(|f| f.is_empty() || digits_ok(f));
    let has_digits = !int.is_empty() || frac.is_some_and(|f| !f.is_empty());
    let exp_ok = exponent.is_none_or(|e| digits_ok(e.strip_prefix(['+', '-']).unwrap_or(e)));
    if !(int_ok && frac_ok && has_digits && exp_ok) {
        return None;
    }
    let x: f64 = t.replace('_', "").parse().ok()?;
    if !x.is_finite() {
        return None;
    }
    if x.fract() == 0.0 {
        let whole = format!("{x:.0}");
        return Some(if whole == "-0" { "0".into() } else { whole });
    }
    // Python's repr: the shortest digits that read back, in scientific notation below 1e-4.
    let sci = format!("{x:e}");
    let (m, e) = sci.split_once('e')?;
    let e: i32 = e.parse().ok()?;
    if e < -4 {
        Some(format!("{m}e-{:02}", -e))
    } else {
        Some(format!("{x}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_canonicalised_as_python_prints_them() {
        for (v, want) in [
            ("B7", "B7"),
            ("0123", "123"),
            ("1.50", "1.5"),
            ("12E3", "12000"),
            ("+5", "5"),
            ("-0", "0"),
            ("1_000", "1000"),
            (".5", "0.5"),
            ("5.", "5"),
            ("0.00001", "1e-05"),
            ("1e-7", "1e-07"),
            ("1__0", "1__0"),
            ("_1", "_1"),
            ("1-2", "1-2"),
            ("2029-06-30", "2029-06-30"),
            ("inf", "inf"),
            ("e5", "e5"),
            ("12345678901234567890", "12345678901234567168"),
        ] {
            assert_eq!(canonical(v), want, "{v}");
        }
    }

    #[test]
    fn times_are_utc_milliseconds() {
        assert_eq!(iso_time(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_time(1_795_881_600_123), "2026-11-28T16:00:00.123Z");
    }

    #[test]
    fn a_correction_shares_the_id_of_what_it_corrects() {
        let e = EpcisEvent {
            kind: EventType::Object,
            time_ms: 1_795_881_600_000,
            parent_id: None,
            epc_list: vec!["https://id.gs1.org/01/09506000134352/21/X1".into()],
            child_epcs: vec![],
            input_epcs: vec![],
            action: Some("OBSERVE"),
            biz_step: "shipping",
            disposition: Some("in_transit"),
            biz_location: Some("https://id.gs1.org/414/9506000000017".into()),
            sources: vec![("owning_party", "https://id.gs1.org/417/9506000000017".into())],
            destinations: vec![("owning_party", "https://id.gs1.org/417/9506000000024".into())],
            ilmd: None,
            error_declared_ms: None,
            ledger_event_id: "ab".repeat(32),
            correcting_event_id: None,
        };
        assert_eq!(
            e.pre_hash(),
            "eventType=ObjectEventeventTime=2026-11-28T16:00:00.000ZeventTimeZoneOffset=+00:00\
             epcListepc=https://id.gs1.org/01/09506000134352/21/X1action=OBSERVE\
             bizStep=https://ref.gs1.org/cbv/BizStep-shippingdisposition=https://ref.gs1.org/cbv/Disp-in_transit\
             bizLocationid=https://id.gs1.org/414/9506000000017\
             destinationListtype=https://ref.gs1.org/cbv/SDT-owning_partydestination=https://id.gs1.org/417/9506000000024\
             sourceListtype=https://ref.gs1.org/cbv/SDT-owning_partysource=https://id.gs1.org/417/9506000000017\
             {https://pedigree.dev/ns/epcis#}eventId=abababababababababababababababababababababababababababababababab"
        );
        let mut corrected = e.clone();
        corrected.error_declared_ms = Some(1_795_881_700_000);
        assert_eq!(corrected.hash_id(), e.hash_id());
        assert!(e.hash_id().starts_with("ni:///sha-256;"));
        let json = serde_json::to_value(corrected.to_json()).unwrap();
        assert_eq!(json["errorDeclaration"]["reason"], "incorrect_data");
    }
}

//! `GET /epcis/events`: the EPCIS 2.0 REST binding's event query, answered with an `EPCISQueryDocument` in JSON-LD
//! over the history of one pack or container ([`crate::history`], mapped by [`crate::epcis`]), or, when the query
//! names no EPC, over the events of one participant (its list of events, `pedigree_core::party_index`).
//!
//! Parameters: `MATCH_epc` or `MATCH_anyEPC` (one EPC: a GS1 Digital Link URI or an EPC URN, `sgtin` or `sscc`),
//! `pedigreeParty` (this responder's extension: whose events a query naming no EPC reads; a participant reads its
//! own, the default; auditors and authorities name one), `EQ_bizStep`, `GE_eventTime` / `LT_eventTime`,
//! `EQ_bizLocation`, `EQ_source`, `EQ_destination`, `EQ_action` (a parameter's values separated by `|`, or the
//! parameter repeated), and the binding's paging: `perPage` and `nextPageToken`, the next page's address in a
//! `Link: <…>; rel="next"` header. Who may ask is [`crate::history`]'s rule for an item (the parties in its chain,
//! auditors and authorities); a participant's events are for that participant, auditors and authorities. Errors are
//! RFC 7807 problem details with the EPCIS exception as `type`.

use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use pedigree_core::container::ContainerKey;
use pedigree_core::event::Body;
use pedigree_core::gs1::{Date, Epc};
use pedigree_core::history::{Position, container_digest, pack_digest, previous};
use pedigree_core::pack_key::PackKey;
use pedigree_core::verdict::today_utc;
use serde_json::{Value, json};

use crate::access::{Caller, Denied};
use crate::epcis::{CONTEXT, EpcisEvent, EventJson, NAMESPACE, Parties, events_of, iso_time, item_epc, whole_event};
use crate::error::VerifyError;
use crate::history::Tracked;
use crate::verify::Verifier;

/// Events per page when `perPage` is not given, and the most a page holds.
const PER_PAGE: usize = 100;
const MAX_PER_PAGE: usize = 1000;

/// A parsed event query.
#[derive(Debug, PartialEq, Eq)]
pub struct EventQuery {
    /// The pack or container whose chain is asked for; `None`: a participant's events.
    pub item: Option<Tracked>,
    /// Whose events a query naming no EPC reads (`pedigreeParty`); `None`: the caller's own.
    pub party: Option<String>,
    /// `MATCH_anyEPC` (the EPC may also be the event's `parentID`) rather than `MATCH_epc`.
    pub any: bool,
    pub biz_steps: Vec<String>,
    pub actions: Vec<String>,
    pub from_ms: Option<i64>,
    pub until_ms: Option<i64>,
    pub biz_locations: Vec<String>,
    pub sources: Vec<String>,
    pub destinations: Vec<String>,
    pub per_page: usize,
    /// Where the page starts (the page token): events of the answer skipped for an item, entries of the list read
    /// for a participant.
    pub offset: usize,
}

fn bad(field: &'static str, why: &'static str) -> VerifyError {
    VerifyError::Field(field, why)
}

/// Parses the query string of `GET /epcis/events`.
pub fn parse_query(uri: &Uri) -> Result<EventQuery, VerifyError> {
    let axum::extract::Query(pairs) = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map_err(|_| bad("query", "is not a valid query string"))?;
    let mut q = EventQuery {
        item: None,
        party: None,
        any: false,
        biz_steps: vec![],
        actions: vec![],
        from_ms: None,
        until_ms: None,
        biz_locations: vec![],
        sources: vec![],
        destinations: vec![],
        per_page: PER_PAGE,
        offset: 0,
    };
    let mut item = None;
    for (name, value) in &pairs {
        let values = || value.split('|').filter(|v| !v.is_empty()).map(str::to_string);
        match name.as_str() {
            "MATCH_epc" | "MATCH_anyEPC" => {
                if item.is_some() {
                    return Err(bad(
                        "MATCH_epc",
                        "one EPC per query (MATCH_epc or MATCH_anyEPC, once, one value)",
                    ));
                }
                q.any = name == "MATCH_anyEPC";
                item = Some(parse_epc(value)?);
            }
            "EQ_bizStep" => q
                .biz_steps
                .extend(values().map(|v| bare(&v, "https://ref.gs1.org/cbv/BizStep-"))),
            "EQ_action" => q.actions.extend(values()),
            "GE_eventTime" => {
                q.from_ms = Some(parse_time(value).ok_or(bad("GE_eventTime", "must be an RFC 3339 time"))?)
            }
            "LT_eventTime" => {
                q.until_ms = Some(parse_time(value).ok_or(bad("LT_eventTime", "must be an RFC 3339 time"))?)
            }
            "pedigreeParty" => {
                if q.party.is_some() || !valid_party(value) {
                    return Err(bad(
                        "pedigreeParty",
                        "one participant id (letters, digits, - and _), once",
                    ));
                }
                q.party = Some(value.clone());
            }
            "EQ_bizLocation" => q.biz_locations.extend(values()),
            "EQ_source" => q.sources.extend(values()),
            "EQ_destination" => q.destinations.extend(values()),
            "perPage" => {
                q.per_page = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_PER_PAGE).contains(n))
                    .ok_or(bad("perPage", "must be a number from 1 to 1000"))?;
            }
            "nextPageToken" => {
                q.offset = value
                    .strip_prefix('o')
                    .and_then(|n| n.parse().ok())
                    .ok_or(bad("nextPageToken", "is not a token this server gave"))?;
            }
            _ => return Err(bad("query", "has a parameter this responder does not support")),
        }
    }
    if item.is_some() && q.party.is_some() {
        return Err(bad("pedigreeParty", "a query names an EPC or a participant, not both"));
    }
    q.item = item;
    Ok(q)
}

/// A participant id as the registry spells them (bounded, so that an error never quotes much).
fn valid_party(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A CBV value without its web vocabulary prefix (`https://ref.gs1.org/cbv/BizStep-shipping` or `shipping`).
fn bare(value: &str, prefix: &str) -> String {
    value.strip_prefix(prefix).unwrap_or(value).to_string()
}

/// A pack or container from an EPC: a GS1 Digital Link URI (`…/01/{gtin}/21/{serial}`, `…/00/{sscc}`) or an EPC URN
/// (`urn:epc:id:sgtin:…`, `urn:epc:id:sscc:…`).
pub fn parse_epc(value: &str) -> Result<Tracked, VerifyError> {
    match pedigree_core::gs1::parse_epc(value) {
        Ok(Epc::Sgtin { gtin, serial }) => Ok(Tracked::Pack { gtin, serial }),
        Ok(Epc::Sscc(sscc)) => Ok(Tracked::Container(ContainerKey::Sscc(sscc).element())),
        Err(_) => Err(bad(
            "MATCH_epc",
            "must be a pack's or container's EPC: a GS1 Digital Link URI or an sgtin or sscc URN",
        )),
    }
}

/// An RFC 3339 time (`2026-11-30T10:00:00Z`, `…T10:00:00.250+01:00`) as Unix milliseconds.
pub fn parse_time(s: &str) -> Option<i64> {
    Date::parse_rfc3339_millis(s)
}

impl EventQuery {
    /// Whether event `e` answers this query.
    pub fn matches(&self, e: &EpcisEvent) -> bool {
        let listed = self.item.as_ref().is_none_or(|item| {
            let epc = item_epc(item);
            e.epc_list
                .iter()
                .chain(&e.child_epcs)
                .chain(&e.input_epcs)
                .any(|x| *x == epc)
                || (self.any && e.parent_id.as_deref() == Some(epc.as_str()))
        });
        listed
            && any_of(&self.biz_steps, std::iter::once(e.biz_step))
            && any_of(&self.actions, e.action.into_iter())
            && self.from_ms.is_none_or(|t| e.time_ms >= t)
            && self.until_ms.is_none_or(|t| e.time_ms < t)
            && any_of(&self.biz_locations, e.biz_location.as_deref().into_iter())
            && any_of(&self.sources, e.sources.iter().map(|(_, s)| s.as_str()))
            && any_of(&self.destinations, e.destinations.iter().map(|(_, d)| d.as_str()))
    }
}

/// No value wanted, or one of `have` wanted.
fn any_of<'a>(wanted: &[String], mut have: impl Iterator<Item = &'a str>) -> bool {
    wanted.is_empty() || have.any(|h| wanted.iter().any(|w| w == h))
}

/// The registry's GLNs, as EPCIS names parties.
struct RegistryParties(std::sync::Arc<pedigree_core::participant::Registry>);

impl Parties for RegistryParties {
    fn gln(&self, participant: &str) -> Option<String> {
        self.0.get(participant).and_then(|p| p.gln.clone())
    }
}

impl Verifier {
    /// The events that match the query, one page of them, and where the next page starts (if more may follow).
    pub(crate) async fn epcis_events(
        &self,
        caller: &Caller,
        query: &EventQuery,
    ) -> Result<(Vec<EventJson>, Option<usize>), VerifyError> {
        let who = caller.id().ok_or(Denied::History)?.to_string();
        let Some(item) = &query.item else {
            return self.party_events(caller, &who, query).await;
        };
        // The walk refuses a Redis that lost its state or is being rebuilt.
        let walked = self.walk_item(item).await?.ok_or(VerifyError::UnknownPack)?;
        if !(caller.reads_everything() || walked.concerns(&who)) {
            return Err(Denied::History.into());
        }
        let parties = RegistryParties(self.auth.registry.borrow().clone());
        let events = events_of(item, &walked.steps, &parties, today_utc().year);
        let matching: Vec<&EpcisEvent> = events.iter().filter(|e| query.matches(e)).collect();
        let page: Vec<EventJson> = matching
            .iter()
            .skip(query.offset)
            .take(query.per_page)
            .map(|e| e.to_json())
            .collect();
        let next = query.offset + page.len();
        Ok((page, (matching.len() > next).then_some(next)))
    }

    /// A participant's events that match the query: its list read from the page token on, each event mapped whole,
    /// until the page is full or [`MAX_SCANNED`] entries were read (a page may then hold fewer events than asked,
    /// with a next page).
    async fn party_events(
        &self,
        caller: &Caller,
        who: &str,
        query: &EventQuery,
    ) -> Result<(Vec<EventJson>, Option<usize>), VerifyError> {
        let party = query.party.as_deref().unwrap_or(who);
        if party != who && !caller.reads_everything() {
            return Err(Denied::History.into());
        }
        self.ensure_fresh().await?;
        let parties = RegistryParties(self.auth.registry.borrow().clone());
        let year = today_utc().year;
        let mut page = Vec::new();
        let mut at = query.offset as u64;
        let end = at + MAX_SCANNED;
        loop {
            let want = (end - at).min(SCAN_CHUNK);
            let read = self.store.party_events(party, at, want).await?;
            if read.kept_from.is_some_and(|h| h > 1) {
                return Err(VerifyError::Rebuilding(
                    "participants' event lists are kept from a later block than genesis: empty Redis and let the \
                     sequencer replay the chain to rebuild them (docs/operations.md)",
                ));
            }
            for position in &read.entries {
                at += 1;
                if let Some(event) = self.whole_event(*position, &parties, year).await?
                    && query.matches(&event)
                {
                    page.push(event.to_json());
                    if page.len() == query.per_page {
                        return Ok((page, (at < read.total).then_some(at as usize)));
                    }
                }
            }
            if at >= read.total || read.entries.is_empty() {
                return Ok((page, None));
            }
            if at >= end {
                return Ok((page, Some(at as usize)));
            }
        }
    }

    /// The event at `at` as a participant's query answers it ([`crate::epcis::whole_event`]); an undo or a voided
    /// shipment is the correction of the event before it, found by the back links of the first item it names.
    async fn whole_event(
        &self,
        at: Position,
        parties: &RegistryParties,
        year: i32,
    ) -> Result<Option<EpcisEvent>, VerifyError> {
        let step = self.step(at, None).await?;
        let before = match &step.event.body {
            Body::Undo { .. } | Body::VoidShipment { .. } => match first_item(&step.event.body) {
                Some(digest) => match self.store.block_links(at.0).await? {
                    Some(links) => match previous(&links, at.1, &digest) {
                        Some(prev) => {
                            let prev = self.step(prev, None).await?;
                            whole_event(&prev, None, parties, year)
                        }
                        None => None,
                    },
                    None => None,
                },
                None => None,
            },
            _ => None,
        };
        Ok(whole_event(&step, before.as_ref(), parties, year))
    }
}

/// Entries of a participant's list one request reads at most (each costs a block read and a decode).
const MAX_SCANNED: u64 = 2000;
/// Entries read from Redis at a time.
const SCAN_CHUNK: u64 = 256;

/// The history digest of the first pack or container an event names.
fn first_item(body: &Body) -> Option<pedigree_core::history::ItemDigest> {
    if let Some((gtin, serials)) = body.lines().first()
        && let Some(serial) = serials.first()
    {
        return Some(pack_digest(&PackKey::new(gtin, serial)));
    }
    body.containers().first().map(|c| container_digest(&c.element()))
}

/// An `EPCISQueryDocument` (typed, so that each event keeps its members' order: [`EventJson`]).
#[derive(serde::Serialize)]
pub struct QueryDocument {
    #[serde(rename = "@context")]
    context: (&'static str, Value),
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "schemaVersion")]
    schema_version: &'static str,
    #[serde(rename = "creationDate")]
    creation_date: String,
    #[serde(rename = "epcisBody")]
    body: QueryBody,
}

#[derive(serde::Serialize)]
struct QueryBody {
    #[serde(rename = "queryResults")]
    query_results: QueryResults,
}

#[derive(serde::Serialize)]
struct QueryResults {
    #[serde(rename = "queryName")]
    query_name: &'static str,
    #[serde(rename = "resultsBody")]
    results_body: ResultsBody,
}

#[derive(serde::Serialize)]
struct ResultsBody {
    #[serde(rename = "eventList")]
    event_list: Vec<EventJson>,
}

/// The query document of a page of events.
pub fn query_document(events: Vec<EventJson>, now_ms: i64) -> QueryDocument {
    QueryDocument {
        context: (CONTEXT, json!({ "pedigree": NAMESPACE })),
        kind: "EPCISQueryDocument",
        schema_version: "2.0",
        creation_date: iso_time(now_ms),
        body: QueryBody {
            query_results: QueryResults {
                query_name: "SimpleEventQuery",
                results_body: ResultsBody { event_list: events },
            },
        },
    }
}

/// The answer: the document, the EPCIS version headers and, when more follow, the next page's link.
pub fn query_response(document: QueryDocument, next: Option<String>) -> Response {
    let mut response = (StatusCode::OK, axum::Json(document)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/ld+json"));
    headers.insert("gs1-epcis-version", HeaderValue::from_static("2.0.0"));
    headers.insert("gs1-cbv-version", HeaderValue::from_static("2.0.0"));
    if let Some(link) = next.and_then(|n| HeaderValue::from_str(&format!("<{n}>; rel=\"next\"")).ok()) {
        headers.insert(header::LINK, link);
    }
    response
}

/// The address of the next page: the same query with `nextPageToken` moved on to `offset`.
pub fn next_page(root: &str, uri: &Uri, offset: usize) -> String {
    let kept: Vec<&str> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("nextPageToken="))
        .collect();
    let token = format!("nextPageToken=o{offset}");
    let query_string = kept
        .into_iter()
        .chain(std::iter::once(token.as_str()))
        .collect::<Vec<_>>()
        .join("&");
    format!("{root}/epcis/events?{query_string}")
}

/// A refusal as RFC 7807 problem details, typed with the EPCIS exception it is.
pub fn problem(e: &VerifyError) -> Response {
    let status = e.http_status();
    let kind = match status {
        StatusCode::BAD_REQUEST => "epcisException:QueryParameterException",
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => "epcisException:SecurityException",
        StatusCode::NOT_FOUND => "epcisException:NoSuchResourceException",
        StatusCode::TOO_MANY_REQUESTS => "epcisException:QueryTooComplexException",
        _ => "epcisException:ImplementationException",
    };
    let body = json!({ "type": kind, "title": e.to_string(), "status": status.as_u16() });
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

/// What [`crate::http`] serves at `GET /epcis/events`.
pub(crate) async fn answer(v: &Verifier, caller: &Caller, uri: &Uri, headers: &HeaderMap) -> Response {
    let query = match parse_query(uri) {
        Ok(q) => q,
        Err(e) => return problem(&e),
    };
    match v.epcis_events(caller, &query).await {
        Ok((events, next)) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            let next = next.map(|offset| next_page(&crate::http::root(headers), uri, offset));
            query_response(query_document(events, now), next)
        }
        Err(e) => problem(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(q: &str) -> Uri {
        format!("/epcis/events?{q}").parse().unwrap()
    }

    #[test]
    fn an_epc_is_read_in_every_form() {
        use pedigree_core::gs1::Gtin;
        let pack = Tracked::Pack {
            gtin: Gtin::parse("09506000134352").unwrap(),
            serial: pedigree_core::gs1::Serial::parse("X/1").unwrap(),
        };
        assert_eq!(
            parse_epc("https://id.gs1.org/01/09506000134352/21/X%2F1").unwrap(),
            pack
        );
        assert_eq!(
            parse_epc("https://example.com/01/09506000134352/10/L1/21/X%2F1").unwrap(),
            pack
        );
        assert_eq!(parse_epc("urn:epc:id:sgtin:9506000.013435.X%2F1").unwrap(), pack);
        let pallet = Tracked::Container("00106141411234567897".into());
        assert_eq!(parse_epc("https://id.gs1.org/00/106141411234567897").unwrap(), pallet);
        assert_eq!(parse_epc("urn:epc:id:sscc:0614141.1123456789").unwrap(), pallet);
        for bad in [
            "",
            "urn:epc:id:sgtin:95.0.X",
            "https://id.gs1.org/01/09506000134352",
            "urn:epc:id:sscc:0614141.1",
        ] {
            assert!(parse_epc(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn times_are_read_as_rfc_3339() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_time("1970-01-01T01:00:00.5+01:00"), Some(500));
        assert_eq!(parse_time("2026-11-28T16:00:00.123Z"), Some(1_795_881_600_123));
        for bad in [
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-11-28 16:00:00Z",
            "2026-11-28T16:00:00",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn queries_name_what_is_wrong() {
        let q = parse_query(&uri(
            "MATCH_epc=https://id.gs1.org/00/106141411234567897&EQ_bizStep=shipping|https://ref.gs1.org/cbv/BizStep-receiving&perPage=2&nextPageToken=o4",
        ))
        .unwrap();
        assert_eq!(q.biz_steps, ["shipping", "receiving"]);
        assert_eq!((q.per_page, q.offset), (2, 4));
        let field = |q: &str| parse_query(&uri(q)).unwrap_err().field();
        let mine = parse_query(&uri("EQ_bizStep=shipping")).unwrap();
        assert_eq!((mine.item, mine.party), (None, None));
        let theirs = parse_query(&uri("pedigreeParty=acme-pharma&perPage=5")).unwrap();
        assert_eq!(theirs.party.as_deref(), Some("acme-pharma"));
        assert_eq!(field("pedigreeParty=a&pedigreeParty=b"), Some("pedigreeParty"));
        assert_eq!(field("pedigreeParty=%00"), Some("pedigreeParty"));
        assert_eq!(
            field("pedigreeParty=a&MATCH_epc=urn:epc:id:sscc:0614141.1123456789"),
            Some("pedigreeParty")
        );
        assert_eq!(field("MATCH_epc=urn:x"), Some("MATCH_epc"));
        assert_eq!(
            field("MATCH_epc=urn:epc:id:sscc:0614141.1123456789&perPage=0"),
            Some("perPage")
        );
        assert_eq!(
            field("MATCH_epc=urn:epc:id:sscc:0614141.1123456789&nextPageToken=x"),
            Some("nextPageToken")
        );
        assert_eq!(
            field("MATCH_epc=urn:epc:id:sscc:0614141.1123456789&EQ_foo=1"),
            Some("query")
        );
        assert_eq!(
            field("MATCH_epc=urn:epc:id:sscc:0614141.1123456789&GE_eventTime=today"),
            Some("GE_eventTime")
        );
    }
}

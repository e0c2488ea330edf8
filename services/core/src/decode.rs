//! Payload bytes to a validated [`Event`]: the protobuf decoded, then every field checked (GTINs, lots, expiry
//! dates, serials, participant ids, keys, names), so that nothing downstream parses again. Signatures and roles are
//! [`crate::envelope`]'s.

use std::collections::HashSet;

use pedigree_gs1::{Expiry, Gs1Error, Gtin, Lot, Serial, gtin_check_digit};
use prost::Message;

use crate::Hash;
use crate::container::ContainerKey;
use crate::disclosure::{SEED_LEN, core_of};
use crate::event::{Body, Documents, Event, EventError, Line};
use crate::keys::PublicKey;
use crate::participant::{Role, valid_participant_id};
use crate::pb::{self, DecommissionReason, ParticipantRole, event_payload};
use crate::product::{CompanyPrefix, ProductData};

/// Most serials in one event (a pallet of packs).
pub const MAX_SERIALS: usize = 10_000;
/// Most containers one event names (a truck of pallets).
pub const MAX_CONTAINERS: usize = 1_000;
/// Accepted nonce lengths, in bytes.
pub const NONCE_LEN: std::ops::RangeInclusive<usize> = 8..=64;
/// Longest participant name and revocation reason, in characters.
pub const MAX_TEXT_CHARS: usize = 200;

/// Decodes a payload and validates its fields; the signature is the caller's business.
pub fn decode_payload(payload: &[u8], signer_role: Role) -> Result<Event, EventError> {
    let decoded = pb::EventPayload::decode(payload).map_err(decode_error)?;
    if !NONCE_LEN.contains(&decoded.nonce.len()) {
        return Err(EventError::Nonce(decoded.nonce.len()));
    }
    let chain_id = <Hash>::try_from(decoded.chain_id.as_slice()).map_err(|_| EventError::Invalid {
        field: "chain_id",
        detail: format!("must be the 32-byte chain id, got {} bytes", decoded.chain_id.len()),
    })?;
    if decoded.seed.len() != SEED_LEN {
        return Err(EventError::Invalid {
            field: "seed",
            detail: format!("must be {SEED_LEN} bytes, got {}", decoded.seed.len()),
        });
    }
    if decoded.body.is_none() {
        return Err(EventError::MissingBody);
    }
    let core = core_of(payload, &decoded).map_err(|e| EventError::Decode(e.to_string()))?;
    let body = decoded.body.ok_or(EventError::MissingBody)?;
    Ok(Event {
        id: core.id(),
        signer: decoded.signer,
        signer_role,
        timestamp_ms: decoded.timestamp_ms,
        chain_id,
        body: convert_body(body)?,
    })
}

/// Longest protobuf decoding detail kept in an error (prost names the path of nested fields, which can run long).
const MAX_DECODE_DETAIL: usize = 120;

/// A protobuf decoding failure, its detail cut to [`MAX_DECODE_DETAIL`] characters.
fn decode_error(e: prost::DecodeError) -> EventError {
    let detail = e.to_string().to_lowercase();
    if detail.chars().count() <= MAX_DECODE_DETAIL {
        return EventError::Decode(detail);
    }
    let cut: String = detail.chars().take(MAX_DECODE_DETAIL).collect();
    EventError::Decode(format!("{cut}..."))
}

fn convert_body(body: event_payload::Body) -> Result<Body, EventError> {
    if let Some(governance) = governance_body(&body) {
        return governance;
    }
    if let Some(product) = product_body(&body) {
        return product;
    }
    Ok(match body {
        event_payload::Body::Commission(c) => commission(c)?,
        event_payload::Body::Ship(s) => {
            let (lines, _, _, containers) = shipment(&s.gtin, &s.serials, &s.lines, [&[], &[]], &s.containers)?;
            Body::Ship {
                lines,
                containers,
                receiver: participant_id("receiver", s.receiver)?,
                documents: s.documents.as_ref().map(documents).transpose()?,
                owner: match s.owner.is_empty() {
                    true => None,
                    false => Some(participant_id("owner", s.owner)?),
                },
            }
        }
        event_payload::Body::Receive(r) => {
            let (lines, refused, over, containers) =
                shipment(&r.gtin, &r.serials, &r.lines, [&r.refused, &r.over], &r.containers)?;
            Body::Receive {
                lines,
                refused,
                over,
                containers,
                sender: participant_id("sender", r.sender)?,
            }
        }
        event_payload::Body::VoidShipment(v) => {
            let (gtin, serials, containers) = shipped(&v.gtin, &v.serials, &v.containers)?;
            Body::VoidShipment {
                gtin,
                serials,
                containers,
                receiver: participant_id("receiver", v.receiver)?,
            }
        }
        event_payload::Body::Pack(p) => {
            let (parent, lines, containers) = aggregation(p.parent.as_ref(), &p.packs, &p.containers)?;
            if lines.is_empty() && containers.is_empty() {
                return Err(EventError::Nothing {
                    field: "packs",
                    what: "pack: name packs or containers",
                });
            }
            Body::Pack {
                parent,
                lines,
                containers,
            }
        }
        event_payload::Body::Unpack(u) => {
            let (parent, lines, containers) = aggregation(u.parent.as_ref(), &u.packs, &u.containers)?;
            Body::Unpack {
                parent,
                lines,
                containers,
            }
        }
        event_payload::Body::Dispense(d) => Body::Dispense {
            gtin: field("gtin", Gtin::parse(&d.gtin))?,
            serials: serials(&d.serials)?,
        },
        other => convert_lifecycle(other)?,
    })
}

fn convert_lifecycle(body: event_payload::Body) -> Result<Body, EventError> {
    Ok(match body {
        event_payload::Body::Decommission(d) => Body::Decommission {
            gtin: field("gtin", Gtin::parse(&d.gtin))?,
            serials: serials(&d.serials)?,
            reason: match d.reason() {
                DecommissionReason::Unspecified => return Err(EventError::MissingReason),
                DecommissionReason::Repackaged => {
                    return Err(invalid(
                        "reason",
                        "repackaged is set by a repackager's commission, not by a decommission",
                    ));
                }
                reason => reason,
            },
        },
        event_payload::Body::Undo(u) => Body::Undo {
            gtin: field("gtin", Gtin::parse(&u.gtin))?,
            serials: serials(&u.serials)?,
        },
        event_payload::Body::Recall(r) => Body::Recall {
            gtin: field("gtin", Gtin::parse(&r.gtin))?,
            lot: field("lot", Lot::parse(&r.lot))?,
        },
        event_payload::Body::Withdraw(w) => Body::Withdraw {
            gtin: field("gtin", Gtin::parse(&w.gtin))?,
        },
        event_payload::Body::Return(r) => Body::Return {
            gtin: field("gtin", Gtin::parse(&r.gtin))?,
            serials: serials(&r.serials)?,
            receiver: participant_id("receiver", r.receiver)?,
        },
        event_payload::Body::Quarantine(q) => Body::Quarantine {
            gtin: field("gtin", Gtin::parse(&q.gtin))?,
            serials: serials(&q.serials)?,
            reason: text("reason", &q.reason)?,
        },
        event_payload::Body::ClearSuspect(c) => Body::ClearSuspect {
            gtin: field("gtin", Gtin::parse(&c.gtin))?,
            serials: serials(&c.serials)?,
            finding: text("finding", &c.finding)?,
        },
        event_payload::Body::DeclareIllegitimate(d) => Body::DeclareIllegitimate {
            gtin: field("gtin", Gtin::parse(&d.gtin))?,
            serials: serials(&d.serials)?,
            reason: text("reason", &d.reason)?,
        },
        _ => unreachable!("custody and governance bodies are converted by convert_body"),
    })
}

/// A commission: its new packs and, for a repackager's, the packs they are made from (each GTIN once, no pack both
/// made and used, at most [`MAX_SERIALS`] packs in all).
fn commission(c: pb::Commission) -> Result<Body, EventError> {
    let gtin = field("gtin", Gtin::parse(&c.gtin))?;
    let total = c.serials.len() + c.sources.iter().map(|l| l.serials.len()).sum::<usize>();
    if total > MAX_SERIALS {
        return Err(EventError::TooManySerials {
            got: total,
            max: MAX_SERIALS,
        });
    }
    let serials = serials(&c.serials)?;
    let mut gtins = HashSet::new();
    let mut sources = Vec::with_capacity(c.sources.len());
    for (i, l) in c.sources.iter().enumerate() {
        let line = Line {
            gtin: field(&format!("sources[{i}].gtin"), Gtin::parse(&l.gtin))?,
            serials: self::serials(&l.serials)?,
        };
        if !gtins.insert(line.gtin.clone()) {
            return Err(EventError::Duplicate {
                field: "sources",
                value: line.gtin.as_str().to_string(),
            });
        }
        if line.gtin == gtin
            && let Some(s) = line.serials.iter().find(|s| serials.contains(s))
        {
            return Err(EventError::Duplicate {
                field: "sources",
                value: s.as_str().to_string(),
            });
        }
        sources.push(line);
    }
    Ok(Body::Commission {
        gtin,
        lot: field("lot", Lot::parse(&c.lot))?,
        expiry: field("expiry", Expiry::parse(&c.expiry))?,
        serials,
        sources,
    })
}

fn field<T>(name: &str, parsed: Result<T, Gs1Error>) -> Result<T, EventError> {
    parsed.map_err(|source| EventError::Field {
        field: name.to_string(),
        source,
    })
}

/// A shipment's or receipt's lines, refused lines, over-delivered lines and containers.
type Moved = (Vec<Line>, Vec<Line>, Vec<Line>, Vec<ContainerKey>);

/// Longest trade document reference, in characters.
pub const MAX_REFERENCE_CHARS: usize = 64;

/// A shipment's or receipt's packs (the first line from `gtin` and `serials` when given, then `lines`), refused
/// and over-delivered lines and containers: something named, no GTIN twice in a list, no pack in two lists.
fn shipment(
    gtin: &str,
    serials: &[String],
    raw_lines: &[pb::PackLine],
    [raw_refused, raw_over]: [&[pb::PackLine]; 2],
    raw_containers: &[pb::ContainerId],
) -> Result<Moved, EventError> {
    let containers = containers(raw_containers)?;
    let mut lines = Vec::with_capacity(1 + raw_lines.len());
    if !gtin.is_empty() || !serials.is_empty() {
        lines.push(Line {
            gtin: field("gtin", Gtin::parse(gtin))?,
            serials: self::serials(serials)?,
        });
    }
    let total: usize = serials.len()
        + raw_lines
            .iter()
            .chain(raw_refused)
            .chain(raw_over)
            .map(|l| l.serials.len())
            .sum::<usize>();
    if total > MAX_SERIALS {
        return Err(EventError::TooManySerials {
            got: total,
            max: MAX_SERIALS,
        });
    }
    let convert = |name: &str, raw: &[pb::PackLine]| -> Result<Vec<Line>, EventError> {
        raw.iter()
            .enumerate()
            .map(|(i, l)| {
                Ok(Line {
                    gtin: field(&format!("{name}[{i}].gtin"), Gtin::parse(&l.gtin))?,
                    serials: self::serials(&l.serials)?,
                })
            })
            .collect()
    };
    lines.extend(convert("lines", raw_lines)?);
    let refused = convert("refused", raw_refused)?;
    let over = convert("over", raw_over)?;
    // A GTIN once per list; a pack in two lists (received and refused, say) is named twice.
    let lists = [("lines", &lines), ("refused", &refused), ("over", &over)];
    for (name, list) in lists {
        let mut gtins = HashSet::new();
        if let Some(line) = list.iter().find(|l| !gtins.insert(&l.gtin)) {
            return Err(EventError::Duplicate {
                field: name,
                value: line.gtin.as_str().to_string(),
            });
        }
    }
    for (i, (name, list)) in lists.iter().enumerate().skip(1) {
        for line in list.iter() {
            let before: HashSet<&Serial> = lists[..i]
                .iter()
                .flat_map(|(_, l)| l.iter())
                .filter(|l| l.gtin == line.gtin)
                .flat_map(|l| &l.serials)
                .collect();
            if let Some(serial) = line.serials.iter().find(|s| before.contains(s)) {
                return Err(EventError::Duplicate {
                    field: name,
                    value: serial.as_str().to_string(),
                });
            }
        }
    }
    if lines.is_empty() && refused.is_empty() && over.is_empty() && containers.is_empty() {
        return Err(EventError::Nothing {
            field: "serials",
            what: "move: name packs (gtin and serials, or lines) or containers",
        });
    }
    Ok((lines, refused, over, containers))
}

fn documents(d: &pb::TradeDocuments) -> Result<Documents, EventError> {
    let reference = |field: &'static str, value: &str| -> Result<String, EventError> {
        let chars = value.chars().count();
        if chars > MAX_REFERENCE_CHARS || value.chars().any(char::is_control) {
            return Err(invalid(
                field,
                format!("must be at most {MAX_REFERENCE_CHARS} printable characters, got {chars}"),
            ));
        }
        Ok(value.to_string())
    };
    if !d.ship_date.is_empty() && !valid_date(&d.ship_date) {
        return Err(invalid(
            "ship_date",
            format!("must be a date YYYY-MM-DD, got '{}'", pedigree_gs1::quote(&d.ship_date)),
        ));
    }
    Ok(Documents {
        purchase_order: reference("purchase_order", &d.purchase_order)?,
        invoice: reference("invoice", &d.invoice)?,
        despatch_advice: reference("despatch_advice", &d.despatch_advice)?,
        ship_date: d.ship_date.clone(),
    })
}

/// A calendar date written YYYY-MM-DD.
fn valid_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Ok(year), Ok(month), Ok(day)) = (s[..4].parse::<u16>(), s[5..7].parse::<u8>(), s[8..].parse::<u8>()) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
        && s.bytes()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// A shipment's packs (one GTIN, may be empty when containers are named) and containers.
type Shipped = (Option<Gtin>, Vec<Serial>, Vec<ContainerKey>);

fn shipped(gtin: &str, raw: &[String], raw_containers: &[pb::ContainerId]) -> Result<Shipped, EventError> {
    let containers = containers(raw_containers)?;
    if raw.is_empty() && gtin.is_empty() && !containers.is_empty() {
        return Ok((None, Vec::new(), containers));
    }
    Ok((Some(field("gtin", Gtin::parse(gtin))?), serials(raw)?, containers))
}

/// An aggregation's parent, lines and child containers: no pack or container twice, the parent not among them.
fn aggregation(
    parent: Option<&pb::ContainerId>,
    raw_lines: &[pb::PackLine],
    raw_containers: &[pb::ContainerId],
) -> Result<(ContainerKey, Vec<Line>, Vec<ContainerKey>), EventError> {
    let parent =
        ContainerKey::from_pb(parent.unwrap_or(&pb::ContainerId { id: None })).map_err(|e| EventError::Invalid {
            field: "parent",
            detail: e.to_string(),
        })?;
    let containers = containers(raw_containers)?;
    if containers.contains(&parent) {
        return Err(EventError::Invalid {
            field: "containers",
            detail: format!("names the parent {parent}: a container cannot hold itself"),
        });
    }
    let total: usize = raw_lines.iter().map(|l| l.serials.len()).sum();
    if total > MAX_SERIALS {
        return Err(EventError::TooManySerials {
            got: total,
            max: MAX_SERIALS,
        });
    }
    let mut gtins = HashSet::new();
    let lines = raw_lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let gtin = field(&format!("packs[{i}].gtin"), Gtin::parse(&l.gtin))?;
            if !gtins.insert(gtin.clone()) {
                return Err(EventError::Duplicate {
                    field: "packs",
                    value: gtin.as_str().to_string(),
                });
            }
            Ok(Line {
                gtin,
                serials: serials(&l.serials)?,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((parent, lines, containers))
}

fn containers(raw: &[pb::ContainerId]) -> Result<Vec<ContainerKey>, EventError> {
    if raw.len() > MAX_CONTAINERS {
        return Err(EventError::Invalid {
            field: "containers",
            detail: format!(
                "{} containers, more than the {MAX_CONTAINERS} allowed in one event",
                raw.len()
            ),
        });
    }
    let mut seen = HashSet::with_capacity(raw.len());
    raw.iter()
        .map(|c| {
            let key = ContainerKey::from_pb(c).map_err(EventError::Container)?;
            if !seen.insert(key.clone()) {
                return Err(EventError::Duplicate {
                    field: "containers",
                    value: key.to_string(),
                });
            }
            Ok(key)
        })
        .collect()
}

fn participant_id(field: &'static str, value: String) -> Result<String, EventError> {
    if valid_participant_id(&value) {
        Ok(value)
    } else {
        Err(EventError::BadParticipantId { field, value })
    }
}

fn serials(raw: &[String]) -> Result<Vec<Serial>, EventError> {
    if raw.is_empty() {
        return Err(EventError::NoSerials);
    }
    if raw.len() > MAX_SERIALS {
        return Err(EventError::TooManySerials {
            got: raw.len(),
            max: MAX_SERIALS,
        });
    }
    let mut seen = HashSet::with_capacity(raw.len());
    raw.iter()
        .enumerate()
        .map(|(i, s)| {
            let serial = field(&format!("serials[{i}]"), Serial::parse(s))?;
            if !seen.insert(s.as_str()) {
                return Err(EventError::DuplicateSerial(s.clone()));
            }
            Ok(serial)
        })
        .collect()
}

/// Converts a registry change's body; `None` when `body` is not one.
fn governance_body(body: &event_payload::Body) -> Option<Result<Body, EventError>> {
    Some(match body {
        event_payload::Body::RegisterParticipant(r) => register(r),
        event_payload::Body::RotateKey(r) => participant_id("id", r.id.clone()).and_then(|id| {
            Ok(Body::RotateKey {
                id,
                key: key(&r.public_key)?,
            })
        }),
        event_payload::Body::RevokeParticipant(r) => participant_id("id", r.id.clone()).and_then(|id| {
            Ok(Body::Revoke {
                id,
                reason: text("reason", &r.reason)?,
            })
        }),
        event_payload::Body::AttestPrefixes(a) => attest_prefixes(a),
        event_payload::Body::RotateSequencerKey(r) => key(&r.public_key).map(|key| Body::RotateSequencerKey { key }),
        _ => return None,
    })
}

/// Most prefixes one AttestPrefixes names.
pub const MAX_PREFIXES: usize = 64;
/// Most national codes and markets a product's master data lists.
pub const MAX_NATIONAL_CODES: usize = 16;
pub const MAX_MARKETS: usize = 64;
/// Most links a product lists, and the longest link target.
pub const MAX_LINKS: usize = 32;
pub const MAX_HREF_CHARS: usize = 1000;
/// Largest pack size (units in one pack).
pub const MAX_PACK_SIZE: u32 = 1_000_000;

fn attest_prefixes(a: &pb::AttestPrefixes) -> Result<Body, EventError> {
    if a.prefixes.is_empty() || a.prefixes.len() > MAX_PREFIXES {
        return Err(invalid(
            "prefixes",
            format!("must list 1 to {MAX_PREFIXES} prefixes, got {}", a.prefixes.len()),
        ));
    }
    let mut prefixes: Vec<CompanyPrefix> = Vec::with_capacity(a.prefixes.len());
    for (i, raw) in a.prefixes.iter().enumerate() {
        let prefix = CompanyPrefix::parse(raw).map_err(|detail| EventError::Invalid {
            field: "prefixes",
            detail: format!("[{i}]: {detail}"),
        })?;
        if let Some(other) = prefixes.iter().find(|p| p.overlaps(&prefix)) {
            return Err(invalid(
                "prefixes",
                format!("[{i}]: {prefix} overlaps {other}, listed before it"),
            ));
        }
        prefixes.push(prefix);
    }
    Ok(Body::AttestPrefixes {
        id: participant_id("id", a.id.clone())?,
        prefixes,
    })
}

/// Converts a product master-data event's body; `None` when `body` is not one.
fn product_body(body: &event_payload::Body) -> Option<Result<Body, EventError>> {
    Some(match body {
        event_payload::Body::RegisterProduct(r) => register_product(r),
        event_payload::Body::TransferProduct(t) => (|| {
            if t.consent.len() != 64 {
                return Err(invalid(
                    "consent",
                    format!(
                        "must be the new owner's 64-byte signature, got {} bytes",
                        t.consent.len()
                    ),
                ));
            }
            Ok(Body::TransferProduct {
                gtin: field("gtin", Gtin::parse(&t.gtin))?,
                new_owner: participant_id("new_owner", t.new_owner.clone())?,
                sequence: t.sequence,
                consent: t.consent.clone(),
            })
        })(),
        _ => return None,
    })
}

fn register_product(r: &pb::RegisterProduct) -> Result<Body, EventError> {
    if r.pack_size == 0 || r.pack_size > MAX_PACK_SIZE {
        return Err(invalid(
            "pack_size",
            format!("must be 1 to {MAX_PACK_SIZE} units, got {}", r.pack_size),
        ));
    }
    if r.national_codes.len() > MAX_NATIONAL_CODES {
        return Err(invalid(
            "national_codes",
            format!("at most {MAX_NATIONAL_CODES}, got {}", r.national_codes.len()),
        ));
    }
    let mut national_codes = Vec::with_capacity(r.national_codes.len());
    for (i, c) in r.national_codes.iter().enumerate() {
        let system_ok = (1..=16).contains(&c.system.len())
            && c.system
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        if !system_ok {
            return Err(invalid(
                "national_codes",
                format!("[{i}].system must be 1 to 16 characters of A-Z, 0-9, '-'"),
            ));
        }
        let code_ok = (1..=32).contains(&c.code.len()) && c.code.bytes().all(|b| b.is_ascii_graphic());
        if !code_ok {
            return Err(invalid(
                "national_codes",
                format!("[{i}].code must be 1 to 32 printable ascii characters"),
            ));
        }
        if national_codes.iter().any(|(s, _): &(String, String)| *s == c.system) {
            return Err(EventError::Duplicate {
                field: "national_codes",
                value: c.system.clone(),
            });
        }
        national_codes.push((c.system.clone(), c.code.clone()));
    }
    if r.markets.len() > MAX_MARKETS {
        return Err(invalid(
            "markets",
            format!("at most {MAX_MARKETS}, got {}", r.markets.len()),
        ));
    }
    let mut markets: Vec<String> = Vec::with_capacity(r.markets.len());
    for (i, m) in r.markets.iter().enumerate() {
        if m.len() != 2 || !m.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(invalid(
                "markets",
                format!("[{i}] must be an iso 3166-1 alpha-2 code in upper case (like DE or US)"),
            ));
        }
        if markets.contains(m) {
            return Err(EventError::Duplicate {
                field: "markets",
                value: m.clone(),
            });
        }
        markets.push(m.clone());
    }
    let links = product_links(&r.links)?;
    Ok(Body::RegisterProduct {
        gtin: field("gtin", Gtin::parse(&r.gtin))?,
        master: ProductData {
            links,
            name: text("name", &r.name)?,
            strength: text_between("strength", &r.strength, 0, 100)?,
            dosage_form: text_between("dosage_form", &r.dosage_form, 1, 100)?,
            pack_size: r.pack_size,
            national_codes,
            markets,
        },
    })
}

/// A product's links: GS1 link types, https targets, no two of the same type and language.
fn product_links(links: &[pb::ProductLink]) -> Result<Vec<pb::ProductLink>, EventError> {
    if links.len() > MAX_LINKS {
        return Err(invalid("links", format!("at most {MAX_LINKS}, got {}", links.len())));
    }
    let mut out: Vec<pb::ProductLink> = Vec::with_capacity(links.len());
    for (i, l) in links.iter().enumerate() {
        let name = l.link_type.strip_prefix("gs1:").unwrap_or_default();
        if name.is_empty() || name.len() > 64 || !name.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(invalid(
                "links",
                format!("[{i}].link_type must be \"gs1:\" and 1 to 64 letters (like gs1:pip)"),
            ));
        }
        let href_ok = l.href.starts_with("https://")
            && l.href.len() > "https://".len()
            && l.href.chars().count() <= MAX_HREF_CHARS
            && !l.href.chars().any(|c| c.is_whitespace() || c.is_control() || c == '"');
        if !href_ok {
            return Err(invalid(
                "links",
                format!("[{i}].href must be an https URL of at most {MAX_HREF_CHARS} characters, without spaces"),
            ));
        }
        text_between("links", &l.title, 0, MAX_TEXT_CHARS)?;
        let lang_ok = l.lang.is_empty()
            || (l.lang.len() <= 35
                && l.lang.split('-').enumerate().all(|(j, part)| {
                    (if j == 0 { 2..=3 } else { 1..=8 }).contains(&part.len())
                        && part.bytes().all(|b| b.is_ascii_alphanumeric())
                }));
        if !lang_ok {
            return Err(invalid(
                "links",
                format!("[{i}].lang must be a language tag like en or de-CH"),
            ));
        }
        if out
            .iter()
            .any(|o| o.link_type == l.link_type && o.lang.eq_ignore_ascii_case(&l.lang))
        {
            return Err(EventError::Duplicate {
                field: "links",
                value: format!("{} {}", l.link_type, l.lang),
            });
        }
        out.push(l.clone());
    }
    Ok(out)
}

fn register(r: &pb::RegisterParticipant) -> Result<Body, EventError> {
    let role = match r.role() {
        ParticipantRole::Manufacturer => Role::Manufacturer,
        ParticipantRole::Distributor => Role::Distributor,
        ParticipantRole::Pharmacy => Role::Pharmacy,
        ParticipantRole::Hospital => Role::Hospital,
        ParticipantRole::ThirdPartyLogistics => Role::ThirdPartyLogistics,
        ParticipantRole::Repackager => Role::Repackager,
        ParticipantRole::Auditor => Role::Auditor,
        ParticipantRole::Authority => Role::Authority,
        ParticipantRole::Unspecified => {
            return Err(invalid(
                "role",
                "must be manufacturer, distributor, pharmacy, hospital, 3pl, repackager, auditor or authority",
            ));
        }
    };
    Ok(Body::Register {
        id: participant_id("id", r.id.clone())?,
        role,
        name: text("name", &r.name)?,
        gln: gln(&r.gln)?,
        key: key(&r.public_key)?,
    })
}

fn invalid(field: &'static str, detail: impl Into<String>) -> EventError {
    EventError::Invalid {
        field,
        detail: detail.into(),
    }
}

fn text(field: &'static str, value: &str) -> Result<String, EventError> {
    text_between(field, value, 1, MAX_TEXT_CHARS)
}

/// `min` to `max` characters, none of them a control character.
fn text_between(field: &'static str, value: &str, min: usize, max: usize) -> Result<String, EventError> {
    let chars = value.chars().count();
    if chars < min || chars > max || value.chars().any(char::is_control) {
        return Err(invalid(
            field,
            format!("must be {min} to {max} printable characters, got {chars}"),
        ));
    }
    Ok(value.to_string())
}

/// A GS1 Global Location Number: 13 digits, the last the mod-10 check digit (empty: none given).
fn gln(value: &str) -> Result<Option<String>, EventError> {
    if value.is_empty() {
        return Ok(None);
    }
    if value.len() != 13 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("gln", format!("must be 13 digits, got '{value}'")));
    }
    // The GTIN algorithm over a leading zero and the first 12 digits is the GLN's.
    let expected = gtin_check_digit(&format!("0{}", &value[..12]));
    let found = value.as_bytes()[12] - b'0';
    if expected != Some(found) {
        return Err(invalid(
            "gln",
            format!("check digit is {found}, expected {}", expected.unwrap_or(0)),
        ));
    }
    Ok(Some(value.to_string()))
}

fn key(bytes: &[u8]) -> Result<PublicKey, EventError> {
    PublicKey::from_sec1(bytes).map_err(|e| invalid("public_key", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::participant::GOVERNANCE_ID;

    #[test]
    fn a_decoding_error_deep_in_the_payload_stays_short() {
        // EventPayload.ship (11) { documents (6) { ship_date (4): two bytes that are not utf-8 } }.
        let payload = [0x5a, 0x06, 0x32, 0x04, 0x22, 0x02, 0xff, 0xfe];
        let e = decode_payload(&payload, Role::Manufacturer).expect_err("not utf-8");
        let message = e.to_string();
        assert!(message.contains("failed to decode"), "{message}");
        // The detail names the field path (type and field of each level), cut to its first 120 characters.
        assert!(message.ends_with("..."), "{message}");
        assert!(message.len() <= 200, "{} bytes: {message}", message.len());
    }

    #[test]
    fn gln_check_digit() {
        // 0614141000005 is a GLN from the GS1 General Specifications' examples.
        assert_eq!(gln("0614141000005").unwrap().as_deref(), Some("0614141000005"));
        assert!(gln("0614141000006").is_err());
        assert!(gln("061414100000").is_err());
        assert!(gln("061414100000x").is_err());
        assert_eq!(gln("").unwrap(), None);
    }

    #[test]
    fn product_links_are_gs1_link_types_to_https_urls() {
        let link = |link_type: &str, href: &str, lang: &str| pb::ProductLink {
            link_type: link_type.into(),
            href: href.into(),
            title: String::new(),
            lang: lang.into(),
        };
        let ok = [
            link("gs1:pip", "https://example.com/p", ""),
            link("gs1:epil", "https://example.com/pil-de.pdf", "de"),
            link("gs1:epil", "https://example.com/pil-fr.pdf", "fr-CH"),
        ];
        assert_eq!(product_links(&ok).unwrap().len(), 3);
        for bad in [
            link("pip", "https://example.com/p", ""),
            link("gs1:", "https://example.com/p", ""),
            link("gs1:p1p", "https://example.com/p", ""),
            link("gs1:pip", "http://example.com/p", ""),
            link("gs1:pip", "https://", ""),
            link("gs1:pip", "https://example.com/a b", ""),
            link("gs1:pip", "https://example.com/p", "english"),
            link("gs1:pip", "https://example.com/p", "e"),
        ] {
            assert!(product_links(std::slice::from_ref(&bad)).is_err(), "{bad:?}");
        }
        let twice = [
            link("gs1:epil", "https://a.example/1", "de"),
            link("gs1:epil", "https://a.example/2", "DE"),
        ];
        assert!(matches!(product_links(&twice), Err(EventError::Duplicate { .. })));
        let many: Vec<_> = (0..33)
            .map(|i| link("gs1:pip", "https://a.example/", &format!("l{i}")))
            .collect();
        assert!(product_links(&many).is_err());
    }

    #[test]
    fn ship_dates_are_calendar_dates() {
        for ok in ["2026-11-30", "2024-02-29", "2000-02-29"] {
            assert!(valid_date(ok), "{ok}");
        }
        for bad in [
            "2026-02-29",
            "1900-02-29",
            "2026-13-01",
            "2026-1-01",
            "26-11-30",
            "2026-11-3x",
            "2026/11/30",
        ] {
            assert!(!valid_date(bad), "{bad}");
        }
    }

    #[test]
    fn texts_are_bounded() {
        assert!(text("name", "City Pharmacy").is_ok());
        assert!(text("name", "").is_err());
        assert!(text("name", &"x".repeat(201)).is_err());
        assert!(text("name", "a\nb").is_err());
    }

    #[test]
    fn governance_is_not_a_participant_id() {
        assert!(participant_id("id", GOVERNANCE_ID.to_string()).is_err());
        assert!(participant_id("id", "new-pharmacy".to_string()).is_ok());
    }
}

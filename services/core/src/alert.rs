//! Alerts (docs/verdicts.md, "Alerts"): which verdicts alert a product's owner, the id a pharmacist quotes, what
//! closing one takes, and an alert's state as a fold of its log records. No IO: the verifier records and folds them.

use std::fmt;

use crate::pb::{Alert, AlertClosed, AlertCode, AlertRaised, AlertState, RootCause, Verdict};

/// Crockford's base-32 alphabet: no I, L, O or U, so an id read aloud or typed is not mistaken.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// The characters of an id after its prefix, in groups of four.
const GROUPS: usize = 3;
const GROUP: usize = 4;
const PREFIX: &str = "AL-";
/// The longest note an owner may leave when closing an alert.
pub const MAX_NOTE_CHARS: usize = 500;

/// The alert a verdict raises, if it raises one: every verdict that contradicts the ledger or says the pack must
/// not be supplied, for a product the ledger knows (an unknown product has no owner to tell). A verified pack, and
/// a pack dispensed by the pharmacy asking, raise none.
pub fn alert_code(verdict: Verdict) -> Option<AlertCode> {
    Some(match verdict {
        Verdict::LotMismatch => AlertCode::LotMismatch,
        Verdict::ExpiryMismatch => AlertCode::ExpiryMismatch,
        Verdict::UnknownSerial => AlertCode::UnknownSerial,
        Verdict::Dispensed => AlertCode::AlreadyDispensed,
        Verdict::Decommissioned => AlertCode::Decommissioned,
        Verdict::Recalled => AlertCode::Recalled,
        Verdict::Withdrawn => AlertCode::Withdrawn,
        Verdict::Expired => AlertCode::Expired,
        Verdict::Suspect => AlertCode::Suspect,
        Verdict::Illegitimate => AlertCode::Illegitimate,
        Verdict::Unspecified | Verdict::Verified | Verdict::UnknownProduct | Verdict::AlreadyDispensedByYou => {
            return None;
        }
    })
}

/// An alert's id: `AL-` and three groups of four Crockford base-32 characters (60 random bits), e.g.
/// `AL-7K3M-9QXD-2F4T`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AlertId(String);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("id: an alert id is \"AL-\" and three groups of four characters of 0-9 and A-Z (no I, L, O, U)")]
pub struct BadAlertId;

impl AlertId {
    /// The id made of the low 60 bits of `random`.
    pub fn from_random(random: u64) -> Self {
        let mut id = String::with_capacity(PREFIX.len() + GROUPS * (GROUP + 1));
        id.push_str(PREFIX);
        for i in 0..GROUPS * GROUP {
            if i > 0 && i % GROUP == 0 {
                id.push('-');
            }
            let shift = 5 * (GROUPS * GROUP - 1 - i);
            id.push(ALPHABET[((random >> shift) & 31) as usize] as char);
        }
        Self(id)
    }

    /// An id as typed: letters in either case, and the letters Crockford reads as digits (I and L as 1, O as 0).
    pub fn parse(typed: &str) -> Result<Self, BadAlertId> {
        let typed = typed.trim();
        let rest = typed
            .get(..PREFIX.len())
            .filter(|p| p.eq_ignore_ascii_case(PREFIX))
            .map(|_| &typed[PREFIX.len()..])
            .ok_or(BadAlertId)?;
        let groups: Vec<&str> = rest.split('-').collect();
        if groups.len() != GROUPS || groups.iter().any(|g| g.len() != GROUP) {
            return Err(BadAlertId);
        }
        let mut id = String::from(PREFIX);
        for (i, group) in groups.iter().enumerate() {
            if i > 0 {
                id.push('-');
            }
            for c in group.chars() {
                let c = match c.to_ascii_uppercase() {
                    'I' | 'L' => '1',
                    'O' => '0',
                    c => c,
                };
                if !ALPHABET.contains(&(c as u8)) || !c.is_ascii() {
                    return Err(BadAlertId);
                }
                id.push(c);
            }
        }
        Ok(Self(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AlertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a close is refused before anything is recorded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CloseError {
    #[error("root_cause: say what the investigation found (a root cause other than unspecified)")]
    RootCause,
    #[error("note: must be at most {MAX_NOTE_CHARS} printable characters, got {0}")]
    Note(usize),
}

/// Checks what an owner sends to close an alert.
pub fn check_close(root_cause: i32, note: &str) -> Result<RootCause, CloseError> {
    let root_cause = RootCause::try_from(root_cause).unwrap_or(RootCause::Unspecified);
    if root_cause == RootCause::Unspecified {
        return Err(CloseError::RootCause);
    }
    let chars = note.chars().count();
    if chars > MAX_NOTE_CHARS || note.chars().any(|c| c.is_control() && c != '\n') {
        return Err(CloseError::Note(chars));
    }
    Ok(root_cause)
}

/// An alert as its log records make it: raised at log position `cursor`, closed by the first close recorded
/// after it (a later close of the same alert changes nothing).
pub fn alert_of(raised: &AlertRaised, closed: Option<&AlertClosed>, cursor: u64) -> Alert {
    let mut alert = Alert {
        id: raised.id.clone(),
        code: raised.code,
        state: AlertState::Open as i32,
        gtin: raised.gtin.clone(),
        serial: raised.serial.clone(),
        scanned_lot: raised.scanned_lot.clone(),
        scanned_expiry: raised.scanned_expiry.clone(),
        scanner: raised.scanner.clone(),
        owner: raised.owner.clone(),
        raised_at_ms: raised.raised_at_ms,
        cursor,
        ..Alert::default()
    };
    if let Some(closed) = closed {
        alert.state = AlertState::Closed as i32;
        alert.closed_by = closed.closed_by.clone();
        alert.closed_at_ms = closed.closed_at_ms;
        alert.root_cause = closed.root_cause;
        alert.note = closed.note.clone();
    }
    alert
}

/// Whether `participant` may read the alert: its product's owner and its scanner, nobody else.
pub fn may_read(alert: &AlertRaised, participant: &str) -> bool {
    alert.owner == participant || alert.scanner == participant
}

/// Whether `participant` may close it: the product's owner when it was raised.
pub fn may_close(alert: &AlertRaised, participant: &str) -> bool {
    alert.owner == participant
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_are_grouped_and_read_back_as_typed() {
        let id = AlertId::from_random(0);
        assert_eq!(id.as_str(), "AL-0000-0000-0000");
        let id = AlertId::from_random(u64::MAX);
        assert_eq!(id.as_str(), "AL-ZZZZ-ZZZZ-ZZZZ");
        assert_eq!(AlertId::parse("al-zzzz-zzzz-zzzz"), Ok(id));
        assert_eq!(
            AlertId::parse(" AL-IL0o-0000-0001 ").unwrap().as_str(),
            "AL-1100-0000-0001"
        );
        for bad in [
            "",
            "AL-",
            "AL-0000-0000",
            "AL-0000-0000-000U",
            "XX-0000-0000-0000",
            "AL-0000-0000-00000",
            "AL-ÀÀ00-0000-0000",
        ] {
            assert_eq!(AlertId::parse(bad), Err(BadAlertId), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn every_id_parses_to_itself(random in any::<u64>()) {
            let id = AlertId::from_random(random);
            prop_assert_eq!(AlertId::parse(id.as_str()), Ok(id.clone()));
            prop_assert_eq!(AlertId::parse(&id.as_str().to_lowercase()), Ok(id));
        }

        #[test]
        fn parsing_never_panics(typed in ".{0,40}") {
            let _ = AlertId::parse(&typed);
        }
    }

    #[test]
    fn every_refusing_verdict_of_a_known_product_alerts() {
        for verdict in [
            Verdict::Verified,
            Verdict::UnknownProduct,
            Verdict::AlreadyDispensedByYou,
        ] {
            assert_eq!(alert_code(verdict), None, "{verdict:?}");
        }
        assert_eq!(alert_code(Verdict::LotMismatch), Some(AlertCode::LotMismatch));
        assert_eq!(alert_code(Verdict::Dispensed), Some(AlertCode::AlreadyDispensed));
        // Every other verdict alerts, each with a code of its own.
        let mut codes: Vec<AlertCode> = (4..=13)
            .chain([3])
            .filter_map(|v| Verdict::try_from(v).ok())
            .filter_map(alert_code)
            .collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), 10);
    }

    #[test]
    fn closing_needs_a_root_cause_and_a_bounded_note() {
        assert_eq!(check_close(0, ""), Err(CloseError::RootCause));
        assert_eq!(check_close(99, ""), Err(CloseError::RootCause));
        assert_eq!(
            check_close(RootCause::ScanningError as i32, "wedge sent no GS\nrescanned"),
            Ok(RootCause::ScanningError)
        );
        assert_eq!(
            check_close(RootCause::ScanningError as i32, &"x".repeat(501)),
            Err(CloseError::Note(501))
        );
        assert_eq!(
            check_close(RootCause::ScanningError as i32, "a\u{7}"),
            Err(CloseError::Note(2))
        );
    }

    #[test]
    fn only_the_owner_and_the_scanner_read_and_only_the_owner_closes() {
        let raised = AlertRaised {
            id: "AL-0000-0000-0001".into(),
            owner: "acme".into(),
            scanner: "pharmacy".into(),
            ..AlertRaised::default()
        };
        assert!(may_read(&raised, "acme") && may_read(&raised, "pharmacy") && !may_read(&raised, "wholesaler"));
        assert!(may_close(&raised, "acme") && !may_close(&raised, "pharmacy"));
        let open = alert_of(&raised, None, 7);
        assert_eq!((open.state(), open.cursor), (AlertState::Open, 7));
        let closed = AlertClosed {
            id: raised.id.clone(),
            closed_by: "acme".into(),
            root_cause: RootCause::ScanningError as i32,
            ..AlertClosed::default()
        };
        let alert = alert_of(&raised, Some(&closed), 7);
        assert_eq!(
            (alert.state(), alert.root_cause()),
            (AlertState::Closed, RootCause::ScanningError)
        );
    }
}

//! The GS1 application identifiers this crate understands, and the collector that turns
//! `(identifier, value)` pairs from any input form into a [`ScannedCode`].
//!
//! AIs 01, 10, 17 and 21 are kept. The others listed in [`TABLE`] appear on real pharmaceutical
//! packs (SSCC, other dates, consumer product variant, count, additional product identification,
//! national healthcare reimbursement numbers); their values are checked for length and character
//! set and then dropped. Any other AI is an error.

use crate::text::is_cs82;
use crate::{Expiry, Gs1Error, Gtin, Lot, ScannedCode, Serial};

/// Where an AI's value goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Gtin,
    Lot,
    Expiry,
    Serial,
    /// Known and validated, but not kept.
    Skip,
}

/// The length rule of an AI's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Length {
    /// Exactly this many characters; never followed by a separator in an element string.
    Fixed(usize),
    /// 1 up to this many characters, ended by GS (FNC1) or the end of the data.
    Variable(usize),
}

/// One row of the AI table.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AiSpec {
    pub code: &'static str,
    pub length: Length,
    pub numeric: bool,
    pub role: Role,
}

const fn spec(code: &'static str, length: Length, numeric: bool, role: Role) -> AiSpec {
    AiSpec {
        code,
        length,
        numeric,
        role,
    }
}

use Length::{Fixed, Variable};

/// The AIs accepted in any input form. No code is a prefix of another, as in GS1 itself.
pub(crate) const TABLE: &[AiSpec] = &[
    spec("00", Fixed(18), true, Role::Skip),
    spec("01", Fixed(14), true, Role::Gtin),
    spec("02", Fixed(14), true, Role::Skip),
    spec("10", Variable(20), false, Role::Lot),
    spec("11", Fixed(6), true, Role::Skip),
    spec("12", Fixed(6), true, Role::Skip),
    spec("13", Fixed(6), true, Role::Skip),
    spec("15", Fixed(6), true, Role::Skip),
    spec("16", Fixed(6), true, Role::Skip),
    spec("17", Fixed(6), true, Role::Expiry),
    spec("21", Variable(20), false, Role::Serial),
    spec("22", Variable(20), false, Role::Skip),
    spec("30", Variable(8), true, Role::Skip),
    spec("240", Variable(30), false, Role::Skip),
    spec("241", Variable(30), false, Role::Skip),
    spec("710", Variable(20), false, Role::Skip),
    spec("711", Variable(20), false, Role::Skip),
    spec("712", Variable(20), false, Role::Skip),
    spec("713", Variable(20), false, Role::Skip),
    spec("714", Variable(20), false, Role::Skip),
    spec("715", Variable(20), false, Role::Skip),
];

/// The table row for exactly `code`.
pub(crate) fn lookup(code: &str) -> Option<&'static AiSpec> {
    TABLE.iter().find(|s| s.code == code)
}

/// The table row whose code starts `data`, if any.
pub(crate) fn lookup_prefix(data: &str) -> Option<&'static AiSpec> {
    TABLE.iter().find(|s| data.starts_with(s.code))
}

/// How many digits an AI starting with the two-digit `prefix` has, per the GS1 AI prefix table.
/// Used only to quote an unsupported AI in full in error messages.
pub(crate) fn ai_digits_for_prefix(prefix: &str) -> usize {
    match prefix {
        "23" | "24" | "25" | "40" | "41" | "42" | "71" => 3,
        "31" | "32" | "33" | "34" | "35" | "36" | "39" | "43" | "70" | "72" | "80" | "81" | "82" => 4,
        _ => 2,
    }
}

/// Accumulates AI values from one input, rejecting repeats.
pub(crate) struct Collector {
    form: &'static str,
    seen: Vec<&'static str>,
    gtin: Option<Gtin>,
    lot: Option<Lot>,
    expiry: Option<Expiry>,
    serial: Option<Serial>,
}

impl Collector {
    pub(crate) fn new(form: &'static str) -> Self {
        Collector {
            form,
            seen: Vec::new(),
            gtin: None,
            lot: None,
            expiry: None,
            serial: None,
        }
    }

    /// Validates `value` for `spec` and records it; `position` locates the AI for error messages.
    pub(crate) fn add(&mut self, spec: &'static AiSpec, value: &str, position: usize) -> Result<(), Gs1Error> {
        if self.seen.contains(&spec.code) {
            return Err(Gs1Error::RepeatedAi {
                form: self.form,
                ai: spec.code.to_owned(),
                position,
            });
        }
        self.seen.push(spec.code);
        match spec.role {
            Role::Gtin => self.gtin = Some(Gtin::parse(value)?),
            Role::Lot => self.lot = Some(Lot::parse(value)?),
            Role::Expiry => self.expiry = Some(Expiry::parse(value)?),
            Role::Serial => self.serial = Some(Serial::parse(value)?),
            Role::Skip => check_skipped(self.form, spec, value, position)?,
        }
        Ok(())
    }

    /// The collected code; fails if no GTIN was seen.
    pub(crate) fn finish(self) -> Result<ScannedCode, Gs1Error> {
        let gtin = self.gtin.ok_or(Gs1Error::MissingGtin { form: self.form })?;
        Ok(ScannedCode {
            gtin,
            serial: self.serial,
            lot: self.lot,
            expiry: self.expiry,
        })
    }
}

/// Length and character-set check for an AI whose value is not kept.
fn check_skipped(form: &'static str, spec: &AiSpec, value: &str, position: usize) -> Result<(), Gs1Error> {
    let got = value.chars().count();
    let ai = spec.code;
    let bad_length = match spec.length {
        Fixed(n) => (got != n).then(|| format!("exactly {n}")),
        Variable(max) => (got == 0 || got > max).then(|| format!("1 to {max}")),
    };
    if let Some(want) = bad_length {
        return Err(Gs1Error::malformed(
            form,
            format!("application identifier '{ai}' at position {position} needs {want} characters, got {got}"),
        ));
    }
    let allowed = |c: char| {
        if spec.numeric { c.is_ascii_digit() } else { is_cs82(c) }
    };
    if let Some(ch) = value.chars().find(|c| !allowed(*c)) {
        let what = if spec.numeric {
            "a digit"
        } else {
            "in gs1 character set 82"
        };
        return Err(Gs1Error::malformed(
            form,
            format!(
                "application identifier '{ai}' at position {position}: character '{}' is not {what}",
                ch.escape_debug()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_prefix_free() {
        for a in TABLE {
            for b in TABLE {
                assert!(
                    a.code == b.code || !b.code.starts_with(a.code),
                    "{} / {}",
                    a.code,
                    b.code
                );
            }
            assert_eq!(a.code.len(), ai_digits_for_prefix(&a.code[..2]), "{}", a.code);
        }
    }

    #[test]
    fn lookup_finds_two_and_three_digit_codes() {
        assert_eq!(lookup_prefix("0109506000134352").map(|s| s.code), Some("01"));
        assert_eq!(lookup_prefix("240ABC").map(|s| s.code), Some("240"));
        assert_eq!(lookup_prefix("7101234").map(|s| s.code), Some("710"));
        assert!(lookup_prefix("99ABC").is_none());
        assert!(lookup_prefix("716").is_none());
        assert!(lookup("010").is_none());
    }

    #[test]
    fn skipped_values_are_checked() {
        let mut c = Collector::new("element string");
        let ai30 = lookup("30").unwrap();
        let err = c.add(ai30, "123456789", 16).unwrap_err();
        assert_eq!(
            err.to_string(),
            "element string: application identifier '30' at position 16 needs 1 to 8 characters, got 9"
        );
        let ai11 = lookup("11").unwrap();
        let err = c.add(ai11, "2601x1", 4).unwrap_err();
        assert_eq!(
            err.to_string(),
            "element string: application identifier '11' at position 4: character 'x' is not a digit"
        );
        let err = c.add(ai11, "260101", 4).unwrap_err();
        assert_eq!(
            err.to_string(),
            "element string: application identifier '11' repeated at position 4"
        );
        assert_eq!(
            c.finish().unwrap_err().to_string(),
            "element string: application identifier '01' (gtin) is missing"
        );
    }
}

//! Errors returned when a GS1 identifier or a scanned code does not parse.
//!
//! Every message starts with the part that is wrong (`gtin:`, `serial:`, `lot:`, `expiry:`, or the
//! input form such as `element string:`) and then says why, in lower case, so it can be shown to an
//! operator as is. [`Gs1Error::field`] gives the failing part as a stable token for APIs.

/// Why an identifier, a date or a scanned code was rejected.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Gs1Error {
    /// The GTIN has the wrong number of digits.
    #[error("gtin: must be {allowed} digits, got {got}")]
    GtinLength {
        /// The accepted digit counts, e.g. `"14"` or `"8, 12, 13 or 14"`.
        allowed: &'static str,
        /// The number of characters supplied.
        got: usize,
    },
    /// The GTIN contains something other than an ASCII digit.
    #[error("gtin: character '{}' at position {position} is not a digit", .ch.escape_debug())]
    GtinCharacter {
        /// The offending character.
        ch: char,
        /// Its 0-based index within the GTIN.
        position: usize,
    },
    /// The last digit is not the GS1 mod-10 check digit of the others.
    #[error("gtin: check digit is {found}, expected {expected}")]
    GtinCheckDigit {
        /// The check digit supplied.
        found: u8,
        /// The check digit computed from the first 13 digits.
        expected: u8,
    },
    /// The SSCC does not have 18 digits.
    #[error("sscc: must be 18 digits, got {got}")]
    SsccLength {
        /// The number of characters supplied.
        got: usize,
    },
    /// The SSCC contains something other than an ASCII digit.
    #[error("sscc: character '{}' at position {position} is not a digit", .ch.escape_debug())]
    SsccCharacter {
        /// The offending character.
        ch: char,
        /// Its 0-based index within the SSCC.
        position: usize,
    },
    /// The last digit of the SSCC is not the GS1 mod-10 check digit of the others.
    #[error("sscc: check digit is {found}, expected {expected}")]
    SsccCheckDigit {
        /// The check digit supplied.
        found: u8,
        /// The check digit computed from the first 17 digits.
        expected: u8,
    },
    /// A serial number or lot is empty or longer than 20 characters.
    #[error("{field}: must be 1 to 20 characters, got {got}")]
    TextLength {
        /// `"serial"` or `"lot"`.
        field: &'static str,
        /// The number of characters supplied.
        got: usize,
    },
    /// A serial number or lot contains a character outside GS1 character set 82.
    #[error("{field}: character '{}' is not in gs1 character set 82", .ch.escape_debug())]
    TextCharacter {
        /// `"serial"` or `"lot"`.
        field: &'static str,
        /// The offending character.
        ch: char,
    },
    /// The expiry date is not six characters long.
    #[error("expiry: must be 6 digits yymmdd, got {got} characters")]
    ExpiryLength {
        /// The number of characters supplied.
        got: usize,
    },
    /// The expiry date contains something other than an ASCII digit.
    #[error("expiry: character '{}' is not a digit", .ch.escape_debug())]
    ExpiryCharacter {
        /// The offending character.
        ch: char,
    },
    /// The expiry month is not 01 to 12.
    #[error("expiry: month {month:02} is not 01..12")]
    ExpiryMonth {
        /// The month supplied.
        month: u8,
    },
    /// The expiry day does not exist in the given month (`00` is always allowed).
    #[error("expiry: day {day:02} does not exist in month {month:02}")]
    ExpiryDay {
        /// The day supplied.
        day: u8,
        /// The (valid) month supplied.
        month: u8,
    },
    /// The input is longer than any valid code ([`crate::MAX_CODE_BYTES`]); nothing of it was parsed.
    #[error("{form}: longer than any gs1 code ({got} bytes, at most {max})", max = crate::MAX_CODE_BYTES)]
    TooLong {
        /// The input form.
        form: &'static str,
        /// The input's length in bytes.
        got: usize,
    },
    /// Nothing to parse (after trimming trailing whitespace and any symbology identifier).
    #[error("{form}: input is empty")]
    Empty {
        /// The input form: `"element string"`, `"bracketed"`, `"digital link"` or `"scan"`.
        form: &'static str,
    },
    /// An application identifier this crate neither uses nor knows how to skip.
    #[error(
        "{form}: unsupported application identifier '{}' at position {position}",
        crate::quote(ai)
    )]
    UnsupportedAi {
        /// The input form.
        form: &'static str,
        /// The application identifier as read from the input.
        ai: String,
        /// 0-based character position of the identifier in the input.
        position: usize,
    },
    /// The same application identifier occurs twice.
    #[error(
        "{form}: application identifier '{}' repeated at position {position}",
        crate::quote(ai)
    )]
    RepeatedAi {
        /// The input form.
        form: &'static str,
        /// The repeated application identifier.
        ai: String,
        /// 0-based character position of the second occurrence.
        position: usize,
    },
    /// The code carries no GTIN (application identifier 01).
    #[error("{form}: application identifier '01' (gtin) is missing")]
    MissingGtin {
        /// The input form.
        form: &'static str,
    },
    /// A Digital Link URI whose path has no `/01/{gtin}`.
    #[error("digital link: path must contain /01/{{gtin}}")]
    MissingGtinPath,
    /// Any other structural problem with the input; `reason` says what and where.
    #[error("{form}: {reason}")]
    Malformed {
        /// The input form.
        form: &'static str,
        /// What is wrong, in lower case.
        reason: String,
    },
}

impl Gs1Error {
    /// The part of the code that is wrong: `"gtin"`, `"serial"`, `"lot"`, `"expiry"`, or `"code"`
    /// when the problem is the structure of the scanned input rather than one value.
    pub fn field(&self) -> &'static str {
        match self {
            Self::GtinLength { .. } | Self::GtinCharacter { .. } | Self::GtinCheckDigit { .. } => "gtin",
            Self::SsccLength { .. } | Self::SsccCharacter { .. } | Self::SsccCheckDigit { .. } => "sscc",
            Self::TextLength { field, .. } | Self::TextCharacter { field, .. } => field,
            Self::ExpiryLength { .. }
            | Self::ExpiryCharacter { .. }
            | Self::ExpiryMonth { .. }
            | Self::ExpiryDay { .. } => "expiry",
            Self::Empty { .. }
            | Self::TooLong { .. }
            | Self::UnsupportedAi { .. }
            | Self::RepeatedAi { .. }
            | Self::MissingGtin { .. }
            | Self::MissingGtinPath
            | Self::Malformed { .. } => "code",
        }
    }

    /// [`Gs1Error::TooLong`] if `input` is longer than [`crate::MAX_CODE_BYTES`]: every parser checks this first,
    /// so the work and the error message for any input are bounded.
    pub(crate) fn check_length(form: &'static str, input: &str) -> Result<(), Self> {
        if input.len() > crate::MAX_CODE_BYTES {
            return Err(Self::TooLong { form, got: input.len() });
        }
        Ok(())
    }

    /// Shorthand for [`Gs1Error::Malformed`].
    pub(crate) fn malformed(form: &'static str, reason: impl Into<String>) -> Self {
        Self::Malformed {
            form,
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_lowercase_and_name_the_part() {
        let cases = [
            (
                Gs1Error::GtinCheckDigit { found: 3, expected: 1 },
                "gtin: check digit is 3, expected 1",
                "gtin",
            ),
            (
                Gs1Error::TextCharacter {
                    field: "serial",
                    ch: '#',
                },
                "serial: character '#' is not in gs1 character set 82",
                "serial",
            ),
            (
                Gs1Error::ExpiryDay { day: 31, month: 4 },
                "expiry: day 31 does not exist in month 04",
                "expiry",
            ),
            (
                Gs1Error::MissingGtinPath,
                "digital link: path must contain /01/{gtin}",
                "code",
            ),
        ];
        for (err, msg, field) in cases {
            assert_eq!(err.to_string(), msg);
            assert_eq!(err.field(), field);
            assert_eq!(msg, msg.to_lowercase());
        }
    }

    #[test]
    fn control_characters_are_escaped_in_messages() {
        let err = Gs1Error::TextCharacter {
            field: "lot",
            ch: '\u{1d}',
        };
        assert_eq!(
            err.to_string(),
            "lot: character '\\u{1d}' is not in gs1 character set 82"
        );
    }
}

//! Quoting outside input in error messages: escaped, and never more than [`QUOTE_MAX_CHARS`] characters of it.
//!
//! An error message is built for every refused request; if it echoed its input whole, a 4 MB code would make a 4 MB
//! (then percent-encoded, larger) answer. Every message that shows part of the input shows it through [`quote`].

use std::fmt;

/// How many characters of an input an error message shows at most.
pub const QUOTE_MAX_CHARS: usize = 32;

/// How many bytes the shown characters take at most once escaped (control characters escape to up to 10 bytes).
pub const QUOTE_MAX_BYTES: usize = 48;

/// `input` for an error message: control and non-printing characters escaped (`\u{1d}`), cut after
/// [`QUOTE_MAX_CHARS`] characters or [`QUOTE_MAX_BYTES`] bytes of escaped text, whichever comes first, with `…` and
/// the input's full length in characters.
///
/// ```
/// use pedigree_gs1::quote;
/// assert_eq!(quote("AB\u{1d}C").to_string(), "AB\\u{1d}C");
/// assert_eq!(quote(&"x".repeat(40)).to_string(), format!("{}… (40 characters)", "x".repeat(32)));
/// ```
pub fn quote(input: &str) -> Quoted<'_> {
    Quoted(input)
}

/// An input shown by [`quote`].
#[derive(Debug, Clone, Copy)]
pub struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (mut shown, mut bytes) = (0, 0);
        for ch in self.0.chars() {
            let escaped: String = ch.escape_debug().collect();
            if shown == QUOTE_MAX_CHARS || bytes + escaped.len() > QUOTE_MAX_BYTES {
                return write!(f, "… ({} characters)", self.0.chars().count());
            }
            write!(f, "{escaped}")?;
            shown += 1;
            bytes += escaped.len();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn short_input_is_shown_whole_and_escaped() {
        assert_eq!(quote("").to_string(), "");
        assert_eq!(quote("ABC-123").to_string(), "ABC-123");
        assert_eq!(quote("a'b\0").to_string(), "a\\'b\\0");
        assert_eq!(quote(&"y".repeat(32)).to_string(), "y".repeat(32));
        assert_eq!(
            quote(&"\u{6}".repeat(20)).to_string(),
            format!("{}… (20 characters)", "\\u{6}".repeat(9))
        );
    }

    proptest! {
        #[test]
        fn a_quote_is_bounded_whatever_the_input(input in ".{0,300}") {
            // At most QUOTE_MAX_BYTES of escaped text, then the suffix naming the length.
            let shown = quote(&input).to_string();
            prop_assert!(shown.len() <= QUOTE_MAX_BYTES + 24, "{} bytes", shown.len());
            prop_assert!(!shown.chars().any(char::is_control));
        }
    }
}

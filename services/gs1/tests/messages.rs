//! Issue 15: an error message quotes at most a few dozen characters of the input, with control characters
//! escaped. Found by the `gs1_scan` fuzz target with its message check (services/fuzz, docs/reliability.md): a
//! bracketed AI and a Digital Link path segment are quoted whole, and an element string's non-ASCII character is
//! quoted raw (U+0085 is a control character); these are their regression tests.

use pedigree_gs1::{parse_bracketed, parse_digital_link, parse_element_string, parse_scan};

const MAX_MESSAGE_LEN: usize = 200;

#[test]
fn messages_quote_a_bounded_part_of_the_input() {
    // The fuzzer's input: a 97-character bracketed "AI" of letters and NULs.
    let found = format!("(0300{}{}{})0\u{15}", "q".repeat(35), "\0".repeat(49), "q".repeat(10));
    let long = "A".repeat(10_000);
    for message in [
        parse_scan(&found).unwrap_err().to_string(),
        parse_bracketed(&format!("(01)09506000134352({long})"))
            .unwrap_err()
            .to_string(),
        parse_digital_link(&format!("/01/09506000134352/{long}"))
            .unwrap_err()
            .to_string(),
    ] {
        assert!(
            message.len() <= MAX_MESSAGE_LEN,
            "{} bytes: {}...",
            message.len(),
            &message[..60]
        );
    }
}

#[test]
fn messages_escape_control_characters() {
    let message = parse_element_string("0109506000134352\u{85}").unwrap_err().to_string();
    assert!(!message.chars().any(char::is_control), "{message:?}");
}

//! Every form a scanner or a URL can hand the verifier: element strings (with or without a symbology identifier,
//! FNC1 as GS), bracketed text, Digital Link URIs, and the dispatcher in front of them, each called directly on the
//! same input. None may panic; what parses holds a valid GTIN and reads back unchanged from its element string,
//! bracketed and Digital Link renderings; every error message says something (and is short).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pedigree_fuzz::{check_message, check_round_trips};
use pedigree_gs1::{parse_bracketed, parse_digital_link, parse_element_string, parse_scan};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for parsed in [
        parse_scan(text),
        parse_element_string(text),
        parse_bracketed(text),
        parse_digital_link(text),
    ] {
        match parsed {
            Ok(code) => check_round_trips(&code),
            Err(e) => check_message(&e.to_string()),
        }
    }
});

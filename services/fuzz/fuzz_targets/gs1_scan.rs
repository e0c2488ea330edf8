//! Every form a scanner or a URL can hand the verifier: element strings, bracketed text, Digital Link URIs, and the
//! dispatcher in front of them. None may panic; what parses must hold valid GS1 identifiers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pedigree_gs1::{Gtin, parse_bracketed, parse_digital_link, parse_element_string, parse_scan};

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
        if let Ok(code) = parsed {
            // A parsed GTIN is a valid GTIN again.
            assert!(Gtin::parse(code.gtin.as_str()).is_ok());
        }
    }
});

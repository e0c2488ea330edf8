//! An ERP's EPCIS capture document as the participant's gateway reads it: any bytes, parsed as JSON, then mapped to
//! custody events by `pedigree_core::epcis_capture::map_document`.
//!
//! Checked: nothing panics; a refusal names the event (when it is one) and the field, with a short message; an
//! accepted document gives one event per entry of its event list, each of which encodes as a payload body.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use pedigree_core::epcis_capture::{PartyNames, map_document};
use pedigree_fuzz::check_message;

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let parties = PartyNames {
        glns: HashMap::from([("0950600000026".to_string(), "medline-wholesale".to_string())]),
    };
    match map_document(&doc, &parties) {
        Ok(captured) => {
            let listed = doc
                .pointer("/epcisBody/eventList")
                .and_then(serde_json::Value::as_array)
                .map_or(0, Vec::len);
            assert_eq!(captured.len(), listed);
        }
        Err(e) => {
            assert!(!e.field.is_empty(), "{e}");
            check_message(&e.to_string());
        }
    }
});

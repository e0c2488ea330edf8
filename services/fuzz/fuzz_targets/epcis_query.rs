//! The verifier's EPCIS event query (`GET /epcis/events`) up to the store: a request URI as hyper hands it over (any
//! bytes `http::Uri` accepts) parsed by `pedigree_verifier::epcis_query::parse_query`, as the real handler does
//! before reading Redis.
//!
//! Checked: nothing panics; a refusal is a 400 naming a field, with a short message; an accepted query has a page size
//! from 1 to 1000, and its EPC, written back as the canonical Digital Link URI the answers use, reads back as the
//! same pack or container; a time it accepted reads back from the time the answers write.
#![no_main]

use axum::http::{StatusCode, Uri};
use libfuzzer_sys::fuzz_target;
use pedigree_fuzz::check_message;
use pedigree_verifier::epcis::{iso_time, item_epc};
use pedigree_verifier::epcis_query::{parse_epc, parse_query, parse_time};

fuzz_target!(|data: &[u8]| {
    let Ok(uri) = Uri::try_from(data) else {
        return;
    };
    match parse_query(&uri) {
        Ok(q) => {
            assert!((1..=1000).contains(&q.per_page), "{q:?}");
            if let Some(item) = &q.item {
                let epc = item_epc(item);
                assert_eq!(parse_epc(&epc).ok().as_ref(), Some(item), "{epc}");
                assert!(q.party.is_none(), "{q:?}");
            }
            if let Some(party) = &q.party {
                assert!((1..=64).contains(&party.len()), "{party:?}");
            }
            for t in [q.from_ms, q.until_ms].into_iter().flatten() {
                assert_eq!(parse_time(&iso_time(t)), Some(t), "{t}");
            }
        }
        Err(e) => {
            assert_eq!(e.http_status(), StatusCode::BAD_REQUEST, "{e}");
            assert!(e.field().is_some(), "{e}");
            check_message(&e.to_string());
        }
    }
});

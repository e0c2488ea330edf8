//! Building event bodies (for the CLI, the load tester and tests); validation happens when they are checked.

use crate::pb::{self, event_payload::Body};

fn strings(serials: &[impl AsRef<str>]) -> Vec<String> {
    serials.iter().map(|s| s.as_ref().to_string()).collect()
}

pub fn commission(gtin: &str, lot: &str, expiry: &str, serials: &[impl AsRef<str>]) -> Body {
    Body::Commission(pb::Commission {
        gtin: gtin.into(),
        lot: lot.into(),
        expiry: expiry.into(),
        serials: strings(serials),
    })
}

pub fn ship(gtin: &str, serials: &[impl AsRef<str>], receiver: &str) -> Body {
    Body::Ship(pb::Ship {
        gtin: gtin.into(),
        serials: strings(serials),
        receiver: receiver.into(),
    })
}

pub fn receive(gtin: &str, serials: &[impl AsRef<str>], sender: &str) -> Body {
    Body::Receive(pb::Receive {
        gtin: gtin.into(),
        serials: strings(serials),
        sender: sender.into(),
    })
}

pub fn dispense(gtin: &str, serials: &[impl AsRef<str>]) -> Body {
    Body::Dispense(pb::Dispense {
        gtin: gtin.into(),
        serials: strings(serials),
    })
}

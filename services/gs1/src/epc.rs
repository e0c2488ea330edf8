//! EPCs (Electronic Product Codes) of serialised packs and logistic units, as EPCIS names them: a GS1 Digital Link URI
//! (`https://id.gs1.org/01/{gtin}/21/{serial}`, `…/00/{sscc}`, any host) or an EPC pure identity URN
//! (`urn:epc:id:sgtin:{company prefix}.{indicator and item reference}.{serial}`, `urn:epc:id:sscc:{company
//! prefix}.{extension and serial reference}`, GS1 EPC Tag Data Standard). Written back as the canonical Digital Link
//! URI on `https://id.gs1.org`.

use crate::ScannedCode;
use crate::digital_link::parse_digital_link;
use crate::error::Gs1Error;
use crate::gtin::{Gtin, gtin_check_digit};
use crate::sscc::Sscc;
use crate::text::Serial;

/// A serialised trade item (SGTIN) or a logistic unit (SSCC).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Epc {
    /// A pack (or a case): GTIN and serial.
    Sgtin {
        /// The trade item.
        gtin: Gtin,
        /// Its serial.
        serial: Serial,
    },
    /// A logistic unit (a pallet).
    Sscc(Sscc),
}

const FORM: &str = "epc";

fn bad(why: &str) -> Gs1Error {
    Gs1Error::malformed(FORM, why)
}

impl Epc {
    /// The canonical GS1 Digital Link URI on `https://id.gs1.org`.
    pub fn to_uri(&self) -> String {
        match self {
            Epc::Sgtin { gtin, serial } => ScannedCode {
                gtin: gtin.clone(),
                serial: Some(serial.clone()),
                lot: None,
                expiry: None,
            }
            .to_digital_link("https://id.gs1.org"),
            Epc::Sscc(sscc) => format!("https://id.gs1.org/00/{}", sscc.as_str()),
        }
    }
}

/// Reads an EPC in any of the forms above.
pub fn parse_epc(value: &str) -> Result<Epc, Gs1Error> {
    Gs1Error::check_length(FORM, value)?;
    if let Some(rest) = value.strip_prefix("urn:epc:id:sgtin:") {
        let mut parts = rest.splitn(3, '.');
        let (Some(prefix), Some(item_ref), Some(serial)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("an sgtin urn is {company prefix}.{item reference}.{serial}"));
        };
        if !(6..=12).contains(&prefix.len()) || prefix.len() + item_ref.len() != 13 || item_ref.is_empty() {
            return Err(bad(
                "an sgtin urn's company prefix and item reference have 13 digits together",
            ));
        }
        let first13 = format!("{}{prefix}{}", &item_ref[..1], &item_ref[1..]);
        let check = gtin_check_digit(&first13).ok_or_else(|| bad("an sgtin urn's references are digits"))?;
        let gtin = Gtin::parse(&format!("{first13}{check}"))?;
        let serial = percent_encoding::percent_decode_str(serial)
            .decode_utf8()
            .map_err(|_| bad("an sgtin urn's serial is not utf-8 once decoded"))?;
        return Ok(Epc::Sgtin {
            gtin,
            serial: Serial::parse(&serial)?,
        });
    }
    if let Some(rest) = value.strip_prefix("urn:epc:id:sscc:") {
        let Some((prefix, serial_ref)) = rest.split_once('.') else {
            return Err(bad("an sscc urn is {company prefix}.{serial reference}"));
        };
        if !(6..=12).contains(&prefix.len()) || prefix.len() + serial_ref.len() != 17 || serial_ref.is_empty() {
            return Err(bad(
                "an sscc urn's company prefix and serial reference have 17 digits together",
            ));
        }
        let first17 = format!("{}{prefix}{}", &serial_ref[..1], &serial_ref[1..]);
        if !first17.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("an sscc urn's references are digits"));
        }
        let check = crate::sscc::check_digit(&first17);
        return Ok(Epc::Sscc(Sscc::parse(&format!("{first17}{check}"))?));
    }
    let path = value
        .split_once("://")
        .map_or(value, |(_, rest)| rest.find('/').map_or("", |i| &rest[i..]));
    if let Some(sscc) = path.strip_prefix("/00/") {
        return Ok(Epc::Sscc(Sscc::parse(
            sscc.split(['?', '/']).next().unwrap_or_default(),
        )?));
    }
    if !path.starts_with("/01/") {
        return Err(bad(
            "must be a gs1 digital link uri (/01/{gtin}/21/{serial} or /00/{sscc}) or an sgtin or sscc urn",
        ));
    }
    let code = parse_digital_link(path)?;
    let serial = code.serial.ok_or_else(|| bad("a pack's epc names its serial (21)"))?;
    Ok(Epc::Sgtin {
        gtin: code.gtin,
        serial,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_reads_the_same_key_and_writes_the_canonical_uri() {
        let pack = Epc::Sgtin {
            gtin: Gtin::parse("09506000134352").unwrap(),
            serial: Serial::parse("X/1").unwrap(),
        };
        for form in [
            "https://id.gs1.org/01/09506000134352/21/X%2F1",
            "https://example.com/01/09506000134352/10/L1/21/X%2F1",
            "urn:epc:id:sgtin:9506000.013435.X%2F1",
        ] {
            assert_eq!(parse_epc(form).unwrap(), pack, "{form}");
        }
        assert_eq!(pack.to_uri(), "https://id.gs1.org/01/09506000134352/21/X%2F1");
        let pallet = Epc::Sscc(Sscc::parse("106141411234567897").unwrap());
        assert_eq!(parse_epc("https://id.gs1.org/00/106141411234567897").unwrap(), pallet);
        assert_eq!(parse_epc("urn:epc:id:sscc:0614141.1123456789").unwrap(), pallet);
        assert_eq!(parse_epc(&pallet.to_uri()).unwrap(), pallet);
    }

    #[test]
    fn what_is_not_an_epc_is_refused() {
        for bad in [
            "",
            "urn:epc:id:sgtin:95.0.X",
            "urn:epc:id:sgtin:9506000.013435",
            "https://id.gs1.org/01/09506000134352",
            "https://id.gs1.org/414/0950600000002",
            "urn:epc:id:sscc:0614141.1",
            "urn:epc:id:sscc:0614141.112345678x",
        ] {
            assert!(parse_epc(bad).is_err(), "{bad}");
        }
    }
}

//! [`ScannedCode`]: the identity of one pack (GTIN, serial, lot, expiry) and its three renderings.

use crate::{Expiry, Gtin, Lot, Serial, digital_link};

/// The ASCII group separator that stands for FNC1 in scanned element strings.
pub const GS: char = '\u{1d}';

/// What one pack's GS1 code says about it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ScannedCode {
    /// The trade item (AI 01).
    pub gtin: Gtin,
    /// The pack's serial number (AI 21).
    pub serial: Option<Serial>,
    /// The batch or lot (AI 10).
    pub lot: Option<Lot>,
    /// The expiry date (AI 17).
    pub expiry: Option<Expiry>,
}

impl ScannedCode {
    /// The unbracketed element string: fixed-length `01` and `17` first, then `10` and `21`
    /// separated by GS (0x1D). No symbology identifier, no leading FNC1, no trailing GS.
    pub fn to_element_string(&self) -> String {
        let mut out = format!("01{}", self.gtin.as_str());
        if let Some(expiry) = &self.expiry {
            out.push_str("17");
            out.push_str(&expiry.as_str());
        }
        let variable = [
            ("10", self.lot.as_ref().map(Lot::as_str)),
            ("21", self.serial.as_ref().map(Serial::as_str)),
        ];
        let mut first = true;
        for (ai, value) in variable {
            if let Some(value) = value {
                if !first {
                    out.push(GS);
                }
                first = false;
                out.push_str(ai);
                out.push_str(value);
            }
        }
        out
    }

    /// The human-readable form `(01)...(17)...(10)...(21)...`.
    ///
    /// A `(` inside a lot or serial is written `\(` (as the GS1 Barcode Syntax Engine does) so that
    /// it cannot be mistaken for the start of the next AI; [`crate::parse_bracketed`] undoes this.
    pub fn to_bracketed(&self) -> String {
        let mut out = format!("(01){}", self.gtin.as_str());
        if let Some(expiry) = &self.expiry {
            out.push_str("(17)");
            out.push_str(&expiry.as_str());
        }
        if let Some(lot) = &self.lot {
            out.push_str("(10)");
            out.push_str(&lot.as_str().replace('(', "\\("));
        }
        if let Some(serial) = &self.serial {
            out.push_str("(21)");
            out.push_str(&serial.as_str().replace('(', "\\("));
        }
        out
    }

    /// A GS1 Digital Link URI on `base` (e.g. `https://id.gs1.org`; a trailing `/` is ignored):
    /// `{base}/01/{gtin}/10/{lot}/21/{serial}?17={expiry}`, omitting absent parts.
    ///
    /// Lot and serial are key qualifiers of the GTIN, so the Digital Link standard puts them in the
    /// path in the order 10 then 21; the expiry is a data attribute in the query string. Lot and
    /// serial are percent-encoded except for `A-Z a-z 0-9 - . _`.
    pub fn to_digital_link(&self, base: &str) -> String {
        digital_link::format(self, base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(serial: Option<&str>, lot: Option<&str>, expiry: Option<&str>) -> ScannedCode {
        ScannedCode {
            gtin: Gtin::parse("09506000134352").unwrap(),
            serial: serial.map(|s| Serial::parse(s).unwrap()),
            lot: lot.map(|s| Lot::parse(s).unwrap()),
            expiry: expiry.map(|s| Expiry::parse(s).unwrap()),
        }
    }

    #[test]
    fn element_string_order_and_separators() {
        let full = code(Some("XYZ"), Some("ABC123"), Some("201225"));
        assert_eq!(full.to_element_string(), "01095060001343521720122510ABC123\u{1d}21XYZ");
        assert_eq!(
            code(Some("XYZ"), None, None).to_element_string(),
            "010950600013435221XYZ"
        );
        assert_eq!(
            code(None, Some("L1"), Some("201225")).to_element_string(),
            "01095060001343521720122510L1"
        );
        assert_eq!(code(None, None, None).to_element_string(), "0109506000134352");
    }

    #[test]
    fn bracketed_order_and_escaping() {
        let full = code(Some("XYZ"), Some("ABC123"), Some("201225"));
        assert_eq!(full.to_bracketed(), "(01)09506000134352(17)201225(10)ABC123(21)XYZ");
        assert_eq!(
            code(Some("A(1)"), None, None).to_bracketed(),
            "(01)09506000134352(21)A\\(1)"
        );
    }
}

//! GS1 identifiers of a medicine pack for Pedigree: what a scanner reads from a pack's GS1
//! DataMatrix, GS1 QR Code, GS1-128 or GS1 Digital Link, checked and normalised.
//!
//! - [`Sscc`] (AI 00, a logistic unit's 18 digits) identifies what packs are aggregated into.
//! - [`Gtin`] (AI 01, always 14 digits with a valid check digit), [`Serial`] (AI 21), [`Lot`]
//!   (AI 10) and [`Expiry`] (AI 17, with the GS1 century rule and `DD = 00`) are validated
//!   newtypes; [`Date`] is the small calendar they resolve to.
//! - [`ScannedCode`] is one pack's identity; it renders as an element string, a bracketed string or
//!   a Digital Link URI, and [`parse_element_string`], [`parse_bracketed`] and
//!   [`parse_digital_link`] read those back. [`parse_scan`] detects the form itself.
//! - Every failure is a [`Gs1Error`] whose message names the failing part and whose
//!   [`Gs1Error::field`] says which part it was.
//!
//! Known application identifiers that Pedigree does not keep (SSCC, other dates, count, national
//! healthcare reimbursement numbers, ...) are validated and skipped; any other is rejected.
//!
//! ```
//! use pedigree_gs1::{Date, parse_scan};
//!
//! let code = parse_scan("]d201095060001343521727120010AB12\u{1d}21XYZ\r\n")?;
//! assert_eq!(code.gtin.as_str(), "09506000134352");
//! assert_eq!(code.to_bracketed(), "(01)09506000134352(17)271200(10)AB12(21)XYZ");
//! let expiry = code.expiry.as_ref().map(|e| e.resolve(2026));
//! assert_eq!(expiry, Some(Date { year: 2027, month: 12, day: 31 }));
//! assert_eq!(
//!     code.to_digital_link("https://id.gs1.org"),
//!     "https://id.gs1.org/01/09506000134352/10/AB12/21/XYZ?17=271200"
//! );
//! # Ok::<(), pedigree_gs1::Gs1Error>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod ai;
mod bracketed;
mod code;
mod date;
mod digital_link;
mod element_string;
mod epc;
mod error;
mod expiry;
mod gtin;
mod quote;
mod scan;
mod sscc;
mod text;

pub use bracketed::parse_bracketed;
pub use code::{GS, ScannedCode};
pub use date::Date;
pub use digital_link::parse_digital_link;
pub use element_string::parse_element_string;
pub use epc::{Epc, parse_epc};
pub use error::Gs1Error;
pub use expiry::Expiry;
pub use gtin::{Gtin, gtin_check_digit};
pub use quote::{QUOTE_MAX_CHARS, Quoted, quote};
pub use scan::{parse_scan, parse_sscc_scan};
pub use sscc::Sscc;

/// The longest input any parser here accepts, in bytes: a Digital Link URI with a 253-character host name, every key
/// qualifier at its 20-character maximum fully percent-encoded and several data attributes fits with room to spare;
/// a DataMatrix element string holds far less. Longer input is refused before it is read.
pub const MAX_CODE_BYTES: usize = 1024;
pub use text::{Lot, MAX_TEXT_LEN, Serial, is_cs82};

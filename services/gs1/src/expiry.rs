//! Expiration dates (GS1 application identifier 17, `YYMMDD`).
//!
//! `DD = 00` means "the last day of that month". The two-digit year is resolved to a full year
//! with the century rule of the GS1 General Specifications (section 7.12) relative to a given
//! current year.
//!
//! # 29 February
//!
//! For every `YY` except `00`, whether the resolved year is a leap year does not depend on the
//! century (`YY % 4 == 0` decides), so `YY0229` is rejected at parse time exactly when `YY` is not
//! a multiple of 4. `000229` is accepted (2000 was a leap year); should it ever resolve to a
//! non-leap century year such as 2100, [`Expiry::resolve`] clamps it to 28 February.

use std::fmt;
use std::str::FromStr;

use crate::{Date, Gs1Error};

/// A validated AI 17 expiry date, kept as the two-digit year, month and day given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Expiry {
    yy: u8,
    mm: u8,
    dd: u8,
}

impl Expiry {
    /// Parses six ASCII digits `YYMMDD`: month 01 to 12, day 00 to the month's length.
    pub fn parse(s: &str) -> Result<Expiry, Gs1Error> {
        let got = s.chars().count();
        if got != 6 {
            return Err(Gs1Error::ExpiryLength { got });
        }
        if let Some(ch) = s.chars().find(|c| !c.is_ascii_digit()) {
            return Err(Gs1Error::ExpiryCharacter { ch });
        }
        let b = s.as_bytes();
        let two = |i: usize| (b[i] - b'0') * 10 + (b[i + 1] - b'0');
        let (yy, mm, dd) = (two(0), two(2), two(4));
        if !(1..=12).contains(&mm) {
            return Err(Gs1Error::ExpiryMonth { month: mm });
        }
        // Leap-ness of years ending in YY is century-independent except for YY = 00 (see module docs).
        let max = if mm == 2 && yy % 4 == 0 {
            29
        } else {
            Date::days_in_month(1, mm)
        };
        if dd > max {
            return Err(Gs1Error::ExpiryDay { day: dd, month: mm });
        }
        Ok(Expiry { yy, mm, dd })
    }

    /// The date as `YYMMDD`, exactly as it was given (including a `00` day).
    pub fn as_str(&self) -> String {
        format!("{:02}{:02}{:02}", self.yy, self.mm, self.dd)
    }

    /// The last day on which the pack may be used, resolving the century relative to `current_year`.
    ///
    /// GS1 century rule: with `diff = YY - (current_year mod 100)`, `diff >= 51` means the previous
    /// century, `diff <= -50` the next century, anything else the current century. `DD = 00`
    /// becomes the last day of the month, with leap years handled.
    pub fn resolve(&self, current_year: i32) -> Date {
        let year = resolve_year(self.yy, current_year);
        let last = Date::days_in_month(year, self.mm);
        let day = if self.dd == 0 || self.dd > last { last } else { self.dd };
        Date {
            year,
            month: self.mm,
            day,
        }
    }

    /// Whether the pack is expired on `today`: true from the day after the resolved expiry date.
    pub fn is_expired_on(&self, today: Date) -> bool {
        today > self.resolve(today.year)
    }
}

/// The GS1 sliding century window (General Specifications section 7.12).
fn resolve_year(yy: u8, current_year: i32) -> i32 {
    let yy = i32::from(yy);
    let current_yy = current_year.rem_euclid(100);
    let century = current_year.saturating_sub(current_yy);
    let diff = yy - current_yy;
    let century = if diff >= 51 {
        century.saturating_sub(100)
    } else if diff <= -50 {
        century.saturating_add(100)
    } else {
        century
    };
    century.saturating_add(yy)
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}{:02}{:02}", self.yy, self.mm, self.dd)
    }
}

impl FromStr for Expiry {
    type Err = Gs1Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Expiry::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(year: i32, month: u8, day: u8) -> Date {
        Date { year, month, day }
    }

    fn exp(s: &str) -> Expiry {
        Expiry::parse(s).unwrap()
    }

    #[test]
    fn parses_and_keeps_text() {
        assert_eq!(exp("271231").as_str(), "271231");
        assert_eq!(exp("280200").as_str(), "280200");
        assert_eq!(exp("280200").to_string(), "280200");
    }

    #[test]
    fn day_zero_is_last_day_of_month() {
        assert_eq!(exp("280200").resolve(2026), date(2028, 2, 29));
        assert_eq!(exp("270200").resolve(2026), date(2027, 2, 28));
        assert_eq!(exp("270400").resolve(2026), date(2027, 4, 30));
        assert_eq!(exp("271200").resolve(2026), date(2027, 12, 31));
    }

    #[test]
    fn century_rule() {
        // current year 2026: 76 is +50 -> this century, 77 is +51 -> previous century.
        assert_eq!(exp("760101").resolve(2026).year, 2076);
        assert_eq!(exp("770101").resolve(2026).year, 1977);
        assert_eq!(exp("000101").resolve(2026).year, 2000);
        // current year 2060: 10 is -50 -> next century, 11 is -49 -> this century.
        assert_eq!(exp("100101").resolve(2060).year, 2110);
        assert_eq!(exp("110101").resolve(2060).year, 2011);
        // current year 2099: 00 is -99 -> next century.
        assert_eq!(exp("000101").resolve(2099).year, 2100);
        assert_eq!(exp("990101").resolve(2000).year, 1999);
        assert_eq!(exp("500101").resolve(2000).year, 2050);
        assert_eq!(exp("510101").resolve(2000).year, 1951);
    }

    #[test]
    fn century_rule_survives_extreme_years() {
        assert_eq!(exp("990101").resolve(i32::MAX).year, 2_147_483_599);
        assert_eq!(exp("470101").resolve(i32::MAX).year, i32::MAX);
        assert!(exp("000101").resolve(i32::MIN).year < -2_147_483_000);
        assert_eq!(exp("050101").resolve(-3).year, 5);
    }

    #[test]
    fn february_29() {
        assert_eq!(exp("280229").resolve(2026), date(2028, 2, 29));
        assert_eq!(
            Expiry::parse("270229").unwrap_err().to_string(),
            "expiry: day 29 does not exist in month 02"
        );
        // 000229 is valid (2000) but clamps in 2100, which is not a leap year.
        assert_eq!(exp("000229").resolve(2026), date(2000, 2, 29));
        assert_eq!(exp("000229").resolve(2080), date(2100, 2, 28));
        assert_eq!(exp("000200").resolve(2080), date(2100, 2, 28));
    }

    #[test]
    fn expired_the_day_after_not_on_the_day() {
        let e = exp("271231");
        assert!(!e.is_expired_on(date(2027, 12, 30)));
        assert!(!e.is_expired_on(date(2027, 12, 31)));
        assert!(e.is_expired_on(date(2028, 1, 1)));
        let e = exp("280200");
        assert!(!e.is_expired_on(date(2028, 2, 29)));
        assert!(e.is_expired_on(date(2028, 3, 1)));
    }

    #[test]
    fn rejects_bad_dates() {
        let cases = [
            ("271331", "expiry: month 13 is not 01..12"),
            ("270031", "expiry: month 00 is not 01..12"),
            ("270431", "expiry: day 31 does not exist in month 04"),
            ("270132", "expiry: day 32 does not exist in month 01"),
            ("2712", "expiry: must be 6 digits yymmdd, got 4 characters"),
            ("27123a", "expiry: character 'a' is not a digit"),
            ("", "expiry: must be 6 digits yymmdd, got 0 characters"),
        ];
        for (input, msg) in cases {
            let err = Expiry::parse(input).unwrap_err();
            assert_eq!(err.to_string(), msg, "{input}");
            assert_eq!(err.field(), "expiry");
        }
    }
}

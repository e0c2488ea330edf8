//! A minimal proleptic Gregorian calendar date, enough to resolve and compare expiry dates.
//!
//! [`Date::from_unix_days`] lets callers build "today" from `SystemTime` without a date crate:
//! `Date::from_unix_days(secs.div_euclid(86_400))`.

use std::fmt;

/// A calendar date. Ordering is chronological (year, then month, then day).
///
/// The fields are public and unchecked; dates produced by this crate are always valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year, astronomical numbering (1 BC is 0).
    pub year: i32,
    /// Month, 1 to 12.
    pub month: u8,
    /// Day of month, 1 to 31.
    pub day: u8,
}

/// Day counts far enough out that every resulting year still fits in an `i32`.
const MAX_ABS_DAYS: i64 = (i32::MAX as i64 - 1) * 365;

impl Date {
    /// An RFC 3339 time (`2026-11-30T10:00:00Z`, `…T10:00:00.250+01:00`) as Unix milliseconds; `None` for
    /// anything else.
    pub fn parse_rfc3339_millis(s: &str) -> Option<i64> {
        let b = s.as_bytes();
        let num = |from: usize, len: usize| -> Option<i64> {
            let part = s.get(from..from + len)?;
            part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok())?
        };
        if b.len() < 20
            || b[4] != b'-'
            || b[7] != b'-'
            || !matches!(b[10], b'T' | b't')
            || b[13] != b':'
            || b[16] != b':'
        {
            return None;
        }
        let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
        let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
        let month = u8::try_from(month).ok().filter(|m| (1..=12).contains(m))?;
        let day = u8::try_from(day).ok()?;
        if day == 0 || day > Date::days_in_month(year as i32, month) || hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let mut i = 19;
        let mut millis = 0;
        if b.get(i) == Some(&b'.') {
            let start = i + 1;
            i = start;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            let frac = s.get(start..i).filter(|f| !f.is_empty())?;
            millis = format!("{frac:0<3}")[..3].parse().ok()?;
        }
        let offset_min = match s.get(i..)? {
            "Z" | "z" => 0,
            tz if tz.len() == 6 && (tz.starts_with('+') || tz.starts_with('-')) && tz.as_bytes()[3] == b':' => {
                let (h, m) = (num(i + 1, 2)?, num(i + 4, 2)?);
                let minutes = h * 60 + m;
                if tz.starts_with('-') { -minutes } else { minutes }
            }
            _ => return None,
        };
        let days = Date {
            year: year as i32,
            month,
            day,
        }
        .to_unix_days();
        Some((((days * 24 + hour) * 60 + minute - offset_min) * 60 + second) * 1000 + millis)
    }

    /// A Unix time in milliseconds as RFC 3339 in UTC with milliseconds: `2026-11-30T17:00:00.000Z`.
    pub fn rfc3339_millis(ms: i64) -> String {
        let date = Date::from_unix_days(ms.div_euclid(86_400_000));
        let rest = ms.rem_euclid(86_400_000);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            date.year,
            date.month,
            date.day,
            rest / 3_600_000,
            rest / 60_000 % 60,
            rest / 1000 % 60,
            rest % 1000
        )
    }

    /// The date `days` days after 1970-01-01 (negative for earlier dates).
    ///
    /// Howard Hinnant's `civil_from_days`. Inputs beyond about ±5.8 million millennia are clamped so
    /// that the year fits in an `i32`.
    pub fn from_unix_days(days: i64) -> Date {
        let z = days.clamp(-MAX_ABS_DAYS, MAX_ABS_DAYS) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097; // [0, 146096]
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
        let mp = (5 * doy + 2) / 153; // [0, 11], March-based
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date {
            year: i32::try_from(year).unwrap_or(if year < 0 { i32::MIN } else { i32::MAX }),
            month: u8::try_from(month).unwrap_or(1),
            day: u8::try_from(day).unwrap_or(1),
        }
    }

    /// Days since 1970-01-01 (Hinnant's `days_from_civil`), the inverse of [`Date::from_unix_days`].
    pub fn to_unix_days(&self) -> i64 {
        let month = i64::from(self.month);
        let year = i64::from(self.year) - i64::from(month <= 2);
        let era = year.div_euclid(400);
        let yoe = year - era * 400;
        let mp = (month + 9) % 12;
        let doy = (153 * mp + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// Whether `year` is a Gregorian leap year.
    pub fn is_leap_year(year: i32) -> bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    /// Number of days in `month` (1 to 12) of `year`; 0 for a month outside 1 to 12.
    pub fn days_in_month(year: i32, month: u8) -> u8 {
        match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if Date::is_leap_year(year) => 29,
            2 => 28,
            _ => 0,
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(year: i32, month: u8, day: u8) -> Date {
        Date { year, month, day }
    }

    #[test]
    fn known_unix_days() {
        assert_eq!(Date::from_unix_days(0), date(1970, 1, 1));
        assert_eq!(Date::from_unix_days(-1), date(1969, 12, 31));
        assert_eq!(Date::from_unix_days(11_016), date(2000, 2, 29));
        assert_eq!(Date::from_unix_days(19_782), date(2024, 2, 29));
        assert_eq!(Date::from_unix_days(-719_468), date(0, 3, 1));
    }

    #[test]
    fn round_trips_over_a_wide_range() {
        for days in (-800_000..800_000).step_by(97) {
            let d = Date::from_unix_days(days);
            assert_eq!(d.to_unix_days(), days, "{d}");
            assert!(d.day >= 1 && d.day <= Date::days_in_month(d.year, d.month));
        }
    }

    #[test]
    fn consecutive_days_are_ordered() {
        for days in 18_000..19_000 {
            assert!(Date::from_unix_days(days) < Date::from_unix_days(days + 1));
        }
    }

    #[test]
    fn extreme_inputs_do_not_panic() {
        assert!(Date::from_unix_days(i64::MAX).year > 2_000_000_000);
        assert!(Date::from_unix_days(i64::MIN).year < -2_000_000_000);
    }

    #[test]
    fn leap_years_and_month_lengths() {
        assert!(Date::is_leap_year(2000) && Date::is_leap_year(2028));
        assert!(!Date::is_leap_year(2100) && !Date::is_leap_year(2027));
        assert_eq!(Date::days_in_month(2028, 2), 29);
        assert_eq!(Date::days_in_month(2027, 2), 28);
        assert_eq!(Date::days_in_month(2027, 4), 30);
        assert_eq!(Date::days_in_month(2027, 13), 0);
        assert_eq!(date(2027, 3, 9).to_string(), "2027-03-09");
    }
}

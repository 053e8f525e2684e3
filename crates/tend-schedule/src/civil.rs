//! A small proleptic-Gregorian civil clock, second resolution.
//!
//! The cron search runs in local wall-clock time and needs to step fields and convert to epoch
//! seconds millions of times per second; these few integer formulas are much cheaper than going
//! through validated `jiff::civil::DateTime` values on every step.

use jiff::Timestamp;

/// A local wall-clock time, always valid (day within its month), second resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Civil {
    pub year: i32,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

/// Jiff's (and so our) supported year range.
pub(crate) const MAX_YEAR: i32 = 9999;

pub(crate) fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

pub(crate) fn month_len(year: i32, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil`).
pub(crate) fn days_from_civil(year: i32, month: u8, day: u8) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
pub(crate) fn civil_from_days(days: i64) -> (i32, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // The ranges are guaranteed by the formula: day 1..=31, month 1..=12.
    (year as i32, month as u8, day as u8)
}

/// Weekday of a day count since the epoch, 0 = Sunday (1970-01-01 was a Thursday).
pub(crate) fn weekday_of_days(days: i64) -> u8 {
    (days + 4).rem_euclid(7) as u8
}

pub(crate) fn weekday(year: i32, month: u8, day: u8) -> u8 {
    weekday_of_days(days_from_civil(year, month, day))
}

/// Whole seconds of a timestamp, rounded towards the past (jiff truncates towards zero).
pub(crate) fn floor_second(ts: Timestamp) -> i64 {
    let s = ts.as_second();
    if ts.subsec_nanosecond() < 0 { s - 1 } else { s }
}

/// Whole seconds of a timestamp, rounded towards the future.
pub(crate) fn ceil_second(ts: Timestamp) -> i64 {
    let s = ts.as_second();
    if ts.subsec_nanosecond() > 0 { s + 1 } else { s }
}

impl Civil {
    /// The wall clock `local` seconds after 1970-01-01T00:00:00 (local, not UTC).
    pub(crate) fn from_local_seconds(local: i64) -> Civil {
        let days = local.div_euclid(86_400);
        let secs = local.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: (secs / 3600) as u8,
            minute: (secs / 60 % 60) as u8,
            second: (secs % 60) as u8,
        }
    }

    pub(crate) fn local_seconds(self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }

    pub(crate) fn to_jiff(self) -> Option<jiff::civil::DateTime> {
        let year = i16::try_from(self.year).ok()?;
        jiff::civil::DateTime::new(
            year,
            self.month as i8,
            self.day as i8,
            self.hour as i8,
            self.minute as i8,
            self.second as i8,
            0,
        )
        .ok()
    }

    pub(crate) fn from_jiff(dt: jiff::civil::DateTime) -> Civil {
        Civil {
            year: i32::from(dt.year()),
            month: dt.month() as u8,
            day: dt.day() as u8,
            hour: dt.hour() as u8,
            minute: dt.minute() as u8,
            second: dt.second() as u8,
        }
    }
}

/// The instant at which the wall clock shows `local` seconds under a UTC offset of `offset` seconds.
pub(crate) fn instant(local: i64, offset: i32) -> Option<Timestamp> {
    Timestamp::from_second(local - i64::from(offset)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn day_counts_agree_with_jiff() {
        let mut date = jiff::civil::date(1899, 12, 25);
        for _ in 0..200_000 {
            let days =
                days_from_civil(i32::from(date.year()), date.month() as u8, date.day() as u8);
            let expected = date
                .since(jiff::civil::date(1970, 1, 1))
                .unwrap()
                .get_days();
            assert_eq!(days, i64::from(expected), "{date}");
            assert_eq!(
                civil_from_days(days),
                (i32::from(date.year()), date.month() as u8, date.day() as u8)
            );
            assert_eq!(
                weekday_of_days(days),
                date.weekday().to_sunday_zero_offset() as u8,
                "{date}"
            );
            assert_eq!(
                month_len(i32::from(date.year()), date.month() as u8),
                date.days_in_month() as u8
            );
            date = date.tomorrow().unwrap();
        }
    }

    #[test]
    fn local_seconds_round_trip() {
        for local in [-86_401, -1, 0, 1, 86_399, 1_790_000_000, 4_102_444_799] {
            assert_eq!(Civil::from_local_seconds(local).local_seconds(), local);
        }
        assert_eq!(
            Civil::from_local_seconds(1_780_000_000),
            Civil {
                year: 2026,
                month: 5,
                day: 28,
                hour: 20,
                minute: 26,
                second: 40
            }
        );
    }

    #[test]
    fn floor_and_ceil_seconds() {
        let ts = Timestamp::new(-5, -1).unwrap();
        assert_eq!((floor_second(ts), ceil_second(ts)), (-6, -5));
        let ts = Timestamp::new(5, 1).unwrap();
        assert_eq!((floor_second(ts), ceil_second(ts)), (5, 6));
        let ts = Timestamp::new(5, 0).unwrap();
        assert_eq!((floor_second(ts), ceil_second(ts)), (5, 5));
    }
}

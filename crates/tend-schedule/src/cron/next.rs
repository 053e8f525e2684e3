//! Field-by-field search for the next matching local wall-clock time.

use super::fields::{Spec, next_bit};
use crate::civil::{Civil, MAX_YEAR};

/// A calendar repeats every 400 years, so a cron that matches at all matches within that span.
const SEARCH_YEARS: i32 = 401;

impl Spec {
    /// The first local time at or after `from` that matches every field, ignoring time zones.
    pub(crate) fn next_civil(&self, from: Civil) -> Option<Civil> {
        let Civil {
            mut year,
            mut month,
            mut day,
            mut hour,
            mut minute,
            mut second,
        } = from;
        let limit = from.year.saturating_add(SEARCH_YEARS).min(MAX_YEAR);
        // The mask of the month last looked at: most searches stay inside one month.
        let mut mask_key = (i32::MIN, 0u8);
        let mut mask = 0u32;
        loop {
            if year > limit {
                return None;
            }
            if !self.year_matches(year) {
                year = self.next_year(year)?;
                (month, day, hour, minute, second) = (1, 1, 0, 0, 0);
                continue;
            }
            match next_bit(u64::from(self.months), u32::from(month)) {
                Some(m) if m == u32::from(month) => {}
                Some(m) => (month, day, hour, minute, second) = (m as u8, 1, 0, 0, 0),
                None => {
                    year += 1;
                    (month, day, hour, minute, second) = (1, 1, 0, 0, 0);
                    continue;
                }
            }
            if mask_key != (year, month) {
                mask = self.day_mask(year, month);
                mask_key = (year, month);
            }
            match next_bit(u64::from(mask), u32::from(day)) {
                Some(d) if d == u32::from(day) => {}
                Some(d) => (day, hour, minute, second) = (d as u8, 0, 0, 0),
                None => {
                    (year, month) = following_month(year, month);
                    (day, hour, minute, second) = (1, 0, 0, 0);
                    continue;
                }
            }
            match next_bit(u64::from(self.hours), u32::from(hour)) {
                Some(h) if h == u32::from(hour) => {}
                Some(h) => (hour, minute, second) = (h as u8, 0, 0),
                None => {
                    // Past the month's last day the day mask has no bit, which moves the month on.
                    day += 1;
                    (hour, minute, second) = (0, 0, 0);
                    continue;
                }
            }
            match next_bit(self.minutes, u32::from(minute)) {
                Some(m) if m == u32::from(minute) => {}
                Some(m) => (minute, second) = (m as u8, 0),
                None => {
                    hour += 1;
                    (minute, second) = (0, 0);
                    if hour == 24 {
                        day += 1;
                        hour = 0;
                    }
                    continue;
                }
            }
            match next_bit(self.seconds, u32::from(second)) {
                Some(s) => {
                    second = s as u8;
                    return Some(Civil {
                        year,
                        month,
                        day,
                        hour,
                        minute,
                        second,
                    });
                }
                None => {
                    minute += 1;
                    second = 0;
                    if minute == 60 {
                        minute = 0;
                        hour += 1;
                        if hour == 24 {
                            day += 1;
                            hour = 0;
                        }
                    }
                    continue;
                }
            }
        }
    }
}

fn following_month(year: i32, month: u8) -> (i32, u8) {
    if month >= 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    }
}

//! The compiled form of a cron expression: one bitset per field, plus the day-of-month and
//! day-of-week specials, and the per-month day mask that combines them the Vixie way.

use crate::civil::{month_len, weekday};

/// First year the year field accepts; bit 0 of [`Spec::years`].
pub(crate) const YEAR_MIN: u16 = 1970;
/// Last year the year field accepts.
pub(crate) const YEAR_MAX: u16 = 2099;

/// One comma-separated item of a field, as written (names already resolved to numbers).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Item {
    /// `*`, or `?` in the day fields.
    All,
    /// `*/n`.
    AllStep(u16),
    Value(u16),
    Range(u16, u16),
    /// `a/n` (to the field's maximum) or `a-b/n`.
    Step {
        start: u16,
        end: u16,
        step: u16,
    },
    /// Day of month `L`.
    Last,
    /// Day of month `L-n`.
    LastOffset(u16),
    /// Day of month `nW`.
    Nearest(u16),
    /// Day of month `LW`.
    LastWeekday,
    /// Day of week `d#k`: the k-th such weekday of the month.
    Nth {
        weekday: u16,
        nth: u16,
    },
    /// Day of week `dL`: the last such weekday of the month.
    LastOf(u16),
}

/// The seven fields of a cron expression; the parsed items are kept for `describe`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Fields {
    pub second: Vec<Item>,
    pub minute: Vec<Item>,
    pub hour: Vec<Item>,
    pub dom: Vec<Item>,
    pub month: Vec<Item>,
    pub dow: Vec<Item>,
    pub year: Vec<Item>,
}

/// Bitsets: bit `v` set when value `v` matches (days 1–31, months 1–12, weekdays 0–6 with 0 =
/// Sunday, years as an offset from [`YEAR_MIN`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub(crate) struct Spec {
    pub seconds: u64,
    pub minutes: u64,
    pub hours: u32,
    pub dom: u32,
    /// Bit n: `L-n` (bit 0 is plain `L`).
    pub dom_last: u32,
    /// Bit n: `nW`.
    pub dom_nearest: u32,
    pub dom_last_weekday: bool,
    pub months: u16,
    pub dow: u8,
    /// Index k-1, bit d: weekday d's k-th occurrence (`d#k`).
    pub dow_nth: [u8; 5],
    /// Bit d: the last weekday d of the month (`dL`).
    pub dow_last: u8,
    /// Day-of-month text starts with `*` or is `?`: Vixie ANDs the day fields then.
    pub dom_star: bool,
    pub dow_star: bool,
    /// `None`: any year.
    pub years: Option<YearSet>,
}

/// A set of years within [`YEAR_MIN`]..=[`YEAR_MAX`] (130 of them: more than a `u128`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) struct YearSet([u64; 3]);

impl YearSet {
    pub(crate) fn with(mut self, year: u16) -> YearSet {
        if let Some(i) = year.checked_sub(YEAR_MIN).map(usize::from)
            && let Some(word) = self.0.get_mut(i / 64)
        {
            *word |= 1 << (i % 64);
        }
        self
    }

    pub(crate) fn contains(&self, year: i32) -> bool {
        let Ok(i) = usize::try_from(year - i32::from(YEAR_MIN)) else {
            return false;
        };
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// The first year in the set at or after `year`.
    pub(crate) fn next_from(&self, year: i32) -> Option<i32> {
        let from = usize::try_from(year - i32::from(YEAR_MIN)).unwrap_or(0);
        (from / 64..3).find_map(|w| {
            let start = if w == from / 64 {
                (from % 64) as u32
            } else {
                0
            };
            next_bit(self.0[w], start).map(|b| i32::from(YEAR_MIN) + (w * 64) as i32 + b as i32)
        })
    }
}

/// The lowest set bit at or above `from`.
#[inline]
pub(crate) fn next_bit(bits: u64, from: u32) -> Option<u32> {
    if from >= 64 {
        return None;
    }
    let rest = bits >> from;
    if rest == 0 {
        None
    } else {
        Some(from + rest.trailing_zeros())
    }
}

pub(crate) fn bits_iter(bits: u64) -> impl Iterator<Item = u32> {
    (0..64).filter(move |b| bits & (1u64 << b) != 0)
}

/// Days 1, 8, 15, 22, 29 (shifted so bit 0 is day 1).
const EVERY_SEVENTH: u64 = 1 | 1 << 7 | 1 << 14 | 1 << 21 | 1 << 28;

impl Spec {
    pub(crate) fn year_matches(&self, year: i32) -> bool {
        self.years.is_none_or(|set| set.contains(year))
    }

    /// The first matching year at or after `year`, or `None` when the year field is exhausted.
    pub(crate) fn next_year(&self, year: i32) -> Option<i32> {
        match self.years {
            None => Some(year),
            Some(set) => set.next_from(year),
        }
    }

    /// Bit d set when day d of the month matches the day-of-month and day-of-week fields.
    pub(crate) fn day_mask(&self, year: i32, month: u8) -> u32 {
        self.day_mask_for(month_len(year, month), weekday(year, month, 1))
    }

    /// The day mask of a month of `len` days whose first day is weekday `first` (0 = Sunday).
    pub(crate) fn day_mask_for(&self, len: u8, first: u8) -> u32 {
        let len32 = u32::from(len);
        let in_month = ((1u64 << (len32 + 1)) - 2) as u32;
        let mut dom = self.dom & in_month;
        for n in bits_iter(u64::from(self.dom_last)) {
            if n < len32 {
                dom |= 1 << (len32 - n);
            }
        }
        for n in bits_iter(u64::from(self.dom_nearest)) {
            if n <= len32 {
                dom |= 1 << nearest_weekday(n, len32, first);
            }
        }
        if self.dom_last_weekday {
            dom |= 1 << last_weekday(len32, first);
        }

        let mut dow: u32 = 0;
        let any_dow_special = self.dow_last != 0 || self.dow_nth.iter().any(|b| *b != 0);
        if self.dow != 0 || any_dow_special {
            for wd in 0..7u8 {
                let plain = self.dow & (1 << wd) != 0;
                let last = self.dow_last & (1 << wd) != 0;
                let nth_any = self.dow_nth.iter().any(|b| b & (1 << wd) != 0);
                if !(plain || last || nth_any) {
                    continue;
                }
                // The first day of the month that is weekday `wd`.
                let d0 = 1 + u32::from((wd + 7 - first) % 7);
                let days = (EVERY_SEVENTH << d0) as u32 & in_month;
                if plain {
                    dow |= days;
                    continue;
                }
                for (k, bits) in self.dow_nth.iter().enumerate() {
                    if bits & (1 << wd) != 0 {
                        let d = d0 + 7 * k as u32;
                        if d <= len32 {
                            dow |= 1 << d;
                        }
                    }
                }
                if last {
                    dow |= 1 << (d0 + 7 * ((len32 - d0) / 7));
                }
            }
        }

        if self.dom_star || self.dow_star {
            dom & dow
        } else {
            dom | dow
        }
    }
}

fn weekday_of(day: u32, first: u8) -> u32 {
    (u32::from(first) + day - 1) % 7
}

/// `nW`: the weekday (Mon–Fri) nearest day `n`, never leaving the month.
fn nearest_weekday(n: u32, len: u32, first: u8) -> u32 {
    match weekday_of(n, first) {
        6 if n == 1 => 3,
        6 => n - 1,
        0 if n == len => n - 2,
        0 => n + 1,
        _ => n,
    }
}

/// `LW`: the last Monday–Friday of the month.
fn last_weekday(len: u32, first: u8) -> u32 {
    match weekday_of(len, first) {
        6 => len - 1,
        0 => len - 2,
        _ => len,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn days(mask: u32) -> Vec<u32> {
        (1..32).filter(|d| mask & (1 << d) != 0).collect()
    }

    #[test]
    fn nearest_weekday_stays_in_month() {
        // 2026-02: the 1st is a Sunday, 28 days.
        assert_eq!(nearest_weekday(1, 28, 0), 2);
        // 2026-08: the 1st is a Saturday, so 1W is Monday the 3rd, not Friday July 31.
        assert_eq!(nearest_weekday(1, 31, 6), 3);
        // 2026-05-31 is a Sunday: back to Friday the 29th.
        assert_eq!(nearest_weekday(31, 31, 5), 29);
        // 2026-03-15 is a Sunday: Monday the 16th.
        assert_eq!(nearest_weekday(15, 31, 0), 16);
        // 2026-03-14 is a Saturday: Friday the 13th.
        assert_eq!(nearest_weekday(14, 31, 0), 13);
    }

    #[test]
    fn vixie_or_and_rule() {
        // 2026-03: 31 days, the 1st is a Sunday; Mondays 2, 9, 16, 23, 30.
        let mut spec = Spec {
            dom: 1 << 1 | 1 << 15,
            dow: 1 << 1,
            ..Spec::default()
        };
        assert_eq!(
            days(spec.day_mask_for(31, 0)),
            vec![1, 2, 9, 15, 16, 23, 30]
        );
        spec.dom_star = true;
        spec.dom = (1..32).step_by(2).fold(0, |m, d| m | 1 << d);
        assert_eq!(days(spec.day_mask_for(31, 0)), vec![9, 23]);
    }

    #[test]
    fn last_nth_and_lw() {
        // 2026-02: 28 days, the 1st is a Sunday: Fridays 6, 13, 20, 27; last weekday Fri 27.
        let spec = Spec {
            dow_last: 1 << 5,
            dow_star: true,
            dom: u32::MAX,
            ..Spec::default()
        };
        assert_eq!(days(spec.day_mask_for(28, 0)), vec![27]);
        let spec = Spec {
            dow_nth: [0, 0, 1 << 5, 0, 0],
            dom_star: true,
            dom: u32::MAX,
            ..Spec::default()
        };
        assert_eq!(days(spec.day_mask_for(28, 0)), vec![20]);
        let spec = Spec {
            dom_last_weekday: true,
            dom_last: 1 | 1 << 3,
            dow_star: true,
            dow: 0x7f,
            ..Spec::default()
        };
        // 2026-05: the 31st is a Sunday: LW = 29, L = 31, L-3 = 28.
        assert_eq!(days(spec.day_mask_for(31, 5)), vec![28, 29, 31]);
    }
}

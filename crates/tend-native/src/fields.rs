//! The fields of a cron expression as sets, read back from [`Cron::as_str`].
//!
//! `tend-schedule` keeps its parsed fields private; its canonical text is all this crate gets.
//! That text was validated when it was parsed, so reading it again only has to resolve names,
//! ranges, steps and the specials (`L`, `W`, `#`); a failure here means the two readers
//! disagree, and is reported as such rather than guessed around.

use tend_schedule::Cron;

/// Which field of a cron expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Second,
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
    Year,
}

impl Field {
    pub fn name(self) -> &'static str {
        match self {
            Field::Second => "second",
            Field::Minute => "minute",
            Field::Hour => "hour",
            Field::DayOfMonth => "day-of-month",
            Field::Month => "month",
            Field::DayOfWeek => "day-of-week",
            Field::Year => "year",
        }
    }

    fn range(self) -> (u16, u16) {
        match self {
            Field::Second | Field::Minute => (0, 59),
            Field::Hour => (0, 23),
            Field::DayOfMonth => (1, 31),
            Field::Month => (1, 12),
            Field::DayOfWeek => (0, 7),
            Field::Year => (YEAR_MIN, YEAR_MAX),
        }
    }
}

pub(crate) const YEAR_MIN: u16 = 1970;
pub(crate) const YEAR_MAX: u16 = 2099;

/// One comma-separated item of a field, names resolved to numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Item {
    /// `*` or `?`, with an optional step.
    All { step: u16 },
    /// `a`, `a-b`, `a-b/n` or `a/n` (to the field's maximum).
    Range { start: u16, end: u16, step: u16 },
    /// `L` (0) or `L-n`: the n-th day before the month's last.
    LastDay(u16),
    /// `nW`: the weekday nearest day n.
    Nearest(u16),
    /// `LW`: the month's last Monday–Friday.
    LastWeekday,
    /// `d#k`: the k-th weekday d of the month.
    Nth { weekday: u8, nth: u8 },
    /// `dL`: the last weekday d of the month.
    LastOf(u8),
}

/// One field: its text (for messages) and its items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldItems {
    pub field: Field,
    pub text: String,
    pub items: Vec<Item>,
}

impl FieldItems {
    /// The plain values (everything but the specials) as a bit set; day of week 7 is folded
    /// onto 0 (Sunday). Not for years: see [`FieldItems::years`].
    pub fn mask(&self) -> u64 {
        let mut mask = 0u64;
        for v in self.plain_values() {
            mask |= 1 << v.min(63);
        }
        if self.field == Field::DayOfWeek && mask & 1 << 7 != 0 {
            mask = (mask & !(1 << 7)) | 1;
        }
        mask
    }

    /// The listed years in ascending order; `None` when every year matches.
    pub fn years(&self) -> Option<Vec<u16>> {
        if self.items.iter().all(|i| *i == Item::All { step: 1 }) {
            return None;
        }
        let mut years: Vec<u16> = self.plain_values().collect();
        years.sort_unstable();
        years.dedup();
        Some(years)
    }

    fn plain_values(&self) -> impl Iterator<Item = u16> + '_ {
        let (lo, hi) = self.field.range();
        self.items.iter().flat_map(move |item| {
            let (a, b, step) = match *item {
                Item::All { step } => (lo, hi, step),
                Item::Range { start, end, step } => (start, end, step),
                Item::LastDay(_)
                | Item::Nearest(_)
                | Item::LastWeekday
                | Item::Nth { .. }
                | Item::LastOf(_) => (1, 0, 1),
            };
            (a..=b).step_by(usize::from(step.max(1)))
        })
    }

    /// The first special item's text, for messages.
    pub fn special_text(&self) -> Option<&str> {
        self.text
            .split(',')
            .zip(&self.items)
            .find(|(_, i)| !matches!(i, Item::All { .. } | Item::Range { .. }))
            .map(|(t, _)| t)
    }
}

/// The seven fields of a cron expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CronFields {
    /// The expression as the user wrote it (aliases unexpanded).
    pub text: String,
    pub second: FieldItems,
    pub minute: FieldItems,
    pub hour: FieldItems,
    pub dom: FieldItems,
    pub month: FieldItems,
    pub dow: FieldItems,
    pub year: FieldItems,
    /// The field's text starts with `*` or `?`: Vixie cron then ANDs the two day fields
    /// instead of ORing them.
    pub dom_star: bool,
    pub dow_star: bool,
    /// Whether the hour field has `*` or a step (tend's elapsed-time rule across DST).
    pub elapsed: bool,
}

/// The two readers of cron text disagree: a bug, not a user error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read back the cron expression `{text}` (field `{field}`); this is a bug in tend")]
pub struct ReadBackError {
    pub text: String,
    pub field: String,
}

const ALIASES: [(&str, &str); 7] = [
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
];

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl CronFields {
    pub fn read(cron: &Cron) -> Result<CronFields, ReadBackError> {
        let text = cron.as_str();
        let lower = text.to_ascii_lowercase();
        let expanded = ALIASES
            .iter()
            .find(|(alias, _)| *alias == lower)
            .map_or(text, |(_, expansion)| *expansion);
        let tokens: Vec<&str> = expanded.split_whitespace().collect();
        let (second, rest) = match tokens.len() {
            5 => ("0", &tokens[..]),
            6 | 7 => (tokens[0], &tokens[1..]),
            _ => {
                return Err(ReadBackError {
                    text: text.to_owned(),
                    field: expanded.to_owned(),
                });
            }
        };
        let year = rest.get(5).copied().unwrap_or("*");
        let read = |field: Field, t: &str| -> Result<FieldItems, ReadBackError> {
            let items = t
                .split(',')
                .map(|part| read_item(field, &part.to_ascii_uppercase()))
                .collect::<Option<Vec<Item>>>()
                .ok_or_else(|| ReadBackError {
                    text: text.to_owned(),
                    field: t.to_owned(),
                })?;
            Ok(FieldItems {
                field,
                text: t.to_owned(),
                items,
            })
        };
        let star = |t: &str| t.starts_with('*') || t.starts_with('?');
        Ok(CronFields {
            text: text.to_owned(),
            second: read(Field::Second, second)?,
            minute: read(Field::Minute, rest[0])?,
            hour: read(Field::Hour, rest[1])?,
            dom: read(Field::DayOfMonth, rest[2])?,
            month: read(Field::Month, rest[3])?,
            dow: read(Field::DayOfWeek, rest[4])?,
            year: read(Field::Year, year)?,
            dom_star: star(rest[2]),
            dow_star: star(rest[4]),
            elapsed: cron.follows_elapsed_time(),
        })
    }
}

fn read_item(field: Field, part: &str) -> Option<Item> {
    match field {
        Field::DayOfMonth => {
            if part == "L" {
                return Some(Item::LastDay(0));
            }
            if part == "LW" {
                return Some(Item::LastWeekday);
            }
            if let Some(n) = part.strip_prefix("L-") {
                return n.parse().ok().map(Item::LastDay);
            }
            if let Some(n) = part.strip_suffix('W') {
                return n.parse().ok().map(Item::Nearest);
            }
        }
        Field::DayOfWeek => {
            if let Some((d, k)) = part.split_once('#') {
                let weekday = (value(field, d)? % 7) as u8;
                return Some(Item::Nth {
                    weekday,
                    nth: k.parse().ok()?,
                });
            }
            if let Some(d) = part.strip_suffix('L') {
                return Some(Item::LastOf((value(field, d)? % 7) as u8));
            }
        }
        Field::Second | Field::Minute | Field::Hour | Field::Month | Field::Year => {}
    }
    let (base, step) = match part.split_once('/') {
        Some((base, step)) => (base, step.parse::<u16>().ok().filter(|s| *s > 0)?),
        None => (part, 1),
    };
    if base == "*" || base == "?" {
        return Some(Item::All { step });
    }
    let (_, hi) = field.range();
    let (start, end) = match base.split_once('-') {
        Some((a, b)) => {
            let start = value(field, a)?;
            let mut end = value(field, b)?;
            if field == Field::DayOfWeek && end == 0 && start > 0 {
                end = 7;
            }
            (start, end)
        }
        None if step > 1 => (value(field, base)?, hi),
        None => {
            let v = value(field, base)?;
            (v, v)
        }
    };
    Some(Item::Range { start, end, step })
}

fn value(field: Field, text: &str) -> Option<u16> {
    let names: &[&str] = match field {
        Field::Month => &MONTHS,
        Field::DayOfWeek => &WEEKDAYS,
        Field::Second | Field::Minute | Field::Hour | Field::DayOfMonth | Field::Year => &[],
    };
    if let Some(i) = names.iter().position(|n| *n == text) {
        let base = if field == Field::Month { 1 } else { 0 };
        return Some(i as u16 + base);
    }
    let (lo, hi) = field.range();
    text.parse::<u16>().ok().filter(|v| (lo..=hi).contains(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn fields(text: &str) -> CronFields {
        CronFields::read(&Cron::parse(text).unwrap()).unwrap()
    }

    #[test]
    fn reads_plain_fields_as_masks() {
        let f = fields("*/15 9-17 1,15 JAN-MAR mon-fri");
        assert_eq!(f.second.mask(), 1);
        assert_eq!(f.minute.mask(), 1 | 1 << 15 | 1 << 30 | 1 << 45);
        assert_eq!(f.hour.mask(), (9..=17).fold(0, |m, h| m | 1 << h));
        assert_eq!(f.dom.mask(), 1 << 1 | 1 << 15);
        assert_eq!(f.month.mask(), 0b1110);
        assert_eq!(f.dow.mask(), 0b011_1110);
        assert_eq!((f.dom_star, f.dow_star, f.elapsed), (false, false, false));
        assert!(fields("0 */2 * * *").elapsed);
        assert_eq!(f.year.years(), None);
    }

    #[test]
    fn sunday_is_0_and_7_and_ranges_may_end_on_sunday() {
        assert_eq!(fields("0 0 * * 7").dow.mask(), 1);
        assert_eq!(fields("0 0 * * FRI-SUN").dow.mask(), 1 | 1 << 5 | 1 << 6);
        assert_eq!(fields("0 0 * * 5-7").dow.mask(), 1 | 1 << 5 | 1 << 6);
    }

    #[test]
    fn steps_without_a_range_run_to_the_field_maximum() {
        assert_eq!(
            fields("5/20 * * * *").minute.mask(),
            1 << 5 | 1 << 25 | 1 << 45
        );
        assert_eq!(
            fields("0 0 1-10/4 * *").dom.mask(),
            1 << 1 | 1 << 5 | 1 << 9
        );
    }

    #[test]
    fn aliases_seconds_and_years() {
        let f = fields("@weekly");
        assert_eq!((f.minute.mask(), f.hour.mask(), f.dow.mask()), (1, 1, 1));
        assert_eq!(f.text, "@weekly");
        let f = fields("30 0 12 * * ? 2026-2028,2030");
        assert_eq!(f.second.mask(), 1 << 30);
        assert!(f.dow_star);
        assert_eq!(f.year.years(), Some(vec![2026, 2027, 2028, 2030]));
    }

    #[test]
    fn specials() {
        let f = fields("0 0 L,L-3,15W,LW * *");
        assert_eq!(
            f.dom.items,
            vec![
                Item::LastDay(0),
                Item::LastDay(3),
                Item::Nearest(15),
                Item::LastWeekday
            ]
        );
        assert_eq!(f.dom.mask(), 0);
        let f = fields("0 0 * * FRI#3,5L,MONL");
        assert_eq!(
            f.dow.items,
            vec![
                Item::Nth { weekday: 5, nth: 3 },
                Item::LastOf(5),
                Item::LastOf(1)
            ]
        );
    }
}

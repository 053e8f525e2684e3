//! Cron expressions: 5 fields, or 6 with seconds first, or 7 with a year last; `@aliases`.

mod describe;
pub(crate) mod fields;
mod next;
mod parse;

use std::fmt;

use crate::ScheduleError;
use crate::civil::{Civil, month_len};
use fields::{Fields, Item, Spec, YEAR_MAX, YEAR_MIN, YearSet};
use parse::{Kind, parse_field};

/// A parsed cron expression.
///
/// Two expressions are equal when their (whitespace-normalised) text is equal, so `1-5` and
/// `MON-FRI` are different expressions that happen to fire at the same times.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cron {
    text: String,
    seconds_field: bool,
    year_field: bool,
    wildcard_hour: bool,
    /// Boxed: only `describe` reads it, and it would triple the size of every `Schedule`.
    pub(crate) fields: Box<Fields>,
    pub(crate) spec: Spec,
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

const FIELDS_HINT: &str = "write `minute hour day-of-month month day-of-week`, e.g. `0 9 * * 1-5`; \
    a sixth field in front is seconds, a seventh at the end is the year";

impl Cron {
    /// Parses a cron expression or an `@alias`.
    pub fn parse(text: &str) -> Result<Cron, ScheduleError> {
        Cron::parse_at(text, 0)
    }

    /// Parses `text`, reporting error offsets relative to `base` (where `text` starts in a
    /// longer string).
    pub(crate) fn parse_at(text: &str, base: usize) -> Result<Cron, ScheduleError> {
        let lead = text.len() - text.trim_start().len();
        let trimmed = text.trim();
        if trimmed.starts_with('@') {
            return Cron::parse_alias(trimmed, base + lead);
        }
        let tokens = tokenize(text);
        let (second, rest) = match tokens.len() {
            5 => (None, &tokens[..]),
            6 | 7 => (Some(tokens[0]), &tokens[1..]),
            0 => {
                return Err(
                    ScheduleError::new("empty cron expression", base).with_hint(FIELDS_HINT)
                );
            }
            n if n < 5 => {
                return Err(ScheduleError::new(
                    format!("a cron expression needs 5 fields, found {n}"),
                    base + text.trim_end().len(),
                )
                .with_hint(FIELDS_HINT));
            }
            n => {
                return Err(ScheduleError::new(
                    format!("a cron expression has at most 7 fields, found {n}"),
                    base + tokens[7].0,
                )
                .with_hint(FIELDS_HINT));
            }
        };
        let year = if rest.len() == 6 { Some(rest[5]) } else { None };
        let field = |kind: Kind, tok: Option<(usize, &str)>| -> Result<Vec<Item>, ScheduleError> {
            match tok {
                Some((at, t)) => parse_field(kind, t, base + at),
                None => Ok(vec![match kind {
                    Kind::Second => Item::Value(0),
                    _ => Item::All,
                }]),
            }
        };
        let fields = Fields {
            second: field(Kind::Second, second)?,
            minute: field(Kind::Minute, Some(rest[0]))?,
            hour: field(Kind::Hour, Some(rest[1]))?,
            dom: field(Kind::DayOfMonth, Some(rest[2]))?,
            month: field(Kind::Month, Some(rest[3]))?,
            dow: field(Kind::DayOfWeek, Some(rest[4]))?,
            year: field(Kind::Year, year)?,
        };
        let star = |t: &str| t.starts_with('*') || t.starts_with('?');
        let spec = compile(&fields, star(rest[2].1), star(rest[4].1));
        let hour_text = rest[1].1;
        let cron = Cron {
            text: tokens.iter().map(|(_, t)| *t).collect::<Vec<_>>().join(" "),
            seconds_field: second.is_some(),
            year_field: year.is_some(),
            wildcard_hour: hour_text.contains('*') || hour_text.contains('/'),
            fields: Box::new(fields),
            spec,
        };
        cron.check_can_fire(base + rest[2].0, year.map(|(at, _)| base + at))?;
        Ok(cron)
    }

    fn parse_alias(text: &str, at: usize) -> Result<Cron, ScheduleError> {
        let lower = text.to_ascii_lowercase();
        if lower == "@reboot" {
            return Err(ScheduleError::new("`@reboot` is not supported", at).with_hint(
                "tend runs tasks at times, not at boot; use `manual` and `tend run`, or a schedule such as `@hourly`",
            ));
        }
        let Some((_, expansion)) = ALIASES.iter().find(|(name, _)| *name == lower) else {
            return Err(ScheduleError::new(format!("unknown schedule alias `{text}`"), at).with_hint(
                "aliases are @yearly, @annually, @monthly, @weekly, @daily, @midnight and @hourly",
            ));
        };
        let mut cron = Cron::parse_at(expansion, at)?;
        cron.text = lower;
        Ok(cron)
    }

    /// The expression as written, fields separated by single spaces (aliases in lower case).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the expression has a leading seconds field (6 or 7 fields).
    pub fn has_seconds(&self) -> bool {
        self.seconds_field
    }

    /// Whether the expression has a trailing year field (7 fields).
    pub fn has_year(&self) -> bool {
        self.year_field
    }

    /// Whether the hour field has `*` or a step: such schedules follow elapsed time across
    /// daylight-saving changes (both copies of a repeated hour fire, skipped times don't);
    /// the others keep to the wall clock (cronie's rule).
    pub fn follows_elapsed_time(&self) -> bool {
        self.wildcard_hour
    }

    /// The first local wall-clock time at or after `from` that matches, ignoring time zones.
    pub fn next_local(&self, from: jiff::civil::DateTime) -> Option<jiff::civil::DateTime> {
        let mut start = Civil::from_jiff(from);
        if from.subsec_nanosecond() > 0 {
            start = Civil::from_local_seconds(start.local_seconds() + 1);
        }
        self.spec.next_civil(start).and_then(Civil::to_jiff)
    }

    pub(crate) fn next_civil(&self, from: Civil) -> Option<Civil> {
        self.spec.next_civil(from)
    }

    /// Refuses expressions that can never fire (`0 0 30 2 *`) instead of searching forever.
    fn check_can_fire(&self, dom_at: usize, year_at: Option<usize>) -> Result<(), ScheduleError> {
        let spec = &self.spec;
        let months = || (1..=12u8).filter(|m| spec.months & (1 << m) != 0);
        // Every month starts on every weekday somewhere in a 400-year cycle, so trying each
        // (length, first weekday) pair covers all calendars.
        let possible = months().any(|m| {
            let lengths: &[u8] = if m == 2 {
                &[28, 29]
            } else {
                &[month_len(2001, m)]
            };
            lengths
                .iter()
                .any(|len| (0..7).any(|first| spec.day_mask_for(*len, first) != 0))
        });
        if !possible {
            return Err(ScheduleError::new(
                "this schedule can never fire: no date matches its day and month fields",
                dom_at,
            )
            .with_hint(
                "check the day of month against the months: e.g. `30 2` (February 30) or `31 4,6,9,11` never occur",
            ));
        }
        if let (Some(years), Some(at)) = (spec.years, year_at) {
            let any = (i32::from(YEAR_MIN)..=i32::from(YEAR_MAX))
                .filter(|y| years.contains(*y))
                .any(|year| months().any(|m| spec.day_mask(year, m) != 0));
            if !any {
                return Err(ScheduleError::new(
                    "this schedule can never fire: no date in the listed years matches",
                    at,
                )
                .with_hint("the day and month fields match no date in those years (e.g. February 29 in a non-leap year)"));
            }
        }
        Ok(())
    }
}

impl fmt::Display for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for Cron {
    type Err = ScheduleError;
    fn from_str(s: &str) -> Result<Cron, ScheduleError> {
        Cron::parse(s)
    }
}

/// Whitespace-separated tokens with their byte offsets.
fn tokenize(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s, &text[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out
}

/// The plain values of a field (specials such as `L` or `5#3` are compiled separately).
fn values(kind: Kind, items: &[Item]) -> impl Iterator<Item = u16> + '_ {
    let (lo, hi) = kind.range();
    items.iter().flat_map(move |item| {
        let (a, b, step) = match item {
            Item::All => (lo, hi, 1),
            Item::AllStep(n) => (lo, hi, *n),
            Item::Value(v) => (*v, *v, 1),
            Item::Range(a, b) => (*a, *b, 1),
            Item::Step { start, end, step } => (*start, *end, *step),
            // An empty range: these match through the special bitsets.
            Item::Last
            | Item::LastOffset(_)
            | Item::Nearest(_)
            | Item::LastWeekday
            | Item::Nth { .. }
            | Item::LastOf(_) => (1, 0, 1),
        };
        (a..=b).step_by(usize::from(step.max(1)))
    })
}

/// Bit v set for each plain value v of a field whose values are below 64.
fn value_bits(kind: Kind, items: &[Item]) -> u64 {
    values(kind, items).fold(0, |m, v| m | 1u64 << v)
}

fn compile(fields: &Fields, dom_star: bool, dow_star: bool) -> Spec {
    let dow_values = value_bits(Kind::DayOfWeek, &fields.dow);
    // Day of week 7 is Sunday, like 0.
    let dow = ((dow_values | dow_values >> 7) & 0x7f) as u8;
    let years = if fields.year.iter().all(|i| *i == Item::All) {
        None
    } else {
        Some(values(Kind::Year, &fields.year).fold(YearSet::default(), |set, y| set.with(y)))
    };
    let mut spec = Spec {
        seconds: value_bits(Kind::Second, &fields.second),
        minutes: value_bits(Kind::Minute, &fields.minute),
        hours: value_bits(Kind::Hour, &fields.hour) as u32,
        dom: value_bits(Kind::DayOfMonth, &fields.dom) as u32,
        months: value_bits(Kind::Month, &fields.month) as u16,
        dow,
        dom_star,
        dow_star,
        years,
        ..Spec::default()
    };
    for item in &fields.dom {
        match item {
            Item::Last => spec.dom_last |= 1,
            Item::LastOffset(n) => spec.dom_last |= 1 << n,
            Item::Nearest(n) => spec.dom_nearest |= 1 << n,
            Item::LastWeekday => spec.dom_last_weekday = true,
            Item::All
            | Item::AllStep(_)
            | Item::Value(_)
            | Item::Range(..)
            | Item::Step { .. }
            | Item::Nth { .. }
            | Item::LastOf(_) => {}
        }
    }
    for item in &fields.dow {
        match item {
            Item::Nth { weekday, nth } => {
                if let Some(slot) = spec.dow_nth.get_mut(usize::from(nth - 1)) {
                    *slot |= 1 << weekday;
                }
            }
            Item::LastOf(weekday) => spec.dow_last |= 1 << weekday,
            Item::All
            | Item::AllStep(_)
            | Item::Value(_)
            | Item::Range(..)
            | Item::Step { .. }
            | Item::Last
            | Item::LastOffset(_)
            | Item::Nearest(_)
            | Item::LastWeekday => {}
        }
    }
    spec
}

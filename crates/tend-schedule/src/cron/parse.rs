//! Parsing cron field texts into [`Item`]s, with byte offsets and hints on every error.

use super::fields::{Item, YEAR_MAX, YEAR_MIN};
use crate::ScheduleError;

/// Which field is being parsed: decides the range, names and special characters allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Second,
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
    Year,
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Second => "second",
            Kind::Minute => "minute",
            Kind::Hour => "hour",
            Kind::DayOfMonth => "day of month",
            Kind::Month => "month",
            Kind::DayOfWeek => "day of week",
            Kind::Year => "year",
        }
    }

    pub(crate) fn range(self) -> (u16, u16) {
        match self {
            Kind::Second | Kind::Minute => (0, 59),
            Kind::Hour => (0, 23),
            Kind::DayOfMonth => (1, 31),
            Kind::Month => (1, 12),
            Kind::DayOfWeek => (0, 7),
            Kind::Year => (YEAR_MIN, YEAR_MAX),
        }
    }

    fn range_hint(self) -> String {
        let (lo, hi) = self.range();
        match self {
            Kind::Month => format!("month must be {lo}–{hi} or JAN–DEC"),
            Kind::DayOfWeek => {
                format!("day of week must be {lo}–{hi} (0 and 7 are Sunday) or SUN–SAT")
            }
            _ => format!("{} must be {lo}–{hi}", self.name()),
        }
    }

    fn names(self) -> &'static [&'static str] {
        match self {
            Kind::Month => &MONTHS,
            Kind::DayOfWeek => &WEEKDAYS,
            _ => &[],
        }
    }

    fn name_base(self) -> u16 {
        match self {
            Kind::Month => 1,
            _ => 0,
        }
    }
}

/// Parses one whole field (`text` starts at byte `offset` of the schedule string).
pub(crate) fn parse_field(
    kind: Kind,
    text: &str,
    offset: usize,
) -> Result<Vec<Item>, ScheduleError> {
    let mut items = Vec::new();
    let mut start = 0;
    for part in text.split(',') {
        let at = offset + start;
        if part.is_empty() {
            return Err(ScheduleError::new(
                format!("empty item in the {} field `{text}`", kind.name()),
                at,
            )
            .with_hint("separate values with single commas: `1,15,30`"));
        }
        items.push(parse_item(kind, part, at)?);
        start += part.len() + 1;
    }
    Ok(items)
}

fn parse_item(kind: Kind, part: &str, at: usize) -> Result<Item, ScheduleError> {
    let upper = part.to_ascii_uppercase();
    if let Some(item) = parse_special(kind, &upper, at)? {
        return Ok(item);
    }
    let (base, step) = match upper.split_once('/') {
        Some((base, step_text)) => {
            let step_at = at + base.len() + 1;
            let step = parse_number(step_text, step_at)
                .map_err(|e| e.with_hint("a step is a positive number: `*/15`, `0-30/5`"))?;
            if step == 0 {
                return Err(ScheduleError::new("a step of 0 never advances", step_at)
                    .with_hint("use a positive step such as `*/5`"));
            }
            (base, Some((step, step_at)))
        }
        None => (upper.as_str(), None),
    };
    if base == "*" || base == "?" {
        if base == "?" && !matches!(kind, Kind::DayOfMonth | Kind::DayOfWeek) {
            return Err(ScheduleError::new(
                format!("`?` is not allowed in the {} field", kind.name()),
                at,
            )
            .with_hint(
                "`?` means \"any\" only in the day-of-month and day-of-week fields; use `*`",
            ));
        }
        return Ok(match step {
            None => Item::All,
            Some((_, step_at)) if base == "?" => {
                return Err(ScheduleError::new("`?` cannot take a step", step_at)
                    .with_hint("write `*/n` for a step"));
            }
            Some((step, _)) => Item::AllStep(step),
        });
    }
    if base.is_empty() {
        return Err(ScheduleError::new("a step needs a start", at)
            .with_hint("write `*/15` or `0/15`, not `/15`"));
    }
    let (_, hi) = kind.range();
    match base.split_once('-') {
        Some((a, b)) => {
            let start = parse_value(kind, a, at)?;
            let b_at = at + a.len() + 1;
            let mut end = parse_value(kind, b, b_at)?;
            // `FRI-SUN`: a range ending on Sunday reads as ending on 7.
            if kind == Kind::DayOfWeek && end == 0 && start > 0 {
                end = 7;
            }
            if start > end {
                return Err(
                    ScheduleError::new(format!("range `{part}` runs backwards"), at).with_hint(
                        format!("write the smaller value first; {}", kind.range_hint()),
                    ),
                );
            }
            Ok(match step {
                None => Item::Range(start, end),
                Some((step, _)) => Item::Step { start, end, step },
            })
        }
        None => {
            let value = parse_value(kind, base, at)?;
            Ok(match step {
                None => Item::Value(value),
                Some((step, _)) => Item::Step {
                    start: value,
                    end: hi,
                    step,
                },
            })
        }
    }
}

/// `L`, `L-n`, `LW`, `nW` in the day of month; `dL`, `d#k` in the day of week.
fn parse_special(kind: Kind, upper: &str, at: usize) -> Result<Option<Item>, ScheduleError> {
    // Names such as `WED` or `JUL` contain the special letters; look for them elsewhere only.
    let unnamed = kind
        .names()
        .iter()
        .fold(upper.to_owned(), |text, name| text.replace(name, ""));
    let has = |c: char| unnamed.contains(c);
    match kind {
        Kind::DayOfMonth => {
            if upper == "L" {
                return Ok(Some(Item::Last));
            }
            if upper == "LW" {
                return Ok(Some(Item::LastWeekday));
            }
            if let Some(n) = upper.strip_prefix("L-") {
                let n_at = at + 2;
                let n = parse_number(n, n_at)?;
                if n > 30 {
                    return Err(ScheduleError::new(
                        format!("`L-{n}` is before every month's start"),
                        n_at,
                    )
                    .with_hint("`L-n` counts back from the last day: n must be 0–30"));
                }
                return Ok(Some(Item::LastOffset(n)));
            }
            if let Some(n) = upper.strip_suffix('W') {
                let n = parse_value(kind, n, at)?;
                return Ok(Some(Item::Nearest(n)));
            }
            if has('L') || has('W') {
                return Err(
                    ScheduleError::new(format!("cannot read `{upper}`"), at).with_hint(
                        "day of month takes `L` (last day), `L-3`, `15W` (nearest weekday) or `LW`",
                    ),
                );
            }
            if has('#') {
                return Err(misplaced('#', kind, at));
            }
        }
        Kind::DayOfWeek => {
            if let Some((d, k)) = upper.split_once('#') {
                let weekday = parse_value(kind, d, at)? % 7;
                let k_at = at + d.len() + 1;
                let nth = parse_number(k, k_at)?;
                if !(1..=5).contains(&nth) {
                    return Err(ScheduleError::new(
                        format!("there is no occurrence #{k} of a weekday in a month"),
                        k_at,
                    )
                    .with_hint("`FRI#3` is the third Friday; the number after `#` must be 1–5"));
                }
                return Ok(Some(Item::Nth { weekday, nth }));
            }
            if upper == "L" {
                return Err(ScheduleError::new("`L` alone is ambiguous in the day-of-week field", at)
                    .with_hint("write `5L` or `FRIL` for the last Friday of the month, or `L` in the day-of-month field for the last day"));
            }
            if let Some(d) = upper.strip_suffix('L') {
                let weekday = parse_value(kind, d, at)? % 7;
                return Ok(Some(Item::LastOf(weekday)));
            }
            if has('W') {
                return Err(misplaced('W', kind, at));
            }
        }
        Kind::Second | Kind::Minute | Kind::Hour | Kind::Month | Kind::Year => {
            for c in ['L', 'W', '#'] {
                if has(c) {
                    return Err(misplaced(c, kind, at));
                }
            }
        }
    }
    Ok(None)
}

fn misplaced(c: char, kind: Kind, at: usize) -> ScheduleError {
    let where_ = match c {
        'W' => "`W` belongs in the day-of-month field (`15W`, `LW`)",
        '#' => "`#` belongs in the day-of-week field (`FRI#3`)",
        _ => "`L` belongs in the day-of-month (`L`, `L-2`, `LW`) or day-of-week (`5L`) field",
    };
    ScheduleError::new(
        format!("`{c}` is not allowed in the {} field", kind.name()),
        at,
    )
    .with_hint(where_)
}

fn parse_number(text: &str, at: usize) -> Result<u16, ScheduleError> {
    let hint = "write a plain number here: `*/15`, `L-3`, `FRI#2`";
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(
            ScheduleError::new(format!("expected a number, found `{text}`"), at).with_hint(hint),
        );
    }
    text.parse::<u16>().map_err(|_| {
        ScheduleError::new(format!("number `{text}` is too large"), at).with_hint(hint)
    })
}

fn parse_value(kind: Kind, text: &str, at: usize) -> Result<u16, ScheduleError> {
    let (lo, hi) = kind.range();
    if let Some(index) = kind.names().iter().position(|n| *n == text) {
        return Ok(index as u16 + kind.name_base());
    }
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ScheduleError::new(
            format!("cannot read `{text}` in the {} field", kind.name()),
            at,
        )
        .with_hint(kind.range_hint()));
    }
    match text.parse::<u16>() {
        Ok(v) if (lo..=hi).contains(&v) => Ok(v),
        _ => Err(
            ScheduleError::new(format!("{} `{text}` is out of range", kind.name()), at)
                .with_hint(kind.range_hint()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn items() {
        assert_eq!(
            parse_field(Kind::DayOfWeek, "mon-FRI,sun,5L,FRI#3,*/2,fri-sun", 0).unwrap(),
            vec![
                Item::Range(1, 5),
                Item::Value(0),
                Item::LastOf(5),
                Item::Nth { weekday: 5, nth: 3 },
                Item::AllStep(2),
                Item::Range(5, 7),
            ]
        );
        assert_eq!(
            parse_field(Kind::DayOfMonth, "L,L-3,15W,LW,?,1-10/3,5/10", 0).unwrap(),
            vec![
                Item::Last,
                Item::LastOffset(3),
                Item::Nearest(15),
                Item::LastWeekday,
                Item::All,
                Item::Step {
                    start: 1,
                    end: 10,
                    step: 3
                },
                Item::Step {
                    start: 5,
                    end: 31,
                    step: 10
                },
            ]
        );
        assert_eq!(
            parse_field(Kind::Month, "jan-mar,JUL,12", 0).unwrap(),
            vec![Item::Range(1, 3), Item::Value(7), Item::Value(12)]
        );
    }

    #[test]
    fn errors_point_at_the_token() {
        let e = parse_field(Kind::Minute, "0,61", 10).unwrap_err();
        assert_eq!(
            (e.offset, e.message.as_str(), e.hint.as_deref()),
            (
                12,
                "minute `61` is out of range",
                Some("minute must be 0–59")
            )
        );
        let e = parse_field(Kind::Hour, "1-24", 0).unwrap_err();
        assert_eq!(
            (e.offset, e.hint.as_deref()),
            (2, Some("hour must be 0–23"))
        );
        let e = parse_field(Kind::Hour, "*/0", 4).unwrap_err();
        assert_eq!(e.offset, 6);
        assert_eq!(parse_field(Kind::Hour, "5-3", 0).unwrap_err().offset, 0);
        assert_eq!(parse_field(Kind::Minute, "1,,2", 0).unwrap_err().offset, 2);
        assert_eq!(parse_field(Kind::Minute, "?", 0).unwrap_err().offset, 0);
        assert_eq!(
            parse_field(Kind::DayOfWeek, "FRI#6", 0).unwrap_err().offset,
            4
        );
        assert_eq!(parse_field(Kind::DayOfWeek, "L", 0).unwrap_err().offset, 0);
        assert_eq!(parse_field(Kind::Hour, "5L", 3).unwrap_err().offset, 3);
        assert_eq!(
            parse_field(Kind::DayOfMonth, "32W", 0).unwrap_err().offset,
            0
        );
        assert_eq!(
            parse_field(Kind::Month, "FOO", 0)
                .unwrap_err()
                .hint
                .as_deref(),
            Some("month must be 1–12 or JAN–DEC")
        );
        assert_eq!(
            parse_field(Kind::Year, "1969", 0)
                .unwrap_err()
                .hint
                .as_deref(),
            Some("year must be 1970–2099")
        );
    }
}

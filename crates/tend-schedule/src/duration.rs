//! Human durations: `20m`, `1h30m`, `90s`, `7d`, `2w`, `500ms`.

use std::time::Duration;

use crate::ScheduleError;

/// Unit words, in milliseconds. Matched whole and case-insensitively, so `m` is minutes and
/// `ms` milliseconds.
const UNITS: [(&str, u64); 27] = [
    ("ms", 1),
    ("msec", 1),
    ("msecs", 1),
    ("millisecond", 1),
    ("milliseconds", 1),
    ("s", 1_000),
    ("sec", 1_000),
    ("secs", 1_000),
    ("second", 1_000),
    ("seconds", 1_000),
    ("m", 60_000),
    ("min", 60_000),
    ("mins", 60_000),
    ("minute", 60_000),
    ("minutes", 60_000),
    ("h", 3_600_000),
    ("hr", 3_600_000),
    ("hrs", 3_600_000),
    ("hour", 3_600_000),
    ("hours", 3_600_000),
    ("d", 86_400_000),
    ("day", 86_400_000),
    ("days", 86_400_000),
    ("w", 604_800_000),
    ("wk", 604_800_000),
    ("week", 604_800_000),
    ("weeks", 604_800_000),
];

const UNITS_HINT: &str =
    "units are ms, s, m, h, d and w, or words: `90s`, `20m`, `1h30m`, `2 hours`, `1h 30min`, `7d`";

/// Parses a duration such as `20m`, `1h30m`, `1h 30m`, `90s`, `7d`, `500ms`, or with words:
/// `30 minutes`, `2 hours`, `1 day`, `90 sec`, `1h 30min`.
///
/// A bare number is refused: `30` could mean seconds or minutes, and guessing wrong silently
/// is worse than asking.
pub fn parse_duration(text: &str) -> Result<Duration, ScheduleError> {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut total_ms: u64 = 0;
    let mut parts = 0;
    while i < bytes.len() {
        if bytes[i] == b' ' {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return Err(
                ScheduleError::new(format!("expected a number in duration `{text}`"), i)
                    .with_hint("write durations like `30s`, `20m`, `1h30m`, `7d`"),
            );
        }
        let number: u64 = text[start..i].parse().map_err(|_| {
            ScheduleError::new(format!("number too large in duration `{text}`"), start)
                .with_hint(UNITS_HINT)
        })?;
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        let unit_start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit = text[unit_start..i].to_ascii_lowercase();
        let factor = UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, f)| *f);
        let Some(factor) = factor else {
            let (message, hint) = if unit.is_empty() {
                (format!("duration `{text}` needs a unit"), UNITS_HINT)
            } else if unit.starts_with("mo") || unit.starts_with('y') {
                (
                    format!("`{unit}` is not a fixed length of time"),
                    "months and years vary in length: use a cron expression such as `0 9 1 * *`, or days",
                )
            } else {
                (
                    format!("unknown unit `{unit}` in duration `{text}`"),
                    UNITS_HINT,
                )
            };
            return Err(ScheduleError::new(message, unit_start).with_hint(hint));
        };
        total_ms = number
            .checked_mul(factor)
            .and_then(|v| total_ms.checked_add(v))
            .ok_or_else(|| {
                ScheduleError::new(format!("duration `{text}` is too large"), start)
                    .with_hint(UNITS_HINT)
            })?;
        parts += 1;
    }
    if parts == 0 {
        return Err(ScheduleError::new("empty duration", 0)
            .with_hint("write durations like `30s`, `20m`, `1h30m`, `7d`"));
    }
    Ok(Duration::from_millis(total_ms))
}

/// Formats a duration compactly, the inverse of [`parse_duration`]: `1h30m`, `7d`, `250ms`.
pub fn format_duration(d: Duration) -> String {
    let mut ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    if ms == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    // Weeks are accepted on input but printed as days: `14d` reads better than `2w` in a table.
    for (name, factor) in [
        ("d", 86_400_000u64),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ] {
        if ms >= factor {
            out.push_str(&format!("{}{name}", ms / factor));
            ms %= factor;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn parses_common_durations() {
        let cases = [
            ("20m", 1_200_000),
            ("1h30m", 5_400_000),
            ("1h 30m", 5_400_000),
            ("90s", 90_000),
            ("7d", 604_800_000),
            ("2w", 1_209_600_000),
            ("500ms", 500),
            ("30 minutes", 1_800_000),
            ("2 hours", 7_200_000),
            ("1 day", 86_400_000),
            ("90 sec", 90_000),
            ("1h 30min", 5_400_000),
            ("1 hour 30 minutes", 5_400_000),
            ("2 Weeks", 1_209_600_000),
            ("10 secs", 10_000),
            ("250 milliseconds", 250),
        ];
        for (text, ms) in cases {
            assert_eq!(
                parse_duration(text).unwrap(),
                Duration::from_millis(ms),
                "{text}"
            );
        }
    }

    #[test]
    fn rejects_bad_durations_with_position() {
        assert_eq!(parse_duration("30").unwrap_err().offset, 2);
        assert_eq!(parse_duration("30 ").unwrap_err().offset, 3);
        assert_eq!(parse_duration("1h 30 fortnights").unwrap_err().offset, 6);
        let months = parse_duration("2 months").unwrap_err();
        assert_eq!(
            (months.offset, months.message.as_str()),
            (2, "`months` is not a fixed length of time")
        );
        assert_eq!(parse_duration("20x").unwrap_err().offset, 2);
        assert_eq!(parse_duration("m").unwrap_err().offset, 0);
        assert!(parse_duration("").is_err());
        assert!(parse_duration("99999999999999999999s").is_err());
    }

    #[test]
    fn format_round_trips() {
        for text in ["1h30m", "7d", "250ms", "9d3h4m5s"] {
            assert_eq!(format_duration(parse_duration(text).unwrap()), text);
        }
    }
}

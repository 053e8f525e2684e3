//! `every <duration>`: a fixed period anchored at an instant, pure elapsed time.

use std::time::Duration;

use jiff::Timestamp;

use crate::{ScheduleError, format_duration, parse_duration};

/// A fixed period. Slots are `anchor + k·period` for every integer k: computed by
/// multiplication, never by adding up, so they never drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Every {
    pub period: Duration,
}

/// Bare unit words: `every day`, `every hour`.
const SINGLE_UNITS: [(&str, u64); 9] = [
    ("second", 1),
    ("sec", 1),
    ("minute", 60),
    ("min", 60),
    ("hour", 3600),
    ("hr", 3600),
    ("day", 86_400),
    ("week", 604_800),
    ("wk", 604_800),
];

impl Every {
    /// Parses the part after `every ` (`30m`, `1h30m`, `2 hours`, `day`); error offsets are
    /// relative to `base`, where `text` starts.
    pub(crate) fn parse_at(text: &str, base: usize) -> Result<Every, ScheduleError> {
        let lead = text.len() - text.trim_start().len();
        let trimmed = text.trim();
        let lower = trimmed.to_ascii_lowercase();
        let period = match SINGLE_UNITS.iter().find(|(name, _)| *name == lower) {
            Some((_, secs)) => Duration::from_secs(*secs),
            None => parse_duration(trimmed).map_err(|mut e| {
                e.offset += base + lead;
                e
            })?,
        };
        if period < Duration::from_secs(1) {
            return Err(ScheduleError::new(
                format!("`every {trimmed}` is shorter than a second"),
                base + lead,
            )
            .with_hint("the shortest period is `every 1s`"));
        }
        if period.subsec_nanos() != 0 {
            return Err(ScheduleError::new(
                format!("`every {trimmed}` is not a whole number of seconds"),
                base + lead,
            )
            .with_hint("periods are whole seconds: `every 90s`, `every 1m30s`"));
        }
        Ok(Every { period })
    }

    /// The first slot strictly after `after`.
    pub(crate) fn next_after(&self, anchor: Timestamp, after: Timestamp) -> Option<Timestamp> {
        let period = i128::try_from(self.period.as_nanos()).ok()?;
        if period == 0 {
            return None;
        }
        let anchor_ns = anchor.as_nanosecond();
        let k = (after.as_nanosecond() - anchor_ns).div_euclid(period) + 1;
        Timestamp::from_nanosecond(anchor_ns.checked_add(k.checked_mul(period)?)?).ok()
    }
}

impl std::fmt::Display for Every {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "every {}", format_duration(self.period))
    }
}

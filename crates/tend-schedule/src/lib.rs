//! tend's schedule engine: pure and clock-free.
//!
//! Parses schedule expressions (`cron` with 5–7 fields, `every <duration>`, `at <local time>`,
//! `@aliases`, `manual`) and computes due instants in a time zone with cronie's daylight-saving
//! rules. Nothing here reads a clock or the file system: callers pass the instants in.
//!
//! ```
//! use tend_schedule::{Plan, Schedule, TimeZone, Timestamp};
//!
//! let schedule: Schedule = "0 9 * * 1-5".parse()?;
//! assert_eq!(schedule.describe(), "at 09:00 on Monday through Friday");
//! let created: Timestamp = "2026-01-01T00:00:00Z".parse()?;
//! let plan = Plan::new(schedule, TimeZone::get("Europe/Berlin")?, created);
//! // Friday 09:00 has passed: the next slot is Monday 09:00 in Berlin.
//! let slot = plan.next_after("2026-03-06T08:00:00Z".parse()?).unwrap();
//! assert_eq!(slot.due.to_string(), "2026-03-09T08:00:00Z");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Daylight saving follows cronie: a cron whose hour field is fixed keeps to the wall clock (a
//! time skipped by spring-forward fires once when the gap ends, a repeated time fires only the
//! first time); a cron with `*` or a step in the hour field follows elapsed time (nothing in the
//! gap, both copies of the repeated hour). `every` is pure elapsed time from its anchor.

mod at;
mod civil;
mod cron;
mod describe;
mod dst;
mod duration;
mod every;
mod jitter;
mod plan;

use std::fmt;

pub use at::At;
pub use cron::Cron;
pub use duration::{format_duration, parse_duration};
pub use every::Every;
pub use jiff::{Timestamp, tz::TimeZone};
pub use plan::{Plan, Slot};

/// A schedule expression, a duration or a size failed to parse.
///
/// `offset` is the byte offset in the parsed text where the problem starts, so a caller that
/// knows where the text came from (a task file) can point at the exact column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ScheduleError {
    pub message: String,
    pub hint: Option<String>,
    pub offset: usize,
}

impl ScheduleError {
    pub fn new(message: impl Into<String>, offset: usize) -> Self {
        ScheduleError {
            message: message.into(),
            hint: None,
            offset,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// When a task runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Schedule {
    Cron(Cron),
    Every(Every),
    At(At),
    /// Only when run by hand.
    Manual,
}

const SCHEDULE_HINT: &str = "a schedule is a cron expression (`0 9 * * 1-5`), an alias (`@daily`), \
    `every 30m`, `at 2026-12-01 09:00` or `manual`";

impl Schedule {
    /// Parses the task file's `schedule` string: a cron expression (5, 6 or 7 fields), an
    /// `@alias`, `every <duration>`, `at <local date-time>` or `at <time of day>`, or `manual`.
    /// Errors carry the byte offset in `text` where the problem is, and a hint.
    pub fn parse(text: &str) -> Result<Schedule, ScheduleError> {
        let lead = text.len() - text.trim_start().len();
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(ScheduleError::new("empty schedule", 0).with_hint(SCHEDULE_HINT));
        }
        let (word, rest) = match trimmed.find(char::is_whitespace) {
            Some(i) => (&trimmed[..i], &trimmed[i..]),
            None => (trimmed, ""),
        };
        let rest_at = lead + word.len();
        match word.to_ascii_lowercase().as_str() {
            "manual" if rest.is_empty() => Ok(Schedule::Manual),
            "manual" => Err(
                ScheduleError::new("`manual` takes nothing after it", rest_at + 1)
                    .with_hint(SCHEDULE_HINT),
            ),
            "every" if rest.trim().is_empty() => {
                Err(ScheduleError::new("`every` needs a period", rest_at)
                    .with_hint("write `every 30m`, `every 4h`, `every 2 hours` or `every day`"))
            }
            "every" => Ok(Schedule::Every(every::Every::parse_at(rest, rest_at)?)),
            "at" if rest.trim().is_empty() => Err(ScheduleError::new("`at` needs a time", rest_at)
                .with_hint("write `at 2026-12-01 09:00` or `at 17:30`")),
            "at" => Ok(Schedule::At(At::parse_at(rest, rest_at)?)),
            _ => Ok(Schedule::Cron(Cron::parse_at(text, 0).map_err(|e| {
                // A lone word is more likely a typo of a keyword than a broken cron line.
                if rest.is_empty()
                    && !trimmed.starts_with('@')
                    && trimmed.chars().all(char::is_alphabetic)
                {
                    ScheduleError::new(format!("unknown schedule `{trimmed}`"), lead)
                        .with_hint(SCHEDULE_HINT)
                } else {
                    e
                }
            })?)),
        }
    }

    /// Whether the task is done after its one slot (`at`).
    pub fn is_one_shot(&self) -> bool {
        matches!(self, Schedule::At(_))
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Cron(cron) => cron.fmt(f),
            Schedule::Every(every) => every.fmt(f),
            Schedule::At(at) => at.fmt(f),
            Schedule::Manual => f.write_str("manual"),
        }
    }
}

impl std::str::FromStr for Schedule {
    type Err = ScheduleError;
    fn from_str(s: &str) -> Result<Schedule, ScheduleError> {
        Schedule::parse(s)
    }
}

/// Serialized as its canonical text (`"0 9 * * 1-5"`, `"every 30m"`), like in a task file.
impl serde::Serialize for Schedule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Schedule {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Schedule, D::Error> {
        let text = String::deserialize(deserializer)?;
        Schedule::parse(&text).map_err(|e| match &e.hint {
            Some(hint) => serde::de::Error::custom(format!("{e} ({hint})")),
            None => serde::de::Error::custom(e),
        })
    }
}

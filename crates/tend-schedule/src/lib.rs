//! tend's schedule engine: pure and clock-free.
//!
//! Parses schedule expressions (`cron` with 5–7 fields, `every <duration>`, `at <local time>`,
//! `@aliases`, `manual`) and computes due instants in a time zone with cronie's daylight-saving
//! rules. Nothing here reads a clock or the file system: callers pass the instants in.

mod duration;

pub use duration::{format_duration, parse_duration};

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

//! TEMPORARY stand-in for `tend_schedule::Schedule` until that type lands; replaced by a
//! re-export.

use std::fmt;

use tend_schedule::ScheduleError;

#[derive(Debug, Clone, PartialEq)]
pub struct Schedule(String);

impl Schedule {
    pub fn parse(text: &str) -> Result<Schedule, ScheduleError> {
        if text.trim().is_empty() {
            return Err(ScheduleError::new("empty schedule", 0));
        }
        if let Some(i) = text.find('!') {
            return Err(ScheduleError::new("bad character `!`", i));
        }
        Ok(Schedule(text.to_owned()))
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

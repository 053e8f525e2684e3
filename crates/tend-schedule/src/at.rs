//! `at <date-time>`: a one-shot schedule.

use std::fmt;

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{Offset, TimeZone};

use crate::ScheduleError;
use crate::civil::{Civil, instant};
use crate::dst::{DstRule, next_instant, wall_clock_instant};

/// When a one-shot schedule fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum At {
    /// A local date and time in the plan's zone (`at 2026-12-01 09:00`). Skipped by a
    /// daylight-saving gap: the instant the gap ends; repeated: the first occurrence.
    Local(DateTime),
    /// A date and time with an explicit UTC offset: one absolute instant.
    Fixed { datetime: DateTime, offset: Offset },
    /// A time of day (`at 17:30`): the first such local time after the plan's anchor.
    TimeOfDay(Time),
}

const HINT: &str = "write `at 2026-12-01 09:00`, `at 2026-12-01T09:00:00+01:00` or `at 17:30`";

impl At {
    /// Parses the part after `at `; error offsets are relative to `base`, where `text` starts.
    pub(crate) fn parse_at(text: &str, base: usize) -> Result<At, ScheduleError> {
        let lead = text.len() - text.trim_start().len();
        let trimmed = text.trim();
        let base = base + lead;
        if trimmed.len() <= 8 && trimmed.contains(':') && !trimmed.contains('-') {
            return Ok(At::TimeOfDay(parse_time(trimmed, base)?));
        }
        let date_text = trimmed.get(..10).unwrap_or(trimmed);
        let date: Date = date_text.parse().map_err(|_| {
            ScheduleError::new(format!("cannot read the date `{date_text}`"), base).with_hint(HINT)
        })?;
        let rest = &trimmed[date_text.len()..];
        let Some(rest_trimmed) = rest.strip_prefix(['T', 't', ' ']) else {
            return Err(
                ScheduleError::new("a date needs a time of day", base + date_text.len())
                    .with_hint(HINT),
            );
        };
        let time_at = base + date_text.len() + 1;
        let rest_trimmed = rest_trimmed.trim_start();
        let time_at = time_at + (rest.len() - 1 - rest_trimmed.len());
        // The offset, if any, follows the time: `Z`, `+01:00`, `-0500`.
        let split = rest_trimmed
            .find(['+', '-', 'Z', 'z'])
            .unwrap_or(rest_trimmed.len());
        let (time_text, offset_text) = rest_trimmed.split_at(split);
        let time = parse_time(time_text.trim_end(), time_at)?;
        let datetime = date.to_datetime(time);
        if offset_text.is_empty() {
            return Ok(At::Local(datetime));
        }
        let offset = parse_offset(offset_text, time_at + split)?;
        Ok(At::Fixed { datetime, offset })
    }

    /// The instant this fires, for a plan in `tz` created at `anchor`.
    pub(crate) fn resolve(&self, tz: &TimeZone, anchor: Timestamp) -> Option<Timestamp> {
        match *self {
            At::Local(datetime) => {
                Some(wall_clock_instant(tz, Civil::from_jiff(datetime))?.instant)
            }
            At::Fixed { datetime, offset } => {
                instant(Civil::from_jiff(datetime).local_seconds(), offset.seconds())
            }
            At::TimeOfDay(time) => {
                let target = (time.hour() as u8, time.minute() as u8, time.second() as u8);
                next_instant(tz, DstRule::WallClock, anchor, |from| {
                    let same_day = Civil {
                        hour: target.0,
                        minute: target.1,
                        second: target.2,
                        ..from
                    };
                    if same_day >= from {
                        Some(same_day)
                    } else {
                        let next = Civil::from_local_seconds(same_day.local_seconds() + 86_400);
                        Some(Civil {
                            hour: target.0,
                            minute: target.1,
                            second: target.2,
                            ..next
                        })
                    }
                })
            }
        }
    }
}

fn parse_time(text: &str, at: usize) -> Result<Time, ScheduleError> {
    let bad = || ScheduleError::new(format!("cannot read the time `{text}`"), at).with_hint(HINT);
    let parts: Vec<&str> = text.split(':').collect();
    if !(2..=3).contains(&parts.len())
        || parts
            .iter()
            .any(|p| p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad());
    }
    let number = |i: usize| parts.get(i).and_then(|p| p.parse::<i8>().ok()).unwrap_or(0);
    Time::new(number(0), number(1), number(2), 0).map_err(|_| {
        ScheduleError::new(format!("`{text}` is not a time of day"), at)
            .with_hint("hours are 0–23, minutes and seconds 0–59")
    })
}

fn parse_offset(text: &str, at: usize) -> Result<Offset, ScheduleError> {
    if text.eq_ignore_ascii_case("z") {
        return Ok(Offset::UTC);
    }
    let bad = || {
        ScheduleError::new(format!("cannot read the UTC offset `{text}`"), at)
            .with_hint("write offsets as `+01:00`, `-05:00` or `Z`")
    };
    let (sign, digits) = match text.split_at(1) {
        ("+", d) => (1, d),
        ("-", d) => (-1, d),
        _ => return Err(bad()),
    };
    let digits: String = digits.chars().filter(|c| *c != ':').collect();
    if !matches!(digits.len(), 2 | 4) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let hours: i32 = digits[..2].parse().map_err(|_| bad())?;
    let minutes: i32 = digits
        .get(2..)
        .filter(|m| !m.is_empty())
        .map_or(Ok(0), str::parse)
        .map_err(|_| bad())?;
    if hours > 25 || minutes > 59 {
        return Err(bad());
    }
    Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).map_err(|_| bad())
}

fn write_datetime(f: &mut fmt::Formatter<'_>, dt: DateTime) -> fmt::Result {
    write!(f, "{} ", dt.date())?;
    write_time(f, dt.time())
}

fn write_time(f: &mut fmt::Formatter<'_>, t: Time) -> fmt::Result {
    write!(f, "{:02}:{:02}", t.hour(), t.minute())?;
    if t.second() != 0 {
        write!(f, ":{:02}", t.second())?;
    }
    Ok(())
}

pub(crate) fn write_offset(f: &mut fmt::Formatter<'_>, offset: Offset) -> fmt::Result {
    let secs = offset.seconds();
    let sign = if secs < 0 { '-' } else { '+' };
    let secs = secs.abs();
    write!(f, "{sign}{:02}:{:02}", secs / 3600, secs / 60 % 60)
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("at ")?;
        match *self {
            At::Local(dt) => write_datetime(f, dt),
            At::Fixed { datetime, offset } => {
                write_datetime(f, datetime)?;
                write_offset(f, offset)
            }
            At::TimeOfDay(t) => write_time(f, t),
        }
    }
}

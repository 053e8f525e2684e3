//! Plain-English descriptions of schedules.

use std::fmt::Write as _;

use crate::{At, Every, Schedule};

impl Schedule {
    /// A sentence a cron user would understand: `at 09:00 on Monday through Friday`,
    /// `every 30 minutes, anchored at creation`, `once, at 2026-12-01 09:00`.
    pub fn describe(&self) -> String {
        match self {
            Schedule::Cron(cron) => cron.describe(),
            Schedule::Every(every) => describe_every(every),
            Schedule::At(at) => describe_at(at),
            Schedule::Manual => "only when run by hand".to_owned(),
        }
    }
}

fn describe_every(every: &Every) -> String {
    let mut secs = every.period.as_secs();
    let mut parts = Vec::new();
    for (unit, size) in [
        ("day", 86_400),
        ("hour", 3600),
        ("minute", 60),
        ("second", 1),
    ] {
        let n = secs / size;
        secs %= size;
        match n {
            0 => {}
            1 => parts.push(format!("1 {unit}")),
            n => parts.push(format!("{n} {unit}s")),
        }
    }
    let period = match parts.as_slice() {
        [one] if one.starts_with("1 ") => one.trim_start_matches("1 ").to_owned(),
        _ => parts.join(" "),
    };
    format!("every {period}, anchored at creation")
}

fn describe_at(at: &At) -> String {
    let mut text = "once, ".to_owned();
    match at {
        At::Local(_) | At::Fixed { .. } => {
            // `At`'s display is `at <date> <time>[offset]`.
            let _ = write!(text, "{at}");
        }
        At::TimeOfDay(_) => {
            let shown = at.to_string();
            let time = shown.trim_start_matches("at ");
            let _ = write!(text, "at the next {time} after creation");
        }
    }
    text
}

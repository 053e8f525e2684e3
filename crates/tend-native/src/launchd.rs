//! launchd agents (macOS): `dev.tend.daemon` for the daemon, `dev.tend.task.<id>` per task.
//!
//! `StartCalendarInterval` is an array of dictionaries with optional `Minute`, `Hour`, `Day`,
//! `Weekday` and `Month` keys (a missing key matches everything) and has no ranges, steps,
//! seconds, years or zones: ranges and steps are expanded, up to [`MAX_INTERVALS`] entries,
//! and times are the machine's local time. `Day` and `Weekday` never share an entry (launchd
//! ORs them, like cron), and a `Weekday` entry never names a `Month` (launchd's weekday
//! matching does not look at the month), so tend refuses weekday schedules limited to some
//! months.

use std::fmt::Write as _;

use jiff::Timestamp;
use tend_schedule::{Cron, Schedule};

use crate::crontab::{minute_grid, wrong_zone};
use crate::fields::CronFields;
use crate::sets::{full, values};
use crate::xml::escape;
use crate::{Backend, Invocation, MachineZone, NativeError, NativeTask, same_zone};

const LAUNCHD: Backend = Backend::Launchd;

/// The most calendar entries one agent gets.
pub const MAX_INTERVALS: usize = 500;

/// The daemon's label (and file stem in `~/Library/LaunchAgents`).
pub const DAEMON_LABEL: &str = "dev.tend.daemon";

/// Prefix of the per-task agents' labels.
pub const TASK_PREFIX: &str = "dev.tend.task.";

/// One `StartCalendarInterval` entry; `None` keys match everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CalendarInterval {
    pub minute: Option<u8>,
    pub hour: Option<u8>,
    pub day: Option<u8>,
    /// 0 is Sunday.
    pub weekday: Option<u8>,
    pub month: Option<u8>,
}

impl CalendarInterval {
    /// Whether a local time matches this entry.
    pub fn matches(&self, t: jiff::civil::DateTime) -> bool {
        let is = |key: Option<u8>, v: i8| key.is_none_or(|k| i16::from(k) == i16::from(v));
        is(self.minute, t.minute())
            && is(self.hour, t.hour())
            && is(self.day, t.day())
            && is(self.month, t.month())
            && is(self.weekday, t.weekday().to_sunday_zero_offset())
    }
}

/// The calendar entries of a task; empty for `manual`.
pub fn calendar_intervals(
    task: &NativeTask,
    machine: &MachineZone,
    now: Timestamp,
) -> Result<Vec<CalendarInterval>, NativeError> {
    match &task.schedule {
        Schedule::Cron(cron) => {
            if !same_zone(&task.zone_name, &task.tz, machine) {
                return Err(wrong_zone(LAUNCHD, &task.zone_name, &machine.name)
                    .with_hint("launchd has no per-job time zone"));
            }
            cron_intervals(cron)
        }
        Schedule::Every(every) => {
            let (minutes, _) = minute_grid(
                LAUNCHD,
                every.period.as_secs(),
                task.anchor,
                &machine.tz,
                now,
                &every.to_string(),
            )?;
            Ok(minutes
                .split(',')
                .filter_map(|m| m.parse().ok())
                .map(|m| CalendarInterval {
                    minute: Some(m),
                    ..CalendarInterval::default()
                })
                .collect())
        }
        Schedule::At(_) => {
            let Some(at) = task.at_instant() else {
                return Ok(Vec::new());
            };
            let local = at.to_zoned_datetime(machine.tz.clone());
            if local.second() != 0 {
                return Err(NativeError::unsupported(
                    LAUNCHD,
                    format!("`{}`: launchd starts jobs on whole minutes", task.schedule),
                ));
            }
            // No year key: the entry comes back every year, and `tend run --slot latest`
            // finds no slot due then.
            Ok(vec![CalendarInterval {
                minute: Some(local.minute() as u8),
                hour: Some(local.hour() as u8),
                day: Some(local.day() as u8),
                month: Some(local.month() as u8),
                weekday: None,
            }])
        }
        Schedule::Manual => Ok(Vec::new()),
    }
}

fn cron_intervals(cron: &Cron) -> Result<Vec<CalendarInterval>, NativeError> {
    let f = CronFields::read(cron)?;
    let refuse = |what: String| Err(NativeError::unsupported(LAUNCHD, what));
    if f.second.mask() != 1 {
        return refuse(format!(
            "the seconds field `{}` of `{}`: launchd starts jobs on whole minutes",
            f.second.text, f.text
        ));
    }
    if f.year.years().is_some() {
        return refuse(format!("the year field `{}` of `{}`", f.year.text, f.text));
    }
    for field in [&f.dom, &f.dow] {
        if let Some(special) = field.special_text() {
            return Err(NativeError::unsupported(
                LAUNCHD,
                format!(
                    "`{special}` in the {} field of `{}` (launchd has no last or nth days)",
                    field.field.name(),
                    f.text
                ),
            ));
        }
    }
    // A key is left out when the field allows every value.
    let keys = |mask: u64, lo: u32, hi: u32| -> Vec<Option<u8>> {
        if mask == full(lo, hi) {
            vec![None]
        } else {
            values(mask).into_iter().map(|v| Some(v as u8)).collect()
        }
    };
    let minutes = keys(f.minute.mask(), 0, 59);
    let hours = keys(f.hour.mask(), 0, 23);
    let months = keys(f.month.mask(), 1, 12);
    let dom = keys(f.dom.mask(), 1, 31);
    let dow = keys(f.dow.mask(), 0, 6);
    let dom_all = dom == [None];
    let dow_all = dow == [None];
    // (day, weekday) choices, each its own entry.
    let days: Vec<(Option<u8>, Option<u8>)> = if f.dom_star || f.dow_star {
        match (dom_all, dow_all) {
            (true, _) => dow.iter().map(|w| (None, *w)).collect(),
            (false, true) => dom.iter().map(|d| (*d, None)).collect(),
            (false, false) => {
                return refuse(format!(
                    "`{}`: both day fields restricted with one beginning with `*` (cron ANDs them; launchd would OR them)",
                    f.text
                ));
            }
        }
    } else {
        dom.iter()
            .map(|d| (*d, None))
            .chain(dow.iter().map(|w| (None, *w)))
            .collect()
    };
    if months != [None] && days.iter().any(|(_, w)| w.is_some()) {
        return refuse(format!(
            "`{}`: weekdays limited to some months (launchd ignores the month of a weekday entry)",
            f.text
        ));
    }
    let count = minutes.len() * hours.len() * months.len() * days.len();
    if count > MAX_INTERVALS {
        return refuse(format!(
            "`{}`: it needs {count} calendar entries (launchd has no ranges or steps; tend writes at most {MAX_INTERVALS})",
            f.text
        ));
    }
    let mut out = Vec::with_capacity(count);
    for month in &months {
        for (day, weekday) in &days {
            for hour in &hours {
                for minute in &minutes {
                    out.push(CalendarInterval {
                        minute: *minute,
                        hour: *hour,
                        day: *day,
                        weekday: *weekday,
                        month: *month,
                    });
                }
            }
        }
    }
    Ok(out)
}

/// A plist file: its label (the file is `<label>.plist`) and contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plist {
    pub label: String,
    pub contents: String,
}

/// The marker comment in every plist tend writes.
pub const MARKER: &str =
    "<!-- Managed by tend (`tend sync --native`, `tend service`); do not edit. -->";

pub fn is_managed(contents: &str) -> bool {
    contents.contains(MARKER)
}

/// A task's agent; `None` for `manual`.
pub fn task_plist(
    task: &NativeTask,
    run: &Invocation,
    machine: &MachineZone,
    now: Timestamp,
) -> Result<Option<Plist>, NativeError> {
    let intervals = calendar_intervals(task, machine, now)?;
    if intervals.is_empty() {
        return Ok(None);
    }
    let label = format!("{TASK_PREFIX}{}", task.id);
    let mut body = String::new();
    let _ = writeln!(
        body,
        "  <!-- tend task {}: {} -->",
        escape(&task.title),
        escape(&task.schedule_text())
    );
    write_job(&mut body, &label, run);
    body.push_str("  <key>StartCalendarInterval</key>\n  <array>\n");
    for i in &intervals {
        body.push_str("    <dict>\n");
        for (key, value) in [
            ("Month", i.month),
            ("Day", i.day),
            ("Weekday", i.weekday),
            ("Hour", i.hour),
            ("Minute", i.minute),
        ] {
            if let Some(v) = value {
                let _ = writeln!(body, "      <key>{key}</key><integer>{v}</integer>");
            }
        }
        body.push_str("    </dict>\n");
    }
    body.push_str("  </array>\n");
    Ok(Some(Plist {
        contents: document(&body),
        label,
    }))
}

/// The daemon's agent: started at login, restarted when it fails.
pub fn daemon_plist(daemon: &Invocation) -> Plist {
    let mut body = String::new();
    write_job(&mut body, DAEMON_LABEL, daemon);
    body.push_str(
        "  <key>RunAtLoad</key>\n  <true/>\n  <key>KeepAlive</key>\n  <dict>\n    <key>SuccessfulExit</key>\n    <false/>\n  </dict>\n  <key>ProcessType</key>\n  <string>Background</string>\n",
    );
    Plist {
        label: DAEMON_LABEL.to_owned(),
        contents: document(&body),
    }
}

fn write_job(body: &mut String, label: &str, run: &Invocation) {
    let _ = writeln!(
        body,
        "  <key>Label</key>\n  <string>{}</string>",
        escape(label)
    );
    body.push_str("  <key>ProgramArguments</key>\n  <array>\n");
    for arg in std::iter::once(&run.program).chain(&run.args) {
        let _ = writeln!(body, "    <string>{}</string>", escape(arg));
    }
    body.push_str("  </array>\n");
    if !run.env.is_empty() {
        body.push_str("  <key>EnvironmentVariables</key>\n  <dict>\n");
        for (name, value) in &run.env {
            let _ = writeln!(
                body,
                "    <key>{}</key>\n    <string>{}</string>",
                escape(name),
                escape(value)
            );
        }
        body.push_str("  </dict>\n");
    }
    if let Some(dir) = &run.working_dir {
        let _ = writeln!(
            body,
            "  <key>WorkingDirectory</key>\n  <string>{}</string>",
            escape(dir)
        );
    }
    for key in ["StandardOutPath", "StandardErrorPath"] {
        let _ = writeln!(
            body,
            "  <key>{key}</key>\n  <string>{}</string>",
            escape(&run.log_file)
        );
    }
}

fn document(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n{MARKER}\n<plist version=\"1.0\">\n<dict>\n{body}</dict>\n</plist>\n"
    )
}

#[cfg(test)]
mod tests;

//! Windows Task Scheduler tasks (`schtasks /Create /XML`): `\tend\daemon` for the daemon,
//! `\tend\task-<id>` per task.
//!
//! A cron expression becomes calendar triggers (daily, weekly, monthly on days, monthly on
//! the n-th or last weekday), one per time of day, or one with a repetition when the minutes
//! step evenly through a run of hours. A task has at most [`MAX_TRIGGERS`] triggers.
//! Calendar triggers read local time, so, as for cron, the task's zone must be the machine's.
//! `every` and `at` become time triggers at absolute (UTC) instants.

use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::civil::Date;
use tend_schedule::{Cron, Schedule};

use crate::crontab::wrong_zone;
use crate::fields::{CronFields, Item};
use crate::sets::{common_step, runs, values};
use crate::xml::escape;
use crate::{Backend, Invocation, MachineZone, NativeError, NativeTask, same_zone};

const SCHTASKS: Backend = Backend::Schtasks;

/// The Task Scheduler's limit.
pub const MAX_TRIGGERS: usize = 48;

/// The folder of tend's tasks in the Task Scheduler library.
pub const FOLDER: &str = "\\tend\\";

/// The daemon's task name.
pub const DAEMON_TASK: &str = "\\tend\\daemon";

/// Which days a calendar trigger fires on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Days {
    Daily,
    /// Bit 0 is Sunday.
    Weekly {
        weekdays: u8,
    },
    /// Bit d is day d; `last` adds the month's last day.
    Monthly {
        days: u32,
        last: bool,
        months: u16,
    },
    /// Bits 1–4 are the first to fourth week, bit 5 the last.
    MonthlyDayOfWeek {
        weeks: u8,
        weekdays: u8,
        months: u16,
    },
}

/// A repetition inside each day: every `interval` minutes for `duration` minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repetition {
    pub interval_minutes: u32,
    pub duration_minutes: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// Local time of day, on some days.
    Calendar {
        start: jiff::civil::DateTime,
        days: Days,
        repetition: Option<Repetition>,
    },
    /// An absolute instant, possibly repeating forever.
    Time {
        start: Timestamp,
        repetition: Option<Repetition>,
    },
}

/// The triggers of a task; empty for `manual`.
pub fn triggers(
    task: &NativeTask,
    machine: &MachineZone,
    now: Timestamp,
) -> Result<Vec<Trigger>, NativeError> {
    match &task.schedule {
        Schedule::Cron(cron) => {
            if !same_zone(&task.zone_name, &task.tz, machine) {
                return Err(wrong_zone(SCHTASKS, &task.zone_name, &machine.name));
            }
            let today = now.to_zoned_datetime(machine.tz.clone()).date();
            cron_triggers(cron, today)
        }
        Schedule::Every(every) => {
            let period = every.period.as_secs();
            if period % 60 != 0 || !(60..=31 * 86_400).contains(&period) {
                return Err(NativeError::unsupported(
                    SCHTASKS,
                    format!("`{every}`: repetitions are whole minutes, from 1 minute to 31 days"),
                ));
            }
            // The first slot not before the anchor's whole second, so it never fires early.
            let mut start = Timestamp::from_second(task.anchor.as_second()).unwrap_or(task.anchor);
            if start < task.anchor {
                start = Timestamp::from_second(task.anchor.as_second() + 1).unwrap_or(task.anchor);
            }
            Ok(vec![Trigger::Time {
                start,
                repetition: Some(Repetition {
                    interval_minutes: (period / 60) as u32,
                    duration_minutes: None,
                }),
            }])
        }
        Schedule::At(_) => Ok(task
            .at_instant()
            .map(|start| Trigger::Time {
                start,
                repetition: None,
            })
            .into_iter()
            .collect()),
        Schedule::Manual => Ok(Vec::new()),
    }
}

fn cron_triggers(cron: &Cron, today: Date) -> Result<Vec<Trigger>, NativeError> {
    let f = CronFields::read(cron)?;
    let refuse = |what: String| Err(NativeError::unsupported(SCHTASKS, what));
    let seconds = values(f.second.mask());
    let [second] = seconds.as_slice() else {
        return refuse(format!(
            "the seconds field `{}` of `{}`: one second per minute at most",
            f.second.text, f.text
        ));
    };
    if f.year.years().is_some() {
        return refuse(format!("the year field `{}` of `{}`", f.year.text, f.text));
    }
    let months = f.month.mask() as u16 & 0x1ffe;
    let all_months = months == 0x1ffe;
    let mut day_sets = Vec::new();
    let dom_days = f.dom.mask() as u32 & 0xffff_fffe;
    let mut last = false;
    for item in &f.dom.items {
        match item {
            Item::LastDay(0) => last = true,
            Item::All { .. } | Item::Range { .. } => {}
            Item::LastDay(_)
            | Item::Nearest(_)
            | Item::LastWeekday
            | Item::Nth { .. }
            | Item::LastOf(_) => {
                return refuse(format!(
                    "`{}` in the day-of-month field of `{}`",
                    f.dom.special_text().unwrap_or(&f.dom.text),
                    f.text
                ));
            }
        }
    }
    let weekdays = f.dow.mask() as u8 & 0x7f;
    let mut weeks_of: Vec<(u8, u8)> = Vec::new(); // (weeks, weekdays)
    for item in &f.dow.items {
        match *item {
            Item::Nth { weekday, nth } if nth <= 4 => weeks_of.push((1 << nth, 1 << weekday)),
            Item::LastOf(weekday) => weeks_of.push((1 << 5, 1 << weekday)),
            Item::All { .. } | Item::Range { .. } => {}
            Item::Nth { .. } | Item::LastDay(_) | Item::Nearest(_) | Item::LastWeekday => {
                return refuse(format!(
                    "`{}` in the day-of-week field of `{}` (the Task Scheduler knows weeks 1–4 and the last)",
                    f.dow.special_text().unwrap_or(&f.dow.text),
                    f.text
                ));
            }
        }
    }
    let dom_all = dom_days == 0xffff_fffe;
    let dow_all = weekdays == 0x7f && weeks_of.is_empty();
    let monthly_days = |days: u32, last: bool| Days::Monthly { days, last, months };
    let weekly = |weekdays: u8| {
        if all_months {
            Days::Weekly { weekdays }
        } else {
            Days::MonthlyDayOfWeek {
                weeks: 0b11_1110,
                weekdays,
                months,
            }
        }
    };
    let push_dow = |sets: &mut Vec<Days>| {
        if weekdays != 0 {
            sets.push(weekly(weekdays));
        }
        for (weeks, wd) in &weeks_of {
            sets.push(Days::MonthlyDayOfWeek {
                weeks: *weeks,
                weekdays: *wd,
                months,
            });
        }
    };
    if f.dom_star || f.dow_star {
        match (dom_all && !last, dow_all) {
            (true, true) if all_months => day_sets.push(Days::Daily),
            (true, true) => day_sets.push(monthly_days(dom_days, false)),
            (true, false) => push_dow(&mut day_sets),
            (false, true) => day_sets.push(monthly_days(dom_days, last)),
            (false, false) => {
                return refuse(format!(
                    "`{}`: both day fields restricted with one beginning with `*` (cron ANDs them)",
                    f.text
                ));
            }
        }
    } else {
        if dom_days != 0 || last {
            day_sets.push(monthly_days(dom_days, last));
        }
        push_dow(&mut day_sets);
    }

    let times = times_of_day(f.hour.mask(), f.minute.mask());
    let count = times.len() * day_sets.len();
    if count > MAX_TRIGGERS {
        return refuse(format!(
            "`{}`: it needs {count} triggers (at most {MAX_TRIGGERS} per task)",
            f.text
        ));
    }
    let mut out = Vec::with_capacity(count);
    for days in &day_sets {
        for (h, m, repetition) in &times {
            let start = today.at(*h as i8, *m as i8, *second as i8, 0);
            out.push(Trigger::Calendar {
                start,
                days: *days,
                repetition: *repetition,
            });
        }
    }
    Ok(out)
}

/// Start times of day, each with its repetition: one per run of consecutive hours when the
/// minutes step evenly through whole hours (`*/15`), else one per (hour, minute).
fn times_of_day(hours: u64, minutes: u64) -> Vec<(u32, u32, Option<Repetition>)> {
    let mins = values(minutes);
    let step = if mins.len() == 1 {
        Some(60)
    } else {
        common_step(&mins)
    };
    match step {
        Some(step) if 60 % step == 0 && mins[0] < step && mins.len() as u32 == 60 / step => {
            runs(&values(hours))
                .into_iter()
                .map(|(a, b)| {
                    let span = (b - a) * 60 + mins[mins.len() - 1] - mins[0];
                    let repetition = (span > 0).then_some(Repetition {
                        interval_minutes: step,
                        // Just past the last start, so it is included and nothing after it.
                        duration_minutes: Some(span + 1),
                    });
                    (a, mins[0], repetition)
                })
                .collect()
        }
        _ => values(hours)
            .into_iter()
            .flat_map(|h| mins.iter().map(move |m| (h, *m, None)))
            .collect(),
    }
}

/// The task's XML; `None` for `manual`.
pub fn task_xml(
    task: &NativeTask,
    run: &Invocation,
    machine: &MachineZone,
    now: Timestamp,
) -> Result<Option<String>, NativeError> {
    let triggers = triggers(task, machine, now)?;
    if triggers.is_empty() {
        return Ok(None);
    }
    let mut text = String::new();
    for t in &triggers {
        write_trigger(&mut text, t);
    }
    Ok(Some(document(
        &format!("tend task {}: {}", task.title, task.schedule_text()),
        &text,
        run,
        Policy::Task,
    )))
}

/// The daemon's task: started at logon, restarted when it fails.
pub fn daemon_xml(daemon: &Invocation) -> String {
    document(
        "tend: runs scheduled tasks",
        "    <LogonTrigger>\n      <Enabled>true</Enabled>\n    </LogonTrigger>\n",
        daemon,
        Policy::Daemon,
    )
}

/// The marker in every task tend writes.
pub const MARKER: &str = "Managed by tend (`tend sync --native`, `tend service`); do not edit.";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    Task,
    Daemon,
}

fn write_trigger(text: &mut String, trigger: &Trigger) {
    let repetition = |text: &mut String, r: &Option<Repetition>| {
        if let Some(r) = r {
            let _ = write!(
                text,
                "      <Repetition>\n        <Interval>PT{}M</Interval>\n",
                r.interval_minutes
            );
            if let Some(d) = r.duration_minutes {
                let _ = write!(
                    text,
                    "        <Duration>PT{d}M</Duration>\n        <StopAtDurationEnd>false</StopAtDurationEnd>\n"
                );
            }
            text.push_str("      </Repetition>\n");
        }
    };
    match trigger {
        Trigger::Time {
            start,
            repetition: r,
        } => {
            text.push_str("    <TimeTrigger>\n");
            repetition(text, r);
            let _ = write!(
                text,
                "      <StartBoundary>{}</StartBoundary>\n      <Enabled>true</Enabled>\n    </TimeTrigger>\n",
                start.strftime("%Y-%m-%dT%H:%M:%SZ")
            );
        }
        Trigger::Calendar {
            start,
            days,
            repetition: r,
        } => {
            text.push_str("    <CalendarTrigger>\n");
            repetition(text, r);
            let _ = writeln!(
                text,
                "      <StartBoundary>{}</StartBoundary>\n      <Enabled>true</Enabled>",
                start.strftime("%Y-%m-%dT%H:%M:%S")
            );
            write_days(text, days);
            text.push_str("    </CalendarTrigger>\n");
        }
    }
}

const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn write_days(text: &mut String, days: &Days) {
    let weekdays = |text: &mut String, mask: u8| {
        text.push_str("        <DaysOfWeek>\n");
        for (i, name) in WEEKDAYS.iter().enumerate() {
            if mask & 1 << i != 0 {
                let _ = writeln!(text, "          <{name} />");
            }
        }
        text.push_str("        </DaysOfWeek>\n");
    };
    let months = |text: &mut String, mask: u16| {
        text.push_str("        <Months>\n");
        for (i, name) in MONTHS.iter().enumerate() {
            if mask & 1 << (i + 1) != 0 {
                let _ = writeln!(text, "          <{name} />");
            }
        }
        text.push_str("        </Months>\n");
    };
    match *days {
        Days::Daily => text.push_str(
            "      <ScheduleByDay>\n        <DaysInterval>1</DaysInterval>\n      </ScheduleByDay>\n",
        ),
        Days::Weekly { weekdays: mask } => {
            text.push_str("      <ScheduleByWeek>\n");
            weekdays(text, mask);
            text.push_str("        <WeeksInterval>1</WeeksInterval>\n      </ScheduleByWeek>\n");
        }
        Days::Monthly {
            days,
            last,
            months: mask,
        } => {
            text.push_str("      <ScheduleByMonth>\n        <DaysOfMonth>\n");
            for d in values(u64::from(days)) {
                let _ = writeln!(text, "          <Day>{d}</Day>");
            }
            if last {
                text.push_str("          <Day>Last</Day>\n");
            }
            text.push_str("        </DaysOfMonth>\n");
            months(text, mask);
            text.push_str("      </ScheduleByMonth>\n");
        }
        Days::MonthlyDayOfWeek {
            weeks,
            weekdays: mask,
            months: month_mask,
        } => {
            text.push_str("      <ScheduleByMonthDayOfWeek>\n        <Weeks>\n");
            for w in 1..=4 {
                if weeks & 1 << w != 0 {
                    let _ = writeln!(text, "          <Week>{w}</Week>");
                }
            }
            if weeks & 1 << 5 != 0 {
                text.push_str("          <Week>Last</Week>\n");
            }
            text.push_str("        </Weeks>\n");
            weekdays(text, mask);
            months(text, month_mask);
            text.push_str("      </ScheduleByMonthDayOfWeek>\n");
        }
    }
}

fn document(description: &str, triggers: &str, run: &Invocation, policy: Policy) -> String {
    let (command, arguments) = command_line(run);
    let settings = match policy {
        Policy::Task => {
            "    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>\n    <StartWhenAvailable>true</StartWhenAvailable>\n    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>\n"
        }
        Policy::Daemon => {
            "    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>\n    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>\n    <RestartOnFailure>\n      <Interval>PT1M</Interval>\n      <Count>999</Count>\n    </RestartOnFailure>\n"
        }
    };
    let mut text = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<!-- {MARKER} -->\n<Task version=\"1.2\" xmlns=\"http://schemas.microsoft.com/windows/2004/02/mit/task\">\n  <RegistrationInfo>\n    <Description>{}</Description>\n  </RegistrationInfo>\n  <Triggers>\n{triggers}  </Triggers>\n  <Settings>\n{settings}    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>\n    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>\n    <Enabled>true</Enabled>\n  </Settings>\n  <Actions Context=\"Author\">\n    <Exec>\n      <Command>{}</Command>\n      <Arguments>{}</Arguments>\n",
        escape(description),
        escape(&command),
        escape(&arguments),
    );
    if let Some(dir) = &run.working_dir {
        let _ = writeln!(
            text,
            "      <WorkingDirectory>{}</WorkingDirectory>",
            escape(dir)
        );
    }
    text.push_str("    </Exec>\n  </Actions>\n</Task>\n");
    text
}

/// The program and its argument string. The Task Scheduler sets no environment variables,
/// so with any to set the command goes through `cmd.exe /c set …&& …`.
fn command_line(run: &Invocation) -> (String, String) {
    let args: Vec<String> = run.args.iter().map(|a| quote_arg(a)).collect();
    if run.env.is_empty() {
        return (run.program.clone(), args.join(" "));
    }
    let mut line = String::from("/d /s /c \"");
    for (name, value) in &run.env {
        let _ = write!(line, "set \"{name}={value}\"&& ");
    }
    line.push_str(&quote_arg(&run.program));
    for a in &args {
        line.push(' ');
        line.push_str(a);
    }
    line.push('"');
    ("cmd.exe".to_owned(), line)
}

/// One argument as `CommandLineToArgvW` reads it back.
fn quote_arg(arg: &str) -> String {
    if !arg.is_empty() && !arg.contains([' ', '\t', '"']) {
        return arg.to_owned();
    }
    let mut out = String::from("\"");
    let mut backslashes = 0;
    for c in arg.chars() {
        match c {
            '\\' => backslashes += 1,
            '"' => {
                out.extend(std::iter::repeat_n('\\', backslashes * 2 + 1));
                out.push('"');
                backslashes = 0;
            }
            c => {
                out.extend(std::iter::repeat_n('\\', backslashes));
                out.push(c);
                backslashes = 0;
            }
        }
    }
    out.extend(std::iter::repeat_n('\\', backslashes * 2));
    out.push('"');
    out
}

#[cfg(test)]
mod tests;

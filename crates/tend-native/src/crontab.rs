//! The user's crontab: one marked block of tend's lines, the user's own lines kept byte for
//! byte.
//!
//! Written for Debian's cron (Vixie cron 3.0pl1 with Debian's patches): five fields, no
//! seconds, no years, no `L`/`W`/`#`, names only as single values (so tend writes numbers),
//! and no `CRON_TZ`: times are read in the cron daemon's zone, taken to be the machine's. A
//! task in another zone is refused unless both zones are the same fixed offset.
//!
//! Daylight saving: Debian's cron runs a fixed-time job that a spring-forward gap skips right
//! after the gap and does not repeat it in a fall-back hour, as tend does; it calls a job
//! "fixed-time" unless its minute or hour field begins with `*`, where tend looks at the hour
//! field only (`*` or a step). Where the two disagree, `tend run --slot latest` still claims
//! each slot once: a second firing finds the slot taken, a missing one is recorded `missed`
//! by the next run.

use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use tend_schedule::{Cron, Schedule};

use crate::fields::{CronFields, FieldItems, Item};
use crate::{Backend, Invocation, MachineZone, NativeError, NativeTask, same_zone};

const CRON: Backend = Backend::Cron;

/// The block's first line.
pub const BEGIN: &str = "# BEGIN tend (managed by tend sync --native; do not edit)";
/// The block's last line.
pub const END: &str = "# END tend";

/// One task's line in the block, with its comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub task_id: String,
    pub title: String,
    /// The five time fields.
    pub when: String,
    /// The whole crontab line.
    pub line: String,
    pub comment: String,
}

/// The five crontab time fields of a task; `None` for `manual` (and an `at` without an
/// instant).
pub fn fields(
    task: &NativeTask,
    machine: &MachineZone,
    now: Timestamp,
) -> Result<Option<String>, NativeError> {
    match &task.schedule {
        Schedule::Cron(cron) => {
            if !same_zone(&task.zone_name, &task.tz, machine) {
                return Err(wrong_zone(CRON, &task.zone_name, &machine.name));
            }
            cron_fields(cron).map(Some)
        }
        Schedule::Every(every) => minute_grid(
            CRON,
            every.period.as_secs(),
            task.anchor,
            &machine.tz,
            now,
            &every.to_string(),
        )
        .map(|(minutes, _)| Some(format!("{minutes} * * * *"))),
        Schedule::At(_) => {
            let Some(at) = task.at_instant() else {
                return Ok(None);
            };
            let local = at.to_zoned_datetime(machine.tz.clone());
            if local.second() != 0 || local.subsec_nanosecond() != 0 {
                return Err(NativeError::unsupported(
                    CRON,
                    format!("`{}`: cron starts jobs on whole minutes", task.schedule),
                ));
            }
            // No year field: the line comes back every year, and `tend run --slot latest`
            // finds no slot due then.
            Ok(Some(format!(
                "{} {} {} {} *",
                local.minute(),
                local.hour(),
                local.day(),
                local.month()
            )))
        }
        Schedule::Manual => Ok(None),
    }
}

pub(crate) fn wrong_zone(backend: Backend, task_zone: &str, machine_zone: &str) -> NativeError {
    NativeError::Unsupported {
        backend,
        what: format!(
            "a schedule in {task_zone}: it reads times in the machine's zone ({machine_zone}) and has no per-job time zone"
        ),
        hint: format!(
            "set `timezone = \"{machine_zone}\"` in the task, use `--backend systemd` (which takes a zone per timer), or let tend's own daemon run it (`tend service install`)"
        ),
    }
}

fn cron_fields(cron: &Cron) -> Result<String, NativeError> {
    let f = CronFields::read(cron)?;
    if f.second.mask() != 1 {
        return Err(NativeError::unsupported(
            CRON,
            format!(
                "the seconds field `{}` of `{}`: cron starts jobs once a minute, at second 0",
                f.second.text, f.text
            ),
        ));
    }
    if f.year.years().is_some() {
        return Err(NativeError::unsupported(
            CRON,
            format!("the year field `{}` of `{}`", f.year.text, f.text),
        ));
    }
    let parts = [&f.minute, &f.hour, &f.dom, &f.month, &f.dow]
        .into_iter()
        .map(|field| spell_field(field, &f.text))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(parts.join(" "))
}

/// A field in the syntax every cron reads: numbers, `*`, `a-b`, `/n`.
fn spell_field(field: &FieldItems, text: &str) -> Result<String, NativeError> {
    let parts = field
        .items
        .iter()
        .map(|item| match *item {
            Item::All { step: 1 } => Ok("*".to_owned()),
            Item::All { step } => Ok(format!("*/{step}")),
            Item::Range { start, end, step } => Ok(match (start == end, step) {
                (true, _) => format!("{start}"),
                (false, 1) => format!("{start}-{end}"),
                (false, step) => format!("{start}-{end}/{step}"),
            }),
            Item::LastDay(_)
            | Item::Nearest(_)
            | Item::LastWeekday
            | Item::Nth { .. }
            | Item::LastOf(_) => Err(NativeError::unsupported(
                CRON,
                format!(
                    "`{}` in the {} field of `{text}` (cron has no `L`, `W` or `#`)",
                    field.special_text().unwrap_or(&field.text),
                    field.field.name()
                ),
            )
            .with_hint("`--backend systemd` can express it")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(parts.join(","))
}

/// `every <period>` as minutes of every hour in the machine's zone: `(minute list, count)`.
///
/// Exact when the period is whole minutes dividing an hour, its slots fall on second 0, and
/// every offset of the zone from `now` on has the same minutes (daylight saving moves whole
/// hours), so local minutes are the same instants as UTC minutes.
pub(crate) fn minute_grid(
    backend: Backend,
    period: u64,
    anchor: Timestamp,
    tz: &TimeZone,
    now: Timestamp,
    every: &str,
) -> Result<(String, u32), NativeError> {
    if period == 0 || !period.is_multiple_of(60) || !3600u64.is_multiple_of(period) {
        return Err(NativeError::unsupported(
            backend,
            format!(
                "`{every}`: only periods of whole minutes that divide an hour (1m, 5m, 15m, 30m, 1h) line up with its minute fields"
            ),
        ));
    }
    if anchor.as_second().rem_euclid(60) != 0 {
        return Err(NativeError::unsupported(
            backend,
            format!("`{every}` anchored at {anchor}: its slots are not on whole minutes"),
        )
        .with_hint("add `anchor = \"2026-01-01 00:00\"` (any whole minute) to the task"));
    }
    let offsets_minutes = |secs: i32| (secs % 60 == 0).then(|| (secs / 60).rem_euclid(60));
    let first = offsets_minutes(tz.to_offset(now).seconds());
    let constant = first.is_some()
        && tz
            .following(now)
            .take(64)
            .all(|t| offsets_minutes(t.offset().seconds()) == first);
    let Some(shift) = first.filter(|_| constant) else {
        return Err(NativeError::unsupported(
            backend,
            format!(
                "`{every}` in this machine's zone: its UTC offset changes by other than whole hours"
            ),
        ));
    };
    let step = (period / 60) as i64;
    let utc_minute = anchor.as_second().div_euclid(60).rem_euclid(60);
    let start = (utc_minute + i64::from(shift)).rem_euclid(step);
    let minutes: Vec<String> = (0..60 / step)
        .map(|k| (start + k * step).to_string())
        .collect();
    Ok((minutes.join(","), minutes.len() as u32))
}

/// A task's entry: its comment and its line, which runs `run` with its environment on the
/// line (cron's own is minimal) and appends output to the invocation's log file.
pub fn entry(
    task: &NativeTask,
    run: &Invocation,
    machine: &MachineZone,
    now: Timestamp,
) -> Result<Option<Entry>, NativeError> {
    let Some(when) = fields(task, machine, now)? else {
        return Ok(None);
    };
    let mut command = String::new();
    if let Some(dir) = &run.working_dir {
        let _ = write!(command, "cd {} && ", shell_quote(dir));
    }
    for (name, value) in &run.env {
        let _ = write!(command, "{name}={} ", shell_quote(value));
    }
    command.push_str(&shell_quote(&run.program));
    for arg in &run.args {
        command.push(' ');
        command.push_str(&shell_quote(arg));
    }
    let _ = write!(command, " >> {} 2>&1", shell_quote(&run.log_file));
    Ok(Some(Entry {
        task_id: task.id.clone(),
        title: task.title.clone(),
        comment: format!(
            "# tend task {} [{}]: {}",
            task.title,
            task.id,
            task.schedule_text()
        ),
        line: format!("{when} {}", escape_percent(&command)),
        when,
    }))
}

/// Single quotes for `/bin/sh`.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=,@".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// cron turns an unescaped `%` into a newline.
fn escape_percent(command: &str) -> String {
    command.replace('%', "\\%")
}

/// The block for these entries; empty when there are none.
pub fn render_block(entries: &[Entry]) -> String {
    if entries.is_empty() {
        return String::new();
    }
    let mut text = format!("{BEGIN}\n");
    for e in entries {
        let _ = writeln!(text, "{}\n{}", e.comment, e.line);
    }
    let _ = writeln!(text, "{END}");
    text
}

/// `existing` with its tend block replaced by `block` (appended where there was none;
/// removed when `block` is empty). Every other byte stays as it was.
pub fn merge(existing: &str, block: &str) -> String {
    match block_span(existing) {
        Some((start, end)) => format!("{}{block}{}", &existing[..start], &existing[end..]),
        None if block.is_empty() => existing.to_owned(),
        None if existing.is_empty() || existing.ends_with('\n') => format!("{existing}{block}"),
        None => format!("{existing}\n{block}"),
    }
}

/// The current tend block, if any.
pub fn block(existing: &str) -> Option<&str> {
    block_span(existing).map(|(start, end)| &existing[start..end])
}

/// The task ids of the entries in a tend block.
pub fn task_ids(existing: &str) -> Vec<String> {
    entries(existing).into_iter().map(|e| e.task_id).collect()
}

/// The entries of the tend block: each comment line with the line after it.
pub fn entries(existing: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut lines = block(existing).unwrap_or("").lines();
    while let Some(comment) = lines.next() {
        let Some(rest) = comment.strip_prefix("# tend task ") else {
            continue;
        };
        let Some((title, rest)) = rest.split_once(" [") else {
            continue;
        };
        let Some((id, _)) = rest.split_once("]:") else {
            continue;
        };
        let Some(line) = lines.next() else {
            break;
        };
        out.push(Entry {
            task_id: id.to_owned(),
            title: title.to_owned(),
            when: line
                .split_whitespace()
                .take(5)
                .collect::<Vec<_>>()
                .join(" "),
            line: line.to_owned(),
            comment: comment.to_owned(),
        });
    }
    out
}

/// Byte range of the block: from the start of its BEGIN line through the newline ending its
/// END line (or the end of the text).
fn block_span(text: &str) -> Option<(usize, usize)> {
    let mut offset = 0;
    let mut start = None;
    for line in text.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        match start {
            None if content == BEGIN => start = Some(offset),
            Some(s) if content == END => return Some((s, offset + line.len())),
            _ => {}
        }
        offset += line.len();
    }
    // A BEGIN without END (a hand-edited file): the block runs to the end.
    start.map(|s| (s, text.len()))
}

#[cfg(test)]
mod tests;

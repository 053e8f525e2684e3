//! systemd `--user` units: `tend.service` for the daemon, and per task a oneshot service and
//! a timer (`Persistent=true`, so a slot missed while the machine was off runs at boot, once).

mod calendar;

use std::fmt::Write as _;

use jiff::Timestamp;

pub use calendar::on_calendar;

use crate::{Invocation, NativeError, NativeTask};

/// The first line of every unit tend writes: only files that start with it are ever changed
/// or removed by tend.
pub const MARKER: &str = "# Managed by tend (`tend sync --native`, `tend service`): rewritten or removed by tend; do not edit.";

/// The daemon's unit.
pub const DAEMON_UNIT: &str = "tend.service";

/// Prefix of the per-task units' names.
pub const TASK_PREFIX: &str = "tend-task-";

/// A unit file: its name (`tend-task-triage-1a2b3c4d.timer`) and contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitFile {
    pub name: String,
    pub contents: String,
}

/// Whether a unit file was written by tend.
pub fn is_managed(contents: &str) -> bool {
    contents.lines().next() == Some(MARKER)
}

/// The service and timer of a task (nothing for `manual`, or an `at` without an instant).
pub fn task_units(
    task: &NativeTask,
    run: &Invocation,
    now: Timestamp,
) -> Result<Vec<UnitFile>, NativeError> {
    let events = on_calendar(task, now)?;
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let base = format!("{TASK_PREFIX}{}", task.id);
    let mut service = format!(
        "{MARKER}\n# Task {} ({})\n[Unit]\nDescription={}\n\n[Service]\nType=oneshot\n",
        task.title,
        task.source,
        escape_specifiers(&format!("tend task {}", task.title)),
    );
    write_exec(&mut service, run);
    let mut timer = format!(
        "{MARKER}\n# Schedule: {}\n[Unit]\nDescription={}\n\n[Timer]\n",
        task.schedule_text(),
        escape_specifiers(&format!("tend timer for {}", task.title)),
    );
    for event in &events {
        let _ = writeln!(timer, "OnCalendar={event}");
    }
    timer.push_str("Persistent=true\nAccuracySec=1s\n");
    if let Some(jitter) = task.jitter.filter(|j| j.as_secs() > 0) {
        // systemd's delay is fixed per machine and timer, not tend's per-name value; the slot
        // claimed is the same either way.
        let _ = writeln!(
            timer,
            "RandomizedDelaySec={}s\nFixedRandomDelay=true",
            jitter.as_secs()
        );
    }
    timer.push_str("\n[Install]\nWantedBy=timers.target\n");
    Ok(vec![
        UnitFile {
            name: format!("{base}.service"),
            contents: service,
        },
        UnitFile {
            name: format!("{base}.timer"),
            contents: timer,
        },
    ])
}

/// `tend.service`: the daemon, restarted when it fails, started with the user's session.
pub fn daemon_unit(daemon: &Invocation) -> UnitFile {
    let mut text = format!(
        "{MARKER}\n[Unit]\nDescription=tend: runs scheduled tasks\n\n[Service]\nType=simple\n"
    );
    write_exec(&mut text, daemon);
    text.push_str("Restart=on-failure\nRestartSec=5s\n\n[Install]\nWantedBy=default.target\n");
    UnitFile {
        name: DAEMON_UNIT.to_owned(),
        contents: text,
    }
}

fn write_exec(text: &mut String, run: &Invocation) {
    if let Some(dir) = &run.working_dir {
        let _ = writeln!(text, "WorkingDirectory={}", escape_specifiers(dir));
    }
    for (name, value) in &run.env {
        let _ = writeln!(text, "Environment={}", quote(&format!("{name}={value}")));
    }
    let mut exec = quote(&run.program);
    for arg in &run.args {
        exec.push(' ');
        exec.push_str(&quote(arg));
    }
    let _ = writeln!(text, "ExecStart={}", exec.replace('$', "$$"));
}

/// `%` starts a specifier in most unit settings.
fn escape_specifiers(text: &str) -> String {
    text.replace('%', "%%")
}

/// One word of a command line or an `Environment=` assignment: as is when plain, else in
/// double quotes with C escapes.
fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=,@".contains(c));
    if plain {
        return escape_specifiers(word);
    }
    let mut out = String::from("\"");
    for c in escape_specifiers(word).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests;

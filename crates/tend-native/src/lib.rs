//! tend's schedules in the words of the operating system's own schedulers: systemd timers
//! (`OnCalendar=`), crontab lines, launchd agents (`StartCalendarInterval`) and Windows Task
//! Scheduler XML. Pure: no file system, no processes, no clock (instants are passed in); the
//! CLI writes the files and runs `systemctl`, `crontab`, `launchctl` or `schtasks`.
//!
//! Every registered task calls `tend run --slot latest TASK`, which claims the slot in tend's
//! store, so an OS timer and tend's daemon can never run the same slot twice.
//!
//! What a backend cannot express exactly is refused with a [`NativeError`] that names the
//! field and suggests tend's own daemon, never approximated silently.

pub mod crontab;
mod fields;
pub mod launchd;
pub mod schtasks;
mod sets;
pub mod systemd;
mod xml;

use std::fmt;
use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use tend_schedule::Schedule;

pub use fields::{Field, ReadBackError};

/// An OS scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// systemd `--user` timers (Linux).
    Systemd,
    /// The user's crontab (Debian's Vixie cron, cronie, ...).
    Cron,
    /// launchd agents (macOS).
    Launchd,
    /// The Windows Task Scheduler.
    Schtasks,
}

impl Backend {
    pub const ALL: [Backend; 4] = [
        Backend::Systemd,
        Backend::Cron,
        Backend::Launchd,
        Backend::Schtasks,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Backend::Systemd => "systemd",
            Backend::Cron => "cron",
            Backend::Launchd => "launchd",
            Backend::Schtasks => "schtasks",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a task cannot be registered with a backend.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NativeError {
    /// The backend has no way to say this schedule (or this part of it) exactly.
    #[error("{backend} cannot express {what}")]
    Unsupported {
        backend: Backend,
        what: String,
        hint: String,
    },
    #[error(transparent)]
    ReadBack(#[from] ReadBackError),
}

impl NativeError {
    pub fn hint(&self) -> Option<&str> {
        match self {
            NativeError::Unsupported { hint, .. } => Some(hint),
            NativeError::ReadBack(_) => None,
        }
    }

    pub(crate) fn unsupported(backend: Backend, what: impl Into<String>) -> NativeError {
        NativeError::Unsupported {
            backend,
            what: what.into(),
            hint: DAEMON_HINT.to_owned(),
        }
    }

    pub(crate) fn with_hint(self, extra: &str) -> NativeError {
        match self {
            NativeError::Unsupported {
                backend,
                what,
                hint,
            } => NativeError::Unsupported {
                backend,
                what,
                hint: format!("{extra}; {hint}"),
            },
            other @ NativeError::ReadBack(_) => other,
        }
    }
}

const DAEMON_HINT: &str = "let tend's own daemon run this task instead (`tend service install`, \
    and leave it out of `tend sync --native`), or change the schedule";

/// A task as the OS schedulers see it.
#[derive(Debug, Clone, PartialEq)]
pub struct NativeTask {
    /// Unique and safe in file names and labels: `<name>-<hash of scope>` (see [`task_id`]).
    pub id: String,
    /// How people name it: `project/name`.
    pub title: String,
    /// The task file, mentioned in generated files' comments.
    pub source: String,
    pub schedule: Schedule,
    /// The IANA name of the task's zone.
    pub zone_name: String,
    pub tz: TimeZone,
    /// The phase of an `every` schedule; when a time-only `at` was set.
    pub anchor: Timestamp,
    pub jitter: Option<Duration>,
}

impl NativeTask {
    /// The schedule, as the task file says it, with its zone: `0 9 * * 1-5 (Europe/Berlin)`.
    pub fn schedule_text(&self) -> String {
        format!("{} ({})", self.schedule, self.zone_name)
    }

    /// The one instant of an `at` schedule.
    pub(crate) fn at_instant(&self) -> Option<Timestamp> {
        tend_schedule::Plan::new(self.schedule.clone(), self.tz.clone(), self.anchor)
            .next_after(Timestamp::MIN)
            .map(|slot| slot.due)
    }
}

/// A command the OS scheduler starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// Absolute path of the program (the tend binary).
    pub program: String,
    pub args: Vec<String>,
    /// Variables to set, in order (TEND_HOME and friends; never secrets).
    pub env: Vec<(String, String)>,
    pub working_dir: Option<String>,
    /// Where output goes for backends without a journal (cron, launchd).
    pub log_file: String,
}

/// The machine's zone: what cron, launchd and the Task Scheduler read times in.
#[derive(Debug, Clone, PartialEq)]
pub struct MachineZone {
    pub name: String,
    pub tz: TimeZone,
}

/// Whether a task's zone reads local times exactly as the machine's does: the same zone, or
/// two zones without daylight saving at the same offset (`UTC` and `Etc/UTC`).
pub fn same_zone(task_name: &str, task_tz: &TimeZone, machine: &MachineZone) -> bool {
    if task_name == machine.name {
        return true;
    }
    match (fixed_offset(task_tz), fixed_offset(&machine.tz)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// The offset of a zone that never changed it.
fn fixed_offset(tz: &TimeZone) -> Option<jiff::tz::Offset> {
    tz.following(Timestamp::MIN)
        .next()
        .is_none()
        .then(|| tz.to_offset(Timestamp::UNIX_EPOCH))
}

/// A task's id for file names and labels: its name and 8 hex digits of a hash of where it
/// lives (`user` or the project's root), so tasks of the same name in two projects differ.
pub fn task_id(name: &str, scope: &str) -> String {
    format!("{name}-{:08x}", fnv1a(scope.as_bytes()) >> 32)
}

/// 64-bit FNV-1a: stable across Rust releases and machines, unlike std's hasher.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// A task with this schedule in this zone, anchored at `anchor` (RFC 3339).
    pub fn task(schedule: &str, zone: &str, anchor: &str) -> NativeTask {
        let tz = jiff::tz::db().get(zone).unwrap();
        NativeTask {
            id: task_id("triage", "/home/me/api"),
            title: "api/triage".into(),
            source: "/home/me/api/.tend/tasks/triage.md".into(),
            schedule: schedule.parse().unwrap(),
            zone_name: zone.into(),
            tz,
            anchor: anchor.parse().unwrap(),
            jitter: None,
        }
    }

    pub fn machine(zone: &str) -> MachineZone {
        MachineZone {
            name: zone.into(),
            tz: jiff::tz::db().get(zone).unwrap(),
        }
    }

    pub fn invocation() -> Invocation {
        Invocation {
            program: "/usr/local/bin/tend".into(),
            args: [
                "-C",
                "/home/me/api",
                "run",
                "--slot",
                "latest",
                "--quiet",
                "triage",
            ]
            .map(String::from)
            .to_vec(),
            env: vec![("TEND_HOME".into(), "/home/me/tend home".into())],
            working_dir: Some("/home/me/api".into()),
            log_file: "/home/me/tend home/state/logs/cron.log".into(),
        }
    }

    pub const NOW: &str = "2026-03-07T12:00:00Z";

    pub fn now() -> Timestamp {
        NOW.parse().unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn task_ids_are_stable_and_differ_by_scope() {
        assert_eq!(task_id("triage", "user"), task_id("triage", "user"));
        assert_ne!(task_id("triage", "/srv/a"), task_id("triage", "/srv/b"));
        let id = task_id("triage", "/srv/a");
        assert!(id.starts_with("triage-"));
        assert_eq!(id.len(), "triage-".len() + 8);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(task_id("x", "a"), "x-af63dc4c");
    }

    #[test]
    fn zones_match_by_name_or_fixed_offset() {
        let utc = MachineZone {
            name: "UTC".into(),
            tz: TimeZone::UTC,
        };
        let db = jiff::tz::db();
        assert!(same_zone("UTC", &TimeZone::UTC, &utc));
        assert!(same_zone("Etc/UTC", &db.get("Etc/UTC").unwrap(), &utc));
        assert!(!same_zone(
            "Europe/London",
            &db.get("Europe/London").unwrap(),
            &utc
        ));
        let berlin = MachineZone {
            name: "Europe/Berlin".into(),
            tz: db.get("Europe/Berlin").unwrap(),
        };
        assert!(same_zone("Europe/Berlin", &berlin.tz, &berlin));
        assert!(!same_zone(
            "Europe/Paris",
            &db.get("Europe/Paris").unwrap(),
            &berlin
        ));
    }
}

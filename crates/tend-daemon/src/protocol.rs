//! The control socket's protocol: newline-delimited JSON over the Unix socket
//! `<state>/daemon.sock`. A client writes one [`Request`] line and reads [`Reply`] lines until
//! the daemon closes its side; `run` streams the run's events before its end.

use std::path::PathBuf;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tend_agent::AgentEvent;

/// The socket of a state folder.
pub fn socket_path(state_dir: &std::path::Path) -> PathBuf {
    state_dir.join("daemon.sock")
}

/// A task as the CLI names it to the daemon: its project (none for a user task) and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRef {
    pub project: Option<PathBuf>,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Request {
    /// Is the daemon up, what does it schedule, what runs.
    Status,
    /// Active and queued runs.
    Ps,
    /// Cancel a run the daemon executes or holds queued.
    Cancel { run: String },
    /// Run a task now (manual trigger) and stream its events.
    Run { task: TaskRef },
    /// Look at the task files and registered projects again now.
    Reload,
    /// Every task the daemon loaded, with its next slot, and the files that do not load.
    Tasks,
    /// A human's answer to an approval request: the daemon records it and resumes the parked
    /// run from its checkpoint (`approve_always` also adds the allow rule to the task file).
    Answer {
        approval: i64,
        answer: Answer,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// Who answered, for the record.
        by: String,
    },
}

/// What a human says to an approval request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Approve,
    /// Approve, and add the allow rule to the task file so that the next run does not ask.
    ApproveAlways,
    Deny,
}

/// One line the daemon sends back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Reply {
    Status(Box<Status>),
    Ps {
        runs: Vec<RunInfo>,
    },
    /// The cancel was passed on (a running run ends `cancelled` shortly) or done (a queued run).
    Cancelled {
        run: String,
        was: String,
    },
    /// The daemon does not hold this run: the caller should look in the store.
    NotMine {
        run: String,
    },
    /// `run`: the run exists; `queued` when it waits for a free worker.
    RunCreated {
        run: String,
        queued: bool,
    },
    /// `run`: one event of the session, as it happens.
    Event {
        event: AgentEvent,
    },
    /// `run`: the end.
    RunEnded(Box<RunEnded>),
    Reloaded {
        tasks: usize,
        broken: usize,
    },
    /// `tasks`: what the daemon schedules.
    Tasks {
        tasks: Vec<TaskInfo>,
        /// Task and config files that do not load, as `file:line:col: error: ...`.
        broken: Vec<String>,
    },
    /// `answer`: recorded; the run resumes (it is queued when every worker is busy).
    Answered {
        approval: i64,
        run: String,
        /// The allow rule added to the task file (`approve_always`).
        rule_added: Option<String>,
    },
    Error {
        message: String,
    },
}

/// The answer to `status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub pid: u32,
    pub version: String,
    pub started_at: Timestamp,
    pub uptime_ms: u64,
    /// Tasks with a schedule (enabled, valid, not done).
    pub tasks_scheduled: usize,
    /// Task files that do not load, as `file:line:col: error: ...`.
    pub broken: Vec<String>,
    pub next: Option<NextSlot>,
    pub runs_active: usize,
    pub runs_queued: usize,
    pub max_concurrent_runs: usize,
    /// How often the scheduler loop woke up (for the idle wake-up benchmark).
    pub wakeups: u64,
    pub log_dir: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextSlot {
    pub task: String,
    pub due: Timestamp,
    pub fire_at: Timestamp,
}

/// A task the daemon loaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskInfo {
    /// The task's id in the store.
    pub id: i64,
    pub task: TaskRef,
    /// `project/name` or `user/name`.
    pub label: String,
    pub description: Option<String>,
    pub path: PathBuf,
    /// The schedule as written (`0 */4 * * *`).
    pub schedule: String,
    /// The schedule in words.
    pub describe: String,
    pub timezone: String,
    pub enabled: bool,
    /// The next slot the daemon will deal with; `None` for a manual task, a finished one-shot
    /// or a disabled task.
    pub next: Option<SlotTimes>,
    /// The resolved settings as `tend show` prints them ([`shown_settings`]).
    pub settings: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotTimes {
    pub due: Timestamp,
    pub fire_at: Timestamp,
}

/// A task's resolved settings as `tend show` and the dashboard show them: the serialization of
/// [`tend_config::ResolvedTask`], which leaves out what may hold a secret (channels' URLs)
/// and keeps `${VAR}` references unexpanded, without what is shown on its own (name, path,
/// scope, prompt).
pub fn shown_settings(task: &tend_config::ResolvedTask) -> serde_json::Value {
    let mut settings = serde_json::to_value(task).unwrap_or(serde_json::Value::Null);
    if let serde_json::Value::Object(map) = &mut settings {
        for key in ["name", "path", "scope", "prompt"] {
            map.remove(key);
        }
    }
    settings
}

/// Settings as `key.sub = value` lines, as `tend show` prints them: arrays of plain values on
/// one line, `null`s left out.
pub fn flatten_settings(value: &serde_json::Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    flatten("", value, &mut out);
    out
}

fn flatten(prefix: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    use serde_json::Value;
    let key = |k: &str| {
        if prefix.is_empty() {
            k.to_owned()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(&key(k), v, out);
            }
        }
        Value::Null => {}
        Value::String(s) => out.push((prefix.to_owned(), s.clone())),
        Value::Array(items) if items.iter().all(|v| !v.is_object()) => {
            if items.is_empty() {
                out.push((prefix.to_owned(), "[]".to_owned()));
            } else {
                let parts: Vec<String> = items
                    .iter()
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect();
                out.push((prefix.to_owned(), parts.join(", ")));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), item, out);
            }
        }
        Value::Bool(_) | Value::Number(_) => out.push((prefix.to_owned(), value.to_string())),
    }
}

/// A run the daemon holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInfo {
    pub run: String,
    pub task: String,
    pub trigger: String,
    /// `running` or `queued`.
    pub state: String,
    pub slot_due: Option<Timestamp>,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    /// For a queued run: what it waits for.
    pub waiting_for: Option<String>,
}

/// How a run the daemon executed for `run` ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunEnded {
    pub run: String,
    /// The run's terminal state (`succeeded`, `failed`, ...).
    pub state: String,
    /// The report's status.
    pub status: Option<String>,
    pub summary: String,
    pub run_dir: PathBuf,
    pub branch: Option<String>,
    /// Set when the run could not be executed at all.
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn requests_and_replies_are_one_json_line_each() {
        let req = Request::Run {
            task: TaskRef {
                project: Some("/r".into()),
                name: "t".into(),
            },
        };
        let line = serde_json::to_string(&req).unwrap();
        assert_eq!(line, r#"{"cmd":"run","task":{"project":"/r","name":"t"}}"#);
        assert_eq!(serde_json::from_str::<Request>(&line).unwrap(), req);
        assert_eq!(
            serde_json::to_string(&Request::Cancel { run: "x".into() }).unwrap(),
            r#"{"cmd":"cancel","run":"x"}"#
        );
        let reply = Reply::Event {
            event: AgentEvent::TextDelta { text: "hi".into() },
        };
        let line = serde_json::to_string(&reply).unwrap();
        assert_eq!(
            line,
            r#"{"type":"event","event":{"type":"text_delta","text":"hi"}}"#
        );
        assert_eq!(serde_json::from_str::<Reply>(&line).unwrap(), reply);
    }
}

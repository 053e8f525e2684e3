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

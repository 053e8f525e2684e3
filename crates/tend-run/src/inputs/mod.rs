//! A task's inputs, gathered before its session and given to the agent as untrusted data:
//! `log` (what is new in the files a glob names since the last successful run; see [`log`]),
//! `command` (its output) and `file` (its contents), each cut at its `max_bytes`.
//!
//! What the inputs delivered is recorded in the store only when the run succeeds (see
//! `conclude`), so a failed run's lines are seen again by the next run. The same record tells
//! the `[when] inputs_changed` gate whether anything is new.

mod command;
mod glob;
mod log;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tend_config::{Input, InputSource, ResolvedTask, Scope};
use tend_store::InputState;

pub(crate) use command::{Ran, run as run_command};
use log::FileCursor;

/// A `command` input's timeout when it gives none.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// One input's record in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Recorded {
    Log { files: Vec<FileCursor> },
    Digest { sha256: String },
}

/// A task's inputs as gathered for one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Gathered {
    /// What the agent reads.
    pub inputs: Vec<tend_agent::Input>,
    /// What to record, per input, once the run succeeds.
    pub state: Vec<(String, serde_json::Value)>,
    /// Whether any input has something new since the last successful run.
    pub changed: bool,
}

/// An input as the task file names it, which is also its key in the store:
/// `log /var/log/api/*.log`, `command gh pr list`, `file TODO.md`.
pub fn input_key(input: &Input) -> String {
    match &input.source {
        InputSource::Log { glob } => format!("log {glob}"),
        InputSource::Command { command, .. } => format!("command {command}"),
        InputSource::File { path } => format!("file {}", path.display()),
    }
}

/// Where a task's relative paths and commands start: its project, else the user's home.
pub fn base_dir(task: &ResolvedTask) -> PathBuf {
    match &task.scope {
        Scope::Project { root } => root.clone(),
        Scope::User => home().unwrap_or_else(|| PathBuf::from("/")),
    }
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

/// Gathers every input of `task`, given what the store recorded at its last successful run.
pub async fn gather(task: &ResolvedTask, previous: &[InputState]) -> Gathered {
    let base = base_dir(task);
    let mut gathered = Gathered {
        inputs: Vec::new(),
        state: Vec::new(),
        changed: false,
    };
    for (index, input) in task.inputs.iter().enumerate() {
        let key = input_key(input);
        let before: Option<Recorded> = previous
            .iter()
            .find(|p| p.input == key)
            .and_then(|p| serde_json::from_value(p.state.clone()).ok());
        let (text, recorded, changed) = one(input, before, &base).await;
        gathered.changed |= changed;
        gathered.inputs.push(tend_agent::Input {
            name: input
                .name
                .clone()
                .unwrap_or_else(|| default_name(input, index)),
            source: key.clone(),
            text,
        });
        if let Some(recorded) = recorded
            && let Ok(value) = serde_json::to_value(&recorded)
            && !gathered.state.iter().any(|(k, _)| *k == key)
        {
            gathered.state.push((key, value));
        }
    }
    gathered
}

fn default_name(input: &Input, index: usize) -> String {
    let kind = match &input.source {
        InputSource::Log { .. } => "log",
        InputSource::Command { .. } => "command",
        InputSource::File { .. } => "file",
    };
    format!("{kind}-{}", index + 1)
}

/// One input: its text, what to record (`None`: nothing yet), and whether it has something
/// new.
async fn one(
    input: &Input,
    before: Option<Recorded>,
    base: &Path,
) -> (String, Option<Recorded>, bool) {
    let max = input.max_bytes.0;
    match &input.source {
        InputSource::Log { glob: pattern } => {
            let pattern = glob::absolute(pattern, base, home().as_deref());
            let previous = match before {
                Some(Recorded::Log { files }) => Some(files),
                Some(Recorded::Digest { .. }) | None => None,
            };
            // What to keep recording when the files cannot be read this time.
            let kept = previous.clone().map(|files| Recorded::Log { files });
            let read =
                tokio::task::spawn_blocking(move || log::read(&pattern, previous.as_deref(), max))
                    .await;
            match read {
                Ok(Ok(read)) => {
                    let text = if read.text.is_empty() {
                        "(nothing new since the last successful run)".to_owned()
                    } else {
                        read.text
                    };
                    (
                        text,
                        Some(Recorded::Log { files: read.files }),
                        read.new_bytes > 0,
                    )
                }
                Ok(Err(problem)) => (format!("(cannot read: {problem})"), kept, false),
                Err(e) => (format!("(cannot read: {e})"), kept, false),
            }
        }
        InputSource::Command { command, timeout } => {
            let timeout = timeout.unwrap_or(DEFAULT_COMMAND_TIMEOUT);
            let cap = usize::try_from(max).unwrap_or(usize::MAX);
            let ran = run_command(command, base, timeout, cap).await;
            let text = command_text(&ran, max, timeout);
            let mut hasher = Sha256::new();
            hasher.update(&ran.stdout);
            hasher.update(ran.stdout_cut.to_le_bytes());
            hasher.update(format!("{:?}", ran.exit_code));
            digest_outcome(text, hasher, before)
        }
        InputSource::File { path } => {
            let path = base.join(path);
            let (text, hasher) = file_text(&path, max);
            digest_outcome(text, hasher, before)
        }
    }
}

fn digest_outcome(
    text: String,
    hasher: Sha256,
    before: Option<Recorded>,
) -> (String, Option<Recorded>, bool) {
    let sha256: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let changed = match before {
        Some(Recorded::Digest { sha256: old }) => old != sha256,
        Some(Recorded::Log { .. }) | None => true,
    };
    (text, Some(Recorded::Digest { sha256 }), changed)
}

fn command_text(ran: &Ran, max: u64, timeout: Duration) -> String {
    let mut text = String::from_utf8_lossy(&ran.stdout).into_owned();
    if ran.stdout_cut > 0 {
        text.push_str(&format!(
            "\n[… {} more bytes left out (max_bytes = {max})]",
            ran.stdout_cut
        ));
    }
    if !ran.succeeded() {
        if !ran.stderr.is_empty() {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str("[stderr]\n");
            text.push_str(&String::from_utf8_lossy(&ran.stderr));
        }
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        let failure = if ran.timed_out {
            format!("timed out after {}", crate::human_duration(timeout))
        } else {
            ran.failure()
        };
        text.push_str(&format!("[the command {failure}]"));
    }
    if text.is_empty() {
        text.push_str("(no output)");
    }
    text
}

/// The first `max` bytes of a file, and a digest of all of it.
fn file_text(path: &Path, max: u64) -> (String, Sha256) {
    use std::io::Read as _;
    let mut hasher = Sha256::new();
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            hasher.update(format!("missing: {e}"));
            return (format!("(cannot read {}: {e})", path.display()), hasher);
        }
    };
    let cap = usize::try_from(max).unwrap_or(usize::MAX);
    let mut head = Vec::new();
    let mut total = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                hasher.update(&buf[..n]);
                let room = cap.saturating_sub(head.len()).min(n);
                head.extend_from_slice(&buf[..room]);
                total += n as u64;
            }
            Err(e) => {
                return (format!("(cannot read {}: {e})", path.display()), hasher);
            }
        }
    }
    let mut text = String::from_utf8_lossy(&head).into_owned();
    let more = total - head.len() as u64;
    if more > 0 {
        text.push_str(&format!(
            "\n[… {more} more bytes left out (max_bytes = {max})]"
        ));
    }
    if text.is_empty() {
        text.push_str("(empty file)");
    }
    (text, hasher)
}

/// The file in the run's folder that holds what to record once the run succeeds.
const PENDING: &str = "inputs.json";

/// Keeps what the gathered inputs will record, until the run's end (which may come in a later
/// process, after an approval).
pub(crate) fn keep_pending(dir: &Path, gathered: &Gathered) -> Result<(), crate::RunError> {
    if gathered.state.is_empty() {
        return Ok(());
    }
    let text = serde_json::to_string(&gathered.state)
        .map_err(|e| crate::RunError::Encode(e.to_string()))?;
    crate::write(&dir.join(PENDING), &text)
}

/// The run succeeded: its inputs' state becomes the task's. Best effort: should it fail, the
/// next run sees the same input again, which is the safe side.
pub(crate) async fn commit(
    store: &tend_store::Store,
    task: tend_store::TaskId,
    run: &tend_store::RunId,
    dir: &Path,
    at: jiff::Timestamp,
) {
    let Ok(text) = std::fs::read_to_string(dir.join(PENDING)) else {
        return;
    };
    let Ok(state) = serde_json::from_str::<Vec<(String, serde_json::Value)>>(&text) else {
        return;
    };
    let _ = store.save_input_states(task, Some(run), &state, at).await;
}

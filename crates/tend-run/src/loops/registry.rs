//! Live loops, for `tend ps`: one file per loop, `<state>/loops/<id>.json`, naming the process
//! that runs it. The loop removes its file when it ends; a file whose process died (killed,
//! machine off) is removed by whoever lists the loops next.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tend_store::RunOwner;

use crate::owner::is_alive;

/// What `tend ps` shows of a loop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoopRecord {
    /// The short id; the loop's runs belong to task `loop-<id>`.
    pub id: String,
    pub task: String,
    pub project: Option<PathBuf>,
    /// The loop's prompt, as typed.
    pub prompt: String,
    pub pid: u32,
    /// Tells this process from a later one with the same pid (see [`crate::process_tag`]).
    pub tag: String,
    pub started_at: Timestamp,
    pub expires_at: Timestamp,
    /// `None`: the agent picks each delay.
    pub interval_secs: Option<u64>,
    pub until: Option<String>,
    pub max: Option<u32>,
    /// Checks started so far.
    pub checks: u32,
    pub state: LoopState,
    /// The run of the check in progress.
    pub run: Option<String>,
    /// When the next check starts, while waiting.
    pub next_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoopState {
    /// A check is in progress.
    Checking,
    /// Waiting for the next check.
    Waiting,
}

impl LoopState {
    pub fn as_str(self) -> &'static str {
        match self {
            LoopState::Checking => "checking",
            LoopState::Waiting => "waiting",
        }
    }
}

/// `<state>/loops/`.
pub fn loops_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("loops")
}

fn file(state_dir: &Path, id: &str) -> PathBuf {
    loops_dir(state_dir).join(format!("{id}.json"))
}

/// Writes the loop's record, replacing the last in one step (readers never see half of it).
pub fn write(state_dir: &Path, record: &LoopRecord) -> std::io::Result<()> {
    let dir = loops_dir(state_dir);
    std::fs::create_dir_all(&dir)?;
    let text = serde_json::to_string_pretty(record).map_err(std::io::Error::other)?;
    let path = file(state_dir, &record.id);
    let tmp = dir.join(format!(".{}.json.tmp", record.id));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, &path)
}

/// Removes the loop's record (the loop ended).
pub fn remove(state_dir: &Path, id: &str) {
    let _ = std::fs::remove_file(file(state_dir, id));
}

/// The loops whose process still runs, oldest first; records of processes that died are
/// removed on the way.
pub fn live(state_dir: &Path) -> Vec<LoopRecord> {
    let Ok(entries) = std::fs::read_dir(loops_dir(state_dir)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let Some(record) = std::fs::read_to_string(&path)
            .ok()
            .and_then(|text| serde_json::from_str::<LoopRecord>(&text).ok())
        else {
            continue;
        };
        let owner = RunOwner {
            pid: record.pid,
            tag: record.tag.clone(),
        };
        if is_alive(&owner) {
            out.push(record);
        } else {
            let _ = std::fs::remove_file(&path);
        }
    }
    out.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.id.cmp(&b.id)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn record(id: &str, pid: u32, tag: &str) -> LoopRecord {
        LoopRecord {
            id: id.into(),
            task: format!("loop-{id}"),
            project: None,
            prompt: "check CI".into(),
            pid,
            tag: tag.into(),
            started_at: "2026-11-25T10:00:00Z".parse().unwrap(),
            expires_at: "2026-12-02T10:00:00Z".parse().unwrap(),
            interval_secs: Some(300),
            until: None,
            max: None,
            checks: 1,
            state: LoopState::Waiting,
            run: None,
            next_at: None,
        }
    }

    #[test]
    fn live_loops_are_listed_and_dead_ones_cleaned_up() {
        let state = tempfile::tempdir().unwrap();
        let me = crate::this_process();
        let alive = record("aaaaaa", me.pid, &me.tag);
        let dead = record("bbbbbb", u32::MAX, "gone:1");
        write(state.path(), &alive).unwrap();
        write(state.path(), &dead).unwrap();
        assert_eq!(live(state.path()), vec![alive]);
        assert!(!file(state.path(), "bbbbbb").exists());
        remove(state.path(), "aaaaaa");
        assert_eq!(live(state.path()), vec![]);
    }
}

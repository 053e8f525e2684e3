//! Memory: the project's instructions (`AGENTS.md`, `CLAUDE.md`) and the task's own notes.
//!
//! The task's notes live in tend's state folder, so they carry from run to run without a
//! proposal having to be applied and without tend writing into the user's checkout. During a
//! run they appear in the workspace at `.tend/memory/<task>.md`, where the agent can edit them;
//! afterwards they are saved back and kept out of the run's commit.

use std::path::{Path, PathBuf};

use crate::RunError;

/// Project instruction files read into the system prompt, in this order.
const PROJECT_FILES: [&str; 2] = ["AGENTS.md", "CLAUDE.md"];
/// Instruction files are cut here: they are meant to be short.
const PROJECT_FILE_CAP: usize = 32 * 1024;

/// `(file name, contents)` of the project's instruction files found in `dir`.
pub fn project_memory(dir: &Path) -> Vec<(String, String)> {
    PROJECT_FILES
        .iter()
        .filter_map(|name| {
            let text = std::fs::read_to_string(dir.join(name)).ok()?;
            let mut end = text.len().min(PROJECT_FILE_CAP);
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            Some(((*name).to_owned(), text[..end].to_owned()))
        })
        .collect()
}

/// The task's notes during one run.
#[derive(Debug)]
pub struct TaskMemory {
    /// tend's own copy: `<state>/memory/task-<id>.md`.
    stored: PathBuf,
    /// The copy the agent sees, relative to the workspace root.
    pub relative: String,
    /// What the workspace held at that path before the run (restored before committing).
    original: Option<Vec<u8>>,
    pub contents: String,
}

impl TaskMemory {
    /// Loads the notes (tend's copy, else the one committed in the project, else none) and,
    /// when the workspace is writable, puts them where the agent can edit them.
    pub fn load(
        state_dir: &Path,
        task_id: i64,
        task: &str,
        workspace: &Path,
        writable: Writable,
    ) -> Result<TaskMemory, RunError> {
        let stored = state_dir.join("memory").join(format!("task-{task_id}.md"));
        let relative = format!(".tend/memory/{task}.md");
        let in_workspace = workspace.join(&relative);
        let original = std::fs::read(&in_workspace).ok();
        let contents = match std::fs::read_to_string(&stored) {
            Ok(text) => text,
            Err(_) => original
                .as_deref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default(),
        };
        if writable == Writable::Yes {
            if let Some(parent) = in_workspace.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| RunError::Io(parent.to_path_buf(), e))?;
            }
            std::fs::write(&in_workspace, &contents)
                .map_err(|e| RunError::Io(in_workspace.clone(), e))?;
        }
        Ok(TaskMemory {
            stored,
            relative,
            original,
            contents,
        })
    }

    /// What a parked run must keep to restore these notes later: the workspace's original
    /// file, and the notes as the run started with them.
    pub(crate) fn parts(&self) -> (Option<Vec<u8>>, String) {
        (self.original.clone(), self.contents.clone())
    }

    /// The notes of a parked run, as [`TaskMemory::parts`] kept them.
    pub(crate) fn restore(
        state_dir: &Path,
        task_id: i64,
        task: &str,
        original: Option<Vec<u8>>,
        contents: String,
    ) -> TaskMemory {
        TaskMemory {
            stored: state_dir.join("memory").join(format!("task-{task_id}.md")),
            relative: format!(".tend/memory/{task}.md"),
            original,
            contents,
        }
    }

    /// Saves what the agent left in the workspace to tend's copy, and puts the workspace's
    /// file back as it was, so the notes are not part of the proposal.
    pub fn save(&self, workspace: &Path) -> Result<(), RunError> {
        let in_workspace = workspace.join(&self.relative);
        let Ok(now) = std::fs::read(&in_workspace) else {
            return Ok(());
        };
        if let Some(dir) = self.stored.parent() {
            std::fs::create_dir_all(dir).map_err(|e| RunError::Io(dir.to_path_buf(), e))?;
        }
        let tmp = self.stored.with_extension("md.tmp");
        std::fs::write(&tmp, &now).map_err(|e| RunError::Io(tmp.clone(), e))?;
        std::fs::rename(&tmp, &self.stored).map_err(|e| RunError::Io(self.stored.clone(), e))?;
        let restored = match &self.original {
            Some(bytes) => std::fs::write(&in_workspace, bytes),
            None => std::fs::remove_file(&in_workspace),
        };
        restored.map_err(|e| RunError::Io(in_workspace, e))
    }
}

/// Whether the run may write into its workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writable {
    Yes,
    No,
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn notes_round_trip_through_state_and_leave_the_workspace_as_it_was() {
        let state = tempfile::tempdir().unwrap();
        let ws = tempfile::tempdir().unwrap();
        let first = TaskMemory::load(state.path(), 7, "triage", ws.path(), Writable::Yes).unwrap();
        assert_eq!(first.contents, "");
        let file = ws.path().join(".tend/memory/triage.md");
        std::fs::write(&file, "reported: E42\n").unwrap();
        first.save(ws.path()).unwrap();
        assert!(!file.exists(), "the workspace file is removed again");

        let ws2 = tempfile::tempdir().unwrap();
        let second =
            TaskMemory::load(state.path(), 7, "triage", ws2.path(), Writable::Yes).unwrap();
        assert_eq!(second.contents, "reported: E42\n");
        assert_eq!(
            std::fs::read_to_string(ws2.path().join(".tend/memory/triage.md")).unwrap(),
            "reported: E42\n"
        );
    }

    #[test]
    fn a_committed_memory_file_seeds_the_first_run_and_is_restored() {
        let state = tempfile::tempdir().unwrap();
        let ws = tempfile::tempdir().unwrap();
        let file = ws.path().join(".tend/memory/triage.md");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, "seed\n").unwrap();
        let memory = TaskMemory::load(state.path(), 1, "triage", ws.path(), Writable::Yes).unwrap();
        assert_eq!(memory.contents, "seed\n");
        std::fs::write(&file, "seed\nmore\n").unwrap();
        memory.save(ws.path()).unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "seed\n");
        assert_eq!(
            std::fs::read_to_string(state.path().join("memory/task-1.md")).unwrap(),
            "seed\nmore\n"
        );
    }

    #[test]
    fn project_memory_reads_agents_and_claude_files() {
        let ws = tempfile::tempdir().unwrap();
        std::fs::write(ws.path().join("CLAUDE.md"), "use make").unwrap();
        assert_eq!(
            project_memory(ws.path()),
            vec![("CLAUDE.md".to_owned(), "use make".to_owned())]
        );
    }
}

//! The briefing a task asks for with `output = "reports/{date}.md"`: the run's report, written
//! where nothing of the user's changes without their say.
//!
//! - A run in a worktree (`propose`, `auto`): the file is committed on the run branch, so it
//!   reaches the checkout as part of the proposal (`tend apply`), like any change.
//! - A read-only run or a user task: `<state>/outputs/<task>/<path>`.
//! - An absolute path (`/srv/reports/…`, `~/notes/…`): written there, which the task file
//!   allows only inside a folder its `[sandbox] allow_write` opens (checked at load).
//!
//! Only a run that succeeded writes one; placeholders are filled with the run's start in the
//! task's zone (`{date}` = `2026-11-25`, `{time}` = `0930`), its name and its id. A file of the
//! same name is replaced: use `{time}` or `{run}` to keep every run's.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use tend_config::{OutputVars, Paths, ResolvedTask};
use tend_store::RunState;

use crate::git;
use crate::workspace::Workspace;

/// Where a briefing went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Briefing {
    /// The file, absolute.
    pub path: PathBuf,
    /// How a human finds it: the path in the repository for a file on the run branch, else
    /// the absolute path.
    pub shown: String,
    pub place: Place,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Committed on the run branch (the worktree's copy is gone once the run ends).
    Branch,
    /// `<state>/outputs/<task>/…`.
    Outputs,
    /// A folder of the user's that `[sandbox] allow_write` opens.
    Path,
}

impl Place {
    pub fn as_str(self) -> &'static str {
        match self {
            Place::Branch => "branch",
            Place::Outputs => "outputs",
            Place::Path => "path",
        }
    }
}

/// What the end of a run knows when it writes the briefing.
pub(crate) struct Spec<'a> {
    pub paths: &'a Paths,
    pub task: &'a ResolvedTask,
    pub run_id: &'a str,
    pub ws: &'a Workspace,
    pub started: Timestamp,
    pub state: RunState,
}

/// A briefing written, and the run branch's new head when it was committed there.
pub(crate) struct Written {
    pub briefing: Briefing,
    pub commit: Option<String>,
}

/// Writes the briefing, if the task asks for one and the run succeeded. A failure is a note
/// for the report, never a failure of the run.
pub(crate) async fn write(spec: &Spec<'_>, text: &str) -> Result<Option<Written>, String> {
    let Some(template) = &spec.task.output else {
        return Ok(None);
    };
    if spec.state != RunState::Succeeded {
        return Ok(None);
    }
    let zoned = spec
        .started
        .to_zoned_datetime(spec.task.timezone.tz().clone());
    let date = zoned.strftime("%Y-%m-%d").to_string();
    let time = zoned.strftime("%H%M").to_string();
    let relative = template.expand(OutputVars {
        date: &date,
        time: &time,
        task: &spec.task.name,
        run: spec.run_id,
    });
    let failed = |path: &Path, e: &dyn std::fmt::Display| {
        format!(
            "the briefing could not be written to {}: {e}",
            path.display()
        )
    };
    if template.is_absolute() {
        let path = match relative.strip_prefix("~/") {
            Some(rest) => match std::env::var_os("HOME") {
                Some(home) => PathBuf::from(home).join(rest),
                None => {
                    return Err(format!(
                        "the briefing's path `{relative}` needs HOME, which is not set"
                    ));
                }
            },
            None => PathBuf::from(&relative),
        };
        put(&path, text).map_err(|e| failed(&path, &e))?;
        return Ok(Some(Written {
            briefing: Briefing {
                shown: path.display().to_string(),
                path,
                place: Place::Path,
            },
            commit: None,
        }));
    }
    match spec.ws {
        Workspace::Worktree { dir, branch, .. } => {
            let path = dir.join(&relative);
            inside(dir, &path).map_err(|e| failed(&path, &e))?;
            put(&path, text).map_err(|e| failed(&path, &e))?;
            let message = format!(
                "tend: {} briefing {relative}\n\nRun: {}",
                spec.task.name, spec.run_id
            );
            // Forced: a briefing the task asks for is wanted even where .gitignore says not.
            let committed = async {
                git::git(dir, &["add", "--force", "--", &relative]).await?;
                git::commit_all(dir, &message).await
            };
            let commit = committed
                .await
                .map_err(|e| format!("the briefing could not be committed on {branch}: {e}"))?;
            Ok(Some(Written {
                briefing: Briefing {
                    path,
                    shown: relative,
                    place: Place::Branch,
                },
                commit,
            }))
        }
        Workspace::InPlace { .. } | Workspace::Scratch { .. } => {
            let base = spec.paths.state_dir.join("outputs").join(&spec.task.name);
            let path = base.join(&relative);
            put(&path, text).map_err(|e| failed(&path, &e))?;
            Ok(Some(Written {
                briefing: Briefing {
                    shown: path.display().to_string(),
                    path,
                    place: Place::Outputs,
                },
                commit: None,
            }))
        }
    }
}

fn put(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text)
}

/// Refuses a path that a symlink in the repository leads out of the worktree.
fn inside(dir: &Path, path: &Path) -> std::io::Result<()> {
    let parent = path.parent().unwrap_or(dir);
    std::fs::create_dir_all(parent)?;
    let root = dir.canonicalize()?;
    let linked = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if !linked && parent.canonicalize()?.starts_with(&root) {
        Ok(())
    } else {
        Err(std::io::Error::other(
            "a symbolic link leads it out of the worktree",
        ))
    }
}

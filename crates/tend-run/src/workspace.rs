//! Where a run works: a git worktree on its own branch (never the user's checkout), or the
//! project folder itself for a read-only run, or a scratch folder for a user task.

use std::path::{Path, PathBuf};

use tend_policy::Mode;

use crate::RunError;
use crate::git;

/// A run's prepared workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Workspace {
    /// `git worktree` of `repo` at `dir` on `branch`, created from commit `base`.
    Worktree {
        repo: PathBuf,
        dir: PathBuf,
        branch: String,
        base: String,
    },
    /// The folder itself, for a read-only run: nothing is written there.
    InPlace { dir: PathBuf },
    /// A fresh folder of tend's own, for a user task that belongs to no repository.
    Scratch { dir: PathBuf },
}

impl Workspace {
    pub fn dir(&self) -> &Path {
        match self {
            Workspace::Worktree { dir, .. }
            | Workspace::InPlace { dir }
            | Workspace::Scratch { dir } => dir,
        }
    }

    pub fn branch(&self) -> Option<&str> {
        match self {
            Workspace::Worktree { branch, .. } => Some(branch),
            Workspace::InPlace { .. } | Workspace::Scratch { .. } => None,
        }
    }
}

/// The branch of a run: `tend/<task>/<run-id>`.
pub fn branch_name(task: &str, run_id: &str) -> String {
    format!("tend/{task}/{run_id}")
}

/// Makes the workspace for a run of `task` in `mode`. `project` is the repository of a
/// project task (`None` for a user task); `run_dir` is `runs/<run-id>/`.
pub async fn prepare(
    project: Option<&Path>,
    mode: Mode,
    task: &str,
    run_id: &str,
    run_dir: &Path,
) -> Result<Workspace, RunError> {
    match (project, mode) {
        (Some(root), Mode::ReadOnly) => Ok(Workspace::InPlace {
            dir: root.to_path_buf(),
        }),
        (Some(root), Mode::Propose | Mode::Auto) => {
            if !git::is_repo(root).await {
                return Err(RunError::NotARepository(root.to_path_buf()));
            }
            let base = git::head(root)
                .await
                .map_err(|_| RunError::NoCommits(root.to_path_buf()))?;
            let dir = run_dir.join("worktree");
            let branch = branch_name(task, run_id);
            git::add_worktree(root, &dir, &branch, &base).await?;
            Ok(Workspace::Worktree {
                repo: root.to_path_buf(),
                dir,
                branch,
                base,
            })
        }
        (None, _) => {
            let dir = run_dir.join("scratch");
            std::fs::create_dir_all(&dir).map_err(|e| RunError::Io(dir.clone(), e))?;
            Ok(Workspace::Scratch { dir })
        }
    }
}

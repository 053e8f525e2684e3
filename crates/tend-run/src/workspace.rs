//! Where a run works: a git worktree on its own branch (never the user's checkout), or the
//! project folder itself for a read-only run, or a scratch folder for a user task.
//!
//! Worktrees are kept between runs of a task and reused: checking out a 5,000-file repository
//! from scratch costs hundreds of milliseconds of file creation, while moving a kept worktree
//! to the new base commit touches only the files that changed. Each kept worktree is leased to
//! one run at a time through a lock file naming the owning process, so a crashed run's lease
//! is taken over and two concurrent runs of a task get two worktrees.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use tend_policy::Mode;

use crate::RunError;
use crate::git;
use crate::owner::{is_alive, this_process};

/// A run's prepared workspace.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Workspace {
    /// `git worktree` of `repo` at `dir` on `branch`, created from commit `base`; `lease` is
    /// the lock file that keeps other runs out of it.
    Worktree {
        repo: PathBuf,
        dir: PathBuf,
        branch: String,
        base: String,
        lease: PathBuf,
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

/// What a run is, for its workspace.
pub struct Spec<'a> {
    /// The repository of a project task; `None` for a user task.
    pub project: Option<&'a Path>,
    pub mode: Mode,
    pub task: &'a str,
    pub task_id: i64,
    pub run_id: &'a str,
    /// `runs/<run-id>/`.
    pub run_dir: &'a Path,
    /// Where kept worktrees live: `<state>/worktrees/`.
    pub pool: &'a Path,
}

/// How many worktrees one task may keep (concurrent runs of a task beyond this fail).
const POOL_SIZE: usize = 8;

/// Makes the workspace for a run.
pub async fn prepare(spec: &Spec<'_>) -> Result<Workspace, RunError> {
    match (spec.project, spec.mode) {
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
            let branch = branch_name(spec.task, spec.run_id);
            let (dir, lease) = lease_worktree(spec)?;
            if let Err(e) = checkout(root, &dir, &branch, &base).await {
                release(&lease);
                return Err(e);
            }
            Ok(Workspace::Worktree {
                repo: root.to_path_buf(),
                dir,
                branch,
                base,
                lease,
            })
        }
        (None, _) => {
            let dir = spec.run_dir.join("scratch");
            std::fs::create_dir_all(&dir).map_err(|e| RunError::Io(dir.clone(), e))?;
            Ok(Workspace::Scratch { dir })
        }
    }
}

/// Puts `branch` (new, at `base`) in the kept worktree at `dir`, or makes the worktree.
async fn checkout(repo: &Path, dir: &Path, branch: &str, base: &str) -> Result<(), RunError> {
    if dir.join(".git").is_file() {
        // A worktree from an earlier run: drop whatever that run left (it is committed on its
        // branch or was not worth keeping), then move to the new branch. Ignored files (build
        // caches) are kept: they make the next build fast and are not part of any proposal.
        let reused = async {
            git::git(dir, &["reset", "--quiet", "--hard"]).await?;
            git::git(dir, &["clean", "--quiet", "-ffd"]).await?;
            git::git(
                dir,
                &["switch", "--quiet", "--discard-changes", "-c", branch, base],
            )
            .await
        };
        if reused.await.is_ok() {
            return Ok(());
        }
        // Not usable (the repository moved, the worktree was pruned): start it afresh.
        let _ = git::remove_worktree(repo, dir).await;
        let _ = std::fs::remove_dir_all(dir);
        let _ = git::git(repo, &["worktree", "prune"]).await;
    }
    git::add_worktree(repo, dir, branch, base).await?;
    Ok(())
}

/// After a run: the worktree lets go of the run's branch (so it can be applied, discarded or
/// deleted) and is handed back to the pool.
pub async fn finish(ws: &Workspace, keep_branch: KeepBranch) -> Result<(), RunError> {
    let Workspace::Worktree {
        repo,
        dir,
        branch,
        lease,
        ..
    } = ws
    else {
        return Ok(());
    };
    let detached = git::git(dir, &["switch", "--quiet", "--detach"]).await;
    if detached.is_err() {
        // A worktree that cannot even detach is not worth keeping.
        let _ = git::remove_worktree(repo, dir).await;
    }
    let deleted = match keep_branch {
        KeepBranch::Yes => Ok(()),
        KeepBranch::No => git::delete_branch(repo, branch)
            .await
            .map_err(RunError::from),
    };
    release(lease);
    detached?;
    deleted
}

/// Whether a finished run's branch stays (it holds a proposal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepBranch {
    Yes,
    No,
}

/// Takes the first free kept worktree of the task (or the slot for a new one).
fn lease_worktree(spec: &Spec<'_>) -> Result<(PathBuf, PathBuf), RunError> {
    std::fs::create_dir_all(spec.pool).map_err(|e| RunError::Io(spec.pool.to_path_buf(), e))?;
    let me = this_process();
    for n in 0..POOL_SIZE {
        let dir = spec.pool.join(format!("task-{}-{n}", spec.task_id));
        let lease = spec.pool.join(format!("task-{}-{n}.lock", spec.task_id));
        let claimed = match std::fs::File::options()
            .write(true)
            .create_new(true)
            .open(&lease)
        {
            Ok(file) => Some(file),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if lease_is_stale(&lease) {
                    // The run that held it is gone: take it over.
                    let _ = std::fs::remove_file(&lease);
                    std::fs::File::options()
                        .write(true)
                        .create_new(true)
                        .open(&lease)
                        .ok()
                } else {
                    None
                }
            }
            Err(e) => return Err(RunError::Io(lease, e)),
        };
        if let Some(mut file) = claimed {
            writeln!(file, "{} {} {}", me.pid, me.tag, spec.run_id)
                .map_err(|e| RunError::Io(lease.clone(), e))?;
            return Ok((dir, lease));
        }
    }
    Err(RunError::Busy(spec.task.to_owned(), POOL_SIZE))
}

/// A parked run keeps its worktree, owned by no process: the lease names the run instead.
pub fn park_lease(ws: &Workspace, run_id: &str) -> Result<(), RunError> {
    if let Workspace::Worktree { lease, .. } = ws {
        std::fs::write(lease, format!("{PARKED} {run_id}\n"))
            .map_err(|e| RunError::Io(lease.clone(), e))?;
    }
    Ok(())
}

/// Takes a parked run's lease back for this process. A lease held by another live process is
/// refused (the run is being resumed elsewhere).
pub fn take_parked_lease(ws: &Workspace, run_id: &str) -> Result<(), RunError> {
    let Workspace::Worktree { lease, .. } = ws else {
        return Ok(());
    };
    if let Ok(text) = std::fs::read_to_string(lease) {
        let mut words = text.split_whitespace();
        let first = words.next().unwrap_or("");
        let held_elsewhere = first != PARKED && !lease_is_stale(lease);
        let other_run = first == PARKED && words.next() != Some(run_id);
        if held_elsewhere || other_run {
            return Err(RunError::LeaseHeld(lease.clone()));
        }
    }
    let me = this_process();
    std::fs::write(lease, format!("{} {} {run_id}\n", me.pid, me.tag))
        .map_err(|e| RunError::Io(lease.clone(), e))
}

/// The first word of a parked run's lease.
const PARKED: &str = "parked";

/// A lease whose process is gone (crashed, killed) is free; a parked run's is not.
fn lease_is_stale(lease: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(lease) else {
        return false;
    };
    if text.starts_with(PARKED) {
        return false;
    }
    let mut parts = text.split_whitespace();
    let pid = parts.next().and_then(|p| p.parse::<u32>().ok());
    let tag = parts.next().unwrap_or("").to_owned();
    match pid {
        Some(pid) => !is_alive(&tend_store::RunOwner { pid, tag }),
        // Unreadable: written by a crash mid-write; nobody holds it.
        None => true,
    }
}

fn release(lease: &Path) {
    let _ = std::fs::remove_file(lease);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec<'a>(pool: &'a Path, run_dir: &'a Path, run_id: &'a str) -> Spec<'a> {
        Spec {
            project: None,
            mode: Mode::Propose,
            task: "fix",
            task_id: 3,
            run_id,
            run_dir,
            pool,
        }
    }

    #[test]
    fn leases_are_exclusive_and_stale_ones_are_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let pool = dir.path().join("worktrees");
        let (a, lease_a) = lease_worktree(&spec(&pool, dir.path(), "r1")).unwrap();
        let (b, lease_b) = lease_worktree(&spec(&pool, dir.path(), "r2")).unwrap();
        assert_ne!(a, b, "a held lease is not handed out twice");
        release(&lease_a);
        let (c, _) = lease_worktree(&spec(&pool, dir.path(), "r3")).unwrap();
        assert_eq!(c, a, "a released worktree is reused first");
        // A lease left by a process that no longer exists is free again.
        std::fs::write(&lease_b, format!("{} gone:1 r2\n", u32::MAX)).unwrap();
        let (d, _) = lease_worktree(&spec(&pool, dir.path(), "r4")).unwrap();
        assert_eq!(d, b);
    }
}

//! The few git operations a run needs, through the real `git` command.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run git: {0} (is git installed?)")]
    Spawn(std::io::Error),
    #[error("`git {args}` failed in {}: {stderr}", dir.display())]
    Failed {
        args: String,
        dir: PathBuf,
        stderr: String,
    },
}

/// Runs git in `dir` and returns its stdout. The identity is fixed so commits work on
/// machines where none is configured, and no pager or prompt can ever block.
pub async fn git(dir: &Path, args: &[&str]) -> Result<String, GitError> {
    let out = git_bytes(dir, args).await?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// [`git`], with stdout as git wrote it (a patch may hold text that is not UTF-8).
pub async fn git_bytes(dir: &Path, args: &[&str]) -> Result<Vec<u8>, GitError> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=tend", "-c", "user.email=tend@localhost"])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "core.hooksPath=/dev/null",
        ])
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_PAGER", "cat")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(GitError::Spawn)?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(GitError::Failed {
            args: args.join(" "),
            dir: dir.to_path_buf(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}

/// The commit `HEAD` points at.
pub async fn head(repo: &Path) -> Result<String, GitError> {
    Ok(git(repo, &["rev-parse", "--verify", "HEAD^{commit}"])
        .await?
        .trim()
        .to_owned())
}

/// Creates `branch` at `base` and checks it out in a new worktree at `dir`.
pub async fn add_worktree(
    repo: &Path,
    dir: &Path,
    branch: &str,
    base: &str,
) -> Result<(), GitError> {
    let dir_text = dir.to_string_lossy();
    git(
        repo,
        &["worktree", "add", "--quiet", "-b", branch, &dir_text, base],
    )
    .await?;
    Ok(())
}

/// Removes a worktree (its files, not its branch).
pub async fn remove_worktree(repo: &Path, dir: &Path) -> Result<(), GitError> {
    let dir_text = dir.to_string_lossy();
    git(repo, &["worktree", "remove", "--force", &dir_text]).await?;
    Ok(())
}

/// Stages everything in the worktree and commits it; `None` when there was nothing to commit.
pub async fn commit_all(worktree: &Path, message: &str) -> Result<Option<String>, GitError> {
    git(worktree, &["add", "--all"]).await?;
    let staged = git(worktree, &["diff", "--cached", "--name-only"]).await?;
    if staged.trim().is_empty() {
        return Ok(None);
    }
    git(
        worktree,
        &["commit", "--quiet", "--no-verify", "-m", message],
    )
    .await?;
    Ok(Some(head(worktree).await?))
}

/// The patch from `base` to `to`, byte for byte, ready for `git apply`. The user's diff settings
/// stay out of it (an external diff, textconv filters, colour, other prefixes), so that the
/// patch shows the real names and contents: `tend apply` applies it and the sensitive-change
/// check reads it.
pub async fn diff(repo: &Path, base: &str, to: &str) -> Result<Vec<u8>, GitError> {
    git_bytes(
        repo,
        &[
            // Names that are not ASCII are C-quoted, so that the patch's names read as text.
            "-c",
            "core.quotePath=true",
            "diff",
            "--binary",
            "--no-ext-diff",
            "--no-textconv",
            "--no-color",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            base,
            to,
        ],
    )
    .await
}

/// `--stat` summary from `base` to `to`.
pub async fn diff_stat(repo: &Path, base: &str, to: &str) -> Result<String, GitError> {
    git(repo, &["diff", "--stat", base, to]).await
}

pub async fn delete_branch(repo: &Path, branch: &str) -> Result<(), GitError> {
    git(repo, &["branch", "--quiet", "-D", branch]).await?;
    Ok(())
}

/// Whether `path` is inside a git work tree.
pub async fn is_repo(path: &Path) -> bool {
    git(path, &["rev-parse", "--is-inside-work-tree"])
        .await
        .is_ok_and(|s| s.trim() == "true")
}

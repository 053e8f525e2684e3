//! What a human does with a finished run's proposal (`tend apply`, `tend discard`, the
//! dashboard's buttons): its diff into the repository's working tree, or away with its branch.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use tend_config::Paths;
use tend_config::sensitive::{SensitiveChange, sensitive_changes};
use tend_store::{ProposalState, Run, RunId, Store, StoreError, TaskScope};

use crate::git::{self, GitError};

#[derive(Debug, thiserror::Error)]
pub enum ProposalError {
    #[error("run {0} was already applied")]
    Applied(RunId),
    #[error("run {0} was discarded")]
    Discarded(RunId),
    #[error("run {0} proposed no changes")]
    NoChanges(RunId),
    #[error("run {0} has no branch")]
    NoBranch(RunId),
    #[error("the task of run {0} is unknown")]
    UnknownTask(RunId),
    #[error("run {0} belongs to no repository")]
    NoRepository(RunId),
    #[error("the proposal of run {run} does not apply cleanly to {}: {source}", repo.display())]
    DoesNotApply {
        run: RunId,
        repo: PathBuf,
        #[source]
        source: GitError,
    },
    /// The proposal changes sensitive paths and was not allowed to: nothing was applied.
    #[error("{}", refusal(run, changes))]
    Sensitive {
        run: RunId,
        changes: Vec<SensitiveChange>,
    },
    #[error("cannot read the proposal {}: {source}", path.display())]
    ReadPatch {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether `apply` may apply a proposal with sensitive changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SensitivePolicy {
    /// Refuse, naming each (the default everywhere).
    Refuse,
    /// Apply them: a human read them and said so (`--allow-sensitive`, the dashboard's box).
    Allow,
}

/// An applied proposal: where it went, and the sensitive changes it carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub repo: PathBuf,
    pub sensitive: Vec<SensitiveChange>,
}

/// One `\n  - path: why` line per change, to follow a sentence that ends with a colon.
pub fn list_sensitive(changes: &[SensitiveChange]) -> String {
    let mut out = String::new();
    for c in changes {
        let _ = write!(out, "\n  - {c}");
    }
    out
}

/// The warning at the top of a report whose proposal changes sensitive paths (empty when it
/// does not).
pub fn sensitive_block(run_id: &str, changes: &[SensitiveChange]) -> String {
    if changes.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "> **Sensitive changes.** This proposal changes files that can run code or grant power \
         when applied; read them first. `tend apply {run_id}` refuses it; \
         `tend apply --allow-sensitive {run_id}` applies it.\n>"
    );
    for c in changes {
        let _ = writeln!(out, "> - `{}`: {}", c.path, c.kind);
    }
    out
}

fn refusal(run: &RunId, changes: &[SensitiveChange]) -> String {
    format!(
        "run {run} changes sensitive paths, so it was not applied:{}",
        list_sensitive(changes)
    )
}

/// The proposal's patch (`diff.patch` in the run's folder): what `apply` applies.
pub fn patch_path(paths: &Paths, run: &RunId) -> PathBuf {
    crate::run_dir(paths, run.as_str()).join("diff.patch")
}

/// The sensitive changes of a run's proposal, read from the patch that `apply` would apply
/// (none when the run left no patch).
pub fn sensitive(paths: &Paths, run: &RunId) -> Result<Vec<SensitiveChange>, ProposalError> {
    sensitive_in(&patch_path(paths, run))
}

/// The sensitive changes of the patch at `path` (none when there is no such file).
pub fn sensitive_in(path: &Path) -> Result<Vec<SensitiveChange>, ProposalError> {
    match read_patch(path) {
        Ok(text) => Ok(sensitive_changes(&text)),
        Err(ProposalError::ReadPatch { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Ok(Vec::new())
        }
        Err(e) => Err(e),
    }
}

/// A patch as text. Its names are ASCII (git C-quotes the others) and binary files are base85;
/// a text file in another encoding is read lossily, which changes no name.
fn read_patch(path: &Path) -> Result<String, ProposalError> {
    let bytes = std::fs::read(path).map_err(|source| ProposalError::ReadPatch {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The repository and branch of a run's pending proposal, or why there is none.
pub async fn pending(store: &Store, run: &Run) -> Result<(PathBuf, String), ProposalError> {
    match run.proposal {
        Some(ProposalState::Pending) => {}
        Some(ProposalState::Applied) => return Err(ProposalError::Applied(run.id.clone())),
        Some(ProposalState::Discarded) => return Err(ProposalError::Discarded(run.id.clone())),
        None => return Err(ProposalError::NoChanges(run.id.clone())),
    }
    let branch = run
        .branch
        .clone()
        .ok_or_else(|| ProposalError::NoBranch(run.id.clone()))?;
    let task = store
        .task(run.task)
        .await?
        .ok_or_else(|| ProposalError::UnknownTask(run.id.clone()))?;
    match task.key.scope {
        TaskScope::Project(root) => Ok((root, branch)),
        TaskScope::User => Err(ProposalError::NoRepository(run.id.clone())),
    }
}

/// Puts the proposal's changes into the repository's working tree (not committed: the user
/// reviews and commits them), then drops the run's branch. A patch that does not fit, or that
/// changes sensitive paths under [`SensitivePolicy::Refuse`], changes nothing at all.
pub async fn apply(
    store: &Store,
    paths: &Paths,
    run: &Run,
    policy: SensitivePolicy,
) -> Result<Applied, ProposalError> {
    let (repo, branch) = pending(store, run).await?;
    let patch = patch_path(paths, &run.id);
    let sensitive = sensitive_changes(&read_patch(&patch)?);
    match policy {
        SensitivePolicy::Refuse if !sensitive.is_empty() => {
            return Err(ProposalError::Sensitive {
                run: run.id.clone(),
                changes: sensitive,
            });
        }
        SensitivePolicy::Refuse | SensitivePolicy::Allow => {}
    }
    apply_patch(&repo, run, &patch).await?;
    store.set_proposal(&run.id, ProposalState::Applied).await?;
    git::delete_branch(&repo, &branch).await?;
    Ok(Applied { repo, sensitive })
}

/// `git apply` of the patch: checked first, so that a patch that does not fit changes nothing.
/// No --index or --3way: those would touch the user's staging area. The patch lives in tend's
/// own state folder (0700), where a run's commands cannot write, so the file classified is the
/// file applied.
async fn apply_patch(repo: &Path, run: &Run, patch: &Path) -> Result<(), ProposalError> {
    let patch_text = patch.to_string_lossy().into_owned();
    git::git(repo, &["apply", "--check", &patch_text])
        .await
        .map_err(|source| ProposalError::DoesNotApply {
            run: run.id.clone(),
            repo: repo.to_path_buf(),
            source,
        })?;
    git::git(repo, &["apply", &patch_text]).await?;
    Ok(())
}

/// Drops the proposal and its branch. Returns the branch.
pub async fn discard(store: &Store, run: &Run) -> Result<String, ProposalError> {
    let (repo, branch) = pending(store, run).await?;
    git::delete_branch(&repo, &branch).await?;
    store
        .set_proposal(&run.id, ProposalState::Discarded)
        .await?;
    Ok(branch)
}

//! What a human does with a finished run's proposal (`tend apply`, `tend discard`, the
//! dashboard's buttons): its diff into the repository's working tree, or away with its branch.

use std::path::PathBuf;

use tend_config::Paths;
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
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Store(#[from] StoreError),
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
/// reviews and commits them), then drops the run's branch. A patch that does not fit changes
/// nothing at all. Returns the repository.
pub async fn apply(store: &Store, paths: &Paths, run: &Run) -> Result<PathBuf, ProposalError> {
    let (repo, branch) = pending(store, run).await?;
    let patch = crate::run_dir(paths, run.id.as_str()).join("diff.patch");
    let patch_text = patch.to_string_lossy().into_owned();
    // No --index or --3way: those would touch the user's staging area.
    git::git(&repo, &["apply", "--check", &patch_text])
        .await
        .map_err(|source| ProposalError::DoesNotApply {
            run: run.id.clone(),
            repo: repo.clone(),
            source,
        })?;
    git::git(&repo, &["apply", &patch_text]).await?;
    store.set_proposal(&run.id, ProposalState::Applied).await?;
    git::delete_branch(&repo, &branch).await?;
    Ok(repo)
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

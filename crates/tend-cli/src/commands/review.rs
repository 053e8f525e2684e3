//! Proposals: `tend review [RUN]`, `tend apply RUN`, `tend discard RUN`.

use std::io::{IsTerminal, Write};

use tend_store::{ProposalState, Run, RunFilter, RunState};

use crate::cli::{ReviewArgs, RunArg};
use crate::context::Context;
use crate::exit::invalid;
use crate::output::{Table, print_json, say};
use crate::runref::find_run;

/// `tend review`: the pending proposals; `tend review RUN`: one run's report and diff.
pub fn review(ctx: &Context, args: &ReviewArgs) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let Some(text) = &args.run else {
        let runs = ctx.block_on(store.runs(&RunFilter {
            states: vec![
                RunState::Succeeded,
                RunState::Failed,
                RunState::TimedOut,
                RunState::Expired,
            ],
            ..RunFilter::default()
        }))?;
        ctx.block_on(store.close());
        let pending: Vec<&Run> = runs
            .iter()
            .filter(|r| r.proposal == Some(ProposalState::Pending))
            .collect();
        if args.json {
            return print_json(&pending);
        }
        if pending.is_empty() {
            say!("No proposals waiting for review.");
            return Ok(());
        }
        let mut table = Table::new(vec!["RUN", "BRANCH", "SUMMARY"]);
        for run in pending {
            let summary = run
                .summary
                .as_deref()
                .unwrap_or("")
                .lines()
                .next()
                .unwrap_or("")
                .to_owned();
            table.push(vec![
                run.id.to_string(),
                run.branch.clone().unwrap_or_default(),
                summary,
            ]);
        }
        let stdout = std::io::stdout();
        table.write(&mut stdout.lock())?;
        say!(
            "\n`tend review RUN` shows one; `tend apply RUN` takes it, `tend discard RUN` drops it."
        );
        return Ok(());
    };
    let run = find_run(ctx, &store, text)?;
    ctx.block_on(store.close());
    let dir = tend_run::run_dir(&ctx.paths, run.id.as_str());
    if args.json {
        return print_json(&run);
    }
    let report =
        std::fs::read_to_string(dir.join("report.md")).unwrap_or_else(|_| "(no report)\n".into());
    let diff = std::fs::read_to_string(dir.join("diff.patch")).unwrap_or_default();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(out, "{}", report.trim_end())?;
    if !diff.is_empty() {
        writeln!(out)?;
        let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        for line in diff.lines() {
            writeln!(out, "{}", paint(line, color))?;
        }
    }
    Ok(())
}

/// Diff colouring as git does it, for a terminal.
fn paint(line: &str, color: bool) -> String {
    if !color {
        return line.to_owned();
    }
    let code = if line.starts_with("+++") || line.starts_with("---") || line.starts_with("diff ") {
        "1"
    } else if line.starts_with('+') {
        "32"
    } else if line.starts_with('-') {
        "31"
    } else if line.starts_with("@@") {
        "36"
    } else {
        return line.to_owned();
    };
    format!("\x1b[{code}m{line}\x1b[0m")
}

/// `tend apply RUN`: puts the proposal's changes into the user's working tree (not committed:
/// the user reviews and commits them), then drops the run's branch.
pub fn apply(ctx: &Context, args: &RunArg) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let run = find_run(ctx, &store, &args.run)?;
    let (repo, branch) = proposal_of(ctx, &store, &run)?;
    let patch = tend_run::run_dir(&ctx.paths, run.id.as_str()).join("diff.patch");
    let patch_text = patch.to_string_lossy().into_owned();
    // Checked first so that a patch that does not fit changes nothing at all. No --index or
    // --3way: those would touch the user's staging area.
    ctx.block_on(tend_run::git::git(
        &repo,
        &["apply", "--check", &patch_text],
    ))
    .map_err(|e| {
        invalid(
            format!(
                "the proposal of run {} does not apply cleanly to {}: {e}",
                run.id,
                repo.display()
            ),
            Some("commit or stash your changes, or merge the branch yourself: git merge BRANCH"),
        )
    })?;
    ctx.block_on(tend_run::git::git(&repo, &["apply", &patch_text]))?;
    ctx.block_on(store.set_proposal(&run.id, ProposalState::Applied))?;
    ctx.block_on(tend_run::git::delete_branch(&repo, &branch))?;
    ctx.block_on(store.close());
    say!(
        "applied run {} to {} (not committed: review with `git diff`, then commit)",
        run.id,
        ctx.display_path(&repo)
    );
    Ok(())
}

/// `tend discard RUN`: drops the proposal and its branch.
pub fn discard(ctx: &Context, args: &RunArg) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let run = find_run(ctx, &store, &args.run)?;
    let (repo, branch) = proposal_of(ctx, &store, &run)?;
    ctx.block_on(tend_run::git::delete_branch(&repo, &branch))?;
    ctx.block_on(store.set_proposal(&run.id, ProposalState::Discarded))?;
    ctx.block_on(store.close());
    say!("discarded run {} and deleted branch {branch}", run.id);
    Ok(())
}

/// The repository and branch of a run's pending proposal, or why there is none.
fn proposal_of(
    ctx: &Context,
    store: &tend_store::Store,
    run: &Run,
) -> anyhow::Result<(std::path::PathBuf, String)> {
    match run.proposal {
        Some(ProposalState::Pending) => {}
        Some(ProposalState::Applied) => {
            return Err(invalid(format!("run {} was already applied", run.id), None));
        }
        Some(ProposalState::Discarded) => {
            return Err(invalid(format!("run {} was discarded", run.id), None));
        }
        None => {
            return Err(invalid(
                format!("run {} proposed no changes", run.id),
                Some("`tend review` lists the runs that did"),
            ));
        }
    }
    let branch = run
        .branch
        .clone()
        .ok_or_else(|| invalid(format!("run {} has no branch", run.id), None))?;
    let task = ctx
        .block_on(store.task(run.task))?
        .ok_or_else(|| invalid(format!("the task of run {} is unknown", run.id), None))?;
    match task.key.scope {
        tend_store::TaskScope::Project(root) => Ok((root, branch)),
        tend_store::TaskScope::User => Err(invalid(
            format!("run {} belongs to no repository", run.id),
            None,
        )),
    }
}

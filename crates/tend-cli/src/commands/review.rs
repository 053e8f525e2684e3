//! Proposals: `tend review [RUN]`, `tend apply RUN`, `tend discard RUN`.

use std::io::{IsTerminal, Write};

use tend_config::sensitive::SensitiveChange;
use tend_run::proposal::{self, ProposalError, SensitivePolicy};
use tend_store::{ProposalState, Run, RunFilter, RunState};

use crate::cli::{ApplyArgs, ReviewArgs, RunArg};
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
        let pending = runs
            .iter()
            .filter(|r| r.proposal == Some(ProposalState::Pending))
            .map(|run| Ok(Reviewed::of(ctx, run)?))
            .collect::<anyhow::Result<Vec<Reviewed<'_>>>>()?;
        if args.json {
            return print_json(&pending);
        }
        if pending.is_empty() {
            say!("No proposals waiting for review.");
            return Ok(());
        }
        let mut table = Table::new(vec!["RUN", "BRANCH", "SENSITIVE", "SUMMARY"]);
        for r in &pending {
            let summary = r
                .run
                .summary
                .as_deref()
                .unwrap_or("")
                .lines()
                .next()
                .unwrap_or("")
                .to_owned();
            let flag = match r.sensitive.len() {
                0 => "-".to_owned(),
                n => format!("⚠ {n}"),
            };
            table.push(vec![
                r.run.id.to_string(),
                r.run.branch.clone().unwrap_or_default(),
                flag,
                summary,
            ]);
        }
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        table.write(&mut out)?;
        for r in pending.iter().filter(|r| !r.sensitive.is_empty()) {
            writeln!(
                out,
                "\n⚠ run {} changes sensitive paths (`tend apply` refuses it without --allow-sensitive):{}",
                r.run.id,
                proposal::list_sensitive(&r.sensitive)
            )?;
        }
        drop(out);
        say!(
            "\n`tend review RUN` shows one; `tend apply RUN` takes it, `tend discard RUN` drops it."
        );
        return Ok(());
    };
    let run = find_run(ctx, &store, text)?;
    ctx.block_on(store.close());
    let dir = tend_run::run_dir(&ctx.paths, run.id.as_str());
    let reviewed = Reviewed::of(ctx, &run)?;
    if args.json {
        return print_json(&reviewed);
    }
    let report =
        std::fs::read_to_string(dir.join("report.md")).unwrap_or_else(|_| "(no report)\n".into());
    // Lossy: a proposal's text file in another encoding still shows (as `git diff` would).
    let diff = std::fs::read(dir.join("diff.patch"))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    // The report names them at its top; one written before tend flagged them does not.
    let block = proposal::sensitive_block(run.id.as_str(), &reviewed.sensitive);
    if !report.contains(block.trim_end()) {
        writeln!(out, "{block}")?;
    }
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

/// A run as `tend review` shows it: its record and its proposal's sensitive changes.
#[derive(serde::Serialize)]
struct Reviewed<'a> {
    #[serde(flatten)]
    run: &'a Run,
    sensitive: Vec<SensitiveChange>,
}

impl Reviewed<'_> {
    fn of<'a>(ctx: &Context, run: &'a Run) -> Result<Reviewed<'a>, ProposalError> {
        let sensitive = match run.proposal {
            Some(_) => proposal::sensitive(&ctx.paths, &run.id)?,
            None => Vec::new(),
        };
        Ok(Reviewed { run, sensitive })
    }
}

/// The `next` line after a run with a proposal (`tend run`, `tend approve`, a handover): with
/// sensitive changes, a warning naming each, and no `tend apply` to copy without reading.
pub fn say_next(run_dir: &std::path::Path, id: &str) -> anyhow::Result<()> {
    // An unreadable patch is refused by `tend apply` too; `tend review` says why.
    let sensitive = proposal::sensitive_in(&run_dir.join("diff.patch")).unwrap_or_default();
    if sensitive.is_empty() {
        say!("  next    tend review {id} · tend apply {id} · tend discard {id}");
        return Ok(());
    }
    say!(
        "  ⚠       sensitive changes (`tend apply` refuses them without --allow-sensitive):{}",
        proposal::list_sensitive(&sensitive).replace("\n  ", "\n          ")
    );
    say!("  next    tend review {id} · tend discard {id}");
    Ok(())
}

/// `tend apply RUN`: puts the proposal's changes into the user's working tree (not committed:
/// the user reviews and commits them), then drops the run's branch. Sensitive changes are
/// refused, naming each, unless `--allow-sensitive`.
pub fn apply(ctx: &Context, args: &ApplyArgs) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let run = find_run(ctx, &store, &args.run)?;
    let policy = if args.allow_sensitive {
        SensitivePolicy::Allow
    } else {
        SensitivePolicy::Refuse
    };
    let applied = ctx.block_on(proposal::apply(&store, &ctx.paths, &run, policy));
    ctx.block_on(store.close());
    let applied = applied.map_err(|e| apply_error(&run, e))?;
    say!(
        "applied run {} to {} (not committed: review with `git diff`, then commit)",
        run.id,
        ctx.display_path(&applied.repo)
    );
    if !applied.sensitive.is_empty() {
        say!(
            "⚠ including sensitive changes (--allow-sensitive):{}",
            proposal::list_sensitive(&applied.sensitive)
        );
    }
    Ok(())
}

/// What a refused or failed apply tells the user, with what to do about it.
fn apply_error(run: &Run, e: ProposalError) -> anyhow::Error {
    let id = &run.id;
    match e {
        ProposalError::Sensitive { .. } => {
            let hint = format!(
                "read them with `tend review {id}`; `tend apply --allow-sensitive {id}` applies them anyway, `tend discard {id}` drops the proposal"
            );
            invalid(e, Some(&hint))
        }
        ProposalError::DoesNotApply { .. } => invalid(
            e,
            Some("commit or stash your changes, or merge the branch yourself: git merge BRANCH"),
        ),
        ProposalError::NoChanges(_) => invalid(e, Some("`tend review` lists the runs that did")),
        ProposalError::Applied(_)
        | ProposalError::Discarded(_)
        | ProposalError::NoBranch(_)
        | ProposalError::UnknownTask(_)
        | ProposalError::NoRepository(_) => invalid(e, None),
        ProposalError::ReadPatch { .. } | ProposalError::Git(_) | ProposalError::Store(_) => {
            e.into()
        }
    }
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

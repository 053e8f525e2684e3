//! Human answers to parked runs: `tend approvals`, `tend approve ID [--always]`,
//! `tend deny ID --reason …`. An answer resumes the run from its checkpoint in the same
//! worktree; an approval nobody answered in time expires and the run ends keeping its work.

use serde::Serialize;
use tend_agent::Resolution;
use tend_run::{Closing, RunRequest, Runner, StopSignal, close_parked, model_choice};
use tend_store::{Approval, ApprovalId, ApprovalState, Decision, Store, TaskScope};

use crate::catalog::{Catalog, Entry, Reach, registered_roots};
use crate::cli::{ApprovalsArgs, ApproveArgs, DenyArgs};
use crate::context::Context;
use crate::exit::{InvalidInput, invalid};
use crate::output::{Table, print_json, relative, say};
use crate::progress::Printer;

#[derive(Debug, Serialize)]
struct Row<'a> {
    #[serde(flatten)]
    approval: &'a Approval,
    task: String,
}

/// `tend approvals`: the requests waiting for a human (after closing those that expired).
pub fn list(ctx: &Context, args: &ApprovalsArgs) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let catalog = Catalog::load(ctx, Reach::Everywhere(registered_roots(ctx, &store)?))?;
    expire_due(ctx, &store, &catalog)?;
    let pending = ctx.block_on(store.pending_approvals())?;
    let mut rows = Vec::new();
    for approval in &pending {
        rows.push(Row {
            approval,
            task: task_name(ctx, &store, approval)?,
        });
    }
    ctx.block_on(store.close());
    if args.json {
        return print_json(&rows);
    }
    if rows.is_empty() {
        say!("No approvals waiting.");
        return Ok(());
    }
    let now = ctx.now();
    let mut table = Table::new(vec!["ID", "TASK", "RUN", "WANTS", "WHY", "EXPIRES"]);
    for row in &rows {
        let a = row.approval;
        table.push(vec![
            a.id.to_string(),
            row.task.clone(),
            a.run.to_string(),
            wants(a),
            a.rule.clone(),
            relative(a.expires_at, now),
        ]);
    }
    let stdout = std::io::stdout();
    table.write(&mut stdout.lock())?;
    say!(
        "\n`tend approve ID` lets it run (`--always`: and adds an allow rule), `tend deny ID --reason …` refuses it."
    );
    Ok(())
}

/// `tend approve ID [--always]`.
pub fn approve(ctx: &Context, args: &ApproveArgs) -> anyhow::Result<std::process::ExitCode> {
    let by = who();
    answer(
        ctx,
        args.id,
        if args.always {
            Decision::ApproveAlways
        } else {
            Decision::Approve
        },
        None,
        Resolution::Approve { by },
        args.quiet,
    )
}

/// `tend deny ID --reason …`.
pub fn deny(ctx: &Context, args: &DenyArgs) -> anyhow::Result<std::process::ExitCode> {
    let by = who();
    answer(
        ctx,
        args.id,
        Decision::Deny,
        Some(&args.reason),
        Resolution::Deny {
            by,
            reason: args.reason.clone(),
        },
        args.quiet,
    )
}

fn answer(
    ctx: &Context,
    id: i64,
    decision: Decision,
    reason: Option<&str>,
    resolution: Resolution,
    quiet: bool,
) -> anyhow::Result<std::process::ExitCode> {
    let store = ctx.store()?;
    let catalog = Catalog::load(ctx, Reach::Everywhere(registered_roots(ctx, &store)?))?;
    expire_due(ctx, &store, &catalog)?;
    let id = ApprovalId::new(id);
    let approval = ctx.block_on(store.approval(id))?.ok_or_else(|| {
        invalid(
            format!("no approval {id}"),
            Some("`tend approvals` lists them"),
        )
    })?;
    if approval.state != ApprovalState::Pending {
        return Err(invalid(
            format!("approval {id} was already {}", approval.state),
            Some("`tend approvals` lists the ones waiting"),
        ));
    }
    let entry = entry_of(ctx, &store, &catalog, &approval)?;
    if decision == Decision::ApproveAlways {
        add_rule(ctx, entry, &approval)?;
    }
    ctx.block_on(store.decide_approval(
        id,
        decision,
        resolution_by(&resolution),
        reason,
        ctx.now(),
    ))?;
    // A request to open a pull request belongs to a run that has ended: the answer is carried
    // out (push and `gh pr create`, or a note), no session resumes.
    let pull_request = approval.tool == tend_run::OPEN_PR_TOOL;
    say!(
        "{} approval {id}: {} · {} run {}",
        match decision {
            Decision::Approve | Decision::ApproveAlways => "approved",
            Decision::Deny => "denied",
        },
        wants(&approval),
        if pull_request {
            "proposal of"
        } else {
            "resuming"
        },
        approval.run
    );
    let finished = if pull_request {
        answer_pull_request(ctx, &store, entry, &approval, resolution, quiet)?
    } else {
        resume(ctx, &store, entry, &approval, resolution, quiet)?
    };
    ctx.block_on(store.close());
    crate::progress::print_end(ctx, &finished)
}

/// Pushes and opens the pull request of a finished run (approved), or notes the refusal.
fn answer_pull_request(
    ctx: &Context,
    store: &Store,
    entry: &Entry,
    approval: &Approval,
    resolution: Resolution,
    quiet: bool,
) -> anyhow::Result<tend_run::Finished> {
    let task = resolved(entry)?;
    let runner = Runner {
        store,
        paths: &ctx.paths,
        clock: ctx.clock.as_ref(),
    };
    let answer = match resolution {
        Resolution::Approve { .. } => tend_run::PullRequestAnswer::Approve,
        Resolution::Deny { by, reason } => tend_run::PullRequestAnswer::Deny { by, reason },
    };
    let mut printer = Printer::new(quiet);
    let mut live = |event: &tend_agent::AgentEvent| printer.event(event);
    ctx.block_on(tend_run::answer_pull_request(
        &runner, &task, approval, answer, &mut live,
    ))
    .map_err(|e| anyhow::anyhow!("run {}: {e}", approval.run))
}

/// Resumes the run in this process, streaming its progress like `tend run`.
fn resume(
    ctx: &Context,
    store: &Store,
    entry: &Entry,
    approval: &Approval,
    resolution: Resolution,
    quiet: bool,
) -> anyhow::Result<tend_run::Finished> {
    let task = resolved(entry)?;
    let request = request_for(ctx, store, entry, &task, approval)?;
    let runner = Runner {
        store,
        paths: &ctx.paths,
        clock: ctx.clock.as_ref(),
    };
    let mut printer = Printer::new(quiet);
    let mut live = |event: &tend_agent::AgentEvent| printer.event(event);
    ctx.block_on(tend_run::resume_with_stop(
        &runner,
        request,
        resolution,
        &mut live,
        StopSignal::never(),
    ))
    .map_err(|e| anyhow::anyhow!("run {} failed: {e}", approval.run))
}

/// Closes every parked run whose approval ran out of time (the daemon does this too; a
/// command that looks at approvals must not show or act on stale ones).
pub fn expire_due(ctx: &Context, store: &Store, catalog: &Catalog) -> anyhow::Result<()> {
    let expired = ctx.block_on(store.expire_approvals(ctx.now()))?;
    for approval in expired {
        let Ok(entry) = entry_of(ctx, store, catalog, &approval) else {
            continue;
        };
        let task = resolved(entry)?;
        let runner = Runner {
            store,
            paths: &ctx.paths,
            clock: ctx.clock.as_ref(),
        };
        let Some(run) = ctx.block_on(store.run(&approval.run))? else {
            continue;
        };
        let label = task
            .model
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let closed = ctx.block_on(close_parked(
            &runner,
            &task,
            run.task,
            &run.id,
            &label,
            Closing::Expired,
        ));
        match closed {
            Ok(_) if approval.tool == tend_run::OPEN_PR_TOOL => eprintln!(
                "note: approval {} (a pull request) expired; run {} keeps its proposal",
                approval.id, approval.run
            ),
            Ok(_) => eprintln!(
                "note: approval {} expired; run {} ended, its work so far is kept",
                approval.id, approval.run
            ),
            Err(e) => eprintln!(
                "warning: approval {} expired, but closing run {} failed: {e}",
                approval.id, approval.run
            ),
        }
    }
    Ok(())
}

fn request_for(
    ctx: &Context,
    store: &Store,
    entry: &Entry,
    task: &tend_config::ResolvedTask,
    approval: &Approval,
) -> anyhow::Result<RunRequest> {
    let user_config = ctx.user_config()?;
    let config = match &task.scope {
        tend_config::Scope::Project { root } => ctx.project_config(&user_config, root)?,
        tend_config::Scope::User => user_config,
    };
    let model = model_choice(task, &config, &|name| std::env::var(name).ok())
        .map_err(|e| invalid(e, None))?;
    let state = ctx.block_on(store.ensure_task(&entry.key(), ctx.now()))?;
    Ok(RunRequest {
        task: task.clone(),
        task_id: state.id,
        run_id: approval.run.clone(),
        model,
    })
}

/// The task file a parked run belongs to.
fn entry_of<'c>(
    ctx: &Context,
    store: &Store,
    catalog: &'c Catalog,
    approval: &Approval,
) -> anyhow::Result<&'c Entry> {
    let run = ctx
        .block_on(store.run(&approval.run))?
        .ok_or_else(|| invalid(format!("run {} is gone", approval.run), None))?;
    let state = ctx
        .block_on(store.task(run.task))?
        .ok_or_else(|| invalid(format!("the task of run {} is gone", run.id), None))?;
    catalog
        .entries
        .iter()
        .find(|e| e.key() == state.key)
        .ok_or_else(|| {
            invalid(
                format!("the task file of `{}` is gone or broken", state.key.name),
                Some("restore it (or fix it: `tend validate`), then answer again"),
            )
        })
}

fn resolved(entry: &Entry) -> anyhow::Result<tend_config::ResolvedTask> {
    entry
        .resolved
        .clone()
        .map_err(|errors| anyhow::Error::new(InvalidInput(tend_config::render_errors(&errors))))
}

/// `--always`: the allow rule goes into the task file, unless no allow rule can help.
fn add_rule(ctx: &Context, entry: &Entry, approval: &Approval) -> anyhow::Result<()> {
    if approval.tool == tend_run::OPEN_PR_TOOL {
        return add_pull_request_rules(ctx, entry, approval);
    }
    let parked = tend_run::run_dir(&ctx.paths, approval.run.as_str()).join("parked.json");
    let text = std::fs::read_to_string(&parked)?;
    let value: serde_json::Value = serde_json::from_str(&text)?;
    let Some(rule) = value["checkpoint"]["allow_rule"].as_str() else {
        return Err(invalid(
            format!("--always cannot help here: {}", approval.rule),
            Some(
                "an allow rule cannot outrank an ask or deny rule, nor a mode's limit; approve without --always, or change the task's [permissions]",
            ),
        ));
    };
    let rule: tend_policy::Rule = rule.parse().map_err(|e| invalid(e, None))?;
    tend_config::add_allow_rule(&entry.file.path, &rule).map_err(|e| invalid(e, None))?;
    say!(
        "added allow rule `{rule}` to {}",
        ctx.display_path(&entry.file.path)
    );
    Ok(())
}

/// `--always` for a pull request: the rules that let `git push` and `gh pr create` through
/// (only an `auto` task can be helped: other modes always ask before publishing).
fn add_pull_request_rules(ctx: &Context, entry: &Entry, approval: &Approval) -> anyhow::Result<()> {
    let rules: Vec<&str> = approval.arguments["allow_rules"]
        .as_array()
        .map(|rules| rules.iter().filter_map(|r| r.as_str()).collect())
        .unwrap_or_default();
    if rules.is_empty() {
        return Err(invalid(
            format!("--always cannot help here: {}", approval.rule),
            Some(
                "only a task with mode = \"auto\" publishes on an allow rule, and an ask or deny rule outranks any allow rule; approve without --always, or change the task",
            ),
        ));
    }
    for rule in rules {
        let rule: tend_policy::Rule = rule.parse().map_err(|e| invalid(e, None))?;
        tend_config::add_allow_rule(&entry.file.path, &rule).map_err(|e| invalid(e, None))?;
        say!(
            "added allow rule `{rule}` to {}",
            ctx.display_path(&entry.file.path)
        );
    }
    Ok(())
}

fn task_name(ctx: &Context, store: &Store, approval: &Approval) -> anyhow::Result<String> {
    let Some(run) = ctx.block_on(store.run(&approval.run))? else {
        return Ok(String::new());
    };
    Ok(match ctx.block_on(store.task(run.task))? {
        Some(state) => match state.key.scope {
            TaskScope::User => format!("user/{}", state.key.name),
            TaskScope::Project(_) => state.key.name,
        },
        None => String::new(),
    })
}

/// What the call wants to do, in a few words: `bash: git push origin main`.
fn wants(a: &Approval) -> String {
    tend_run::approval_wants(a)
}

fn who() -> String {
    std::env::var("USER").unwrap_or_else(|_| "someone".to_owned())
}

fn resolution_by(resolution: &Resolution) -> &str {
    match resolution {
        Resolution::Approve { by } | Resolution::Deny { by, .. } => by,
    }
}

//! `tend ps`: runs in progress and waiting, from the daemon and from the store (a `tend run` in
//! a terminal executes its run itself).

use std::collections::HashMap;

use jiff::Timestamp;
use serde::Serialize;
use tend_daemon::client::Client;
use tend_daemon::protocol::{Reply, Request, RunInfo};
use tend_store::{RunFilter, RunState, Store, TaskId, TaskScope};

use crate::cli::JsonArg;
use crate::context::Context;
use crate::output::{Table, print_json, relative, say};

#[derive(Debug, Serialize)]
struct Row {
    run: String,
    task: String,
    state: String,
    trigger: String,
    slot_due: Option<Timestamp>,
    created_at: Timestamp,
    started_at: Option<Timestamp>,
    /// `daemon`, `pid N` (a live process), `gone (pid N)` (it died: `tend cancel` records it
    /// interrupted) or `none`.
    owner: String,
    waiting_for: Option<String>,
    /// Set for a loop (`tend loop`): its row stands for the loop and its check in progress.
    #[serde(rename = "loop", skip_serializing_if = "Option::is_none")]
    looping: Option<tend_run::loops::LoopRecord>,
}

pub fn run(ctx: &Context, args: &JsonArg) -> anyhow::Result<()> {
    let from_daemon: Vec<RunInfo> = match Client::connect(&ctx.paths.state_dir)? {
        Some(mut client) => match client.ask(&Request::Ps)? {
            Reply::Ps { runs } => runs,
            other => anyhow::bail!("unexpected answer from the daemon: {other:?}"),
        },
        None => Vec::new(),
    };
    let mut rows: Vec<Row> = from_daemon
        .iter()
        .map(|r| Row {
            run: r.run.clone(),
            task: r.task.clone(),
            state: r.state.clone(),
            trigger: r.trigger.clone(),
            slot_due: r.slot_due,
            created_at: r.created_at,
            started_at: r.started_at,
            owner: "daemon".to_owned(),
            waiting_for: r.waiting_for.clone(),
            looping: None,
        })
        .collect();
    if let Some(store) = ctx.block_on(Store::open_existing(&ctx.paths.db_path))? {
        let names = task_names(ctx, &store)?;
        let active = ctx.block_on(store.runs(&RunFilter {
            states: RunState::ACTIVE.to_vec(),
            ..RunFilter::default()
        }))?;
        ctx.block_on(store.close());
        for run in active.iter().rev() {
            if from_daemon.iter().any(|r| r.run == run.id.as_str()) {
                continue;
            }
            let owner = match &run.owner {
                Some(o) if tend_run::is_alive(o) => format!("pid {}", o.pid),
                Some(o) => format!("gone (pid {})", o.pid),
                None => "none".to_owned(),
            };
            rows.push(Row {
                run: run.id.to_string(),
                task: names
                    .get(&run.task)
                    .cloned()
                    .unwrap_or_else(|| format!("#{}", run.task)),
                state: run.state.to_string(),
                trigger: run.trigger.to_string(),
                slot_due: None,
                created_at: run.created_at,
                started_at: run.started_at,
                owner,
                waiting_for: None,
                looping: None,
            });
        }
    }
    // Live loops, each in place of its check's run; their records name their processes.
    let now = ctx.now();
    for l in tend_run::loops::registry::live(&ctx.paths.state_dir) {
        if let Some(run) = &l.run {
            rows.retain(|r| r.run != *run);
        }
        rows.push(Row {
            run: l.run.clone().unwrap_or_else(|| "-".to_owned()),
            task: l.task.clone(),
            state: l.state.as_str().to_owned(),
            trigger: "loop".to_owned(),
            slot_due: None,
            created_at: l.started_at,
            started_at: Some(l.started_at),
            owner: format!("pid {}", l.pid),
            waiting_for: l
                .next_at
                .map(|at| format!("next check {}", relative(at, now))),
            looping: Some(l),
        });
    }
    if args.json {
        return print_json(&rows);
    }
    if rows.is_empty() {
        say!("No runs in progress.");
        return Ok(());
    }
    let mut table = Table::new(vec![
        "RUN",
        "TASK",
        "STATE",
        "TRIGGER",
        "SINCE",
        "OWNER",
        "WAITING FOR",
    ]);
    for row in &rows {
        table.push(vec![
            row.run.clone(),
            row.task.clone(),
            row.state.clone(),
            row.trigger.clone(),
            relative(row.started_at.unwrap_or(row.created_at), now),
            row.owner.clone(),
            row.waiting_for.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    table.write(&mut out)?;
    Ok(())
}

/// `user/name` for user tasks, the name for project tasks (as `tend runs` shows them).
pub fn task_names(ctx: &Context, store: &Store) -> anyhow::Result<HashMap<TaskId, String>> {
    let states = ctx.block_on(store.task_states())?;
    Ok(states
        .into_iter()
        .map(|s| {
            let label = match &s.key.scope {
                TaskScope::User => format!("user/{}", s.key.name),
                TaskScope::Project(_) => s.key.name.clone(),
            };
            (s.id, label)
        })
        .collect())
}

/// Milliseconds as `3h 12m`, `45s`.
pub fn human_ms(ms: u64) -> String {
    tend_daemon::decide::human(jiff::SignedDuration::from_millis(
        i64::try_from(ms).unwrap_or(i64::MAX),
    ))
}

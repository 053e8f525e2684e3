//! `tend runs`: recent runs, newest first.

use std::collections::HashMap;
use std::io::Write;

use serde::Serialize;
use tend_store::{RunFilter, RunState, TaskId, TaskScope};

use crate::cli::RunsArgs;
use crate::context::Context;
use crate::exit::invalid;
use crate::output::{Table, print_json};

#[derive(Debug, Serialize)]
struct Row {
    id: String,
    task: String,
    trigger: String,
    state: String,
    status: Option<String>,
    proposal: Option<String>,
    created_at: String,
    started_at: Option<String>,
    ended_at: Option<String>,
    duration_ms: Option<i64>,
    cost_micro_usd: u64,
    tokens_in: u64,
    tokens_out: u64,
    branch: Option<String>,
    summary: Option<String>,
}

pub fn run(ctx: &Context, args: &RunsArgs) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let states = ctx.block_on(store.task_states())?;
    let names: HashMap<TaskId, String> = states
        .iter()
        .map(|s| {
            let label = match &s.key.scope {
                TaskScope::User => format!("user/{}", s.key.name),
                TaskScope::Project(_) => s.key.name.clone(),
            };
            (s.id, label)
        })
        .collect();
    let task = match &args.task {
        Some(name) => {
            let found: Vec<TaskId> = states
                .iter()
                .filter(|s| &s.key.name == name)
                .map(|s| s.id)
                .collect();
            match found.as_slice() {
                [id] => Some(*id),
                [] => return Err(invalid(format!("no task named `{name}` has runs"), None)),
                [..] => {
                    return Err(invalid(
                        format!("`{name}` names several tasks"),
                        Some("the runs of each are in `tend runs` without --task"),
                    ));
                }
            }
        }
        None => None,
    };
    let filter_states = match &args.state {
        Some(s) => vec![s.parse::<RunState>().map_err(|_| {
            invalid(
                format!("unknown run state `{s}`"),
                Some("one of: queued, preparing, running, waiting_approval, succeeded, failed, timed_out, cancelled, interrupted, expired"),
            )
        })?],
        None => Vec::new(),
    };
    let runs = ctx.block_on(store.runs(&RunFilter {
        task,
        states: filter_states,
        limit: Some(args.limit),
    }))?;
    ctx.block_on(store.close());
    let rows: Vec<Row> = runs
        .iter()
        .map(|r| Row {
            id: r.id.to_string(),
            task: names
                .get(&r.task)
                .cloned()
                .unwrap_or_else(|| format!("#{}", r.task.get())),
            trigger: r.trigger.to_string(),
            state: r.state.to_string(),
            status: r.status.map(|s| s.to_string()),
            proposal: r.proposal.map(|p| p.to_string()),
            created_at: r.created_at.to_string(),
            started_at: r.started_at.map(|t| t.to_string()),
            ended_at: r.ended_at.map(|t| t.to_string()),
            duration_ms: match (r.started_at, r.ended_at) {
                (Some(s), Some(e)) => Some(e.as_millisecond() - s.as_millisecond()),
                _ => None,
            },
            cost_micro_usd: r.usage.cost_micro_usd,
            tokens_in: r.usage.tokens_in,
            tokens_out: r.usage.tokens_out,
            branch: r.branch.clone(),
            summary: r.summary.clone(),
        })
        .collect();
    if args.json {
        return print_json(&rows);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if rows.is_empty() {
        writeln!(out, "No runs yet. Start one with `tend run TASK`.")?;
        return Ok(());
    }
    let mut table = Table::new(vec![
        "RUN", "TASK", "TRIGGER", "STATE", "STATUS", "DURATION", "COST", "PROPOSAL",
    ]);
    for row in &rows {
        table.push(vec![
            row.id.clone(),
            row.task.clone(),
            row.trigger.clone(),
            row.state.clone(),
            row.status.clone().unwrap_or_else(|| "-".into()),
            row.duration_ms
                .map_or_else(|| "-".into(), |ms| format!("{:.1}s", ms as f64 / 1000.0)),
            if row.cost_micro_usd == 0 {
                "-".into()
            } else {
                format!("${:.4}", row.cost_micro_usd as f64 / 1e6)
            },
            row.proposal.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    table.write(&mut out)?;
    Ok(())
}

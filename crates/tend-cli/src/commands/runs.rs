//! `tend runs`: recent runs, newest first, with the slots that did not run (skipped, missed)
//! in the same timeline; `tend runs --slots`: the slot ledger itself, every due instant with
//! its outcome, reason and lateness.

use std::io::Write;

use jiff::Timestamp;
use serde::Serialize;
use tend_store::{RunFilter, RunState, SlotOutcome, SlotRecord, Store, TaskId};

use crate::cli::RunsArgs;
use crate::commands::ps::task_names;
use crate::context::Context;
use crate::exit::invalid;
use crate::output::{Table, local_time, print_json};

#[derive(Debug, Serialize)]
struct Row {
    /// `run`.
    kind: &'static str,
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
    #[serde(skip)]
    at: Timestamp,
}

#[derive(Debug, Serialize)]
struct SlotRow {
    /// `slot`.
    kind: &'static str,
    task: String,
    due: Timestamp,
    fire_at: Timestamp,
    claimed_at: Timestamp,
    outcome: SlotOutcome,
    reason: Option<String>,
    /// How long after its fire time the scheduler dealt with it (none for a missed slot).
    lateness_ms: Option<i64>,
    run: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Entry {
    Run(Box<Row>),
    Slot(SlotRow),
}

impl Entry {
    fn at(&self) -> Timestamp {
        match self {
            Entry::Run(r) => r.at,
            Entry::Slot(s) => s.claimed_at,
        }
    }
}

/// A `--state` filter: a run state or a slot outcome.
enum StateFilter {
    All,
    Run(RunState),
    Slot(SlotOutcome),
}

pub fn run(ctx: &Context, args: &RunsArgs) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let names = task_names(ctx, &store)?;
    let task = match &args.task {
        Some(name) => Some(find_task(ctx, &store, name)?),
        None => None,
    };
    let filter = match &args.state {
        None => StateFilter::All,
        Some(s) => match (s.parse::<RunState>(), s.parse::<SlotOutcome>()) {
            (Ok(state), _) => StateFilter::Run(state),
            (Err(_), Ok(outcome)) => StateFilter::Slot(outcome),
            (Err(_), Err(_)) => {
                return Err(invalid(
                    format!("unknown run state `{s}`"),
                    Some(
                        "one of: queued, preparing, running, waiting_approval, succeeded, failed, timed_out, cancelled, interrupted, expired; or a slot outcome: ran, skipped, missed",
                    ),
                ));
            }
        },
    };
    let name_of = |id: TaskId| {
        names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("#{}", id.get()))
    };
    let slots = match task {
        Some(id) => ctx.block_on(store.slots_for_task(id, args.limit))?,
        None => ctx.block_on(store.recent_slots(args.limit))?,
    };
    if args.slots {
        ctx.block_on(store.close());
        let rows: Vec<SlotRow> = slots
            .iter()
            .filter(|s| match filter {
                StateFilter::Slot(outcome) => s.outcome == outcome,
                StateFilter::All | StateFilter::Run(_) => true,
            })
            .map(|s| slot_row(s, name_of(s.task)))
            .collect();
        return print_slots(ctx, &rows, args.json);
    }
    let runs = match filter {
        StateFilter::Slot(_) => Vec::new(),
        StateFilter::All | StateFilter::Run(_) => ctx.block_on(store.runs(&RunFilter {
            task,
            states: match filter {
                StateFilter::Run(state) => vec![state],
                StateFilter::All | StateFilter::Slot(_) => Vec::new(),
            },
            limit: Some(args.limit),
        }))?,
    };
    ctx.block_on(store.close());
    let mut entries: Vec<Entry> = runs
        .iter()
        .map(|r| {
            Entry::Run(Box::new(Row {
                kind: "run",
                id: r.id.to_string(),
                task: name_of(r.task),
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
                at: r.created_at,
            }))
        })
        .collect();
    // Slots that ran or wait have their run in the list already; the others join it.
    let unrun = slots.iter().filter(|s| match filter {
        StateFilter::All => matches!(s.outcome, SlotOutcome::Skipped | SlotOutcome::Missed),
        StateFilter::Slot(outcome) => s.outcome == outcome,
        StateFilter::Run(_) => false,
    });
    entries.extend(unrun.map(|s| Entry::Slot(slot_row(s, name_of(s.task)))));
    // Newest first; a stable sort keeps the store's order among equal times.
    entries.sort_by_key(|e| std::cmp::Reverse(e.at()));
    entries.truncate(usize::try_from(args.limit).unwrap_or(usize::MAX));
    if args.json {
        return print_json(&entries);
    }
    print_timeline(ctx, &entries)
}

fn find_task(ctx: &Context, store: &Store, name: &str) -> anyhow::Result<TaskId> {
    let states = ctx.block_on(store.task_states())?;
    let found: Vec<TaskId> = states
        .iter()
        .filter(|s| s.key.name == name)
        .map(|s| s.id)
        .collect();
    match found.as_slice() {
        [id] => Ok(*id),
        [] => Err(invalid(format!("no task named `{name}` has runs"), None)),
        [..] => Err(invalid(
            format!("`{name}` names several tasks"),
            Some("the runs of each are in `tend runs` without --task"),
        )),
    }
}

fn slot_row(s: &SlotRecord, task: String) -> SlotRow {
    SlotRow {
        kind: "slot",
        task,
        due: s.due,
        fire_at: s.fire_at,
        claimed_at: s.claimed_at,
        outcome: s.outcome,
        reason: s.reason.clone(),
        lateness_ms: s
            .lateness
            .map(|l| l.as_millis().try_into().unwrap_or(i64::MAX)),
        run: s.run.as_ref().map(ToString::to_string),
    }
}

fn print_timeline(ctx: &Context, entries: &[Entry]) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if entries.is_empty() {
        writeln!(out, "No runs yet. Start one with `tend run TASK`.")?;
        return Ok(());
    }
    let tz = ctx.machine_zone().zone.tz().clone();
    let with_notes = entries.iter().any(|e| matches!(e, Entry::Slot(_)));
    let mut header = vec![
        "RUN", "TASK", "TRIGGER", "STATE", "STATUS", "DURATION", "COST", "PROPOSAL",
    ];
    if with_notes {
        header.push("NOTE");
    }
    let mut table = Table::new(header);
    for entry in entries {
        let mut cells = match entry {
            Entry::Run(row) => vec![
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
            ],
            Entry::Slot(slot) => vec![
                "-".into(),
                slot.task.clone(),
                "schedule".into(),
                slot.outcome.to_string(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
            ],
        };
        if with_notes {
            cells.push(match entry {
                Entry::Run(_) => String::new(),
                Entry::Slot(slot) => format!(
                    "slot {}: {}",
                    local_time(slot.due, &tz),
                    slot.reason.as_deref().unwrap_or("")
                ),
            });
        }
        table.push(cells);
    }
    table.write(&mut out)?;
    Ok(())
}

fn print_slots(ctx: &Context, rows: &[SlotRow], json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(&rows);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if rows.is_empty() {
        writeln!(
            out,
            "No slots yet: the daemon (`tend daemon`) records one for every due instant of a task."
        )?;
        return Ok(());
    }
    let tz = ctx.machine_zone().zone.tz().clone();
    let mut table = Table::new(vec!["DUE", "TASK", "OUTCOME", "LATE", "RUN", "REASON"]);
    for row in rows {
        table.push(vec![
            local_time(row.due, &tz),
            row.task.clone(),
            row.outcome.to_string(),
            row.lateness_ms
                .map_or_else(|| "-".into(), |ms| format!("{ms}ms")),
            row.run.clone().unwrap_or_else(|| "-".into()),
            row.reason.clone().unwrap_or_default(),
        ]);
    }
    table.write(&mut out)?;
    Ok(())
}

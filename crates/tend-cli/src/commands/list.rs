//! `tend list`: every task, its schedule, its next slot and its state.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;
use tend_config::TaskFileError;
use tend_store::{Run, TaskId, TaskKey, TaskState};

use crate::catalog::{Catalog, Entry, Reach, registered_roots};
use crate::cli::ListArgs;
use crate::context::Context;
use crate::output::{Table, print_json, relative, rfc3339};

/// One row of `tend list`, also its `--json` form.
#[derive(Debug, Serialize)]
pub struct Row {
    pub name: String,
    /// The project folder's name, or `user`.
    pub project: String,
    pub path: String,
    pub description: Option<String>,
    pub schedule: String,
    pub timezone: Option<String>,
    /// `active`, `paused`, `disabled`, `done` (an `at` task whose slot is over) or `invalid`.
    pub state: &'static str,
    pub next: Option<NextSlot>,
    pub last_run: Option<LastRun>,
    /// Why the task is `invalid`.
    pub errors: Vec<String>,
}

/// The next slot, kept as instants: the table shows it its own way, and only `--json` needs
/// the RFC 3339 text (formatting a thousand of them for nothing is measurable).
#[derive(Debug)]
pub struct NextSlot {
    pub due: Timestamp,
    pub fire_at: Timestamp,
    pub tz: TimeZone,
}

impl Serialize for NextSlot {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Text {
            due: String,
            fire_at: String,
        }
        Text {
            due: rfc3339(self.due, &self.tz),
            fire_at: rfc3339(self.fire_at, &self.tz),
        }
        .serialize(serializer)
    }
}

#[derive(Debug, Serialize)]
pub struct LastRun {
    pub id: String,
    pub state: String,
    pub status: Option<String>,
    pub created_at: String,
}

pub fn run(ctx: &Context, args: &ListArgs) -> anyhow::Result<()> {
    let now = ctx.now();
    let store = ctx.store()?;
    let mut roots = registered_roots(ctx, &store)?;
    // Registering is a write; a project tend knows already needs none.
    if let Some(project) = &ctx.project
        && project.tasks_dir.is_dir()
        && !roots.contains(&project.root)
    {
        ctx.block_on(store.register_project(&project.root, now))?;
        roots.push(project.root.clone());
    }
    // Reading what the store knows takes about as long as parsing a few hundred task files
    // and does not depend on them: do both at once.
    let (catalog, known, last_runs) = std::thread::scope(|s| {
        let reads = s.spawn(|| -> anyhow::Result<_> {
            let known = ctx.block_on(store.task_states())?;
            let last_runs = ctx.block_on(store.last_runs())?;
            Ok((known, last_runs))
        });
        let catalog = Catalog::load(ctx, Reach::Everywhere(roots));
        let reads = match reads.join() {
            Ok(reads) => reads,
            Err(payload) => std::panic::resume_unwind(payload),
        };
        let (known, last_runs) = reads?;
        anyhow::Ok((catalog?, known, last_runs))
    })?;
    let keys: Vec<_> = catalog.entries.iter().map(Entry::key).collect();
    let states = states_of(ctx, &store, &keys, known, now)?;
    ctx.block_on(store.close());
    let last_by_task: HashMap<TaskId, Run> = last_runs.into_iter().map(|r| (r.task, r)).collect();
    let mut rows: Vec<Row> = catalog
        .entries
        .iter()
        .zip(&states)
        .map(|(entry, state)| row(ctx, entry, state, last_by_task.get(&state.id), now))
        .collect();
    let mut broken: BTreeMap<&Path, Vec<&TaskFileError>> = BTreeMap::new();
    for error in &catalog.errors {
        broken.entry(&error.path).or_default().push(error);
    }
    for (path, errors) in broken {
        let label = catalog.label_of(path).unwrap_or_default();
        rows.push(invalid_row(ctx, path, label, &errors));
    }
    if args.json {
        print_json(&rows)?;
    } else {
        print_table(&rows, now)?;
    }
    // On stderr in both forms: a script reading the JSON still leaves the warning for a human.
    report_problems(
        ctx,
        &catalog,
        rows.iter().filter(|r| r.state == "invalid").count(),
    );
    // The process ends right after this: freeing a thousand parsed tasks one by one would
    // only delay the exit (measured: about 4% of `tend list`'s instructions).
    std::mem::forget(rows);
    std::mem::forget(catalog);
    Ok(())
}

/// The store's state of each task, in `keys`' order. Tasks the store does not know yet (or
/// knew as removed) go through `ensure_tasks`, which records them; in the usual case, every
/// task known already, this is only a lookup in what was read.
fn states_of(
    ctx: &Context,
    store: &tend_store::Store,
    keys: &[TaskKey],
    known: Vec<TaskState>,
    now: Timestamp,
) -> anyhow::Result<Vec<TaskState>> {
    let known: HashMap<TaskKey, TaskState> = known
        .into_iter()
        .filter(|state| state.removed_at.is_none())
        .map(|state| (state.key.clone(), state))
        .collect();
    if keys.iter().all(|key| known.contains_key(key)) {
        return Ok(keys
            .iter()
            .filter_map(|key| known.get(key).cloned())
            .collect());
    }
    Ok(ctx.block_on(store.ensure_tasks(keys, now))?)
}

fn row(ctx: &Context, entry: &Entry, state: &TaskState, last: Option<&Run>, now: Timestamp) -> Row {
    let file = &entry.file;
    let resolved = entry.resolved.as_ref().ok();
    let tz = resolved.map(|r| r.timezone.tz().clone());
    let slot = match (entry.plan(state), state.done_at) {
        (Some(plan), None) => plan.next_after(now),
        _ => None,
    };
    let next = match (slot, tz) {
        (Some(slot), Some(tz)) => Some(NextSlot {
            due: slot.due,
            fire_at: slot.fire_at,
            tz,
        }),
        _ => None,
    };
    let task_state = match &entry.resolved {
        Err(_) => "invalid",
        Ok(_) if state.done_at.is_some() => "done",
        Ok(r) if !r.enabled => "disabled",
        Ok(_) if state.paused.is_some() => "paused",
        Ok(_) => "active",
    };
    Row {
        name: file.name.clone(),
        project: entry.label.clone(),
        path: ctx.display_path(&file.path),
        description: file.def.description.clone(),
        schedule: file.def.schedule.to_string(),
        timezone: resolved.map(|r| r.timezone.name().to_owned()),
        state: task_state,
        next,
        last_run: last.map(|r| LastRun {
            id: r.id.to_string(),
            state: r.state.to_string(),
            status: r.status.map(|s| s.to_string()),
            created_at: r.created_at.to_string(),
        }),
        errors: match &entry.resolved {
            Ok(_) => Vec::new(),
            Err(errors) => errors
                .iter()
                .map(|e| ctx.display_error(e).to_string())
                .collect(),
        },
    }
}

/// A task file that did not load still gets a row, so it is not silently missing.
fn invalid_row(ctx: &Context, path: &Path, label: &str, errors: &[&TaskFileError]) -> Row {
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Row {
        name,
        project: label.to_owned(),
        path: ctx.display_path(path),
        description: None,
        schedule: String::new(),
        timezone: None,
        state: "invalid",
        next: None,
        last_run: None,
        errors: errors
            .iter()
            .map(|e| ctx.display_error(e).to_string())
            .collect(),
    }
}

fn print_table(rows: &[Row], now: Timestamp) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if rows.is_empty() {
        writeln!(
            out,
            "No tasks yet. Create one with `tend init` or `tend add NAME --cron \"0 9 * * 1-5\" --prompt \"...\"`."
        )?;
        return Ok(());
    }
    let mut table = Table::new(vec![
        "TASK", "PROJECT", "SCHEDULE", "NEXT", "STATE", "LAST RUN",
    ]);
    for row in rows {
        let next = match &row.next {
            Some(slot) => next_cell(slot.fire_at, &slot.tz, now),
            None => "-".to_owned(),
        };
        let last = match &row.last_run {
            Some(run) => match &run.status {
                Some(status) => format!("{} ({status})", run.state),
                None => run.state.clone(),
            },
            None => "-".to_owned(),
        };
        table.push(vec![
            row.name.clone(),
            row.project.clone(),
            row.schedule.clone(),
            next,
            row.state.to_owned(),
            last,
        ]);
    }
    table.write(&mut out)?;
    out.flush()?;
    Ok(())
}

/// `2026-11-26 09:00 +01:00 (in 12h)`: the local time in the task's zone and how far away.
fn next_cell(at: Timestamp, tz: &TimeZone, now: Timestamp) -> String {
    let local = at
        .to_zoned_datetime(tz.clone())
        .strftime("%Y-%m-%d %H:%M %:z")
        .to_string();
    format!("{local} ({})", relative(at, now))
}

fn report_problems(ctx: &Context, catalog: &Catalog, invalid: usize) {
    if invalid > 0 {
        eprintln!(
            "warning: {invalid} task file(s) have errors and will not run; `tend validate` shows them"
        );
    }
    for root in &catalog.missing_projects {
        eprintln!(
            "note: the registered project {} no longer exists; its tasks are not listed",
            ctx.display_path(root)
        );
    }
}

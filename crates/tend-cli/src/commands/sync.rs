//! `tend sync --native`: registers every task with the OS scheduler (systemd timers, the
//! crontab, launchd agents, Task Scheduler tasks), each calling `tend run --slot latest TASK`,
//! which claims the slot in tend's store, so a slot runs once however many timers fire.
//!
//! A sync is idempotent: it writes what changed, and removes tend's registrations of tasks that
//! are gone (only files carrying tend's marker, only the marked crontab block). A task whose
//! schedule the backend cannot express is refused with the reason; the others are still
//! registered, and the command exits with 2.

mod cron;
mod files;

use std::collections::BTreeSet;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;
use tend_config::{ResolvedTask, Scope};
use tend_native::{
    Backend, Invocation, NativeError, NativeTask, crontab, launchd, schtasks, systemd,
};
use tend_store::TaskState;

use crate::catalog::{Catalog, Entry, Reach, registered_roots};
use crate::commands::native::{self, BackendArg, path_text, tilde};
use crate::context::Context;
use crate::output::{print_json, say};

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Register each task with the OS scheduler, to run without `tend daemon`.
    #[arg(long, required = true)]
    pub native: bool,
    /// systemd, cron, launchd or schtasks (default: systemd when `systemctl --user` answers,
    /// else cron; launchd on macOS; schtasks on Windows).
    #[arg(long, value_enum)]
    pub backend: Option<BackendArg>,
    /// Print what would be written and removed; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Remove every registration tend made with this backend.
    #[arg(long)]
    pub remove: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
enum Action {
    Added,
    Updated,
    Unchanged,
    Removed,
    /// The task file has errors: its registration is left as it was.
    Kept,
    Refused,
}

impl Action {
    fn verb(self, dry_run: DryRun) -> &'static str {
        match (self, dry_run) {
            (Action::Added, DryRun::Yes) => "would add",
            (Action::Updated, DryRun::Yes) => "would update",
            (Action::Removed, DryRun::Yes) => "would remove",
            (Action::Added, DryRun::No) => "added",
            (Action::Updated, DryRun::No) => "updated",
            (Action::Removed, DryRun::No) => "removed",
            (Action::Unchanged, _) => "unchanged",
            (Action::Kept, _) => "kept",
            (Action::Refused, _) => "refused",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DryRun {
    Yes,
    No,
}

#[derive(Debug, Serialize)]
struct Change {
    /// `project/name`, or the registration's id when its task is gone.
    task: String,
    id: String,
    action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
}

#[derive(Debug, Serialize)]
struct Report {
    backend: String,
    /// Where the registrations live.
    location: String,
    dry_run: bool,
    changes: Vec<Change>,
}

/// What a task should be registered as.
enum Registration {
    /// Files named by their file name (systemd units, a plist, a task XML).
    Files(Vec<(String, String)>),
    Cron(crontab::Entry),
}

struct Wanted {
    id: String,
    title: String,
    registration: Registration,
}

/// Every task, translated for one backend.
struct Desired {
    wanted: Vec<Wanted>,
    refused: Vec<Change>,
    /// Ids of tasks whose files have errors: whatever is registered for them stays.
    kept: BTreeSet<String>,
}

pub fn run(ctx: &Context, args: &SyncArgs) -> anyhow::Result<ExitCode> {
    let backend = args
        .backend
        .map_or_else(native::default_backend, Backend::from);
    let dry_run = if args.dry_run {
        DryRun::Yes
    } else {
        DryRun::No
    };
    if dry_run == DryRun::No {
        native::require_os(backend)?;
        // Where cron and launchd append the runs' output: a missing folder fails the job.
        std::fs::create_dir_all(&ctx.paths.logs_dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", ctx.paths.logs_dir.display()))?;
    }
    let desired = if args.remove {
        Desired {
            wanted: Vec::new(),
            refused: Vec::new(),
            kept: BTreeSet::new(),
        }
    } else {
        desired(ctx, backend)?
    };
    let (location, mut changes) = match backend {
        Backend::Systemd => {
            let dir = native::systemd_user_dir()?;
            let changes = files::sync_files(
                &files::FileKind::SYSTEMD,
                &dir,
                &desired,
                dry_run,
                args.json,
            )?;
            (tilde(&dir), changes)
        }
        Backend::Launchd => {
            let dir = native::launch_agents_dir()?;
            let changes = files::sync_files(
                &files::FileKind::LAUNCHD,
                &dir,
                &desired,
                dry_run,
                args.json,
            )?;
            (tilde(&dir), changes)
        }
        Backend::Schtasks => {
            let dir = ctx.paths.state_dir.join("native/schtasks");
            let changes = files::sync_files(
                &files::FileKind::SCHTASKS,
                &dir,
                &desired,
                dry_run,
                args.json,
            )?;
            (
                format!("Task Scheduler folder {}", schtasks::FOLDER),
                changes,
            )
        }
        Backend::Cron => (
            "your crontab".to_owned(),
            cron::sync_cron(&desired, dry_run, args.json)?,
        ),
    };
    let refused = desired.refused.len();
    changes.extend(desired.refused);
    let report = Report {
        backend: backend.to_string(),
        location,
        dry_run: dry_run == DryRun::Yes,
        changes,
    };
    if args.json {
        print_json(&report)?;
    } else {
        print_report(&report, dry_run)?;
    }
    if refused > 0 {
        eprintln!(
            "error: {refused} task{} could not be registered with {backend}; the others were",
            if refused == 1 { "" } else { "s" },
        );
        return Ok(ExitCode::from(crate::exit::INVALID_INPUT));
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(report: &Report, dry_run: DryRun) -> anyhow::Result<()> {
    say!("{} ({}):", report.backend, report.location);
    if report.changes.is_empty() {
        say!("  no tasks to register");
    }
    let width = report
        .changes
        .iter()
        .map(|c| c.action.verb(dry_run).len())
        .max()
        .unwrap_or(0);
    for c in &report.changes {
        let verb = c.action.verb(dry_run);
        match (&c.error, c.action) {
            (Some(error), _) => {
                say!("  {verb:width$}  {}: {error}", c.task);
                if let Some(hint) = &c.hint {
                    say!("  {:width$}    hint: {hint}", "");
                }
            }
            (None, Action::Kept) => say!(
                "  {verb:width$}  {} (its task file has errors; run `tend validate`)",
                c.task
            ),
            (None, _) => say!("  {verb:width$}  {} [{}]", c.task, c.id),
        }
    }
    Ok(())
}

/// Loads every task tend knows and translates it for `backend`.
fn desired(ctx: &Context, backend: Backend) -> anyhow::Result<Desired> {
    let now = ctx.now();
    let store = ctx.store()?;
    let mut roots = registered_roots(ctx, &store)?;
    if let Some(project) = &ctx.project
        && project.tasks_dir.is_dir()
        && !roots.contains(&project.root)
    {
        ctx.block_on(store.register_project(&project.root, now))?;
        roots.push(project.root.clone());
    }
    let catalog = Catalog::load(ctx, Reach::Everywhere(roots))?;
    let keys: Vec<_> = catalog.entries.iter().map(Entry::key).collect();
    let states = ctx.block_on(store.ensure_tasks(&keys, now))?;
    ctx.block_on(store.close());
    let program = native::tend_program()?;
    let env = native::passed_env();
    let machine = native::machine_zone(ctx);
    let log_file = path_text(&ctx.paths.logs_dir.join(match backend {
        Backend::Cron => "cron.log",
        Backend::Systemd | Backend::Launchd | Backend::Schtasks => "timers.log",
    }))?;
    let mut out = Desired {
        wanted: Vec::new(),
        refused: Vec::new(),
        kept: BTreeSet::new(),
    };
    for (entry, state) in catalog.entries.iter().zip(&states) {
        let id = tend_native::task_id(&entry.file.name, &scope_text(&entry.file.scope)?);
        let task = match &entry.resolved {
            Ok(task) => task,
            Err(_) => {
                out.kept.insert(id);
                continue;
            }
        };
        if !task.enabled || is_over(task, state, now) {
            continue;
        }
        let native_task = NativeTask {
            id: id.clone(),
            title: entry.qualified(),
            source: task.path.display().to_string(),
            schedule: task.schedule.clone(),
            zone_name: task.timezone.name().to_owned(),
            tz: task.timezone.tz().clone(),
            anchor: task.anchor.unwrap_or(state.first_seen_at),
            jitter: task.jitter,
        };
        let run = invocation(entry, task, &program, &env, &log_file)?;
        let translated: Result<Option<Registration>, NativeError> = match backend {
            Backend::Systemd => systemd::task_units(&native_task, &run, now).map(|units| {
                (!units.is_empty()).then(|| {
                    Registration::Files(units.into_iter().map(|u| (u.name, u.contents)).collect())
                })
            }),
            Backend::Cron => {
                crontab::entry(&native_task, &run, &machine, now).map(|e| e.map(Registration::Cron))
            }
            Backend::Launchd => launchd::task_plist(&native_task, &run, &machine, now).map(|p| {
                p.map(|p| Registration::Files(vec![(format!("{}.plist", p.label), p.contents)]))
            }),
            Backend::Schtasks => schtasks::task_xml(&native_task, &run, &machine, now)
                .map(|x| x.map(|xml| Registration::Files(vec![(format!("task-{id}.xml"), xml)]))),
        };
        match translated {
            Ok(Some(registration)) => out.wanted.push(Wanted {
                id,
                title: entry.qualified(),
                registration,
            }),
            Ok(None) => {}
            Err(error) => out.refused.push(Change {
                task: entry.qualified(),
                id,
                action: Action::Refused,
                hint: error.hint().map(str::to_owned),
                error: Some(error.to_string()),
            }),
        }
    }
    Ok(out)
}

/// Where a task lives, as hashed into its id.
fn scope_text(scope: &Scope) -> anyhow::Result<String> {
    match scope {
        Scope::User => Ok("user".to_owned()),
        Scope::Project { root } => path_text(root),
    }
}

/// A one-shot `at` task whose slot is over (or done) needs no timer.
fn is_over(task: &ResolvedTask, state: &TaskState, now: jiff::Timestamp) -> bool {
    task.schedule.is_one_shot()
        && (state.done_at.is_some() || task.plan(state.first_seen_at).next_after(now).is_none())
}

/// `tend [-C ROOT] run --slot latest --quiet NAME`: a project task by its folder, so the
/// project's label changing never breaks the timer.
fn invocation(
    entry: &Entry,
    task: &ResolvedTask,
    program: &str,
    env: &[(String, String)],
    log_file: &str,
) -> anyhow::Result<Invocation> {
    let (mut args, working_dir, name) = match &task.scope {
        Scope::Project { root } => {
            let root = path_text(root)?;
            (
                vec!["-C".to_owned(), root.clone()],
                Some(root),
                entry.file.name.clone(),
            )
        }
        Scope::User => (Vec::new(), None, format!("user/{}", entry.file.name)),
    };
    args.extend(["run", "--slot", "latest", "--quiet"].map(String::from));
    args.push(name);
    Ok(Invocation {
        program: program.to_owned(),
        args,
        env: env.to_vec(),
        working_dir,
        log_file: log_file.to_owned(),
    })
}

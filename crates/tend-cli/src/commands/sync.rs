//! `tend sync --native`: registers every task with the OS scheduler (systemd timers, the
//! crontab, launchd agents, Task Scheduler tasks), each calling `tend run --slot latest TASK`,
//! which claims the slot in tend's store, so a slot runs once however many timers fire.
//!
//! A sync is idempotent: it writes what changed, and removes tend's registrations of tasks that
//! are gone (only files carrying tend's marker, only the marked crontab block). A task whose
//! schedule the backend cannot express is refused with the reason; the others are still
//! registered, and the command exits with 2.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
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
            let changes = sync_files(&FileKind::SYSTEMD, &dir, &desired, dry_run, args.json)?;
            (tilde(&dir), changes)
        }
        Backend::Launchd => {
            let dir = native::launch_agents_dir()?;
            let changes = sync_files(&FileKind::LAUNCHD, &dir, &desired, dry_run, args.json)?;
            (tilde(&dir), changes)
        }
        Backend::Schtasks => {
            let dir = ctx.paths.state_dir.join("native/schtasks");
            let changes = sync_files(&FileKind::SCHTASKS, &dir, &desired, dry_run, args.json)?;
            (
                format!("Task Scheduler folder {}", schtasks::FOLDER),
                changes,
            )
        }
        Backend::Cron => (
            "your crontab".to_owned(),
            sync_cron(&desired, dry_run, args.json)?,
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

/// How one backend keeps its registrations as files in a folder.
struct FileKind {
    backend: Backend,
    prefix: &'static str,
    is_managed: fn(&str) -> bool,
    read: fn(&Path) -> Option<String>,
}

impl FileKind {
    const SYSTEMD: FileKind = FileKind {
        backend: Backend::Systemd,
        prefix: systemd::TASK_PREFIX,
        is_managed: systemd::is_managed,
        read: read_utf8,
    };
    const LAUNCHD: FileKind = FileKind {
        backend: Backend::Launchd,
        prefix: launchd::TASK_PREFIX,
        is_managed: launchd::is_managed,
        read: read_utf8,
    };
    const SCHTASKS: FileKind = FileKind {
        backend: Backend::Schtasks,
        prefix: "task-",
        is_managed: schtasks_managed,
        read: read_utf16,
    };

    /// The task id in a file name: `tend-task-<id>.timer` → `<id>`.
    fn id_of<'a>(&self, file: &'a str) -> Option<&'a str> {
        let rest = file.strip_prefix(self.prefix)?;
        rest.rsplit_once('.').map(|(id, _)| id)
    }
}

fn schtasks_managed(text: &str) -> bool {
    text.contains(schtasks::MARKER)
}

fn read_utf8(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

fn read_utf16(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let body = bytes.strip_prefix(&[0xff, 0xfe][..])?;
    let units: Vec<u16> = body
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]))
        .collect();
    String::from_utf16(&units).ok()
}

/// The registrations of one backend found in `dir`: id → file name → contents.
fn existing_files(kind: &FileKind, dir: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let Ok(read) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in read.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(id) = kind.id_of(&name) else {
            continue;
        };
        let Some(contents) = (kind.read)(&entry.path()) else {
            continue;
        };
        if (kind.is_managed)(&contents) {
            out.entry(id.to_owned()).or_default().insert(name, contents);
        }
    }
    out
}

fn sync_files(
    kind: &FileKind,
    dir: &Path,
    desired: &Desired,
    dry_run: DryRun,
    json: bool,
) -> anyhow::Result<Vec<Change>> {
    let mut existing = existing_files(kind, dir);
    let mut changes = Vec::new();
    // (file name, contents) to write; (task id, file name) to delete.
    let mut writes: Vec<(String, String)> = Vec::new();
    let mut deletes: Vec<(String, String)> = Vec::new();
    for w in &desired.wanted {
        let Registration::Files(files) = &w.registration else {
            continue;
        };
        let want: BTreeMap<String, String> = files.iter().cloned().collect();
        let action = match existing.remove(&w.id) {
            None => Action::Added,
            Some(have) if have == want => Action::Unchanged,
            Some(have) => {
                for name in have.keys().filter(|n| !want.contains_key(*n)) {
                    deletes.push((w.id.clone(), name.clone()));
                }
                Action::Updated
            }
        };
        if matches!(action, Action::Added | Action::Updated) {
            for (name, contents) in &want {
                writes.push((name.clone(), contents.clone()));
            }
        }
        changes.push(Change {
            task: w.title.clone(),
            id: w.id.clone(),
            action,
            error: None,
            hint: None,
        });
    }
    for (id, files) in existing {
        let action = if desired.kept.contains(&id) {
            Action::Kept
        } else {
            deletes.extend(files.keys().map(|name| (id.clone(), name.clone())));
            Action::Removed
        };
        changes.push(Change {
            task: id.clone(),
            id,
            action,
            error: None,
            hint: None,
        });
    }
    if dry_run == DryRun::Yes {
        if !json {
            for (name, contents) in &writes {
                say!("--- would write {}", tilde(&dir.join(name)));
                say!("{}", contents.trim_end());
            }
            for (_, name) in &deletes {
                say!("--- would remove {}", tilde(&dir.join(name)));
            }
        }
        return Ok(changes);
    }
    let removed_ids: BTreeSet<&str> = changes
        .iter()
        .filter(|c| c.action == Action::Removed)
        .map(|c| c.id.as_str())
        .collect();
    stop_removed(kind.backend, &deletes, &removed_ids)?;
    for (_, name) in &deletes {
        let path = dir.join(name);
        std::fs::remove_file(&path)
            .map_err(|e| anyhow::anyhow!("cannot remove {}: {e}", path.display()))?;
    }
    for (name, contents) in &writes {
        match kind.backend {
            Backend::Schtasks => {
                std::fs::create_dir_all(dir)?;
                native::write_utf16(&dir.join(name), contents)?;
            }
            Backend::Systemd | Backend::Launchd | Backend::Cron => {
                native::write_file(&dir.join(name), contents)?;
            }
        }
    }
    let touched: Vec<(String, Action)> = changes
        .iter()
        .filter(|c| matches!(c.action, Action::Added | Action::Updated))
        .map(|c| (c.id.clone(), c.action))
        .collect();
    if !touched.is_empty() || !deletes.is_empty() {
        activate_written(kind.backend, dir, &touched)?;
    }
    Ok(changes)
}

/// Stops what is about to be removed: timers, agents, scheduled tasks.
fn stop_removed(
    backend: Backend,
    deletes: &[(String, String)],
    removed: &BTreeSet<&str>,
) -> anyhow::Result<()> {
    for (id, name) in deletes {
        // Already gone from the scheduler is fine: the file is what matters.
        match backend {
            Backend::Systemd if name.ends_with(".timer") => {
                let _ = native::run_tool("systemctl", &["--user", "disable", "--now", name], None);
            }
            Backend::Launchd => {
                let uid = native::user_id()?;
                let label = name.trim_end_matches(".plist");
                let _ = native::run_tool(
                    "launchctl",
                    &["bootout", &format!("gui/{uid}/{label}")],
                    None,
                );
            }
            Backend::Schtasks if removed.contains(id.as_str()) => {
                let task = format!("{}task-{id}", schtasks::FOLDER);
                let _ = native::run_tool("schtasks", &["/Delete", "/TN", &task, "/F"], None);
            }
            Backend::Systemd | Backend::Schtasks | Backend::Cron => {}
        }
    }
    Ok(())
}

/// Loads what was written: reloads systemd and enables the timers, bootstraps the agents,
/// creates the scheduled tasks.
fn activate_written(
    backend: Backend,
    dir: &Path,
    touched: &[(String, Action)],
) -> anyhow::Result<()> {
    match backend {
        Backend::Systemd => {
            native::systemctl(&["daemon-reload"])?;
            for (id, action) in touched {
                let timer = format!("{}{id}.timer", systemd::TASK_PREFIX);
                native::systemctl(&["enable", "--now", &timer])?;
                if *action == Action::Updated {
                    // A running timer keeps its old calendar until restarted.
                    native::systemctl(&["restart", &timer])?;
                }
            }
        }
        Backend::Launchd => {
            let uid = native::user_id()?;
            for (id, _) in touched {
                let label = format!("{}{id}", launchd::TASK_PREFIX);
                let _ = native::run_tool(
                    "launchctl",
                    &["bootout", &format!("gui/{uid}/{label}")],
                    None,
                );
                let plist = path_text(&dir.join(format!("{label}.plist")))?;
                native::must_run(
                    "launchctl",
                    &["bootstrap", &format!("gui/{uid}"), &plist],
                    None,
                )?;
            }
        }
        Backend::Schtasks => {
            for (id, _) in touched {
                let task = format!("{}task-{id}", schtasks::FOLDER);
                let xml = path_text(&dir.join(format!("task-{id}.xml")))?;
                native::must_run(
                    "schtasks",
                    &["/Create", "/TN", &task, "/XML", &xml, "/F"],
                    None,
                )?;
            }
        }
        Backend::Cron => {}
    }
    Ok(())
}

/// The crontab: one marked block, the user's own lines untouched.
fn sync_cron(desired: &Desired, dry_run: DryRun, json: bool) -> anyhow::Result<Vec<Change>> {
    let current = read_crontab()?;
    let mut have: BTreeMap<String, crontab::Entry> = crontab::entries(&current)
        .into_iter()
        .map(|e| (e.task_id.clone(), e))
        .collect();
    let mut block_entries = Vec::new();
    let mut changes = Vec::new();
    for w in &desired.wanted {
        let Registration::Cron(entry) = &w.registration else {
            continue;
        };
        let action = match have.remove(&w.id) {
            None => Action::Added,
            Some(old) if old.line == entry.line && old.comment == entry.comment => {
                Action::Unchanged
            }
            Some(_) => Action::Updated,
        };
        block_entries.push(entry.clone());
        changes.push(Change {
            task: w.title.clone(),
            id: w.id.clone(),
            action,
            error: None,
            hint: None,
        });
    }
    for (id, old) in have {
        let action = if desired.kept.contains(&id) {
            block_entries.push(old.clone());
            Action::Kept
        } else {
            Action::Removed
        };
        changes.push(Change {
            task: old.title,
            id,
            action,
            error: None,
            hint: None,
        });
    }
    block_entries.sort_by(|a, b| (&a.title, &a.task_id).cmp(&(&b.title, &b.task_id)));
    let merged = crontab::merge(&current, &crontab::render_block(&block_entries));
    if merged == current {
        return Ok(changes);
    }
    if dry_run == DryRun::Yes {
        if !json {
            say!("--- your crontab would become");
            say!("{}", merged.trim_end());
        }
        return Ok(changes);
    }
    native::must_run("crontab", &["-"], Some(&merged))?;
    Ok(changes)
}

/// The user's crontab; empty when there is none yet.
fn read_crontab() -> anyhow::Result<String> {
    let out = native::run_tool("crontab", &["-l"], None)?;
    if out.success {
        return Ok(out.stdout);
    }
    if out.stderr.contains("no crontab for") {
        return Ok(String::new());
    }
    Err(anyhow::anyhow!(
        "`crontab -l` failed: {}",
        out.stderr.trim()
    ))
}

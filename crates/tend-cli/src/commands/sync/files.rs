//! Backends whose registrations are files in a folder: systemd units, launchd plists, and
//! the Task Scheduler's XML (kept in tend's state, since the scheduler's own store is not a
//! folder). Only files that carry tend's marker are ever changed or removed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use tend_native::{Backend, launchd, schtasks, systemd};

use super::{Action, Change, Desired, DryRun, Registration};
use crate::commands::native::{self, path_text, tilde};
use crate::output::say;

/// How one backend keeps its registrations as files in a folder.
pub(super) struct FileKind {
    backend: Backend,
    prefix: &'static str,
    is_managed: fn(&str) -> bool,
    read: fn(&Path) -> Option<String>,
}

impl FileKind {
    pub(super) const SYSTEMD: FileKind = FileKind {
        backend: Backend::Systemd,
        prefix: systemd::TASK_PREFIX,
        is_managed: systemd::is_managed,
        read: read_utf8,
    };
    pub(super) const LAUNCHD: FileKind = FileKind {
        backend: Backend::Launchd,
        prefix: launchd::TASK_PREFIX,
        is_managed: launchd::is_managed,
        read: read_utf8,
    };
    pub(super) const SCHTASKS: FileKind = FileKind {
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

pub(super) fn sync_files(
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
    if (!touched.is_empty() || !deletes.is_empty())
        && let Err(error) = activate_written(kind.backend, dir, &touched)
    {
        // Without this, the next sync would find the files in place and never retry.
        for (name, _) in &writes {
            let _ = std::fs::remove_file(dir.join(name));
        }
        return Err(error.context(format!(
            "the new registrations were not loaded, and their files were taken back out of {}",
            tilde(dir)
        )));
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

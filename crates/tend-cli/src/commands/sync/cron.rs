//! The crontab: tend's entries in one marked block.

use std::collections::BTreeMap;

use tend_native::crontab;

use super::{Action, Change, Desired, DryRun, Registration};
use crate::commands::native;
use crate::output::say;

/// The crontab: one marked block, the user's own lines untouched.
pub(super) fn sync_cron(
    desired: &Desired,
    dry_run: DryRun,
    json: bool,
) -> anyhow::Result<Vec<Change>> {
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

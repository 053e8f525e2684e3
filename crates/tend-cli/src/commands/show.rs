//! `tend show TASK`: resolved settings (task file over project config over user config over
//! defaults), runtime state, and the next slots.

use std::io::Write;

use serde::Serialize;
use serde_json::Value;

use crate::catalog::{Catalog, Reach, registered_roots};
use crate::cli::ShowArgs;
use crate::context::Context;
use crate::exit::InvalidInput;
use crate::output::{local_time, print_json, relative, rfc3339};

#[derive(Debug, Serialize)]
struct Shown {
    task: String,
    project: String,
    path: String,
    state: &'static str,
    describe: String,
    first_seen_at: String,
    paused_at: Option<String>,
    settings: Value,
    next_slots: Vec<ShownSlot>,
}

#[derive(Debug, Serialize)]
struct ShownSlot {
    due: String,
    fire_at: String,
}

pub fn run(ctx: &Context, args: &ShowArgs) -> anyhow::Result<()> {
    let now = ctx.now();
    let store = ctx.store()?;
    let catalog = Catalog::load(ctx, Reach::Everywhere(registered_roots(ctx, &store)?))?;
    let entry = catalog.find(ctx, &args.task)?;
    let state = ctx.block_on(store.ensure_task(&entry.key(), now))?;
    ctx.block_on(store.close());
    let resolved = match &entry.resolved {
        Ok(r) => r,
        Err(errors) => {
            return Err(anyhow::Error::new(InvalidInput(
                tend_config::render_errors(errors),
            )));
        }
    };
    let tz = resolved.timezone.tz().clone();
    let slots: Vec<_> = match (entry.plan(&state), state.done_at) {
        (Some(plan), None) => {
            let mut out = Vec::new();
            let mut after = now;
            while out.len() < args.count {
                let Some(slot) = plan.next_after(after) else {
                    break;
                };
                after = slot.due;
                out.push(slot);
            }
            out
        }
        _ => Vec::new(),
    };
    let task_state = if state.done_at.is_some() {
        "done"
    } else if !resolved.enabled {
        "disabled"
    } else if state.paused.is_some() {
        "paused"
    } else {
        "active"
    };
    let mut settings = serde_json::to_value(resolved)?;
    if let Value::Object(map) = &mut settings {
        // Shown on their own lines above, or too long for a settings list.
        for key in ["name", "path", "scope", "prompt"] {
            map.remove(key);
        }
    }
    let shown = Shown {
        task: entry.file.name.clone(),
        project: entry.label.clone(),
        path: ctx.display_path(&entry.file.path),
        state: task_state,
        describe: resolved.schedule.describe(),
        first_seen_at: rfc3339(state.first_seen_at, &tz),
        paused_at: state.paused.as_ref().map(|p| rfc3339(p.at, &tz)),
        settings,
        next_slots: slots
            .iter()
            .map(|s| ShownSlot {
                due: rfc3339(s.due, &tz),
                fire_at: rfc3339(s.fire_at, &tz),
            })
            .collect(),
    };
    if args.json {
        return print_json(&shown);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(out, "task      {} ({})", shown.task, shown.project)?;
    writeln!(out, "file      {}", shown.path)?;
    writeln!(out, "state     {}", shown.state)?;
    writeln!(out, "schedule  {} ({})", resolved.schedule, shown.describe)?;
    if let Some(note) = &resolved.timezone_note {
        writeln!(out, "note      {note}")?;
    }
    writeln!(out)?;
    writeln!(out, "settings")?;
    let mut lines = Vec::new();
    flatten("", &shown.settings, &mut lines);
    let width = lines.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (key, value) in lines {
        writeln!(out, "  {key:width$}  {value}")?;
    }
    writeln!(out)?;
    if slots.is_empty() {
        let why = match (state.done_at, &resolved.schedule) {
            (Some(_), _) => "none: the one-shot slot is over",
            (None, tend_schedule::Schedule::Manual) => "none: the task runs only by hand",
            (None, _) => "none: the schedule never fires again",
        };
        writeln!(out, "next slots  {why}")?;
    } else {
        writeln!(out, "next slots ({})", resolved.timezone.name())?;
        for slot in &slots {
            let mut line = format!(
                "  {}  {}",
                local_time(slot.fire_at, &tz),
                relative(slot.fire_at, now)
            );
            if slot.fire_at != slot.due {
                line.push_str(&format!("  (due {}, jitter)", local_time(slot.due, &tz)));
            }
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

/// Flattens nested settings into `key.sub = value` lines; arrays and leaves print as compact
/// JSON-ish text, `null`s are left out.
fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    let key = |k: &str| {
        if prefix.is_empty() {
            k.to_owned()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(&key(k), v, out);
            }
        }
        Value::Null => {}
        Value::String(s) => out.push((prefix.to_owned(), s.clone())),
        Value::Array(items) if items.iter().all(|v| !v.is_object()) => {
            if items.is_empty() {
                out.push((prefix.to_owned(), "[]".to_owned()));
            } else {
                let parts: Vec<String> = items
                    .iter()
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect();
                out.push((prefix.to_owned(), parts.join(", ")));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), item, out);
            }
        }
        Value::Bool(_) | Value::Number(_) => out.push((prefix.to_owned(), value.to_string())),
    }
}

//! `tend pause TASK` and `tend resume TASK`: runtime state in the store, the task file is left
//! alone (so pausing never shows up as a change in the repository).

use serde::Serialize;
use tend_store::{Pause, Paused};

use crate::catalog::{Catalog, Reach, registered_roots};
use crate::cli::TaskArg;
use crate::context::Context;
use crate::output::{print_json, say};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Pause,
    Resume,
}

#[derive(Debug, Serialize)]
struct Outcome {
    task: String,
    project: String,
    paused: bool,
    /// False when the task already was in the asked-for state.
    changed: bool,
}

pub fn run(ctx: &Context, args: &TaskArg, action: Action) -> anyhow::Result<()> {
    let now = ctx.now();
    let store = ctx.store()?;
    let catalog = Catalog::load(ctx, Reach::Everywhere(registered_roots(ctx, &store)?))?;
    let entry = catalog.find(ctx, &args.task)?;
    let state = ctx.block_on(store.ensure_task(&entry.key(), now))?;
    let was_paused = state.paused.is_some();
    let pause = match action {
        Action::Pause => Pause::Paused(Paused {
            at: now,
            by: std::env::var("USER").ok(),
            reason: None,
        }),
        Action::Resume => Pause::Active,
    };
    let want_paused = action == Action::Pause;
    if was_paused != want_paused {
        ctx.block_on(store.set_paused(state.id, &pause))?;
    }
    ctx.block_on(store.close());
    let outcome = Outcome {
        task: entry.file.name.clone(),
        project: entry.label.clone(),
        paused: want_paused,
        changed: was_paused != want_paused,
    };
    if args.json {
        return print_json(&outcome);
    }
    let name = entry.qualified();
    match (action, outcome.changed) {
        (Action::Pause, true) => say!(
            "paused {name}: its slots are recorded as skipped (paused) until `tend resume {}`",
            entry.file.name
        ),
        (Action::Pause, false) => say!("{name} was already paused"),
        (Action::Resume, true) => say!("resumed {name}: it runs at its next slot"),
        (Action::Resume, false) => say!("{name} was not paused"),
    }
    Ok(())
}

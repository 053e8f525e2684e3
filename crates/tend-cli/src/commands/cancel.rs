//! `tend cancel RUN`: the daemon stops a run it executes (or drops one it holds queued);
//! without a daemon, or for a run the daemon does not hold, the store is corrected directly: a
//! run whose process is gone is recorded `interrupted`, one that has not started `cancelled`.
//! A run that a live process executes (a `tend run` in a terminal) is that process's to stop.

use serde::Serialize;
use tend_daemon::client::Client;
use tend_daemon::protocol::{Reply, Request};
use tend_store::{Run, RunState, SlotOutcome};

use crate::cli::CancelArgs;
use crate::context::Context;
use crate::exit::invalid;
use crate::output::{print_json, say};
use crate::runref::find_run;

#[derive(Debug, Serialize)]
struct Outcome {
    run: String,
    /// The run's state before.
    was: String,
    /// `stopping` (the daemon stops it; it ends `cancelled` in a moment), `cancelled` or
    /// `interrupted`.
    now: String,
}

pub fn run(ctx: &Context, args: &CancelArgs) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let run = find_run(ctx, &store, &args.run)?;
    let outcome = match ask_daemon(ctx, &run)? {
        Some(outcome) => outcome,
        None => in_store(ctx, &store, &run)?,
    };
    ctx.block_on(store.close());
    if args.json {
        return print_json(&outcome);
    }
    match outcome.now.as_str() {
        "stopping" => say!(
            "cancelling run {}: the daemon stops it; it ends `cancelled` in a moment",
            outcome.run
        ),
        "interrupted" => say!(
            "run {} was {} but its process is gone: recorded as interrupted",
            outcome.run,
            outcome.was
        ),
        _ => say!("cancelled run {} (it was {})", outcome.run, outcome.was),
    }
    Ok(())
}

fn ask_daemon(ctx: &Context, run: &Run) -> anyhow::Result<Option<Outcome>> {
    let Some(mut client) = Client::connect(&ctx.paths.state_dir)? else {
        return Ok(None);
    };
    match client.ask(&Request::Cancel {
        run: run.id.to_string(),
    })? {
        Reply::Cancelled { run, was } => Ok(Some(Outcome {
            now: if was == "running" {
                "stopping"
            } else {
                "cancelled"
            }
            .to_owned(),
            run,
            was,
        })),
        Reply::NotMine { .. } => Ok(None),
        Reply::Error { message } => Err(anyhow::anyhow!("the daemon says: {message}")),
        other => anyhow::bail!("unexpected answer from the daemon: {other:?}"),
    }
}

fn in_store(ctx: &Context, store: &tend_store::Store, run: &Run) -> anyhow::Result<Outcome> {
    let now = ctx.now();
    let was = run.state.to_string();
    let to = match run.state {
        RunState::Queued | RunState::WaitingApproval => RunState::Cancelled,
        RunState::Preparing | RunState::Running => match &run.owner {
            Some(owner) if tend_run::is_alive(owner) => {
                return Err(invalid(
                    format!("run {} is executed by process {}", run.id, owner.pid),
                    Some(&format!(
                        "that is not the daemon (a `tend run` in a terminal?): stop it there with Ctrl-C, or `kill {}`",
                        owner.pid
                    )),
                ));
            }
            Some(_) | None => RunState::Interrupted,
        },
        RunState::Succeeded
        | RunState::Failed
        | RunState::TimedOut
        | RunState::Cancelled
        | RunState::Interrupted
        | RunState::Expired => {
            return Err(invalid(
                format!("run {} already ended ({})", run.id, run.state),
                None,
            ));
        }
    };
    ctx.block_on(store.set_run_state(&run.id, to, now))?;
    if to == RunState::Cancelled
        && let Some(slot_id) = run.slot
        && let Some(slot) = ctx.block_on(store.slot(slot_id))?
        && slot.outcome == SlotOutcome::Queued
    {
        ctx.block_on(store.set_slot_outcome(
            slot_id,
            SlotOutcome::Skipped,
            Some("cancelled with `tend cancel`"),
        ))?;
    }
    Ok(Outcome {
        run: run.id.to_string(),
        was,
        now: to.to_string(),
    })
}

//! After a crash: runs left `preparing`/`running` by a dead process become `interrupted`, those
//! of tasks that say `retry_interrupted = true` get their one retry, and runs that were claimed
//! but never started (still `queued`) are started now. A slot's run thus happens once, or once
//! plus one retry, never twice from scratch.

use std::collections::HashSet;

use jiff::SignedDuration;
use tend_store::{RunFilter, RunId, RunState, SlotOutcome, StoreError, TaskId, Trigger};

use crate::daemon::Daemon;
use crate::exec::{Lane, SlotRef, Ticket};

/// How many recent runs are looked through for interrupted runs still owed a retry.
const RETRY_LOOKBACK: u32 = 2_000;

pub(crate) async fn recover(d: &mut Daemon) -> Result<(), StoreError> {
    let now = d.clock.now();
    let orphans = d.store.interrupt_orphans(now, tend_run::is_alive).await?;
    for run in &orphans {
        tracing::warn!(
            "run {} was cut off (tend stopped or crashed while it ran): interrupted",
            run.id
        );
    }
    retry_interrupted(d).await?;
    adopt_queued(d).await?;
    d.exec.pump();
    Ok(())
}

/// Every interrupted first attempt of a scheduled run whose task asks for it, and that has no
/// retry yet (also one whose retry was never created because tend stopped in between).
async fn retry_interrupted(d: &mut Daemon) -> Result<(), StoreError> {
    let now = d.clock.now();
    let recent = d
        .store
        .runs(&RunFilter {
            limit: Some(RETRY_LOOKBACK),
            ..RunFilter::default()
        })
        .await?;
    let retried: HashSet<&RunId> = recent.iter().filter_map(|r| r.retry_of.as_ref()).collect();
    for run in &recent {
        if run.state != RunState::Interrupted
            || run.attempt != 1
            || run.slot.is_none()
            || retried.contains(&run.id)
        {
            continue;
        }
        let Some(task) = d.tasks.get(&run.task) else {
            continue;
        };
        if !task.task.retry_interrupted {
            continue;
        }
        let window = SignedDuration::try_from(task.task.catch_up_window).unwrap_or_default();
        if run
            .ended_at
            .is_some_and(|ended| ended.duration_until(now) > window)
        {
            continue;
        }
        match d.store.retry_run(&run.id, now).await {
            Ok(retry) => tracing::info!(
                "{}: retrying interrupted run {} as {} (retry_interrupted = true)",
                task.label,
                run.id,
                retry.id
            ),
            Err(StoreError::AlreadyRetried { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Scheduled runs and retries that were claimed but never started, oldest first.
async fn adopt_queued(d: &mut Daemon) -> Result<(), StoreError> {
    let mut queued = d
        .store
        .runs(&RunFilter {
            states: vec![RunState::Queued],
            ..RunFilter::default()
        })
        .await?;
    queued.reverse();
    for run in queued {
        // Manual and OS-timer runs belong to the process that created them.
        if !matches!(run.trigger, Trigger::Schedule | Trigger::Retry) {
            continue;
        }
        let slot = match run.slot {
            Some(id) => d.store.slot(id).await?.map(|s| SlotRef {
                id,
                due: s.due,
                recorded_queued: s.outcome == SlotOutcome::Queued,
            }),
            None => None,
        };
        match d.tasks.get(&run.task) {
            Some(task) if task.task.enabled => {
                tracing::info!(
                    "{}: run {} was claimed before tend stopped: starting it",
                    task.label,
                    run.id
                );
                d.exec.enqueue(Ticket {
                    run: run.id,
                    task_id: run.task,
                    label: task.label.clone(),
                    task: task.task.clone(),
                    config: task.config.clone(),
                    slot,
                    trigger: run.trigger,
                    lane: Lane::Sequential,
                    created: run.created_at,
                    subscriber: None,
                    resume: None,
                });
            }
            Some(_) => cancel(d, &run.id, slot, "the task is disabled").await,
            None => {
                if is_broken(d, run.task).await? {
                    tracing::warn!(
                        "run {} waits until its task file is fixed (it stays queued)",
                        run.id
                    );
                } else {
                    cancel(d, &run.id, slot, "the task file is gone").await;
                }
            }
        }
    }
    Ok(())
}

async fn is_broken(d: &Daemon, task: TaskId) -> Result<bool, StoreError> {
    Ok(d.store
        .task(task)
        .await?
        .is_some_and(|state| d.broken_keys.contains(&state.key)))
}

async fn cancel(d: &Daemon, run: &RunId, slot: Option<SlotRef>, why: &str) {
    let now = d.clock.now();
    if let Err(e) = d.store.set_run_state(run, RunState::Cancelled, now).await {
        tracing::error!("cannot cancel run {run}: {e}");
    }
    if let Some(slot) = slot.filter(|s| s.recorded_queued)
        && let Err(e) = d
            .store
            .set_slot_outcome(slot.id, SlotOutcome::Skipped, Some(why))
            .await
    {
        tracing::error!("cannot record slot {} as skipped: {e}", slot.id);
    }
    tracing::info!("run {run} cancelled: {why}");
}

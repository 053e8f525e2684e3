//! Turning the task files into the schedule, and a task's due slots into claims.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tend_config::Scope;
use tend_run::failpoint;
use tend_store::{
    Claim, ClaimWithRun, NewSlot, SlotOutcome, StoreError, TaskId, TaskKey, TaskScope, TaskState,
    Trigger,
};

use crate::daemon::{Daemon, ON_TIME_GRACE, Task, has_slots, schedule_changed};
use crate::decide::{Decision, Outcome, PauseState, Policy, TaskView, decide, human};
use crate::exec::{Lane, SlotRef, Ticket};
use crate::tasks::Scan;

fn scope_of(key: &TaskKey) -> Scope {
    match &key.scope {
        TaskScope::User => Scope::User,
        TaskScope::Project(root) => Scope::Project { root: root.clone() },
    }
}

impl Daemon {
    /// Makes the schedule match what the task folders hold now: new tasks are registered
    /// (first seen now, so nothing before now is due), changed ones re-planned, removed ones
    /// marked removed, broken ones unscheduled until fixed.
    pub async fn apply_scan(&mut self, scan: Scan) -> Result<(), StoreError> {
        let now = self.clock.now();
        self.exec
            .set_max(usize::try_from(scan.max_concurrent_runs).unwrap_or(1));
        let before: HashSet<String> = self.broken.iter().map(ToString::to_string).collect();
        for error in &scan.broken {
            let text = error.to_string();
            if !before.contains(&text) {
                tracing::warn!("{text}\n  (this task is not scheduled until the file is fixed)");
            }
        }
        self.broken = scan.broken;
        self.broken_keys = scan.broken_keys.iter().cloned().collect();
        let prior: HashMap<TaskKey, TaskState> = self
            .store
            .task_states()
            .await?
            .into_iter()
            .map(|s| (s.key.clone(), s))
            .collect();
        let keys: Vec<TaskKey> = scan.tasks.iter().map(|t| t.key.clone()).collect();
        let states = self.store.ensure_tasks(&keys, now).await?;
        let mut seen = HashSet::new();
        let mut to_process = Vec::new();
        for (loaded, state) in scan.tasks.into_iter().zip(states) {
            let id = state.id;
            seen.insert(id);
            let previous = self.tasks.get(&id);
            let came_back = prior
                .get(&loaded.key)
                .is_some_and(|p| p.removed_at.is_some());
            let moved = previous.is_some_and(|p| {
                (!p.task.enabled && loaded.task.enabled) || schedule_changed(&p.task, &loaded.task)
            });
            if loaded.task.enabled && (came_back || moved) {
                // Slots before now belong to the old schedule (or to no file at all).
                self.store.advance_last_slot_due(id, now).await?;
            }
            let unchanged =
                previous.is_some_and(|p| *p.task == *loaded.task && *p.config == *loaded.config);
            if unchanged {
                continue;
            }
            if previous.is_none()
                && prior
                    .get(&loaded.key)
                    .is_none_or(|p| p.removed_at.is_some())
            {
                tracing::info!("{}: new task ({})", loaded.label, loaded.task.schedule);
            } else if previous.is_some() {
                tracing::info!("{}: task file changed", loaded.label);
            }
            let schedulable =
                loaded.task.enabled && state.done_at.is_none() && has_slots(&loaded.task.schedule);
            let plan = loaded.task.plan(state.first_seen_at);
            self.set_next(id, None);
            self.by_key.insert(loaded.key.clone(), id);
            self.tasks.insert(
                id,
                Task {
                    key: loaded.key,
                    label: loaded.label,
                    task: loaded.task,
                    config: loaded.config,
                    plan,
                    next: None,
                    wake: None,
                    schedulable,
                },
            );
            if schedulable {
                to_process.push(id);
            }
        }
        let gone: Vec<TaskId> = self
            .tasks
            .keys()
            .filter(|id| !seen.contains(id))
            .copied()
            .collect();
        for id in gone {
            if let Some(task) = self.tasks.get(&id)
                && self.broken_keys.contains(&task.key)
            {
                tracing::warn!("{}: unscheduled until its file is fixed", task.label);
            }
            self.forget(id);
        }
        let loaded_keys: HashSet<&TaskKey> = keys.iter().collect();
        for state in prior.values() {
            // A loop (`tend loop`) has a task row but no file.
            let file_gone = state.removed_at.is_none()
                && !tend_run::loops::is_loop_task(&state.key.name)
                && !loaded_keys.contains(&state.key)
                && !self.broken_keys.contains(&state.key)
                && scan.complete.contains(&scope_of(&state.key));
            if file_gone {
                tracing::info!("task {} is gone (its file was removed)", state.key.name);
                self.store.mark_task_removed(state.id, now).await?;
            }
        }
        for id in to_process {
            self.process(id).await;
        }
        Ok(())
    }

    /// Decides and claims every due slot of a task, then puts its next slot on the timeline.
    pub async fn process(&mut self, id: TaskId) {
        let (plan, policy, label) = match self.tasks.get(&id) {
            Some(t) if t.schedulable => (
                t.plan.clone(),
                Policy {
                    catch_up: t.task.catch_up,
                    catch_up_window: t.task.catch_up_window,
                    overlap: t.task.overlap,
                },
                t.label.clone(),
            ),
            Some(_) | None => {
                self.set_next(id, None);
                return;
            }
        };
        let state = match self.store.task(id).await {
            Ok(Some(state)) => state,
            Ok(None) => {
                self.forget(id);
                return;
            }
            Err(e) => {
                tracing::error!("{label}: cannot read its state: {e}");
                self.retry_soon(id);
                return;
            }
        };
        if state.done_at.is_some() || state.removed_at.is_some() {
            if let Some(t) = self.tasks.get_mut(&id) {
                t.schedulable = false;
            }
            self.set_next(id, None);
            return;
        }
        let (active_runs, waiting_runs) = self.exec.counts(id);
        let now = self.clock.now();
        let view = TaskView {
            plan: &plan,
            policy,
            cursor: state.last_slot_due,
            first_seen: state.first_seen_at,
            pause: match state.paused {
                Some(_) => PauseState::Paused,
                None => PauseState::Active,
            },
            active_runs,
            waiting_runs,
        };
        let outlook = decide(&view, now, ON_TIME_GRACE);
        if outlook.cancel_others {
            self.exec
                .cancel_task(id, "replaced by a newer slot (overlap = \"replace\")")
                .await;
        }
        let mut missed = 0u64;
        let mut newest_miss = None;
        let mut failed = false;
        for d in &outlook.decisions {
            if matches!(d.outcome, Outcome::Miss(_)) {
                missed += 1 + d.earlier.map_or(0, |e| e.count);
                newest_miss = Some(d);
            }
            if let Err(e) = self.claim(id, d, &policy).await {
                tracing::error!("{label}: cannot claim slot {}: {e}", d.slot.due);
                failed = true;
                // Later slots wait too: claims go in order, the cursor never skips one.
                break;
            }
        }
        if let Some(d) = newest_miss {
            tracing::info!(
                "{label}: {missed} slots missed, the newest due {}: {}",
                d.slot.due,
                d.reason(&policy).unwrap_or_default()
            );
        }
        self.exec.pump();
        if outlook.one_shot_over {
            if let Err(e) = self.store.mark_task_done(id, now).await {
                tracing::error!("{label}: cannot record the one-shot task as done: {e}");
            }
            tracing::info!("{label}: one-shot task done");
            if let Some(t) = self.tasks.get_mut(&id) {
                t.schedulable = false;
            }
            self.set_next(id, None);
            return;
        }
        self.set_next(id, outlook.next);
        if failed {
            self.retry_soon(id);
        }
    }

    /// Claims one slot with its outcome; a run to start goes to the executor.
    async fn claim(&mut self, id: TaskId, d: &Decision, policy: &Policy) -> Result<(), StoreError> {
        let Some(task) = self.tasks.get(&id) else {
            return Ok(());
        };
        let label = task.label.clone();
        let resolved = Arc::clone(&task.task);
        let config = Arc::clone(&task.config);
        let claimed_at = self.clock.now();
        let lateness = claimed_at.duration_since(d.slot.fire_at);
        let reason = d.reason(policy);
        let slot = |outcome, reason, lateness| NewSlot {
            task: id,
            due: d.slot.due,
            fire_at: d.slot.fire_at,
            claimed_at,
            outcome,
            reason,
            lateness,
        };
        match d.outcome {
            Outcome::Run | Outcome::Queue => {
                if let Some(why) = self.gate_says_skip(id, &resolved, &label).await {
                    let gated = slot(SlotOutcome::Skipped, Some(why), Some(lateness));
                    failpoint::hit("before-claim");
                    let claimed = self.claim_gated(&gated, &label).await;
                    failpoint::hit("after-claim");
                    return claimed;
                }
                let starts_now =
                    d.outcome == Outcome::Run && self.exec.would_start_now(id, Lane::Sequential);
                let (outcome, reason) = if starts_now {
                    (SlotOutcome::Ran, reason)
                } else {
                    let why = reason.unwrap_or_else(|| {
                        format!(
                            "waiting for a free worker (max_concurrent_runs = {})",
                            self.exec.max()
                        )
                    });
                    (SlotOutcome::Queued, Some(why))
                };
                failpoint::hit("before-claim");
                let claim = self
                    .store
                    .claim_slot_with_run(&slot(outcome, reason, Some(lateness)), Trigger::Schedule)
                    .await;
                failpoint::hit("after-claim");
                match claim {
                    Ok(ClaimWithRun::Claimed { slot: slot_id, run }) => {
                        tracing::info!(
                            "{label}: slot {} {outcome} (run {}, {} late)",
                            d.slot.due,
                            run.id,
                            human(lateness)
                        );
                        self.exec.enqueue(Ticket {
                            run: run.id,
                            task_id: id,
                            label,
                            task: resolved,
                            config,
                            slot: Some(SlotRef {
                                id: slot_id,
                                due: d.slot.due,
                                recorded_queued: outcome == SlotOutcome::Queued,
                            }),
                            trigger: Trigger::Schedule,
                            lane: Lane::Sequential,
                            created: claimed_at,
                            subscriber: None,
                            resume: None,
                        });
                    }
                    Ok(ClaimWithRun::AlreadyClaimed) => {
                        tracing::debug!("{label}: slot {} was claimed elsewhere", d.slot.due);
                    }
                    Err(e) => return Err(e),
                }
            }
            Outcome::Skip(_) | Outcome::Miss(_) => {
                let (outcome, lateness) = match d.outcome {
                    Outcome::Skip(_) => (SlotOutcome::Skipped, Some(lateness)),
                    Outcome::Run | Outcome::Queue | Outcome::Miss(_) => (SlotOutcome::Missed, None),
                };
                failpoint::hit("before-claim");
                let claim = self
                    .store
                    .claim_slot(&slot(outcome, reason.clone(), lateness))
                    .await;
                failpoint::hit("after-claim");
                match claim {
                    Ok(Claim::Claimed(_)) => {
                        if outcome == SlotOutcome::Skipped {
                            tracing::info!(
                                "{label}: slot {} skipped: {}",
                                d.slot.due,
                                reason.unwrap_or_default()
                            );
                        }
                    }
                    Ok(Claim::AlreadyClaimed) => {
                        tracing::debug!("{label}: slot {} was claimed elsewhere", d.slot.due);
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }
}

//! Executing runs: at most `max_concurrent_runs` at once, in the order they were claimed, one
//! at a time per task (a task's scheduled runs wait for its earlier runs; a manual run does
//! not wait). Each run is a tokio task around `tend_run::execute_with_stop`; when it ends it
//! says so on a channel, and the daemon starts whatever can start next.

use std::collections::HashSet;
use std::sync::Arc;

use jiff::Timestamp;
use tend_agent::{AgentEvent, Resolution};
use tend_config::{Clock, Config, Paths, ResolvedTask};
use tend_run::{
    RunRequest, Runner, StopHandle, StopReason, StopSignal, execute_with_stop, failpoint,
    model_choice, resume_with_stop, stop_pair,
};
use tend_store::{
    ReportStatus, RunEnd, RunId, RunState, SlotId, SlotOutcome, Store, TaskId, Trigger, Usage,
};
use tokio::sync::{broadcast, mpsc};

use crate::decide::human;
use crate::handle::LiveEvent;
use crate::protocol::{Reply, RunEnded, RunInfo};

/// Whether a run waits for its task's other runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Scheduled runs and retries: one at a time per task, in claim order.
    Sequential,
    /// A run asked for by hand: starts as soon as a worker is free.
    Free,
}

/// The slot a run executes.
#[derive(Debug, Clone, Copy)]
pub struct SlotRef {
    pub id: SlotId,
    pub due: Timestamp,
    /// The slot's outcome is `queued` in the store; it becomes `ran` when the run starts.
    pub recorded_queued: bool,
}

/// A run that is claimed and waits to start.
pub struct Ticket {
    pub run: RunId,
    pub task_id: TaskId,
    pub label: String,
    pub task: Arc<ResolvedTask>,
    pub config: Arc<Config>,
    pub slot: Option<SlotRef>,
    pub trigger: Trigger,
    pub lane: Lane,
    pub created: Timestamp,
    /// A `tend run` waiting for the run's events.
    pub subscriber: Option<mpsc::UnboundedSender<Reply>>,
    /// Set for a parked run a human answered: it goes on from its checkpoint.
    pub resume: Option<Resolution>,
}

struct Active {
    run: RunId,
    task_id: TaskId,
    label: String,
    trigger: Trigger,
    slot_due: Option<Timestamp>,
    created: Timestamp,
    started: Timestamp,
    stop: StopHandle,
}

/// A run ended (whatever way).
#[derive(Debug)]
pub struct Done {
    pub run: RunId,
}

/// What [`Exec::cancel`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cancelled {
    /// The run executes: it was asked to stop and ends `cancelled` shortly.
    Stopping,
    /// The run had not started: it is `cancelled` now.
    Dequeued,
    /// Not a run of this daemon.
    NotMine,
}

pub struct Exec {
    store: Store,
    paths: Arc<Paths>,
    clock: Arc<dyn Clock>,
    max: usize,
    running: Vec<Active>,
    /// In claim order.
    waiting: Vec<Ticket>,
    done: mpsc::UnboundedSender<Done>,
    /// Every run's events as they happen, for live viewers (the dashboard).
    live: broadcast::Sender<LiveEvent>,
    /// Shutting down: nothing more starts.
    draining: bool,
}

impl Exec {
    pub fn new(
        store: Store,
        paths: Arc<Paths>,
        clock: Arc<dyn Clock>,
        max: usize,
        done: mpsc::UnboundedSender<Done>,
        live: broadcast::Sender<LiveEvent>,
    ) -> Exec {
        Exec {
            store,
            paths,
            clock,
            max: max.max(1),
            running: Vec::new(),
            waiting: Vec::new(),
            done,
            live,
            draining: false,
        }
    }

    /// Whether the run is executing or waiting here.
    pub fn holds(&self, run: &RunId) -> bool {
        self.running.iter().any(|a| &a.run == run) || self.waiting.iter().any(|t| &t.run == run)
    }

    pub fn set_max(&mut self, max: usize) {
        self.max = max.max(1);
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// Runs of `task` executing, and waiting.
    pub fn counts(&self, task: TaskId) -> (usize, usize) {
        let active = self.running.iter().filter(|a| a.task_id == task).count();
        let waiting = self
            .waiting
            .iter()
            .filter(|t| t.task_id == task && t.lane == Lane::Sequential)
            .count();
        (active, waiting)
    }

    pub fn running(&self) -> usize {
        self.running.len()
    }

    pub fn queued(&self) -> usize {
        self.waiting.len()
    }

    /// Whether a new run of `task` in `lane` would start at once.
    pub fn would_start_now(&self, task: TaskId, lane: Lane) -> bool {
        if self.running.len() >= self.max {
            return false;
        }
        match lane {
            Lane::Free => true,
            Lane::Sequential => self.counts(task) == (0, 0),
        }
    }

    /// Adds a claimed run; call [`Exec::pump`] after.
    pub fn enqueue(&mut self, ticket: Ticket) {
        self.waiting.push(ticket);
    }

    /// From now on nothing starts (the daemon is stopping).
    pub fn drain(&mut self) {
        self.draining = true;
    }

    /// Starts every waiting run that may start, oldest claim first.
    pub fn pump(&mut self) {
        if self.draining {
            return;
        }
        let mut blocked: HashSet<TaskId> = self.running.iter().map(|a| a.task_id).collect();
        let mut i = 0;
        while i < self.waiting.len() && self.running.len() < self.max {
            let ticket = &self.waiting[i];
            let may = match ticket.lane {
                Lane::Free => true,
                Lane::Sequential => !blocked.contains(&ticket.task_id),
            };
            blocked.insert(ticket.task_id);
            if may {
                let ticket = self.waiting.remove(i);
                self.start(ticket);
            } else {
                i += 1;
            }
        }
    }

    fn start(&mut self, ticket: Ticket) {
        let (stop, signal) = stop_pair();
        let started = self.clock.now();
        self.running.push(Active {
            run: ticket.run.clone(),
            task_id: ticket.task_id,
            label: ticket.label.clone(),
            trigger: ticket.trigger,
            slot_due: ticket.slot.map(|s| s.due),
            created: ticket.created,
            started,
            stop,
        });
        let job = Job {
            store: self.store.clone(),
            paths: Arc::clone(&self.paths),
            clock: Arc::clone(&self.clock),
            live: self.live.clone(),
        };
        let done = self.done.clone();
        let run = ticket.run.clone();
        tokio::spawn(async move {
            // Said whatever way the run's task ends, a panic included, so the worker and the
            // task's lane are never held by a run that is gone.
            if let Err(e) = tokio::spawn(job.run(ticket, signal)).await {
                tracing::error!("run {run}: its task ended abnormally: {e}");
            }
            let _ = done.send(Done { run });
        });
    }

    /// A run's task ended: forget it and start what can start now.
    pub fn finished(&mut self, done: &Done) {
        self.running.retain(|a| a.run != done.run);
        self.pump();
    }

    /// Cancels a run of this daemon, running or waiting.
    pub async fn cancel(&mut self, run: &RunId, why: &str) -> Cancelled {
        if let Some(active) = self.running.iter().find(|a| &a.run == run) {
            active.stop.stop(StopReason::Cancelled);
            return Cancelled::Stopping;
        }
        let Some(i) = self.waiting.iter().position(|t| &t.run == run) else {
            return Cancelled::NotMine;
        };
        let ticket = self.waiting.remove(i);
        self.drop_ticket(ticket, why).await;
        self.pump();
        Cancelled::Dequeued
    }

    /// overlap `replace`: stops the task's running runs and drops its waiting ones.
    pub async fn cancel_task(&mut self, task: TaskId, why: &str) {
        for active in self.running.iter().filter(|a| a.task_id == task) {
            tracing::info!("{}: cancelling run {} ({why})", active.label, active.run);
            active.stop.stop(StopReason::Cancelled);
        }
        let (dropped, kept): (Vec<Ticket>, Vec<Ticket>) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|t| t.task_id == task && t.lane == Lane::Sequential);
        self.waiting = kept;
        for ticket in dropped {
            self.drop_ticket(ticket, why).await;
        }
    }

    /// A run that never started: `cancelled`, and its slot (if it was waiting) `skipped`.
    async fn drop_ticket(&self, ticket: Ticket, why: &str) {
        let now = self.clock.now();
        if let Err(e) = self
            .store
            .set_run_state(&ticket.run, RunState::Cancelled, now)
            .await
        {
            tracing::error!("cannot record run {} as cancelled: {e}", ticket.run);
        }
        if let Some(slot) = ticket.slot.filter(|s| s.recorded_queued)
            && let Err(e) = self
                .store
                .set_slot_outcome(slot.id, SlotOutcome::Skipped, Some(why))
                .await
        {
            tracing::error!("cannot record slot {} as skipped: {e}", slot.id);
        }
        tracing::info!(
            "{}: run {} cancelled before it started ({why})",
            ticket.label,
            ticket.run
        );
        if let Some(subscriber) = &ticket.subscriber {
            let _ = subscriber.send(Reply::RunEnded(Box::new(RunEnded {
                run: ticket.run.to_string(),
                state: RunState::Cancelled.to_string(),
                status: None,
                summary: format!("cancelled before it started: {why}"),
                run_dir: tend_run::run_dir(&self.paths, ticket.run.as_str()),
                branch: None,
                error: None,
            })));
        }
    }

    /// Asks every running run to stop as `interrupted`; returns how many there are. Waiting
    /// runs stay `queued` in the store: the next daemon starts them.
    pub fn interrupt_all(&self) -> usize {
        for active in &self.running {
            active.stop.stop(StopReason::Interrupted);
        }
        self.running.len()
    }

    /// What `tend ps` shows.
    pub fn ps(&self) -> Vec<RunInfo> {
        let mut out: Vec<RunInfo> = self
            .running
            .iter()
            .map(|a| RunInfo {
                run: a.run.to_string(),
                task: a.label.clone(),
                trigger: a.trigger.to_string(),
                state: "running".to_owned(),
                slot_due: a.slot_due,
                created_at: a.created,
                started_at: Some(a.started),
                waiting_for: None,
            })
            .collect();
        let running_tasks: HashSet<TaskId> = self.running.iter().map(|a| a.task_id).collect();
        for t in &self.waiting {
            let waiting_for = if t.lane == Lane::Sequential && running_tasks.contains(&t.task_id) {
                "the task's previous run"
            } else {
                "a free worker (max_concurrent_runs)"
            };
            out.push(RunInfo {
                run: t.run.to_string(),
                task: t.label.clone(),
                trigger: t.trigger.to_string(),
                state: "queued".to_owned(),
                slot_due: t.slot.map(|s| s.due),
                created_at: t.created,
                started_at: None,
                waiting_for: Some(waiting_for.to_owned()),
            });
        }
        out
    }
}

/// What a run's tokio task needs.
struct Job {
    store: Store,
    paths: Arc<Paths>,
    clock: Arc<dyn Clock>,
    live: broadcast::Sender<LiveEvent>,
}

impl Job {
    async fn run(self, ticket: Ticket, signal: StopSignal) {
        let now = self.clock.now();
        if let Some(slot) = ticket.slot.filter(|s| s.recorded_queued) {
            let waited = human(now.duration_since(ticket.created));
            let reason = format!("started after waiting {waited}");
            if let Err(e) = self
                .store
                .set_slot_outcome(slot.id, SlotOutcome::Ran, Some(&reason))
                .await
            {
                tracing::error!("cannot record slot {} as ran: {e}", slot.id);
            }
        }
        tracing::info!(
            "{}: run {} starts ({}{})",
            ticket.label,
            ticket.run,
            ticket.trigger,
            ticket
                .slot
                .map(|s| format!(", slot {}", s.due))
                .unwrap_or_default()
        );
        let ended = self.execute(&ticket, signal).await;
        match &ended.error {
            Some(error) => tracing::warn!("{}: run {} failed: {error}", ticket.label, ticket.run),
            None => tracing::info!(
                "{}: run {} ended {}{}",
                ticket.label,
                ticket.run,
                ended.state,
                ended
                    .status
                    .as_ref()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default()
            ),
        }
        if let Some(subscriber) = &ticket.subscriber {
            let _ = subscriber.send(Reply::RunEnded(Box::new(ended)));
        }
    }

    async fn execute(&self, ticket: &Ticket, signal: StopSignal) -> RunEnded {
        let run_dir = tend_run::run_dir(&self.paths, ticket.run.as_str());
        let env = |name: &str| std::env::var(name).ok();
        let model = match model_choice(&ticket.task, &ticket.config, &env) {
            Ok(model) => model,
            Err(e) => {
                let error = e.to_string();
                // A parked run stays parked: its answer was checked against the model before
                // it was recorded, so this is a change since (a key gone from the
                // environment); the run can still be closed or expire.
                if ticket.resume.is_none() {
                    self.fail_unstarted(&ticket.run, &error).await;
                }
                return RunEnded {
                    run: ticket.run.to_string(),
                    state: RunState::Failed.to_string(),
                    status: Some(ReportStatus::Failed.to_string()),
                    summary: error.clone(),
                    run_dir,
                    branch: None,
                    error: Some(error),
                };
            }
        };
        let request = RunRequest {
            task: (*ticket.task).clone(),
            task_id: ticket.task_id,
            run_id: ticket.run.clone(),
            model,
        };
        let runner = Runner {
            store: &self.store,
            paths: &self.paths,
            clock: self.clock.as_ref(),
        };
        let mut first = true;
        let subscriber = ticket.subscriber.clone();
        let viewers = self.live.clone();
        let run_id = ticket.run.to_string();
        let mut live = |event: &AgentEvent| {
            if first {
                first = false;
                failpoint::hit("mid-run");
            }
            if let Some(s) = &subscriber {
                let _ = s.send(Reply::Event {
                    event: event.clone(),
                });
            }
            // Cloning every event for nobody would cost a busy run for nothing.
            if viewers.receiver_count() > 0 {
                let _ = viewers.send(LiveEvent {
                    run: run_id.clone(),
                    event: event.clone(),
                });
            }
        };
        let executed = match &ticket.resume {
            Some(resolution) => {
                resume_with_stop(&runner, request, resolution.clone(), &mut live, signal).await
            }
            None => execute_with_stop(&runner, request, &mut live, signal).await,
        };
        match executed {
            Ok(finished) => RunEnded {
                run: ticket.run.to_string(),
                state: finished.run.state.to_string(),
                status: Some(finished.status.as_str().to_owned()),
                summary: finished.summary,
                run_dir: finished.run_dir,
                branch: finished.branch,
                error: None,
            },
            Err(e) => RunEnded {
                run: ticket.run.to_string(),
                state: RunState::Failed.to_string(),
                status: Some(ReportStatus::Failed.to_string()),
                summary: e.to_string(),
                run_dir,
                branch: None,
                error: Some(e.to_string()),
            },
        }
    }

    /// A run that cannot even start (no model key, a missing recording): `failed`, with why.
    async fn fail_unstarted(&self, run: &RunId, error: &str) {
        let now = self.clock.now();
        let end = RunEnd {
            state: RunState::Failed,
            status: Some(ReportStatus::Failed),
            summary: Some(error.to_owned()),
            usage: Usage::default(),
        };
        let recorded = async {
            self.store
                .set_run_state(run, RunState::Preparing, now)
                .await?;
            self.store.finish_run(run, &end, now).await
        };
        if let Err(e) = recorded.await {
            tracing::error!("cannot record run {run} as failed: {e}");
        }
        let dir = tend_run::run_dir(&self.paths, run.as_str());
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join("report.md"), format!("# failed\n\n{error}\n"));
    }
}

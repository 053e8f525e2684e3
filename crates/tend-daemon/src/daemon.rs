//! The daemon's loop: one task owns all scheduling state, so every decision and claim happens
//! in order, with no locks. It sleeps until the earliest fire time (never longer than
//! [`MAX_SLEEP`]), and wakes early for control requests, finished runs and file changes.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tend_config::{Clock, Config, MachineZone, Paths, ResolvedTask, Schedule, TaskFileError};
use tend_schedule::{Plan, Slot};
use tend_store::{Store, StoreError, TaskId, TaskKey};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::control::Incoming;
use crate::decide::human;
use crate::exec::{Done, Exec};
use crate::protocol::{NextSlot, Status};
use crate::tasks::{self, Scan};
use crate::watch::Watcher;

/// The newest due slot counts as on time (not late, so not subject to catch-up) when the
/// daemon deals with it at most this long after its fire time.
pub const ON_TIME_GRACE: Duration = Duration::from_secs(10);
/// The longest the loop sleeps, so that suspend/resume and clock jumps are noticed in time.
pub const MAX_SLEEP: Duration = Duration::from_secs(30);
/// A gap this large between the wall clock's and the monotonic clock's progress means the
/// machine slept or the clock was set.
const JUMP: SignedDuration = SignedDuration::from_secs(5);
/// File changes come in bursts (an editor's save): wait this long after the first.
const RELOAD_DELAY: Duration = Duration::from_millis(250);
/// After a store error, a task is looked at again this much later.
const RETRY_AFTER: SignedDuration = SignedDuration::from_secs(5);
/// How long a shutdown waits for interrupted runs to record their end.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(20);

/// A loaded task.
pub(crate) struct Task {
    pub key: TaskKey,
    pub label: String,
    pub task: Arc<ResolvedTask>,
    pub config: Arc<Config>,
    pub plan: Plan,
    pub next: Option<Slot>,
    /// When the loop looks at the task next: its next slot's fire time, or sooner to retry
    /// after a store error.
    pub wake: Option<Timestamp>,
    /// Enabled, with a schedule, not a finished one-shot.
    pub schedulable: bool,
}

pub(crate) struct Daemon {
    pub store: Store,
    pub paths: Arc<Paths>,
    pub clock: Arc<dyn Clock>,
    pub machine: MachineZone,
    pub roots: Vec<PathBuf>,
    pub tasks: HashMap<TaskId, Task>,
    pub by_key: HashMap<TaskKey, TaskId>,
    /// Each schedulable task's next fire time.
    pub timeline: BTreeSet<(Timestamp, TaskId)>,
    pub broken: Vec<TaskFileError>,
    pub broken_keys: HashSet<TaskKey>,
    pub exec: Exec,
    pub watcher: Option<Watcher>,
    started_at: Timestamp,
    started: Instant,
    wakeups: u64,
    /// When the registered projects were last read.
    projects_checked: Instant,
    /// The wall clock and the monotonic clock at the last look, to notice jumps.
    last: (Timestamp, Instant),
    /// When the earliest pending approval request runs out.
    pub next_expiry: Option<Timestamp>,
}

/// The channels the loop listens on.
pub(crate) struct Inbox {
    pub control: mpsc::UnboundedReceiver<Incoming>,
    pub done: mpsc::UnboundedReceiver<Done>,
    pub changed: mpsc::UnboundedReceiver<()>,
}

impl Daemon {
    pub fn new(store: Store, paths: Arc<Paths>, clock: Arc<dyn Clock>, exec: Exec) -> Daemon {
        let now = clock.now();
        Daemon {
            store,
            paths,
            clock,
            machine: MachineZone::detect(),
            roots: Vec::new(),
            tasks: HashMap::new(),
            by_key: HashMap::new(),
            timeline: BTreeSet::new(),
            broken: Vec::new(),
            broken_keys: HashSet::new(),
            exec,
            watcher: None,
            started_at: now,
            started: Instant::now(),
            wakeups: 0,
            projects_checked: Instant::now(),
            last: (now, Instant::now()),
            next_expiry: None,
        }
    }

    /// Loads the tasks, recovers from a crash, catches up.
    pub async fn start(&mut self) -> Result<(), StoreError> {
        self.roots = self
            .store
            .projects()
            .await?
            .into_iter()
            .map(|p| p.root)
            .collect();
        let scan = self.scan().await;
        self.apply_scan(scan).await?;
        crate::recover::recover(self).await?;
        let ids: Vec<TaskId> = self.timeline.iter().map(|(_, id)| *id).collect();
        for id in ids {
            self.process(id).await;
        }
        tracing::info!(
            "scheduling {} tasks ({} broken task files), at most {} runs at once",
            self.timeline.len(),
            self.broken.len(),
            self.exec.max()
        );
        Ok(())
    }

    /// Reads the task folders, off the async threads.
    pub async fn scan(&self) -> Scan {
        let paths = Arc::clone(&self.paths);
        let roots = self.roots.clone();
        let machine = self.machine.clone();
        tokio::task::spawn_blocking(move || tasks::scan(&paths, &roots, &machine))
            .await
            .unwrap_or_default()
    }

    /// Runs until `shutdown` completes, then interrupts what runs and waits for it to end.
    pub async fn run(&mut self, mut inbox: Inbox, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut reload_at: Option<Instant> = None;
        loop {
            self.check_clock().await;
            self.process_due().await;
            self.expire_approvals().await;
            let sleep = self.sleep_for();
            let reload = async {
                match reload_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                Some(done) = inbox.done.recv() => self.exec.finished(&done),
                Some((request, reply)) = inbox.control.recv() => {
                    self.handle(request, reply).await;
                }
                Some(()) = inbox.changed.recv() => {
                    reload_at.get_or_insert_with(|| Instant::now() + RELOAD_DELAY);
                }
                () = reload => {
                    reload_at = None;
                    self.reload().await;
                }
                () = tokio::time::sleep(sleep) => {
                    // A project registered by `tend init`/`tend add` elsewhere is picked up
                    // within MAX_SLEEP, at a wake-up the loop has anyway.
                    if self.projects_checked.elapsed() >= MAX_SLEEP {
                        self.projects_checked = Instant::now();
                        self.check_projects().await;
                    }
                }
            }
            self.wakeups += 1;
        }
        self.stop(&mut inbox.done).await;
    }

    fn sleep_for(&self) -> Duration {
        let now = self.clock.now();
        let first = self.timeline.first().map(|(at, _)| *at);
        let earliest = match (first, self.next_expiry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match earliest.as_ref().map(|at| (at, ())) {
            Some((at, _)) => {
                let until = now.duration_until(*at);
                if until.is_negative() {
                    Duration::ZERO
                } else {
                    Duration::try_from(until)
                        .unwrap_or(MAX_SLEEP)
                        .min(MAX_SLEEP)
                }
            }
            None => MAX_SLEEP,
        }
    }

    /// Compares the wall clock's progress with the monotonic clock's since the last look: a
    /// difference means suspend/resume or a clock change, and every task is looked at again
    /// (catch-up for what came due meanwhile).
    async fn check_clock(&mut self) {
        let wall = self.clock.now();
        let mono = Instant::now();
        let wall_moved = self.last.0.duration_until(wall);
        let mono_moved = SignedDuration::try_from(mono.duration_since(self.last.1))
            .unwrap_or(SignedDuration::MAX);
        self.last = (wall, mono);
        let gap = wall_moved
            .checked_sub(mono_moved)
            .unwrap_or(SignedDuration::MAX);
        if gap.abs() <= JUMP {
            return;
        }
        tracing::info!(
            "the wall clock moved {} against the monotonic clock (suspend/resume or a clock change): looking at every task",
            human(gap)
        );
        let ids: Vec<TaskId> = self.timeline.iter().map(|(_, id)| *id).collect();
        for id in ids {
            self.process(id).await;
        }
    }

    async fn process_due(&mut self) {
        loop {
            let now = self.clock.now();
            let Some(&(at, id)) = self.timeline.first() else {
                return;
            };
            if at > now {
                return;
            }
            self.process(id).await;
        }
    }

    /// Sets a task's next slot, and puts its fire time on the timeline.
    pub fn set_next(&mut self, id: TaskId, next: Option<Slot>) {
        if let Some(task) = self.tasks.get_mut(&id) {
            task.next = next;
        }
        self.set_wake(id, next.map(|slot| slot.fire_at));
    }

    /// Looks at the task again soon: the store failed, and the slot must not wait for the
    /// task's next slot (an hour, a day) to be dealt with.
    pub fn retry_soon(&mut self, id: TaskId) {
        let at = self
            .clock
            .now()
            .checked_add(RETRY_AFTER)
            .unwrap_or(Timestamp::MAX);
        self.set_wake(id, Some(at));
    }

    fn set_wake(&mut self, id: TaskId, at: Option<Timestamp>) {
        let Some(task) = self.tasks.get_mut(&id) else {
            return;
        };
        if let Some(old) = task.wake.take() {
            self.timeline.remove(&(old, id));
        }
        if let Some(at) = at.filter(|_| task.schedulable) {
            task.wake = Some(at);
            self.timeline.insert((at, id));
        }
    }

    /// Takes a task off the schedule and out of memory.
    pub fn forget(&mut self, id: TaskId) {
        self.set_next(id, None);
        if let Some(task) = self.tasks.remove(&id) {
            self.by_key.remove(&task.key);
        }
    }

    pub async fn reload(&mut self) {
        let scan = self.scan().await;
        if let Err(e) = self.apply_scan(scan).await {
            tracing::error!("cannot reload the tasks: {e}");
        }
        if let Some(watcher) = self.watcher.as_mut() {
            watcher.watch(&self.paths, &self.roots);
        }
    }

    async fn check_projects(&mut self) {
        match self.store.projects().await {
            Ok(projects) => {
                let roots: Vec<PathBuf> = projects.into_iter().map(|p| p.root).collect();
                if roots != self.roots {
                    tracing::info!("the registered projects changed: reloading");
                    self.roots = roots;
                    self.reload().await;
                }
            }
            Err(e) => tracing::warn!("cannot read the registered projects: {e}"),
        }
    }

    pub fn status(&self) -> Status {
        let next = self.timeline.first().and_then(|(_, id)| {
            let task = self.tasks.get(id)?;
            let slot = task.next?;
            Some(NextSlot {
                task: task.label.clone(),
                due: slot.due,
                fire_at: slot.fire_at,
            })
        });
        Status {
            pid: std::process::id(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            started_at: self.started_at,
            uptime_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            tasks_scheduled: self.timeline.len(),
            broken: self.broken.iter().map(ToString::to_string).collect(),
            next,
            runs_active: self.exec.running(),
            runs_queued: self.exec.queued(),
            max_concurrent_runs: self.exec.max(),
            wakeups: self.wakeups,
            log_dir: self.paths.logs_dir.clone(),
        }
    }

    async fn stop(&mut self, done: &mut mpsc::UnboundedReceiver<Done>) {
        self.exec.drain();
        let n = self.exec.interrupt_all();
        if n > 0 {
            tracing::info!("stopping: interrupting {n} running runs");
        }
        let deadline = Instant::now() + SHUTDOWN_WAIT;
        while self.exec.running() > 0 {
            tokio::select! {
                Some(d) = done.recv() => self.exec.finished(&d),
                () = tokio::time::sleep_until(deadline) => {
                    tracing::warn!(
                        "{} runs did not end in time; the next daemon records them interrupted",
                        self.exec.running()
                    );
                    break;
                }
            }
        }
        tracing::info!("stopped");
    }
}

/// Whether a task's slots moved: then slots before now under the old schedule don't count.
pub(crate) fn schedule_changed(old: &ResolvedTask, new: &ResolvedTask) -> bool {
    old.schedule != new.schedule
        || old.timezone != new.timezone
        || old.anchor != new.anchor
        || old.jitter != new.jitter
}

pub(crate) fn has_slots(schedule: &Schedule) -> bool {
    !matches!(schedule, Schedule::Manual)
}

//! A shell command against the run's disk budget: measured before it starts, watched while it
//! runs (stopped, its whole group killed, once the budget is used up) and measured after.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};

use crate::disk::DiskBudget;

/// A scan may take at most this share of the time between two scans (a tenth): a big
/// worktree is measured less often rather than keeping a core busy (20,000 files take about
/// 60 ms to measure, see `benches/disk.rs`, so they are measured about every 0.6 s).
const SCAN_SHARE: u32 = 10;

/// The watch over one command.
pub(crate) struct Watch {
    budget: Arc<DiskBudget>,
    /// Usage when the command started.
    at_start: u64,
    poll: Duration,
    next: Instant,
    /// The measurement under way, if any (kept across `select!` rounds).
    scan: Option<(JoinHandle<u64>, Instant)>,
    /// Usage when the watch stopped the command.
    stopped_at: Option<u64>,
}

/// What the budget says about a finished command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Within the budget (or the command freed enough).
    Within,
    /// The command used the budget up; it was stopped (or its write was cut short).
    UsedUp { used: u64, stopped: Stopped },
    /// The budget was used up before the command started and still is: it could not make any
    /// file grow.
    StillUsedUp { used: u64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stopped {
    /// Killed by the watch while it ran.
    ByTheWatch,
    /// It ended on its own (the file size cap cut its write short).
    Ended,
}

/// Measures usage off the async threads.
async fn measure(budget: &Arc<DiskBudget>) -> u64 {
    let budget = Arc::clone(budget);
    // A measurement that panicked counts as nothing used: the watch goes on.
    tokio::task::spawn_blocking(move || budget.used())
        .await
        .unwrap_or(0)
}

impl Watch {
    /// Measures the run's usage before a command starts.
    pub(crate) async fn start(budget: &Arc<DiskBudget>, poll: Duration) -> Watch {
        let at_start = measure(budget).await;
        Watch {
            budget: Arc::clone(budget),
            at_start,
            poll,
            next: Instant::now() + poll,
            scan: None,
            stopped_at: None,
        }
    }

    /// The largest file the command may write: what is left of the budget (nothing once it is
    /// used up: the command may still delete files).
    pub(crate) fn file_cap(&self) -> u64 {
        if self.budget.is_used_up(self.at_start) {
            0
        } else {
            self.budget.remaining(self.at_start)
        }
    }

    /// Whether the watch still measures (it stops once it stopped the command).
    pub(crate) fn is_watching(&self) -> bool {
        self.stopped_at.is_none()
    }

    /// The next measurement, at most every `poll`. Cancel-safe: a measurement under way when
    /// the future is dropped is picked up by the next call.
    pub(crate) async fn reading(&mut self) -> Option<u64> {
        if self.scan.is_none() {
            sleep_until(self.next).await;
            let budget = Arc::clone(&self.budget);
            let handle = tokio::task::spawn_blocking(move || budget.used());
            self.scan = Some((handle, Instant::now()));
        }
        let (handle, began) = self.scan.as_mut()?;
        let result = handle.await;
        let took = began.elapsed();
        self.scan = None;
        self.next = Instant::now() + self.poll.max(took * SCAN_SHARE);
        result.ok()
    }

    /// Whether `used` means the command has used the budget up: it is used up, and by this
    /// command (one that started with the budget used up may delete files without being
    /// stopped).
    pub(crate) fn passed(&self, used: u64) -> bool {
        self.budget.is_used_up(used) && used > self.at_start
    }

    /// Notes that the command was stopped at `used`.
    pub(crate) fn stopped(&mut self, used: u64) {
        self.stopped_at = Some(used);
    }

    /// Measures once more after the command and judges it.
    pub(crate) async fn finish(mut self) -> (Verdict, Arc<DiskBudget>) {
        if let Some((handle, _)) = self.scan.take() {
            handle.abort();
        }
        let used = measure(&self.budget).await;
        let verdict = match self.stopped_at {
            Some(at) => Verdict::UsedUp {
                used: used.max(at),
                stopped: Stopped::ByTheWatch,
            },
            None if self.passed(used) => Verdict::UsedUp {
                used,
                stopped: Stopped::Ended,
            },
            None if self.budget.is_used_up(used) => Verdict::StillUsedUp { used },
            None => Verdict::Within,
        };
        (verdict, self.budget)
    }
}

/// The note the model reads, or `None` within the budget.
pub(crate) fn note(verdict: &Verdict, budget: &DiskBudget) -> Option<String> {
    match verdict {
        Verdict::Within => None,
        Verdict::UsedUp {
            used,
            stopped: Stopped::ByTheWatch,
        } => Some(format!(
            "[stopped: {}; the command and everything it started were killed; free space or \
             raise max_disk]",
            budget.used_up_message(*used)
        )),
        Verdict::UsedUp {
            used,
            stopped: Stopped::Ended,
        } => Some(format!(
            "[{}; the command's writes were cut short; free space or raise max_disk]",
            budget.used_up_message(*used)
        )),
        Verdict::StillUsedUp { used } => Some(format!(
            "[{}; commands may not make files grow until you free space (delete files) or \
             raise max_disk]",
            budget.used_up_message(*used)
        )),
    }
}

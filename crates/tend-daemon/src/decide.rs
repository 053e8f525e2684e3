//! What to do with a task's due slots: pure, no IO, no clock (`now` is passed in).
//!
//! Given a task's plan, its policies, its cursor in the store (the newest slot already dealt
//! with), when tend first saw it, whether it is paused, how busy it is, and `now`, [`decide`]
//! says for every slot that has come due since the cursor whether it runs, waits, is skipped or
//! was missed, and why. The daemon then claims each slot in the store with that outcome.
//!
//! The newest due slot is *on time* when it fired at most `grace` ago: the daemon woke for it.
//! Every other due slot is *late* (tend was not running, or the machine slept, or the clock
//! jumped) and goes through the catch-up policy: `none` records them all missed, `latest` runs
//! the newest and records the others missed, `all` runs the newest [`MAX_CATCH_UP_ALL`] in
//! order. Late slots older than `catch_up_window` are missed whatever the policy.
//!
//! A huge backlog (a task due every second, the machine off for a week) is not materialised:
//! the newest [`MAX_LISTED`] slots are decided one by one, and the oldest of them says how many
//! earlier slots were missed too, so nothing is dropped silently.

use std::fmt;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tend_config::{CatchUp, Keyword, Overlap};
use tend_schedule::{Plan, Slot};

/// Late slots recorded one by one; earlier ones are counted in the oldest's reason.
pub const MAX_LISTED: usize = 100;
/// `catch_up = "all"` runs at most this many late slots.
pub const MAX_CATCH_UP_ALL: usize = 10;
/// Counting earlier slots stops here (a reason then says "more than").
const COUNT_CAP: u64 = 5_000_000;

/// A task's scheduling policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub catch_up: CatchUp,
    pub catch_up_window: Duration,
    pub overlap: Overlap,
}

/// Whether the task is paused (its slots are recorded as skipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseState {
    Active,
    Paused,
}

/// Everything [`decide`] needs to know about one task.
#[derive(Debug, Clone)]
pub struct TaskView<'a> {
    pub plan: &'a Plan,
    pub policy: Policy,
    /// The newest slot due instant already dealt with (the store's `last_slot_due`).
    pub cursor: Option<Timestamp>,
    /// When tend first saw the task: no slot at or before it is ever due.
    pub first_seen: Timestamp,
    pub pause: PauseState,
    /// Runs of the task executing now.
    pub active_runs: usize,
    /// Runs of the task claimed but not started yet.
    pub waiting_runs: usize,
}

/// What becomes of one slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A run starts as soon as a worker is free.
    Run,
    /// A run waits for the task's earlier run to end (overlap `queue`, or catch-up `all`).
    Queue,
    Skip(SkipReason),
    Miss(MissReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    Paused,
    /// overlap `skip`: the task's previous run is still going.
    Overlap,
    /// overlap `queue`: a run is already waiting.
    QueueFull,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissReason {
    pub kind: MissKind,
    /// How long after its fire time the slot was dealt with.
    pub late_by: SignedDuration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissKind {
    /// `catch_up = "none"`.
    NotCaughtUp,
    /// `catch_up = "latest"`: a newer late slot runs instead.
    NotNewest,
    /// `catch_up = "all"`: beyond the newest [`MAX_CATCH_UP_ALL`].
    BeyondAllLimit,
    /// Due before `now - catch_up_window`.
    OutsideWindow(Duration),
}

/// Slots before the listed ones that were missed too, counted, not listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Earlier {
    pub count: u64,
    /// Counting stopped at the cap: there were more.
    pub capped: bool,
    /// The oldest of them.
    pub since: Timestamp,
}

/// One due slot and what becomes of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub slot: Slot,
    pub outcome: Outcome,
    /// Set on the oldest decision when a backlog was too long to list.
    pub earlier: Option<Earlier>,
}

/// All of [`decide`]'s answer for one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outlook {
    /// Every slot due since the cursor, oldest first.
    pub decisions: Vec<Decision>,
    /// The task's next slot after those, to sleep until.
    pub next: Option<Slot>,
    /// overlap `replace`: cancel the task's active and waiting runs before starting the new one.
    pub cancel_others: bool,
    /// A one-shot (`at`) task whose slot is over: mark it done.
    pub one_shot_over: bool,
}

impl Outlook {
    /// Slots missed in all, the unlisted ones included.
    pub fn missed(&self) -> u64 {
        let listed = self
            .decisions
            .iter()
            .filter(|d| matches!(d.outcome, Outcome::Miss(_)))
            .count() as u64;
        let earlier: u64 = self
            .decisions
            .iter()
            .filter(|d| matches!(d.outcome, Outcome::Miss(_)))
            .filter_map(|d| d.earlier.map(|e| e.count))
            .sum();
        listed + earlier
    }
}

/// Decides every slot of `task` that is due at `now` and not yet dealt with.
///
/// `grace`: how long after its fire time the newest slot still counts as on time.
pub fn decide(task: &TaskView<'_>, now: Timestamp, grace: Duration) -> Outlook {
    let plan = task.plan;
    let lower = match task.cursor {
        Some(cursor) => cursor.max(task.first_seen),
        None => task.first_seen,
    };
    // A slot is due once its fire time (due + jitter) has come.
    let upper = now
        .checked_sub(SignedDuration::try_from(plan.jitter()).unwrap_or(SignedDuration::MAX))
        .unwrap_or(Timestamp::MIN);
    let backlog = backlog(plan, lower, upper, MAX_LISTED);
    let next = plan.next_after(lower.max(upper));
    let one_shot_over = plan.schedule().is_one_shot() && next.is_none();
    let mut outlook = Outlook {
        decisions: Vec::with_capacity(backlog.listed.len()),
        next,
        cancel_others: false,
        one_shot_over,
    };
    let Some(newest) = backlog.listed.last().copied() else {
        return outlook;
    };
    let late_by = |slot: &Slot| now.duration_since(slot.fire_at);
    let on_time = late_by(&newest) <= SignedDuration::try_from(grace).unwrap_or_default();
    let window = task.policy.catch_up_window;
    let window_start = now
        .checked_sub(SignedDuration::try_from(window).unwrap_or(SignedDuration::MAX))
        .unwrap_or(Timestamp::MIN);
    let in_window = |slot: &Slot| slot.due >= window_start;

    // Which of the listed slots (by index, ascending) get a run.
    let count = backlog.listed.len();
    let to_run: Vec<usize> = match (task.pause, task.policy.catch_up) {
        (PauseState::Paused, _) => Vec::new(),
        (PauseState::Active, CatchUp::None) => {
            if on_time {
                vec![count - 1]
            } else {
                Vec::new()
            }
        }
        (PauseState::Active, CatchUp::Latest) => {
            if on_time || in_window(&newest) {
                vec![count - 1]
            } else {
                Vec::new()
            }
        }
        (PauseState::Active, CatchUp::All) => {
            let mut picked: Vec<usize> = (0..count)
                .rev()
                .filter(|i| (on_time && *i == count - 1) || in_window(&backlog.listed[*i]))
                .take(MAX_CATCH_UP_ALL)
                .collect();
            picked.reverse();
            picked
        }
    };
    let runs = run_outcomes(task, to_run.len());
    outlook.cancel_others = task.policy.overlap == Overlap::Replace
        && task.active_runs + task.waiting_runs > 0
        && !to_run.is_empty();
    let mut runs = runs.into_iter();
    for (i, slot) in backlog.listed.iter().enumerate() {
        let outcome = if task.pause == PauseState::Paused {
            Outcome::Skip(SkipReason::Paused)
        } else if to_run.contains(&i) {
            runs.next().unwrap_or(Outcome::Queue)
        } else {
            let kind = if !in_window(slot) {
                MissKind::OutsideWindow(window)
            } else {
                match task.policy.catch_up {
                    CatchUp::None => MissKind::NotCaughtUp,
                    CatchUp::Latest => MissKind::NotNewest,
                    CatchUp::All => MissKind::BeyondAllLimit,
                }
            };
            Outcome::Miss(MissReason {
                kind,
                late_by: late_by(slot),
            })
        };
        outlook.decisions.push(Decision {
            slot: *slot,
            outcome,
            earlier: None,
        });
    }
    if backlog.earlier.count > 0
        && let Some(first) = outlook
            .decisions
            .iter_mut()
            .find(|d| !matches!(d.outcome, Outcome::Run | Outcome::Queue))
    {
        first.earlier = Some(backlog.earlier);
    }
    outlook
}

/// The outcomes of the slots picked to run, in order, after the overlap policy: the first
/// meets the task's previous runs; the rest of a catch-up batch queue behind it.
fn run_outcomes(task: &TaskView<'_>, picked: usize) -> Vec<Outcome> {
    let busy = task.active_runs + task.waiting_runs > 0;
    let all = |outcome: Outcome| vec![outcome; picked];
    let first_then_queue = |first: Outcome| {
        let mut v = vec![Outcome::Queue; picked];
        if let Some(f) = v.first_mut() {
            *f = first;
        }
        v
    };
    if !busy {
        return first_then_queue(Outcome::Run);
    }
    match task.policy.overlap {
        Overlap::Skip => all(Outcome::Skip(SkipReason::Overlap)),
        Overlap::Queue if task.waiting_runs > 0 => all(Outcome::Skip(SkipReason::QueueFull)),
        Overlap::Queue => all(Outcome::Queue),
        Overlap::Replace => first_then_queue(Outcome::Run),
    }
}

/// The due slots in `(lower, upper]`: the newest `keep` listed, the ones before counted.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Backlog {
    listed: Vec<Slot>,
    earlier: Earlier,
}

fn backlog(plan: &Plan, lower: Timestamp, upper: Timestamp, keep: usize) -> Backlog {
    let mut out = Backlog {
        listed: Vec::new(),
        earlier: Earlier {
            count: 0,
            capped: false,
            since: lower,
        },
    };
    if upper <= lower || keep == 0 {
        return out;
    }
    // Look back from `upper` over a growing span until it holds `keep` slots or reaches
    // `lower`: the newest slots are found without walking a long backlog from its start.
    let mut span = SignedDuration::from_mins(1);
    loop {
        let from = upper
            .checked_sub(span)
            .map_or(lower, |from| from.max(lower));
        let mut ring = std::collections::VecDeque::with_capacity(keep + 1);
        let mut seen = 0u64;
        let mut oldest = None;
        for slot in plan.slots_between(from, upper) {
            seen += 1;
            oldest.get_or_insert(slot.due);
            ring.push_back(slot);
            if ring.len() > keep {
                ring.pop_front();
            }
        }
        if ring.len() == keep || from == lower {
            let dropped = seen - ring.len() as u64;
            out.listed = ring.into();
            let mut earlier = Earlier {
                count: dropped,
                capped: false,
                since: oldest.unwrap_or(lower),
            };
            if from > lower {
                for (n, slot) in plan.slots_between(lower, from).enumerate() {
                    if n == 0 {
                        earlier.since = slot.due;
                    }
                    if earlier.count >= COUNT_CAP {
                        earlier.capped = true;
                        break;
                    }
                    earlier.count += 1;
                }
            }
            out.earlier = earlier;
            return out;
        }
        span = span.checked_mul(4).unwrap_or(SignedDuration::MAX);
    }
}

impl Decision {
    /// The reason stored with the slot, if its outcome has one.
    pub fn reason(&self, policy: &Policy) -> Option<String> {
        let base = match self.outcome {
            Outcome::Run => None,
            Outcome::Queue => Some(
                match policy.overlap {
                    Overlap::Queue => "waiting for the task's previous run (overlap = \"queue\")",
                    Overlap::Skip | Overlap::Replace => "waiting for the task's previous run",
                }
                .to_owned(),
            ),
            Outcome::Skip(reason) => Some(reason.to_string()),
            Outcome::Miss(reason) => Some(reason.to_string()),
        };
        let Some(earlier) = self.earlier else {
            return base;
        };
        let what = match self.outcome {
            Outcome::Skip(_) => "skipped",
            Outcome::Run | Outcome::Queue | Outcome::Miss(_) => "missed",
        };
        let more = if earlier.capped { "more than " } else { "" };
        let note = format!(
            "{more}{} earlier slots since {} were {what} too (not listed one by one)",
            thousands(earlier.count),
            earlier.since
        );
        Some(match base {
            Some(text) => format!("{text}; {note}"),
            None => note,
        })
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SkipReason::Paused => "paused",
            SkipReason::Overlap => "overlap: the previous run is still going (overlap = \"skip\")",
            SkipReason::QueueFull => {
                "overlap: a run is already waiting (overlap = \"queue\" keeps one)"
            }
        })
    }
}

impl fmt::Display for MissReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let late = human(self.late_by);
        match self.kind {
            MissKind::NotCaughtUp => write!(
                f,
                "late by {late} (tend was not running, or the machine slept); catch_up = \"{}\"",
                CatchUp::None.as_str()
            ),
            MissKind::NotNewest => write!(
                f,
                "late by {late}; catch_up = \"latest\" runs only the newest due slot"
            ),
            MissKind::BeyondAllLimit => write!(
                f,
                "late by {late}; catch_up = \"all\" runs at most the {MAX_CATCH_UP_ALL} newest late slots"
            ),
            MissKind::OutsideWindow(window) => write!(
                f,
                "late by {late}, more than catch_up_window ({})",
                tend_schedule::format_duration(window)
            ),
        }
    }
}

/// A duration for a reason: its two largest units, `2h 5m`, `3d 4h`, `45s`, `120ms`.
pub fn human(d: SignedDuration) -> String {
    let ms = d.as_millis().unsigned_abs();
    let sign = if d.is_negative() { "-" } else { "" };
    if ms < 1000 {
        return format!("{sign}{ms}ms");
    }
    let units = [
        ("d", 86_400_000u128),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
    ];
    let mut parts = Vec::new();
    let mut rest = ms;
    for (name, size) in units {
        if rest >= size || !parts.is_empty() {
            parts.push(format!("{}{name}", rest / size));
            rest %= size;
        }
        if parts.len() == 2 {
            break;
        }
    }
    let parts: Vec<String> = parts.into_iter().filter(|p| !p.starts_with('0')).collect();
    format!("{sign}{}", parts.join(" "))
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests;

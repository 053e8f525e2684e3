//! `tend run --slot <instant|latest> TASK`: what an OS timer (`tend sync --native`) calls.
//!
//! The slot is claimed in the store with trigger `os-timer`, in the same transaction as its
//! run, so a slot runs once however many timers fire for it (a `Persistent=true` catch-up, a
//! daemon running alongside, cron and systemd both registered): the later callers find it
//! claimed and exit 0.
//!
//! An OS timer cannot say which instant it fired for, so `latest` means the newest slot of the
//! task's plan due at or before now (a timer may be up to [`EARLY`] early: cron and launchd
//! fire on whole minutes, a slot anchored at a fraction of a second is due just after). The
//! slot is on time when it fires within [`GRACE`] (plus the task's jitter); otherwise the
//! timer is catching up (the machine was off or asleep) and `catch_up` decides, as in the
//! daemon: `none` records it missed; `latest` and `all` run it (OS timers run one slot per
//! firing). Older slots not dealt with since the last one, within reach, are recorded
//! `missed`, so nothing is dropped silently.

use jiff::{SignedDuration, Timestamp};
use tend_config::{CatchUp, Overlap, ResolvedTask};
use tend_schedule::{Plan, Slot};
use tend_store::{
    ClaimWithRun, NewSlot, Run, RunFilter, RunState, SlotOutcome, Store, TaskState, Trigger,
};

use crate::context::Context;
use crate::exit::invalid;
use crate::output::{local_time, say};

/// How early a timer may fire for a slot.
pub const EARLY: SignedDuration = SignedDuration::from_secs(1);
/// How late a timer may fire and still be on time.
pub const GRACE: SignedDuration = SignedDuration::from_secs(60);
/// Missed slots recorded one by one; earlier ones are counted in the oldest's reason.
const MAX_LISTED: usize = 100;
/// Counting earlier missed slots stops here.
const COUNT_CAP: u64 = 1_000_000;

/// Which slot `--slot` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    Latest,
    At(Timestamp),
}

/// What became of the slot.
pub enum Claimed {
    /// This process owns the slot and runs it.
    Run(Box<Run>),
    /// Nothing to run: the slot was recorded (skipped, missed) or handled before.
    Nothing,
}

pub fn parse(text: &str) -> anyhow::Result<Wanted> {
    if text == "latest" {
        return Ok(Wanted::Latest);
    }
    text.parse::<Timestamp>().map(Wanted::At).map_err(|_| {
        invalid(
            format!("--slot {text}: not `latest` nor an RFC 3339 instant"),
            Some("OS timers use `--slot latest`; an instant looks like 2026-03-09T08:00:00Z"),
        )
    })
}

/// Claims the slot `wanted` names for a run triggered by an OS timer.
pub fn claim(
    ctx: &Context,
    store: &Store,
    title: &str,
    task: &ResolvedTask,
    state: &TaskState,
    wanted: Wanted,
) -> anyhow::Result<Claimed> {
    let now = ctx.now();
    let plan = task.plan(state.first_seen_at);
    let tz = task.timezone.tz();
    let slot = match wanted {
        Wanted::At(at) => {
            let slot = plan
                .next_after(at - SignedDuration::from_nanos(1))
                .filter(|s| s.due == at);
            let Some(slot) = slot else {
                let near = |s: Option<Slot>| s.map_or("none".to_owned(), |s| local_time(s.due, tz));
                let before = newest_due(&plan, at, SignedDuration::from_hours(24 * 366), None);
                return Err(invalid(
                    format!("{} is not a slot of {title}", local_time(at, tz)),
                    Some(&format!(
                        "its slots around then: {} and {}; `--slot latest` takes the newest due one",
                        near(before),
                        near(plan.next_after(at))
                    )),
                ));
            };
            if slot.due > now + EARLY {
                return Err(invalid(
                    format!(
                        "slot {} of {title} is not due yet",
                        local_time(slot.due, tz)
                    ),
                    Some("a slot runs when it is due; `tend run TASK` runs a task now"),
                ));
            }
            slot
        }
        Wanted::Latest => {
            let first_seen = state.first_seen_at;
            let Some(slot) = newest_due(&plan, now + EARLY, SignedDuration::MAX, Some(first_seen))
            else {
                say!(
                    "no slot of {title} has come due since tend first saw it ({}); nothing to do",
                    local_time(first_seen, tz)
                );
                return Ok(Claimed::Nothing);
            };
            // Dealt with already: this is a second timer for it (or a late duplicate).
            if state.last_slot_due.is_some_and(|cursor| slot.due <= cursor) {
                already(title, &local_time(slot.due, tz))?;
                return Ok(Claimed::Nothing);
            }
            let lower = state.last_slot_due.unwrap_or(first_seen).max(first_seen);
            record_missed(ctx, store, &plan, state, lower, slot, now, task)?;
            slot
        }
    };
    let lateness = now.duration_since(slot.due);
    // systemd delays a timer by up to the jitter (its own draw, not tend's): still on time.
    let jitter = SignedDuration::try_from(task.jitter.unwrap_or_default()).unwrap_or_default();
    let on_time = lateness <= GRACE + jitter || wanted != Wanted::Latest;
    let new_slot = |outcome: SlotOutcome, reason: Option<String>| NewSlot {
        task: state.id,
        due: slot.due,
        fire_at: slot.fire_at,
        claimed_at: now,
        outcome,
        reason,
        lateness: Some(lateness),
    };
    let when = local_time(slot.due, tz);
    // Recorded without a run: paused, disabled, late without catch-up, overlapping.
    let without_run = if state.paused.is_some() {
        Some((SlotOutcome::Skipped, "paused".to_owned()))
    } else if !task.enabled {
        Some((
            SlotOutcome::Skipped,
            "disabled (enabled = false)".to_owned(),
        ))
    } else if !on_time && slot.due < now.checked_sub(window(task)).unwrap_or(Timestamp::MIN) {
        Some((
            SlotOutcome::Missed,
            format!(
                "late by {}, more than catch_up_window ({})",
                human(lateness),
                tend_schedule::format_duration(task.catch_up_window)
            ),
        ))
    } else if !on_time && task.catch_up == CatchUp::None {
        Some((
            SlotOutcome::Missed,
            format!(
                "late by {} (the machine was off or asleep); catch_up = \"none\"",
                human(lateness)
            ),
        ))
    } else {
        busy(ctx, store, state)?.map(|run| {
            let note = match task.overlap {
                Overlap::Skip => "overlap = \"skip\"",
                Overlap::Queue | Overlap::Replace => {
                    "OS timers skip; queue and replace need the daemon"
                }
            };
            (
                SlotOutcome::Skipped,
                format!("overlap: the previous run {run} is still going ({note})"),
            )
        })
    };
    // Last, the task's [when] gate: a slot it says no to is skipped with its reason.
    let without_run = match without_run {
        Some(recorded) => Some(recorded),
        None => match ctx.block_on(tend_run::check_gate(store, task, state.id))? {
            tend_run::Gate::Go => None,
            tend_run::Gate::Skip(why) => Some((SlotOutcome::Skipped, why)),
        },
    };
    if let Some((outcome, reason)) = without_run {
        let claimed = ctx.block_on(store.claim_slot(&new_slot(outcome, Some(reason.clone()))))?;
        match claimed {
            tend_store::Claim::Claimed(_) => say!("slot {when} of {title}: {outcome} ({reason})"),
            tend_store::Claim::AlreadyClaimed => already(title, &when)?,
        }
        return Ok(Claimed::Nothing);
    }
    match ctx
        .block_on(store.claim_slot_with_run(&new_slot(SlotOutcome::Ran, None), Trigger::OsTimer))?
    {
        ClaimWithRun::Claimed { run, .. } => {
            let timing = if lateness.is_negative() {
                format!("{} early", human(-lateness))
            } else {
                format!("{} late", human(lateness))
            };
            say!("slot {when} of {title} claimed by the OS timer ({timing})");
            Ok(Claimed::Run(run))
        }
        ClaimWithRun::AlreadyClaimed => {
            already(title, &when)?;
            Ok(Claimed::Nothing)
        }
    }
}

fn already(title: &str, when: &str) -> anyhow::Result<()> {
    say!(
        "slot {when} of {title} was already claimed (it ran, or the daemon or another timer handled it); nothing to do"
    );
    Ok(())
}

fn window(task: &ResolvedTask) -> SignedDuration {
    SignedDuration::try_from(task.catch_up_window).unwrap_or(SignedDuration::MAX)
}

/// The newest slot due at or before `upper`, not older than `reach` before it, and after
/// `lower` when given. Searches back over growing spans, so a frequent schedule does not walk
/// the whole window.
fn newest_due(
    plan: &Plan,
    upper: Timestamp,
    reach: SignedDuration,
    lower: Option<Timestamp>,
) -> Option<Slot> {
    let floor = upper
        .checked_sub(reach)
        .unwrap_or(Timestamp::MIN)
        .max(lower.unwrap_or(Timestamp::MIN));
    let mut span = SignedDuration::from_mins(1);
    loop {
        let from = upper.checked_sub(span).map_or(floor, |f| f.max(floor));
        if let Some(slot) = plan.slots_between(from, upper).last() {
            return Some(slot);
        }
        if from <= floor {
            return None;
        }
        span = span.checked_mul(8).unwrap_or(SignedDuration::MAX);
    }
}

/// Records the slots in `(lower, slot)` as missed: the newest [`MAX_LISTED`] one by one,
/// the oldest of them counting the ones before it.
#[allow(clippy::too_many_arguments)]
fn record_missed(
    ctx: &Context,
    store: &Store,
    plan: &Plan,
    state: &TaskState,
    lower: Timestamp,
    slot: Slot,
    now: Timestamp,
    task: &ResolvedTask,
) -> anyhow::Result<()> {
    let before = slot.due - SignedDuration::from_nanos(1);
    if before <= lower {
        return Ok(());
    }
    let mut ring = std::collections::VecDeque::with_capacity(MAX_LISTED + 1);
    let mut earlier = 0u64;
    let mut capped = false;
    for s in plan.slots_between(lower, before) {
        ring.push_back(s);
        if ring.len() > MAX_LISTED {
            ring.pop_front();
            earlier += 1;
            if earlier >= COUNT_CAP {
                capped = true;
                break;
            }
        }
    }
    let window_start = now.checked_sub(window(task)).unwrap_or(Timestamp::MIN);
    let policy = match task.catch_up {
        CatchUp::None => "catch_up = \"none\"",
        CatchUp::Latest => "catch_up = \"latest\" ran only the newest late slot",
        CatchUp::All => {
            "OS timers run only the newest late slot (catch_up = \"all\" needs the daemon)"
        }
    };
    for (i, s) in ring.iter().enumerate() {
        let late = human(now.duration_since(s.fire_at));
        let mut reason = if s.due < window_start {
            format!(
                "late by {late}, more than catch_up_window ({})",
                tend_schedule::format_duration(task.catch_up_window)
            )
        } else {
            format!("late by {late}; {policy}")
        };
        if i == 0 && earlier > 0 {
            let more = if capped { "more than " } else { "" };
            reason.push_str(&format!(
                "; {more}{earlier} earlier slots since {lower} were missed too (not listed one by one)"
            ));
        }
        ctx.block_on(store.claim_slot(&NewSlot {
            task: state.id,
            due: s.due,
            fire_at: s.fire_at,
            claimed_at: now,
            outcome: SlotOutcome::Missed,
            reason: Some(reason),
            lateness: None,
        }))?;
    }
    let total = ring.len() as u64 + earlier;
    if total > 0 {
        say!(
            "{}{total} earlier slot{} recorded missed",
            if capped { "more than " } else { "" },
            if total == 1 { "" } else { "s" }
        );
    }
    Ok(())
}

/// A run of the task still going in a live process.
fn busy(ctx: &Context, store: &Store, state: &TaskState) -> anyhow::Result<Option<String>> {
    let runs = ctx.block_on(store.runs(&RunFilter {
        task: Some(state.id),
        states: vec![RunState::Preparing, RunState::Running],
        limit: Some(10),
    }))?;
    Ok(runs
        .into_iter()
        .find(|r| r.owner.as_ref().is_some_and(tend_run::is_alive))
        .map(|r| r.id.to_string()))
}

/// A duration for messages: its two largest units (`2h 5m`, `45s`, `120ms`).
fn human(d: SignedDuration) -> String {
    let ms = d.as_millis().unsigned_abs();
    let sign = if d.is_negative() { "-" } else { "" };
    if ms < 1000 {
        return format!("{sign}{ms}ms");
    }
    let s = ms / 1000;
    let units = [(86_400, "d"), (3600, "h"), (60, "m"), (1, "s")];
    let mut parts = Vec::new();
    let mut rest = s;
    for (size, name) in units {
        if rest >= size && parts.len() < 2 {
            parts.push(format!("{}{name}", rest / size));
            rest %= size;
        } else if !parts.is_empty() {
            break;
        }
    }
    format!("{sign}{}", parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn human_durations() {
        let h = |s| human(SignedDuration::from_secs(s));
        assert_eq!(
            [h(0), h(45), h(125), h(7500), h(3 * 86_400 + 4 * 3600 + 5)],
            ["0ms", "45s", "2m 5s", "2h 5m", "3d 4h"]
        );
        assert_eq!(human(SignedDuration::from_millis(-120)), "-120ms");
    }

    #[test]
    fn newest_due_searches_back() {
        let plan = Plan::new(
            "0 9 * * 1".parse().unwrap(),
            jiff::tz::TimeZone::UTC,
            Timestamp::UNIX_EPOCH,
        );
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        let week = SignedDuration::from_hours(24 * 7);
        // Saturday 2026-03-07: the newest Monday 09:00 is March 2.
        assert_eq!(
            newest_due(&plan, at("2026-03-07T12:00:00Z"), week, None).map(|s| s.due),
            Some(at("2026-03-02T09:00:00Z"))
        );
        assert_eq!(
            newest_due(
                &plan,
                at("2026-03-07T12:00:00Z"),
                week,
                Some(at("2026-03-02T09:00:00Z"))
            ),
            None
        );
        assert_eq!(
            newest_due(
                &plan,
                at("2026-03-07T12:00:00Z"),
                SignedDuration::from_hours(24),
                None
            ),
            None
        );
        // At the instant itself.
        assert_eq!(
            newest_due(&plan, at("2026-03-09T09:00:00Z"), week, None).map(|s| s.due),
            Some(at("2026-03-09T09:00:00Z"))
        );
    }
}

//! A schedule bound to a zone, an anchor and a jitter: what computes slots.

use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::Schedule;
use crate::civil::Civil;
use crate::dst::{DstRule, next_instant};
use crate::jitter::jitter;

/// One due instant of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slot {
    /// The nominal instant: the key for exactly-once claims.
    pub due: Timestamp,
    /// `due` plus the task's jitter: when to actually start.
    pub fire_at: Timestamp,
}

/// A schedule in a zone, from an anchor, with a jitter.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    schedule: Schedule,
    tz: TimeZone,
    anchor: Timestamp,
    jitter: Duration,
    /// The instant of a one-shot `at`, fixed once the zone and anchor are known.
    once: Option<Timestamp>,
}

impl Plan {
    /// `anchor` is when the task was created (first seen) or its explicit `anchor = …`:
    /// `every` slots are `anchor + k·period` for every integer k (so an explicit anchor only
    /// fixes the phase); a time-only `at` fires at the first matching local time after it.
    pub fn new(schedule: Schedule, tz: TimeZone, anchor: Timestamp) -> Plan {
        let once = match &schedule {
            Schedule::At(at) => at.resolve(&tz, anchor),
            Schedule::Cron(_) | Schedule::Every(_) | Schedule::Manual => None,
        };
        Plan {
            schedule,
            tz,
            anchor,
            jitter: Duration::ZERO,
            once,
        }
    }

    /// Adds a deterministic jitter in `[0, max)` derived from `seed` (the task name): whole
    /// seconds, zero when `max` is under a second.
    pub fn with_jitter(mut self, max: Duration, seed: &str) -> Plan {
        self.jitter = jitter(max, seed);
        self
    }

    /// The first slot whose due instant is strictly after `after`; `None` when there is none
    /// (manual, an `at` already past, a cron whose year field is exhausted).
    pub fn next_after(&self, after: Timestamp) -> Option<Slot> {
        let due = match &self.schedule {
            Schedule::Cron(cron) => {
                let rule = if cron.follows_elapsed_time() {
                    DstRule::Elapsed
                } else {
                    DstRule::WallClock
                };
                next_instant(&self.tz, rule, after, |from: Civil| cron.next_civil(from))?
            }
            Schedule::Every(every) => every.next_after(self.anchor, after)?,
            Schedule::At(_) => self.once.filter(|once| *once > after)?,
            Schedule::Manual => return None,
        };
        Some(self.slot(due))
    }

    /// All slots with due in `(from, to]`, ascending, computed lazily.
    pub fn slots_between(&self, from: Timestamp, to: Timestamp) -> impl Iterator<Item = Slot> + '_ {
        let mut cursor = Some(from);
        std::iter::from_fn(move || {
            let slot = self.next_after(cursor?).filter(|slot| slot.due <= to);
            cursor = slot.map(|s| s.due);
            slot
        })
    }

    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    pub fn anchor(&self) -> Timestamp {
        self.anchor
    }

    /// The jitter added to every slot's due instant.
    pub fn jitter(&self) -> Duration {
        self.jitter
    }

    fn slot(&self, due: Timestamp) -> Slot {
        let fire_at = due.checked_add(self.jitter).unwrap_or(due);
        Slot { due, fire_at }
    }
}

//! From local wall-clock matches to instants, with cronie's daylight-saving rules.
//!
//! A zone's timeline is a sequence of segments of constant UTC offset. Where the offset grows
//! (spring forward) some local times don't exist (a gap); where it shrinks (fall back) some local
//! times exist twice (a fold).

use jiff::Timestamp;
use jiff::tz::{AmbiguousOffset, TimeZone};

use crate::civil::{Civil, ceil_second, floor_second, instant};

/// How a schedule meets daylight-saving changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DstRule {
    /// A fixed time of day: a time skipped by a gap fires once, at the instant the gap ends;
    /// a repeated time fires once, at its first occurrence.
    WallClock,
    /// Every instant whose local time matches: none in a gap, both copies in a fold.
    Elapsed,
}

/// Guards the loops below against pathological zone data; real zones need a handful.
const MAX_ROUNDS: usize = 64;
/// A sparse schedule may cross two transitions a year for the whole 400-year search span.
const MAX_SEGMENTS: usize = 2_000;

/// Where a local wall-clock time lands under [`DstRule::WallClock`].
pub(crate) struct WallClockInstant {
    pub instant: Timestamp,
    /// When the local time was repeated: the transition that ends its first occurrence, and
    /// the offset before it.
    pub fold: Option<(Timestamp, i32)>,
}

/// The instant a local time means as a fixed time of day: itself when unambiguous, the end of
/// the gap when skipped, the first occurrence when repeated.
pub(crate) fn wall_clock_instant(tz: &TimeZone, c: Civil) -> Option<WallClockInstant> {
    let local = c.local_seconds();
    match tz.to_ambiguous_timestamp(c.to_jiff()?).offset() {
        AmbiguousOffset::Unambiguous { offset } => Some(WallClockInstant {
            instant: instant(local, offset.seconds())?,
            fold: None,
        }),
        AmbiguousOffset::Gap { after, .. } => {
            // Read with the later offset, a skipped time lies just before the transition.
            let probe = instant(local, after.seconds())?;
            Some(WallClockInstant {
                instant: tz.following(probe).next()?.timestamp(),
                fold: None,
            })
        }
        AmbiguousOffset::Fold { before, .. } => {
            let first = instant(local, before.seconds())?;
            let transition = tz.following(first).next()?.timestamp();
            Some(WallClockInstant {
                instant: first,
                fold: Some((transition, before.seconds())),
            })
        }
    }
}

/// The first instant strictly after `after` of a schedule given by `next_civil` (the first
/// matching local time at or after its argument).
pub(crate) fn next_instant(
    tz: &TimeZone,
    rule: DstRule,
    after: Timestamp,
    next_civil: impl Fn(Civil) -> Option<Civil>,
) -> Option<Timestamp> {
    match rule {
        DstRule::WallClock => next_wall_clock(tz, after, next_civil),
        DstRule::Elapsed => next_elapsed(tz, after, next_civil),
    }
}

fn next_wall_clock(
    tz: &TimeZone,
    after: Timestamp,
    next_civil: impl Fn(Civil) -> Option<Civil>,
) -> Option<Timestamp> {
    let offset = tz.to_offset(after).seconds();
    let mut from = Civil::from_local_seconds(floor_second(after) + i64::from(offset) + 1);
    for _ in 0..MAX_ROUNDS {
        let c = next_civil(from)?;
        let resolved = wall_clock_instant(tz, c)?;
        if resolved.instant > after {
            return Some(resolved.instant);
        }
        from = match resolved.fold {
            // `after` is inside the repeated copy, whose times all fired in the first copy:
            // continue where the repetition ends.
            Some((transition, before)) => {
                Civil::from_local_seconds(floor_second(transition) + i64::from(before))
            }
            None => Civil::from_local_seconds(c.local_seconds() + 1),
        };
    }
    None
}

fn next_elapsed(
    tz: &TimeZone,
    after: Timestamp,
    next_civil: impl Fn(Civil) -> Option<Civil>,
) -> Option<Timestamp> {
    let mut cur = after;
    // First candidate instant, in whole seconds.
    let mut from = floor_second(after) + 1;
    // The last search: where it started (local) and what it found.
    let mut last: Option<(i64, Civil)> = None;
    for _ in 0..MAX_SEGMENTS {
        let offset = i64::from(tz.to_offset(cur).seconds());
        let end = tz.following(cur).next().map(|t| t.timestamp());
        let start = from + offset;
        // Without a fold in between, the previous answer is still the first match.
        let c = match last {
            Some((prev_start, c)) if start >= prev_start && c.local_seconds() >= start => c,
            _ => next_civil(Civil::from_local_seconds(start))?,
        };
        last = Some((start, c));
        let due = c.local_seconds() - offset;
        match end {
            Some(end) if due >= floor_second(end) => {
                cur = end;
                from = ceil_second(end);
            }
            _ => return Timestamp::from_second(due).ok(),
        }
    }
    None
}

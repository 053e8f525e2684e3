//! tend schedules as systemd calendar events (`OnCalendar=` lines).
//!
//! One calendar event is `[WEEKDAYS] YEAR-MONTH-DAY HOUR:MINUTE:SECOND ZONE`, every component
//! a list; systemd ANDs the components. A cron expression becomes one or more events, ORed:
//! Vixie cron ORs the day of month and the day of week when both are restricted, and tend's
//! `L`, `LW`, `nW`, `d#k` and `dL` become their own events (`~01` counts days from the
//! month's end; `Fri *-*-15..21` is the third Friday).
//!
//! Daylight saving (measured with `systemd-analyze calendar`, systemd 252; see the tests):
//! systemd never fires a local time that a spring-forward gap skips, and fires a repeated
//! local time once, the first time. tend follows cronie instead: a fixed-time slot in a gap
//! fires when the gap ends, and a schedule with `*` or a step in the hour field fires in both
//! copies of a repeated hour. So that the common elapsed-time schedules (`*/15 * * * *`,
//! `0 * * * *`) stay exact, an expression that restricts nothing but minutes and seconds is
//! written in UTC, shifted by the zone's offset, when every offset of the zone has the same
//! minutes. The remaining differences (a fixed time inside a gap; both copies of a repeated
//! hour for a schedule that also restricts hours or days) are missed by the timer; the next
//! `tend run --slot latest` records them as `missed`.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use tend_schedule::{Cron, Schedule};

use crate::fields::{CronFields, Field, FieldItems, Item};
use crate::sets::{Steps, runs, spell};
use crate::{Backend, NativeError, NativeTask};

const SYSTEMD: Backend = Backend::Systemd;

/// The `OnCalendar=` values of a task; empty for `manual`.
pub fn on_calendar(task: &NativeTask, now: Timestamp) -> Result<Vec<String>, NativeError> {
    match &task.schedule {
        Schedule::Cron(cron) => cron_events(cron, &task.zone_name, &task.tz, now),
        Schedule::Every(every) => every_events(every.period.as_secs(), task.anchor, every),
        Schedule::At(_) => Ok(task
            .at_instant()
            .map(|at| {
                vec![format!(
                    "{} UTC",
                    at.to_zoned_datetime(TimeZone::UTC)
                        .strftime("%Y-%m-%d %H:%M:%S")
                )]
            })
            .unwrap_or_default()),
        Schedule::Manual => Ok(Vec::new()),
    }
}

/// Days of a month: plain day numbers, or counted back from its last day (1 = the last).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Days {
    Plain(u32),
    FromEnd(u32),
}

const ALL_DAYS: u32 = 0xffff_fffe;
const ALL_WEEKDAYS: u8 = 0x7f;
const MON: u8 = 1 << 1;
const FRI: u8 = 1 << 5;
const MON_FRI: u8 = 0b011_1110;

fn days(range: std::ops::RangeInclusive<u32>) -> u32 {
    range.fold(0, |m, d| m | 1 << d)
}

fn cron_events(
    cron: &Cron,
    zone: &str,
    tz: &TimeZone,
    now: Timestamp,
) -> Result<Vec<String>, NativeError> {
    let f = CronFields::read(cron)?;
    let specs = day_specs(&f)?;
    let months = f.month.mask();
    let years = f.year.years();
    let unrestricted_days = specs == [(ALL_WEEKDAYS, Days::Plain(ALL_DAYS))]
        && months == crate::sets::full(1, 12)
        && years.is_none();
    let mut minutes = f.minute.mask();
    let mut zone = zone.to_owned();
    if f.elapsed
        && f.hour.mask() == crate::sets::full(0, 23)
        && unrestricted_days
        && let Some(shift) = constant_minute_offset(tz, now)
    {
        // Local minute m is UTC minute m - shift in every hour: the same instants, and
        // systemd's own daylight-saving handling never comes into play.
        minutes = rotate_minutes(minutes, shift);
        zone = "UTC".to_owned();
    }
    let time = format!(
        "{}:{}:{}",
        spell(f.hour.mask(), 0, 23, 2, Steps::Allowed),
        spell(minutes, 0, 59, 2, Steps::Allowed),
        spell(f.second.mask(), 0, 59, 2, Steps::Allowed),
    );
    let year = match &years {
        None => "*".to_owned(),
        Some(list) => spell_years(list),
    };
    let month = spell(months, 1, 12, 2, Steps::Allowed);
    if specs.is_empty() {
        return Err(NativeError::unsupported(
            SYSTEMD,
            format!("`{}`: its day fields never match together", f.text),
        ));
    }
    Ok(specs
        .iter()
        .map(|(weekdays, days)| {
            let day = match days {
                Days::Plain(mask) => {
                    format!("-{}", spell(u64::from(*mask), 1, 31, 2, Steps::Allowed))
                }
                Days::FromEnd(mask) => {
                    format!("~{}", spell(u64::from(*mask), 1, 31, 2, Steps::Forbidden))
                }
            };
            format!(
                "{}{year}-{month}{day} {time} {zone}",
                weekday_prefix(*weekdays)
            )
        })
        .collect())
}

/// The minutes of the zone's UTC offset (0–59), when it is the same for every offset the
/// zone uses from `now` on (at least the next 64 transitions) and has no seconds.
fn constant_minute_offset(tz: &TimeZone, now: Timestamp) -> Option<u32> {
    let minutes =
        |secs: i32| -> Option<u32> { (secs % 60 == 0).then(|| (secs / 60).rem_euclid(60) as u32) };
    let first = minutes(tz.to_offset(now).seconds())?;
    for transition in tz.following(now).take(64) {
        if minutes(transition.offset().seconds())? != first {
            return None;
        }
    }
    Some(first)
}

fn rotate_minutes(mask: u64, shift: u32) -> u64 {
    crate::sets::values(mask)
        .into_iter()
        .fold(0, |m, v| m | 1 << ((v + 60 - shift) % 60))
}

fn spell_years(years: &[u16]) -> String {
    let vals: Vec<u32> = years.iter().map(|y| u32::from(*y)).collect();
    runs(&vals)
        .into_iter()
        .map(|(a, b)| match b - a {
            0 => format!("{a}"),
            1 => format!("{a},{b}"),
            _ => format!("{a}..{b}"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// `Mon..Fri `, `Sat,Sun `, or nothing for every day. Bit 0 of `mask` is Sunday.
fn weekday_prefix(mask: u8) -> String {
    const NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    if mask & ALL_WEEKDAYS == ALL_WEEKDAYS {
        return String::new();
    }
    // systemd's week starts on Monday: index 0 is Monday, 6 is Sunday.
    let monday_first: Vec<u32> = (0..7u32)
        .filter(|i| mask & 1 << ((i + 1) % 7) != 0)
        .collect();
    let parts: Vec<String> = runs(&monday_first)
        .into_iter()
        .map(|(a, b)| {
            let (first, last) = (NAMES[a as usize], NAMES[b as usize]);
            match b - a {
                0 => first.to_owned(),
                1 => format!("{first},{last}"),
                _ => format!("{first}..{last}"),
            }
        })
        .collect();
    format!("{} ", parts.join(","))
}

/// The day part of the expression as (weekdays, days) pairs, each one calendar event.
fn day_specs(f: &CronFields) -> Result<Vec<(u8, Days)>, NativeError> {
    let dom = dom_specs(&f.dom, &f.text)?;
    let dow = dow_specs(&f.dow);
    let combined = if f.dom_star || f.dow_star {
        let mut out = Vec::new();
        for (w1, d1) in &dom {
            for (w2, d2) in &dow {
                let weekdays = w1 & w2;
                let days = intersect(*d1, *d2).ok_or_else(|| {
                    NativeError::unsupported(
                        SYSTEMD,
                        format!(
                            "`{}`: days counted from the month's end (`{}`) combined with other days",
                            f.text,
                            f.dom.special_text().or(f.dow.special_text()).unwrap_or("L")
                        ),
                    )
                })?;
                let empty = match days {
                    Days::Plain(m) | Days::FromEnd(m) => m == 0,
                };
                if weekdays != 0 && !empty {
                    out.push((weekdays, days));
                }
            }
        }
        out
    } else {
        dom.into_iter().chain(dow).collect()
    };
    Ok(merge(combined))
}

fn dom_specs(field: &FieldItems, text: &str) -> Result<Vec<(u8, Days)>, NativeError> {
    let mut out = Vec::new();
    let plain = field.mask() as u32 & ALL_DAYS;
    if plain != 0 {
        out.push((ALL_WEEKDAYS, Days::Plain(plain)));
    }
    let mut from_end = 0u32;
    for item in &field.items {
        match *item {
            Item::LastDay(n) if n <= 27 => from_end |= 1 << (u32::from(n) + 1),
            Item::LastDay(n) => {
                return Err(NativeError::unsupported(
                    SYSTEMD,
                    format!(
                        "`L-{n}` in the {} field of `{text}`: systemd counts at most 28 days back from a month's end (`L-27`)",
                        Field::DayOfMonth.name()
                    ),
                ));
            }
            Item::LastWeekday => out.extend([
                (MON_FRI, Days::FromEnd(1 << 1)),
                (FRI, Days::FromEnd(1 << 2)),
                (FRI, Days::FromEnd(1 << 3)),
            ]),
            Item::Nearest(1) => out.extend([
                (MON_FRI, Days::Plain(1 << 1)),
                (MON, Days::Plain(1 << 2)),
                (MON, Days::Plain(1 << 3)),
            ]),
            Item::Nearest(n) if (2..=27).contains(&n) => {
                let n = u32::from(n);
                out.extend([
                    (MON_FRI, Days::Plain(1 << n)),
                    (FRI, Days::Plain(1 << (n - 1))),
                    (MON, Days::Plain(1 << (n + 1))),
                ]);
            }
            Item::Nearest(n) => {
                return Err(NativeError::unsupported(
                    SYSTEMD,
                    format!(
                        "`{n}W` in the {} field of `{text}`: near a month's end the nearest weekday depends on the month's length, which a calendar event cannot test",
                        Field::DayOfMonth.name()
                    ),
                )
                .with_hint("`nW` works for days 1 to 27"));
            }
            Item::All { .. } | Item::Range { .. } | Item::Nth { .. } | Item::LastOf(_) => {}
        }
    }
    if from_end != 0 {
        out.push((ALL_WEEKDAYS, Days::FromEnd(from_end)));
    }
    Ok(out)
}

fn dow_specs(field: &FieldItems) -> Vec<(u8, Days)> {
    let mut out = Vec::new();
    let plain = field.mask() as u8 & ALL_WEEKDAYS;
    if plain != 0 {
        out.push((plain, Days::Plain(ALL_DAYS)));
    }
    let mut nth = [0u8; 5];
    let mut last = 0u8;
    for item in &field.items {
        match *item {
            Item::Nth { weekday, nth: k } => {
                if let Some(slot) = nth.get_mut(usize::from(k).saturating_sub(1)) {
                    *slot |= 1 << weekday;
                }
            }
            Item::LastOf(weekday) => last |= 1 << weekday,
            Item::All { .. }
            | Item::Range { .. }
            | Item::LastDay(_)
            | Item::Nearest(_)
            | Item::LastWeekday => {}
        }
    }
    for (k, weekdays) in (0u32..).zip(nth) {
        if weekdays != 0 {
            // The k-th weekday of a month falls on one of days 7k+1 ..= 7k+7.
            out.push((weekdays, Days::Plain(days(7 * k + 1..=(7 * k + 7).min(31)))));
        }
    }
    if last != 0 {
        out.push((last, Days::FromEnd(days(1..=7))));
    }
    out
}

fn intersect(a: Days, b: Days) -> Option<Days> {
    match (a, b) {
        (Days::Plain(ALL_DAYS), other) | (other, Days::Plain(ALL_DAYS)) => Some(other),
        (Days::Plain(x), Days::Plain(y)) => Some(Days::Plain(x & y)),
        (Days::FromEnd(x), Days::FromEnd(y)) => Some(Days::FromEnd(x & y)),
        (Days::Plain(_), Days::FromEnd(_)) | (Days::FromEnd(_), Days::Plain(_)) => None,
    }
}

/// Fewer events for the same instants: (W1 ∧ D) ∨ (W2 ∧ D) = (W1 ∨ W2) ∧ D, and likewise for
/// days under the same weekdays.
fn merge(specs: Vec<(u8, Days)>) -> Vec<(u8, Days)> {
    let mut by_days: Vec<(u8, Days)> = Vec::new();
    for (weekdays, days) in specs {
        match by_days.iter_mut().find(|(_, d)| *d == days) {
            Some(entry) => entry.0 |= weekdays,
            None => by_days.push((weekdays, days)),
        }
    }
    let mut out: Vec<(u8, Days)> = Vec::new();
    for (weekdays, days) in by_days {
        let merged = out
            .iter_mut()
            .find(|(w, _)| *w == weekdays)
            .and_then(|entry| match (&mut entry.1, days) {
                (Days::Plain(a), Days::Plain(b)) | (Days::FromEnd(a), Days::FromEnd(b)) => {
                    *a |= b;
                    Some(())
                }
                (Days::Plain(_), Days::FromEnd(_)) | (Days::FromEnd(_), Days::Plain(_)) => None,
            });
        if merged.is_none() {
            out.push((weekdays, days));
        }
    }
    out
}

/// `every <period>` as calendar events in UTC (tend's `every` is elapsed time, so UTC is
/// exact): possible when the period divides a day, or is a week.
fn every_events(
    period: u64,
    anchor: Timestamp,
    every: &tend_schedule::Every,
) -> Result<Vec<String>, NativeError> {
    // Slots keep the anchor's fraction of a second; a calendar event has whole seconds, so the
    // timer fires at the next whole second, never before the slot is due.
    let mut first = anchor.as_second();
    if anchor.subsec_nanosecond() > 0 {
        first += 1;
    }
    let utc = |secs: i64| Timestamp::from_second(secs).map(|t| t.to_zoned_datetime(TimeZone::UTC));
    if period == 7 * 86_400 {
        let Ok(at) = utc(first) else {
            return Err(NativeError::unsupported(
                SYSTEMD,
                format!("`{every}`: its anchor is out of range"),
            ));
        };
        return Ok(vec![format!(
            "{} *-*-* {} UTC",
            at.strftime("%a"),
            at.strftime("%H:%M:%S")
        )]);
    }
    if period == 0 || 86_400 % period != 0 {
        return Err(NativeError::unsupported(
            SYSTEMD,
            format!(
                "`{every}` as a calendar event: only periods that divide a day evenly (1s … 12h, 1d) or a week line up with calendar times"
            ),
        )
        .with_hint("systemd's OnUnitActiveSec= is not anchored like tend's `every`"));
    }
    let phase = first.rem_euclid(period as i64) as u64;
    // (minute, second) → the hours it occurs in; then events grouped by hours and second.
    let mut by_minute_second: Vec<((u32, u32), u32)> = Vec::new();
    let mut t = phase;
    while t < 86_400 {
        let (h, m, s) = ((t / 3600) as u32, (t / 60 % 60) as u32, (t % 60) as u32);
        match by_minute_second.iter_mut().find(|(ms, _)| *ms == (m, s)) {
            Some(entry) => entry.1 |= 1 << h,
            None => by_minute_second.push(((m, s), 1 << h)),
        }
        t += period;
    }
    let mut groups: Vec<(u32, u64, u64)> = Vec::new(); // hours, minutes, seconds
    for ((m, s), hours) in by_minute_second {
        match groups
            .iter_mut()
            .find(|(h, _, secs)| *h == hours && *secs == 1 << s)
        {
            Some(g) => g.1 |= 1 << m,
            None => groups.push((hours, 1 << m, 1 << s)),
        }
    }
    let mut merged: Vec<(u32, u64, u64)> = Vec::new();
    for (hours, minutes, seconds) in groups {
        match merged
            .iter_mut()
            .find(|(h, mins, _)| *h == hours && *mins == minutes)
        {
            Some(g) => g.2 |= seconds,
            None => merged.push((hours, minutes, seconds)),
        }
    }
    Ok(merged
        .into_iter()
        .map(|(hours, minutes, seconds)| {
            format!(
                "*-*-* {}:{}:{} UTC",
                spell(u64::from(hours), 0, 23, 2, Steps::Allowed),
                spell(minutes, 0, 59, 2, Steps::Allowed),
                spell(seconds, 0, 59, 2, Steps::Allowed)
            )
        })
        .collect())
}

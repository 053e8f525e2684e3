//! `tend next EXPR`: the next fire times of a schedule, to try one out before writing it down.

use std::io::Write;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;
use tend_config::{MachineZone, ZoneName};
use tend_schedule::{Plan, Schedule, ScheduleError, parse_duration};

use crate::cli::NextArgs;
use crate::exit::invalid;
use crate::output::{print_json, relative, rfc3339};

#[derive(Debug, Serialize)]
struct Next {
    expression: String,
    /// The expression as tend writes it back (`@daily` → itself, `every 90m` → `every 1h30m`).
    canonical: String,
    description: String,
    timezone: String,
    after: String,
    slots: Vec<NextSlot>,
}

#[derive(Debug, Serialize)]
struct NextSlot {
    /// When it fires (the due instant plus jitter), RFC 3339 with the zone's offset.
    fire_at: String,
    /// The nominal instant, the slot's identity.
    due: String,
    /// The UTC offset in force at `fire_at`, e.g. `-04:00`.
    offset: String,
    /// The zone's abbreviation at `fire_at`, e.g. `EDT`.
    abbreviation: String,
}

pub fn run(args: &NextArgs) -> anyhow::Result<()> {
    let schedule = Schedule::parse(&args.expr).map_err(|e| schedule_error(&args.expr, &e))?;
    let zone = match &args.tz {
        Some(name) => ZoneName::lookup(name)
            .map_err(|e| invalid(format!("--tz: {}", e.message), e.hint.as_deref()))?,
        None => MachineZone::detect().zone,
    };
    let tz = zone.tz().clone();
    let after = match &args.after {
        Some(text) => parse_after(text, &tz)?,
        None => {
            let clock = tend_config::clock_from_env().map_err(|e| invalid(e, None))?;
            clock.now()
        }
    };
    let mut plan = Plan::new(schedule.clone(), tz.clone(), after);
    if let Some(spec) = &args.jitter {
        let (max, seed) = spec.split_once(':').ok_or_else(|| {
            invalid(
                format!("--jitter `{spec}` needs a task name"),
                Some("write MAX:NAME, e.g. `--jitter 5m:triage`: the offset is derived from the name"),
            )
        })?;
        let max = parse_duration(max)
            .map_err(|e| invalid(format!("--jitter: {}", e.message), e.hint.as_deref()))?;
        plan = plan.with_jitter(max, seed);
    }
    let mut slots = Vec::new();
    let mut cursor = after;
    while slots.len() < args.count {
        let Some(slot) = plan.next_after(cursor) else {
            break;
        };
        cursor = slot.due;
        slots.push(slot);
    }
    let out = Next {
        expression: args.expr.clone(),
        canonical: schedule.to_string(),
        description: schedule.describe(),
        timezone: zone.name().to_owned(),
        after: rfc3339(after, &tz),
        slots: slots
            .iter()
            .map(|s| {
                let zoned = s.fire_at.to_zoned_datetime(tz.clone());
                NextSlot {
                    fire_at: rfc3339(s.fire_at, &tz),
                    due: rfc3339(s.due, &tz),
                    offset: zoned.strftime("%:z").to_string(),
                    abbreviation: zoned.strftime("%Z").to_string(),
                }
            })
            .collect(),
    };
    if args.json {
        return print_json(&out);
    }
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    writeln!(w, "{}: {}", out.canonical, out.description)?;
    writeln!(w, "time zone {}, after {}", out.timezone, out.after)?;
    if slots.is_empty() {
        writeln!(w, "  no fire times: {}", never_why(&schedule))?;
    }
    for slot in &slots {
        let zoned = slot.fire_at.to_zoned_datetime(tz.clone());
        let mut line = format!(
            "  {}  {}",
            zoned.strftime("%a %Y-%m-%d %H:%M:%S %:z %Z"),
            relative(slot.fire_at, after)
        );
        if slot.fire_at != slot.due {
            line.push_str(&format!(
                "  (due {}, jitter)",
                slot.due.to_zoned_datetime(tz.clone()).strftime("%H:%M:%S")
            ));
        }
        writeln!(w, "{line}")?;
    }
    Ok(())
}

fn never_why(schedule: &Schedule) -> &'static str {
    match schedule {
        Schedule::Manual => "`manual` runs only by hand",
        Schedule::At(_) => "the one-shot time is not after --after",
        Schedule::Cron(_) | Schedule::Every(_) => "the schedule never fires after --after",
    }
}

/// An instant (`2026-03-08T06:00:00Z`, `…-05:00`) or a local time in the zone
/// (`2026-03-08 01:30`, seconds optional).
fn parse_after(text: &str, tz: &TimeZone) -> anyhow::Result<Timestamp> {
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts);
    }
    match text.parse::<jiff::civil::DateTime>() {
        Ok(civil) => civil
            .to_zoned_datetime(tz.clone())
            .map(|z| z.timestamp())
            .map_err(|e| invalid(format!("--after `{text}`: {e}"), None)),
        Err(_) => Err(invalid(
            format!("--after `{text}` is not a time tend understands"),
            Some(
                "write an RFC 3339 instant (`2026-03-08T06:00:00Z`) or a local time (`2026-03-08 01:30`)",
            ),
        )),
    }
}

/// A schedule error with the expression and a caret under the problem.
fn schedule_error(expr: &str, e: &ScheduleError) -> anyhow::Error {
    let column = expr.get(..e.offset).map_or(0, |s| s.chars().count());
    let message = format!("{}\n  {expr}\n  {}^", e.message, " ".repeat(column));
    invalid(message, e.hint.as_deref())
}

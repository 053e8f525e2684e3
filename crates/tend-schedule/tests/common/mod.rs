//! Helpers shared by the integration tests.
#![allow(dead_code)]
// Helpers are test code; clippy only recognises `#[test]` functions as such.
#![allow(clippy::unwrap_used, clippy::panic)]

use tend_schedule::{Plan, Schedule, TimeZone, Timestamp};

pub fn ts(text: &str) -> Timestamp {
    text.parse()
        .unwrap_or_else(|e| panic!("bad timestamp {text}: {e}"))
}

pub fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap()
}

/// RFC 3339 with the zone's offset at that instant.
pub fn show(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned_datetime(tz.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

pub fn plan(expr: &str, zone_name: &str, anchor: &str) -> Plan {
    Plan::new(Schedule::parse(expr).unwrap(), zone(zone_name), ts(anchor))
}

/// The due instants of the next `n` slots after `after`, by repeated `next_after`.
pub fn next_n(plan: &Plan, after: &str, n: usize) -> Vec<String> {
    let mut t = ts(after);
    let mut out = Vec::new();
    for _ in 0..n {
        let Some(slot) = plan.next_after(t) else {
            break;
        };
        out.push(show(slot.due, plan.time_zone()));
        t = slot.due;
    }
    out
}

/// `next_n` for a cron-like expression in a zone (the anchor doesn't matter for those).
pub fn cron_next(expr: &str, zone_name: &str, after: &str, n: usize) -> Vec<String> {
    next_n(&plan(expr, zone_name, "2000-01-01T00:00:00Z"), after, n)
}

//! The OnCalendar events tend writes, read by systemd itself: `systemd-analyze calendar
//! --iterations=N --base-time=…` must list the same instants as tend's own engine, except
//! where systemd's daylight-saving handling differs, which the assertions spell out.
//!
//! Needs `systemd-analyze` (Debian's `systemd` package, which `scripts/test` installs) and
//! the time-zone database (`tzdata`).

// Tests may unwrap and panic (TEAM.md); clippy only knows that inside #[test] functions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use pretty_assertions::assert_eq;
use tend_native::{NativeTask, systemd};
use tend_schedule::{Plan, Schedule};

/// What differs between the two lists of instants.
#[derive(Debug, PartialEq, Eq)]
struct Difference {
    /// Slots of tend's plan that systemd does not fire.
    tend_only: Vec<String>,
    /// Instants systemd fires that are no slot of tend's.
    systemd_only: Vec<String>,
}

const SAME: Difference = Difference {
    tend_only: Vec::new(),
    systemd_only: Vec::new(),
};

fn task(schedule: &str, zone: &str, anchor: Timestamp) -> NativeTask {
    NativeTask {
        id: "t-00000000".into(),
        title: "test/t".into(),
        source: "t.md".into(),
        schedule: schedule.parse::<Schedule>().unwrap(),
        zone_name: zone.into(),
        tz: jiff::tz::db().get(zone).unwrap(),
        anchor,
        jitter: None,
    }
}

/// The first `n` instants after `base` by tend's plan and by systemd, compared.
fn compare(schedule: &str, zone: &str, base: &str, n: usize) -> Difference {
    let base: Timestamp = base.parse().unwrap();
    // `every` is anchored a while before the base; the other schedules ignore the anchor.
    let anchor = base - jiff::SignedDuration::from_hours(24 * 30);
    let task = task(schedule, zone, anchor);
    let plan = Plan::new(task.schedule.clone(), task.tz.clone(), anchor);
    let mut tend = Vec::new();
    let mut cursor = base;
    while tend.len() < n {
        let Some(slot) = plan.next_after(cursor) else {
            break;
        };
        tend.push(slot.due);
        cursor = slot.due;
    }
    let events = systemd::on_calendar(&task, base).unwrap();
    let mut systemd: Vec<Timestamp> = events
        .iter()
        .flat_map(|event| analyze(event, base, n))
        .collect();
    systemd.sort();
    systemd.dedup();
    systemd.truncate(n);
    // Compare only up to the earlier of the two lists' last instants: beyond it one list
    // was cut off, not different.
    let horizon = tend.last().copied().min(systemd.last().copied());
    let within = |t: &&Timestamp| horizon.is_some_and(|h| **t <= h);
    let compared = tend.iter().filter(within).count();
    assert!(
        compared >= 1 && compared + 2 >= tend.len(),
        "only {compared} of tend's {} instants could be compared for {schedule} in {zone}: systemd listed {systemd:?} for {events:?}",
        tend.len()
    );
    eprintln!("{schedule} in {zone}: {compared} instants compared");
    let show = |v: Vec<&Timestamp>| v.into_iter().map(|t| t.to_string()).collect();
    Difference {
        tend_only: show(
            tend.iter()
                .filter(within)
                .filter(|t| !systemd.contains(t))
                .collect(),
        ),
        systemd_only: show(
            systemd
                .iter()
                .filter(within)
                .filter(|t| !tend.contains(t))
                .collect(),
        ),
    }
}

/// Runs `systemd-analyze calendar` and reads the instants it lists (in UTC: `TZ=UTC`).
fn analyze(event: &str, base: Timestamp, n: usize) -> Vec<Timestamp> {
    let out = Command::new("systemd-analyze")
        .arg("calendar")
        .arg(format!("--iterations={n}"))
        .arg(format!("--base-time=@{}", base.as_second()))
        .arg(event)
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run systemd-analyze ({e}); install Debian's `systemd` package (scripts/test does)")
        });
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "systemd-analyze calendar '{event}' failed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let normalized = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("Normalized form:"))
        .map(str::trim);
    assert!(
        normalized.is_some(),
        "systemd did not read '{event}':\n{stdout}"
    );
    parse_instants(&stdout)
}

/// The instants of `Next elapse:` and `Iter. #k:` lines, such as
/// `Iter. #2: Tue 2026-03-10 08:00:00 UTC`.
fn parse_instants(stdout: &str) -> Vec<Timestamp> {
    stdout
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("Next elapse:") || l.starts_with("Iter. #"))
        .filter_map(|l| {
            let (_, value) = l.split_once(": ")?;
            let words: Vec<&str> = value.split_whitespace().collect();
            match words.as_slice() {
                ["never"] => None,
                [_weekday, date, time, "UTC"] => {
                    let civil: jiff::civil::DateTime = format!("{date}T{time}").parse().ok()?;
                    Some(civil.to_zoned_datetime(TimeZone::UTC).ok()?.timestamp())
                }
                _ => panic!("cannot read systemd-analyze's line `{l}`"),
            }
        })
        .collect()
}

#[test]
fn systemd_analyze_is_recent_enough() {
    let out = Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .expect("systemd-analyze is missing: install Debian's `systemd` package");
    let text = String::from_utf8_lossy(&out.stdout);
    let version: u32 = text
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("cannot read the version in `{text}`"));
    // --base-time appeared in systemd 247.
    assert!(version >= 247, "systemd {version} is older than 247");
}

#[test]
fn parses_systemd_analyze_output() {
    let text = "  Original form: Mon *-*-* 09:00\nNormalized form: Mon *-*-* 09:00:00\n    Next elapse: Mon 2026-03-09 09:00:00 UTC\n       From now: 1 day left\n       Iter. #2: Mon 2026-03-16 09:00:00 UTC\n";
    assert_eq!(
        parse_instants(text),
        vec![
            "2026-03-09T09:00:00Z".parse::<Timestamp>().unwrap(),
            "2026-03-16T09:00:00Z".parse().unwrap()
        ]
    );
    assert_eq!(parse_instants("    Next elapse: never\n"), vec![]);
}

#[test]
fn weekdays_steps_lists_and_ranges() {
    for (schedule, zone, base) in [
        ("0 9 * * 1-5", "Europe/Berlin", "2026-03-20T00:00:00Z"),
        (
            "0 9 * JAN,JUL 6-7",
            "America/New_York",
            "2026-06-20T00:00:00Z",
        ),
        ("0 0 */2 * 1-5", "UTC", "2026-01-01T00:00:00Z"),
        ("0 0 1-10/3 * *", "Asia/Tokyo", "2026-01-01T00:00:00Z"),
        ("0 0 1,15 * 1", "Europe/Berlin", "2026-01-01T00:00:00Z"),
        ("*/10 9-17 * * *", "Asia/Tokyo", "2026-01-01T00:00:00Z"),
        ("5/20 8,12,18 * * 0,6", "UTC", "2026-01-01T00:00:00Z"),
        (
            "30 0 12 * * ? 2026-2028,2030",
            "Europe/Berlin",
            "2026-12-20T00:00:00Z",
        ),
        ("*/7 * * * * *", "UTC", "2026-01-01T00:00:00Z"),
        ("@weekly", "Australia/Sydney", "2026-01-01T00:00:00Z"),
        ("@monthly", "Europe/Berlin", "2026-01-01T00:00:00Z"),
        ("@yearly", "UTC", "2026-01-01T00:00:00Z"),
    ] {
        assert_eq!(
            compare(schedule, zone, base, 40),
            SAME,
            "{schedule} in {zone}"
        );
    }
}

#[test]
fn last_nearest_and_nth_days() {
    // From December 2027: February 2028 has 29 days, months of 30 and 31 days follow.
    let base = "2027-12-01T00:00:00Z";
    for schedule in [
        "0 0 L * *",
        "0 0 L-2 * *",
        "0 0 L-27 * *",
        "0 0 LW * *",
        "0 0 15W * *",
        "0 0 1W * *",
        "0 0 27W * *",
        "0 0 L,15 * *",
        "0 0 L * 5",
        "0 0 * * FRI#3",
        "0 0 * * MON#1,FRI#1",
        "0 0 * * 1#5",
        "0 0 * * 5L",
        "0 0 1 * 5L",
        "0 0 31 * *",
        "0 0 29 2 *",
        "0 12 * * SUN#2,5L,3",
    ] {
        assert_eq!(compare(schedule, "UTC", base, 40), SAME, "{schedule}");
    }
}

#[test]
fn every_and_at() {
    for (schedule, base) in [
        ("every 30m", "2026-03-07T12:00:00Z"),
        ("every 45m", "2026-03-07T12:00:00Z"),
        ("every 90s", "2026-03-07T12:00:00Z"),
        ("every 4h", "2026-03-07T12:00:00Z"),
        ("every 1d", "2026-03-07T12:00:00Z"),
        ("every 1w", "2026-03-07T12:00:00Z"),
        ("at 2026-12-01 09:00", "2026-03-07T12:00:00Z"),
    ] {
        // `every` is elapsed time: the same in every zone, across daylight saving.
        assert_eq!(
            compare(schedule, "Europe/Berlin", base, 30),
            SAME,
            "{schedule}"
        );
    }
}

/// Minutes and seconds only: written in UTC (shifted by a zone's half hour), so a
/// daylight-saving change cannot make systemd differ.
#[test]
fn elapsed_schedules_are_exact_across_daylight_saving() {
    for (schedule, zone, base) in [
        // New York springs forward at 07:00Z on 2026-03-08 and falls back at 06:00Z on
        // 2026-11-01.
        ("*/15 * * * *", "America/New_York", "2026-03-08T05:00:00Z"),
        ("*/15 * * * *", "America/New_York", "2026-11-01T04:00:00Z"),
        ("@hourly", "Europe/Berlin", "2026-10-24T22:00:00Z"),
        ("30 * * * *", "Asia/Kolkata", "2026-01-01T00:00:00Z"),
        ("45 * * * *", "Australia/Adelaide", "2026-04-04T14:00:00Z"),
    ] {
        assert_eq!(
            compare(schedule, zone, base, 40),
            SAME,
            "{schedule} in {zone}"
        );
    }
}

/// Where systemd and tend (cronie's rules) part ways, measured with systemd 252.
#[test]
fn documented_daylight_saving_differences() {
    // A fixed time skipped by spring-forward: tend fires once when the gap ends (03:00 CEST
    // on 2026-03-29 = 01:00Z); systemd skips that day. `tend run --slot latest` records the
    // slot missed at the next firing.
    assert_eq!(
        compare("30 2 * * *", "Europe/Berlin", "2026-03-27T00:00:00Z", 5),
        Difference {
            tend_only: vec!["2026-03-29T01:00:00Z".into()],
            systemd_only: vec![],
        }
    );
    // A fixed time in the repeated hour: both fire the first copy only.
    assert_eq!(
        compare("30 2 * * *", "Europe/Berlin", "2026-10-23T00:00:00Z", 5),
        SAME
    );
    // An elapsed-time schedule that also restricts hours (or days) stays in the zone: in the
    // repeated hour (02:00–03:00 local, twice on 2026-10-25) tend fires both copies, systemd
    // the first only.
    assert_eq!(
        compare("0 */2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", 12),
        Difference {
            tend_only: vec!["2026-10-25T01:00:00Z".into()],
            systemd_only: vec![],
        }
    );
    assert_eq!(
        compare("*/30 * * * 0", "Europe/Berlin", "2026-10-24T23:00:00Z", 12),
        Difference {
            tend_only: vec!["2026-10-25T01:00:00Z".into(), "2026-10-25T01:30:00Z".into()],
            systemd_only: vec![],
        }
    );
    // Spring forward is the same for these: neither fires the skipped local times.
    assert_eq!(
        compare("0 */2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", 12),
        SAME
    );
}

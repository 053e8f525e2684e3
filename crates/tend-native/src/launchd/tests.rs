//! launchd calendar entries: checked minute by minute against tend's own engine over a year,
//! and rendered plists.

use jiff::civil::DateTime;
use pretty_assertions::assert_eq;

use super::*;
use crate::test_support::{invocation, machine, now, task};

fn intervals(schedule: &str) -> Result<Vec<CalendarInterval>, String> {
    calendar_intervals(
        &task(schedule, "UTC", "2026-03-07T12:00:00Z"),
        &machine("UTC"),
        now(),
    )
    .map_err(|e| e.to_string())
}

/// Every local minute of 2028 (a leap year) that `entries` match, and that tend's engine
/// matches, must be the same.
fn assert_same_minutes(schedule: &str) {
    let entries = intervals(schedule).unwrap();
    let cron = tend_schedule::Cron::parse(schedule).unwrap();
    let start: DateTime = "2028-01-01T00:00:00".parse().unwrap();
    let end: DateTime = "2029-01-01T00:00:00".parse().unwrap();
    let mut by_launchd = Vec::new();
    let mut t = start;
    while t < end {
        if entries.iter().any(|e| e.matches(t)) {
            by_launchd.push(t);
        }
        t = t.checked_add(jiff::SignedDuration::from_mins(1)).unwrap();
    }
    let mut by_tend = Vec::new();
    let mut from = start;
    while let Some(next) = cron.next_local(from).filter(|n| *n < end) {
        by_tend.push(next);
        from = next
            .checked_add(jiff::SignedDuration::from_secs(1))
            .unwrap();
    }
    assert!(!by_tend.is_empty(), "{schedule}");
    assert_eq!(by_launchd, by_tend, "{schedule}");
}

#[test]
fn expansions_match_tends_engine_for_a_year() {
    for schedule in [
        "0 9 * * 1-5",
        "*/15 9-17 * * *",
        "30 2 1,15 * *",
        "0 0 1,15 * 1",
        "0 0 */2 * *",
        "0 0 * * */2",
        "0 12 * JAN,JUL *",
        "0 0 29 2 *",
        "@weekly",
        "@hourly",
        "5/20 8,20 * * 0,6",
    ] {
        assert_same_minutes(schedule);
    }
}

#[test]
fn keys_are_left_out_for_whole_fields() {
    assert_eq!(
        intervals("0 9 * * 1-5").unwrap(),
        (1..=5)
            .map(|w| CalendarInterval {
                minute: Some(0),
                hour: Some(9),
                weekday: Some(w),
                ..CalendarInterval::default()
            })
            .collect::<Vec<_>>()
    );
    assert_eq!(
        intervals("@hourly").unwrap(),
        vec![CalendarInterval {
            minute: Some(0),
            ..CalendarInterval::default()
        }]
    );
    // Anchored at 12:00Z.
    assert_eq!(intervals("every 30m").unwrap().len(), 2);
    assert_eq!(
        intervals("at 2026-12-01 09:30").unwrap(),
        vec![CalendarInterval {
            minute: Some(30),
            hour: Some(9),
            day: Some(1),
            month: Some(12),
            weekday: None
        }]
    );
}

#[test]
fn refusals() {
    let table = [
        (
            "*/5 9-17 * * 1-5",
            "launchd cannot express `*/5 9-17 * * 1-5`: it needs 540 calendar entries (launchd has no ranges or steps; tend writes at most 500)",
        ),
        (
            "0 0 L * *",
            "launchd cannot express `L` in the day-of-month field of `0 0 L * *` (launchd has no last or nth days)",
        ),
        (
            "0 0 */2 * 1-5",
            "launchd cannot express `0 0 */2 * 1-5`: both day fields restricted with one beginning with `*` (cron ANDs them; launchd would OR them)",
        ),
        (
            "0 9 * JAN 1",
            "launchd cannot express `0 9 * JAN 1`: weekdays limited to some months (launchd ignores the month of a weekday entry)",
        ),
        (
            "*/10 * * * * *",
            "launchd cannot express the seconds field `*/10` of `*/10 * * * * *`: launchd starts jobs on whole minutes",
        ),
    ];
    for (schedule, want) in table {
        assert_eq!(intervals(schedule), Err(want.to_owned()), "{schedule}");
    }
    let t = task("0 9 * * *", "Europe/Berlin", "2026-03-07T12:00:00Z");
    assert!(
        calendar_intervals(&t, &machine("UTC"), now())
            .unwrap_err()
            .to_string()
            .starts_with("launchd cannot express a schedule in Europe/Berlin")
    );
}

#[test]
fn plists() {
    let t = task("0 9 * * 1,5", "UTC", "2026-03-07T12:00:00Z");
    let plist = task_plist(&t, &invocation(), &machine("UTC"), now())
        .unwrap()
        .unwrap();
    assert_eq!(plist.label, "dev.tend.task.triage-356eeef5");
    assert!(is_managed(&plist.contents));
    insta::assert_snapshot!("task_plist", plist.contents);
    let mut run = invocation();
    run.args = vec!["daemon".into()];
    run.working_dir = None;
    insta::assert_snapshot!("daemon_plist", daemon_plist(&run).contents);
    let manual = task("manual", "UTC", "2026-03-07T12:00:00Z");
    assert_eq!(
        task_plist(&manual, &invocation(), &machine("UTC"), now()),
        Ok(None)
    );
}

//! OnCalendar translations and rendered units. Whether systemd reads these events as the same
//! instants as tend is checked with `systemd-analyze` in `tests/systemd_analyze.rs`; the
//! units are verified with `systemd-analyze verify` in tend-cli's tests.

use pretty_assertions::assert_eq;

use super::*;
use crate::test_support::{invocation, now, task};

fn events(schedule: &str, zone: &str) -> Vec<String> {
    on_calendar(&task(schedule, zone, "2026-03-07T12:00:00Z"), now()).unwrap()
}

fn refusal(schedule: &str) -> String {
    match on_calendar(&task(schedule, "UTC", "2026-03-07T12:03:27.250Z"), now()) {
        Ok(events) => panic!("{schedule} gave {events:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn cron_fields_map_to_calendar_components() {
    let b = "Europe/Berlin";
    let table: &[(&str, &[&str])] = &[
        ("0 9 * * 1-5", &["Mon..Fri *-*-* 09:00:00 Europe/Berlin"]),
        ("30 2 * * *", &["*-*-* 02:30:00 Europe/Berlin"]),
        ("0 */2 * * *", &["*-*-* 00/2:00:00 Europe/Berlin"]),
        ("*/10 9-17 * * *", &["*-*-* 09..17:00/10:00 Europe/Berlin"]),
        ("0 0 1-10/3 * *", &["*-*-01..10/3 00:00:00 Europe/Berlin"]),
        (
            "0 0 */2 * 1-5",
            &["Mon..Fri *-*-01/2 00:00:00 Europe/Berlin"],
        ),
        (
            "0 9 * JAN,JUL 6-7",
            &["Sat,Sun *-01,07-* 09:00:00 Europe/Berlin"],
        ),
        (
            "0 9 * * 0,1,2,4",
            &["Mon,Tue,Thu,Sun *-*-* 09:00:00 Europe/Berlin"],
        ),
        ("0 9 * * 5-7", &["Fri..Sun *-*-* 09:00:00 Europe/Berlin"]),
        ("@weekly", &["Sun *-*-* 00:00:00 Europe/Berlin"]),
        // Seconds and years map directly.
        (
            "30 0 12 * * ? 2026-2028,2030",
            &["2026..2028,2030-*-* 12:00:30 Europe/Berlin"],
        ),
        // Vixie cron ORs restricted day fields; systemd ANDs within one event: two events.
        (
            "0 0 1,15 * 1",
            &[
                "*-*-01,15 00:00:00 Europe/Berlin",
                "Mon *-*-* 00:00:00 Europe/Berlin",
            ],
        ),
    ];
    for (schedule, want) in table {
        assert_eq!(events(schedule, b), *want, "{schedule}");
    }
}

#[test]
fn last_nearest_and_nth_days() {
    let table: &[(&str, &[&str])] = &[
        ("0 0 L * *", &["*-*~01 00:00:00 UTC"]),
        ("0 0 L-2 * *", &["*-*~03 00:00:00 UTC"]),
        (
            "0 0 L,15 * *",
            &["*-*-15 00:00:00 UTC", "*-*~01 00:00:00 UTC"],
        ),
        // The last weekday: the last day if it is one, else the Friday before it.
        (
            "0 0 LW * *",
            &["Mon..Fri *-*~01 00:00:00 UTC", "Fri *-*~02,03 00:00:00 UTC"],
        ),
        // The weekday nearest the 15th: itself, or Friday the 14th, or Monday the 16th.
        (
            "0 0 15W * *",
            &[
                "Mon..Fri *-*-15 00:00:00 UTC",
                "Fri *-*-14 00:00:00 UTC",
                "Mon *-*-16 00:00:00 UTC",
            ],
        ),
        // Never back into the previous month: Monday the 2nd or 3rd.
        (
            "0 0 1W * *",
            &["Mon..Fri *-*-01 00:00:00 UTC", "Mon *-*-02,03 00:00:00 UTC"],
        ),
        ("0 0 * * FRI#3", &["Fri *-*-15..21 00:00:00 UTC"]),
        ("0 0 * * MON#1,FRI#1", &["Mon,Fri *-*-01..07 00:00:00 UTC"]),
        ("0 0 * * 5L", &["Fri *-*~01..07 00:00:00 UTC"]),
        (
            "0 0 L * 5",
            &["*-*~01 00:00:00 UTC", "Fri *-*-* 00:00:00 UTC"],
        ),
    ];
    for (schedule, want) in table {
        assert_eq!(events(schedule, "UTC"), *want, "{schedule}");
    }
}

#[test]
fn minute_only_schedules_are_written_in_utc() {
    assert_eq!(
        events("*/15 * * * *", "America/New_York"),
        ["*-*-* *:00/15:00 UTC"]
    );
    assert_eq!(events("@hourly", "Europe/Berlin"), ["*-*-* *:00:00 UTC"]);
    // India is UTC+05:30: local minute 0 is UTC minute 30.
    assert_eq!(events("@hourly", "Asia/Kolkata"), ["*-*-* *:30:00 UTC"]);
    assert_eq!(
        events("10,50 * * * *", "Asia/Kolkata"),
        ["*-*-* *:20,40:00 UTC"]
    );
    // Lord Howe moves by half an hour: its minutes are not constant, so it stays local.
    assert_eq!(
        events("0 * * * *", "Australia/Lord_Howe"),
        ["*-*-* *:00:00 Australia/Lord_Howe"]
    );
    // A step in the hour field is elapsed time too, but not hour-free: local.
    assert_eq!(events("0 */2 * * *", "UTC"), ["*-*-* 00/2:00:00 UTC"]);
}

#[test]
fn every_and_at_are_utc() {
    // Anchored at 12:00:00Z.
    assert_eq!(
        events("every 30m", "Europe/Berlin"),
        ["*-*-* *:00,30:00 UTC"]
    );
    assert_eq!(
        events("every 45m", "Europe/Berlin"),
        [
            "*-*-* 00/3:00,45:00 UTC",
            "*-*-* 01/3:30:00 UTC",
            "*-*-* 02/3:15:00 UTC"
        ]
    );
    assert_eq!(
        events("every 90s", "UTC"),
        ["*-*-* *:00/3:00 UTC", "*-*-* *:01/3:30 UTC"]
    );
    assert_eq!(events("every 1d", "UTC"), ["*-*-* 12:00:00 UTC"]);
    assert_eq!(events("every 1w", "UTC"), ["Sat *-*-* 12:00:00 UTC"]);
    assert_eq!(
        events("at 2026-12-01 09:00", "Europe/Berlin"),
        ["2026-12-01 08:00:00 UTC"]
    );
    assert_eq!(events("manual", "UTC"), Vec::<String>::new());
    // An anchor with a fraction of a second: the timer fires at the next whole second.
    let t = task("every 1h", "UTC", "2026-03-07T12:03:27.250Z");
    assert_eq!(on_calendar(&t, now()).unwrap(), ["*-*-* *:03:28 UTC"]);
}

#[test]
fn what_systemd_cannot_say_is_refused_with_the_field() {
    assert_eq!(
        refusal("0 0 28W * *"),
        "systemd cannot express `28W` in the day-of-month field of `0 0 28W * *`: near a month's end the nearest weekday depends on the month's length, which a calendar event cannot test"
    );
    assert_eq!(
        refusal("0 0 L-28 * *"),
        "systemd cannot express `L-28` in the day-of-month field of `0 0 L-28 * *`: systemd counts at most 28 days back from a month's end (`L-27`)"
    );
    assert_eq!(
        refusal("0 0 */2 * 5L"),
        "systemd cannot express `0 0 */2 * 5L`: days counted from the month's end (`5L`) combined with other days"
    );
    assert_eq!(
        refusal("every 2d"),
        "systemd cannot express `every 2d` as a calendar event: only periods that divide a day evenly (1s … 12h, 1d) or a week line up with calendar times"
    );
    assert_eq!(refusal("every 7m"), refusal("every 7m"));
    assert!(refusal("every 7m").contains("`every 7m`"));
    let err =
        on_calendar(&task("0 0 31W * *", "UTC", crate::test_support::NOW), now()).unwrap_err();
    assert_eq!(
        err.hint(),
        Some(
            "`nW` works for days 1 to 27; let tend's own daemon run this task instead (`tend service install`, and leave it out of `tend sync --native`), or change the schedule"
        )
    );
}

#[test]
fn task_units() {
    let mut t = task("0 9 * * 1-5", "Europe/Berlin", crate::test_support::NOW);
    t.jitter = Some(std::time::Duration::from_secs(300));
    let units = super::task_units(&t, &invocation(), now()).unwrap();
    let names: Vec<&str> = units.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "tend-task-triage-356eeef5.service",
            "tend-task-triage-356eeef5.timer"
        ]
    );
    assert!(units.iter().all(|u| is_managed(&u.contents)));
    insta::assert_snapshot!("task_service", units[0].contents);
    insta::assert_snapshot!("task_timer", units[1].contents);
    let manual = task("manual", "UTC", crate::test_support::NOW);
    assert_eq!(super::task_units(&manual, &invocation(), now()), Ok(vec![]));
}

#[test]
fn daemon_unit_and_quoting() {
    let mut run = invocation();
    run.args = vec!["daemon".into()];
    run.working_dir = None;
    run.env
        .push(("NOTE".into(), "100% \"quoted\" $HOME".into()));
    let unit = daemon_unit(&run);
    assert_eq!(unit.name, "tend.service");
    insta::assert_snapshot!("daemon_service", unit.contents);
    assert!(!is_managed("[Unit]\nDescription=someone else's\n"));
}

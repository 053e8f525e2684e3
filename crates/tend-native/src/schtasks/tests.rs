//! Task Scheduler triggers and XML.

use pretty_assertions::assert_eq;

use super::*;
use crate::test_support::{invocation, machine, now, task};

fn triggers_of(schedule: &str) -> Result<Vec<Trigger>, String> {
    triggers(
        &task(schedule, "UTC", "2026-03-07T12:00:00.250Z"),
        &machine("UTC"),
        now(),
    )
    .map_err(|e| e.to_string())
}

fn at(time: &str) -> jiff::civil::DateTime {
    format!("2026-03-07T{time}").parse().unwrap()
}

const ALL_MONTHS: u16 = 0x1ffe;

#[test]
fn calendar_triggers() {
    assert_eq!(
        triggers_of("0 9 * * 1-5").unwrap(),
        vec![Trigger::Calendar {
            start: at("09:00:00"),
            days: Days::Weekly {
                weekdays: 0b011_1110
            },
            repetition: None
        }]
    );
    // Minutes stepping evenly through a run of hours: one trigger with a repetition.
    assert_eq!(
        triggers_of("*/15 9-17 * * *").unwrap(),
        vec![Trigger::Calendar {
            start: at("09:00:00"),
            days: Days::Daily,
            repetition: Some(Repetition {
                interval_minutes: 15,
                duration_minutes: Some(8 * 60 + 45 + 1)
            })
        }]
    );
    assert_eq!(
        triggers_of("30 8,20 * * *").unwrap(),
        vec![
            Trigger::Calendar {
                start: at("08:30:00"),
                days: Days::Daily,
                repetition: None
            },
            Trigger::Calendar {
                start: at("20:30:00"),
                days: Days::Daily,
                repetition: None
            }
        ]
    );
    // OR of the day fields: two triggers; `L` is the month's last day.
    assert_eq!(
        triggers_of("0 0 1,L * FRI#3").unwrap(),
        vec![
            Trigger::Calendar {
                start: at("00:00:00"),
                days: Days::Monthly {
                    days: 1 << 1,
                    last: true,
                    months: ALL_MONTHS
                },
                repetition: None
            },
            Trigger::Calendar {
                start: at("00:00:00"),
                days: Days::MonthlyDayOfWeek {
                    weeks: 1 << 3,
                    weekdays: 1 << 5,
                    months: ALL_MONTHS
                },
                repetition: None
            }
        ]
    );
    assert_eq!(
        triggers_of("0 0 * JUL 5L").unwrap(),
        vec![Trigger::Calendar {
            start: at("00:00:00"),
            days: Days::MonthlyDayOfWeek {
                weeks: 1 << 5,
                weekdays: 1 << 5,
                months: 1 << 7
            },
            repetition: None
        }]
    );
}

#[test]
fn every_and_at_are_time_triggers_in_utc() {
    assert_eq!(
        triggers_of("every 30m").unwrap(),
        vec![Trigger::Time {
            // The anchor's fraction: the next whole second, never early.
            start: "2026-03-07T12:00:01Z".parse().unwrap(),
            repetition: Some(Repetition {
                interval_minutes: 30,
                duration_minutes: None
            })
        }]
    );
    assert_eq!(
        triggers_of("at 2026-12-01 09:00").unwrap(),
        vec![Trigger::Time {
            start: "2026-12-01T09:00:00Z".parse().unwrap(),
            repetition: None
        }]
    );
    assert_eq!(triggers_of("manual").unwrap(), vec![]);
}

#[test]
fn refusals() {
    let table = [
        (
            "0 0 15W * *",
            "schtasks cannot express `15W` in the day-of-month field of `0 0 15W * *`",
        ),
        (
            "0 0 * * 1#5",
            "schtasks cannot express `1#5` in the day-of-week field of `0 0 * * 1#5` (the Task Scheduler knows weeks 1–4 and the last)",
        ),
        (
            "7,19,43 1-5,7-9,11-15,17-20 * * *",
            "schtasks cannot express `7,19,43 1-5,7-9,11-15,17-20 * * *`: it needs 51 triggers (at most 48 per task)",
        ),
        (
            "every 90s",
            "schtasks cannot express `every 1m30s`: repetitions are whole minutes, from 1 minute to 31 days",
        ),
        (
            "0,30 * * * * *",
            "schtasks cannot express the seconds field `0,30` of `0,30 * * * * *`: one second per minute at most",
        ),
    ];
    for (schedule, want) in table {
        assert_eq!(triggers_of(schedule), Err(want.to_owned()), "{schedule}");
    }
}

#[test]
fn xml() {
    let t = task("*/15 9-17 1,L * 1-5", "UTC", "2026-03-07T12:00:00Z");
    let xml = task_xml(&t, &invocation(), &machine("UTC"), now())
        .unwrap()
        .unwrap();
    insta::assert_snapshot!("task_xml", xml);
    let mut run = invocation();
    run.program = "C:\\Program Files\\tend\\tend.exe".into();
    run.args = vec!["daemon".into()];
    run.env.clear();
    run.working_dir = None;
    insta::assert_snapshot!("daemon_xml", daemon_xml(&run));
}

#[test]
fn windows_argument_quoting() {
    assert_eq!(quote_arg("plain"), "plain");
    assert_eq!(quote_arg("two words"), "\"two words\"");
    assert_eq!(quote_arg("C:\\dir with\\"), "\"C:\\dir with\\\\\"");
    assert_eq!(quote_arg("say \"hi\""), "\"say \\\"hi\\\"\"");
    assert_eq!(quote_arg(""), "\"\"");
}

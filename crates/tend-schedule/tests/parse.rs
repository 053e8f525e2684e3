//! Parsing: every form, the canonical text, and errors with offsets and hints.

use std::time::Duration;

use jiff::civil::{date, time};
use jiff::tz::Offset;
use pretty_assertions::assert_eq;
use tend_schedule::{At, Cron, Every, Schedule, ScheduleError};

fn every(secs: u64) -> Schedule {
    Schedule::Every(Every {
        period: Duration::from_secs(secs),
    })
}

#[test]
fn every_forms() {
    let cases = [
        ("every 30m", 1800),
        ("every 4h", 14_400),
        ("every 1h30m", 5400),
        ("every 30 minutes", 1800),
        ("every 2 hours", 7200),
        ("every day", 86_400),
        ("every hour", 3600),
        ("Every 1h 30min", 5400),
        ("  every   90 sec  ", 90),
    ];
    for (text, secs) in cases {
        assert_eq!(Schedule::parse(text), Ok(every(secs)), "{text}");
    }
    assert_eq!(every(5400).to_string(), "every 1h30m");
    assert_eq!(every(86_400).to_string(), "every 1d");
}

#[test]
fn at_forms() {
    let local = Schedule::At(At::Local(date(2026, 12, 1).at(9, 0, 0, 0)));
    assert_eq!(Schedule::parse("at 2026-12-01 09:00"), Ok(local.clone()));
    assert_eq!(Schedule::parse("at 2026-12-01T09:00:00"), Ok(local.clone()));
    assert_eq!(Schedule::parse("AT  2026-12-01t09:00"), Ok(local.clone()));
    assert_eq!(local.to_string(), "at 2026-12-01 09:00");
    let fixed = Schedule::At(At::Fixed {
        datetime: date(2026, 12, 1).at(9, 0, 0, 0),
        offset: Offset::constant(1),
    });
    assert_eq!(
        Schedule::parse("at 2026-12-01 09:00+01:00"),
        Ok(fixed.clone())
    );
    assert_eq!(
        Schedule::parse("at 2026-12-01T09:00:00+0100"),
        Ok(fixed.clone())
    );
    assert_eq!(fixed.to_string(), "at 2026-12-01 09:00+01:00");
    let utc = Schedule::parse("at 2026-12-01T09:00:30Z").unwrap();
    assert_eq!(
        utc,
        Schedule::At(At::Fixed {
            datetime: date(2026, 12, 1).at(9, 0, 30, 0),
            offset: Offset::UTC,
        })
    );
    assert_eq!(utc.to_string(), "at 2026-12-01 09:00:30+00:00");
    assert_eq!(
        Schedule::parse("at 2026-12-01 09:00-05:30")
            .unwrap()
            .to_string(),
        "at 2026-12-01 09:00-05:30"
    );
    let tod = Schedule::parse("at 17:30").unwrap();
    assert_eq!(tod, Schedule::At(At::TimeOfDay(time(17, 30, 0, 0))));
    assert_eq!(tod.to_string(), "at 17:30");
    assert_eq!(
        Schedule::parse("at 7:05:09"),
        Ok(Schedule::At(At::TimeOfDay(time(7, 5, 9, 0))))
    );
    assert!(tod.is_one_shot());
    assert!(!every(60).is_one_shot());
}

#[test]
fn cron_and_manual_forms() {
    assert_eq!(Schedule::parse("manual"), Ok(Schedule::Manual));
    assert_eq!(Schedule::parse(" Manual "), Ok(Schedule::Manual));
    let cron = Schedule::parse("  0   9 * *  mon-fri ").unwrap();
    assert_eq!(cron.to_string(), "0 9 * * mon-fri");
    assert_eq!(
        cron,
        Schedule::Cron(Cron::parse("0 9 * * mon-fri").unwrap())
    );
    let Schedule::Cron(c) = Schedule::parse("*/5 * * * * *").unwrap() else {
        panic!("not cron")
    };
    assert!(c.has_seconds() && !c.has_year());
    let c = Cron::parse("0 0 0 1 1 ? 2030").unwrap();
    assert!(c.has_seconds() && c.has_year());
    assert_eq!(Schedule::parse("@DAILY").unwrap().to_string(), "@daily");
    assert!(Cron::parse("0 */4 * * *").unwrap().follows_elapsed_time());
    assert!(Cron::parse("0 * * * *").unwrap().follows_elapsed_time());
    assert!(!Cron::parse("0 0-23 * * *").unwrap().follows_elapsed_time());
    assert!(!Cron::parse("0 9 * * *").unwrap().follows_elapsed_time());
}

#[test]
fn display_round_trips() {
    for text in [
        "0 9 * * 1-5",
        "*/15 * * * *",
        "0 0 L * *",
        "0 0 L-3,15W,LW * *",
        "0 12 ? * FRI#3",
        "0 12 * * 5L",
        "*/10 * * * * *",
        "0 0 0 1 1 * 2027-2030/2",
        "@hourly",
        "@weekly",
        "every 30m",
        "every 1d2h",
        "at 2026-12-01 09:00",
        "at 2026-12-01 09:00:05",
        "at 2026-12-01 09:00-04:00",
        "at 17:30",
        "manual",
    ] {
        let schedule = Schedule::parse(text).unwrap();
        assert_eq!(schedule.to_string(), text);
        assert_eq!(schedule.to_string().parse::<Schedule>(), Ok(schedule));
    }
}

/// (offset, message, hint) of a parse error.
#[allow(clippy::panic)]
fn err(text: &str) -> (usize, String, Option<String>) {
    let ScheduleError {
        offset,
        message,
        hint,
    } = match Schedule::parse(text) {
        Ok(schedule) => panic!("{text:?} parsed as {schedule:?}"),
        Err(e) => e,
    };
    (offset, message, hint)
}

#[test]
fn errors_point_at_the_problem() {
    let cases: &[(&str, usize, &str)] = &[
        ("61 * * * *", 0, "minute `61` is out of range"),
        ("0 24 * * *", 2, "hour `24` is out of range"),
        ("0 0 32 * *", 4, "day of month `32` is out of range"),
        ("0 0 * 13 *", 6, "month `13` is out of range"),
        ("0 0 * FOO *", 6, "cannot read `FOO` in the month field"),
        ("0 0 * * 8", 8, "day of week `8` is out of range"),
        (
            "0 0 * * MON#6",
            12,
            "there is no occurrence #6 of a weekday in a month",
        ),
        ("0 0 0 * * * 2100", 12, "year `2100` is out of range"),
        ("60 0 0 * * *", 0, "second `60` is out of range"),
        ("* * * *", 7, "a cron expression needs 5 fields, found 4"),
        (
            "* * * * * * * *",
            14,
            "a cron expression has at most 7 fields, found 8",
        ),
        (
            "0 0 30 2 *",
            4,
            "this schedule can never fire: no date matches its day and month fields",
        ),
        (
            "0 0 31 4,6,9,11 *",
            4,
            "this schedule can never fire: no date matches its day and month fields",
        ),
        (
            "0 0 0 29 2 * 2027",
            13,
            "this schedule can never fire: no date in the listed years matches",
        ),
        ("*/0 * * * *", 2, "a step of 0 never advances"),
        ("0 5-3 * * *", 2, "range `5-3` runs backwards"),
        ("0 0 5L * *", 4, "cannot read `5L`"),
        (
            "0 0 * * 15W",
            8,
            "`W` is not allowed in the day of week field",
        ),
        ("@reboot", 0, "`@reboot` is not supported"),
        ("@fortnightly", 0, "unknown schedule alias `@fortnightly`"),
        ("dailly", 0, "unknown schedule `dailly`"),
        ("", 0, "empty schedule"),
        ("every", 5, "`every` needs a period"),
        ("every 5x", 7, "unknown unit `x` in duration `5x`"),
        ("every 30", 8, "duration `30` needs a unit"),
        (
            "every 2 months",
            8,
            "`months` is not a fixed length of time",
        ),
        ("every 500ms", 6, "`every 500ms` is shorter than a second"),
        (
            "at 2026-13-01 09:00",
            3,
            "cannot read the date `2026-13-01`",
        ),
        ("at 2026-12-01", 13, "a date needs a time of day"),
        ("at 2026-12-01 9am", 14, "cannot read the time `9am`"),
        ("at 25:00", 3, "`25:00` is not a time of day"),
        (
            "at 2026-12-01 09:00+1:00",
            19,
            "cannot read the UTC offset `+1:00`",
        ),
        ("manual please", 7, "`manual` takes nothing after it"),
        ("  61 * * * *", 2, "minute `61` is out of range"),
    ];
    let mut failures = Vec::new();
    for (text, offset, message) in cases {
        let (got_offset, got_message, hint) = err(text);
        if (got_offset, got_message.as_str()) != (*offset, *message) || hint.is_none() {
            failures.push(format!(
                "{text:?}: expected ({offset}, {message:?}), got ({got_offset}, {got_message:?}, hint {hint:?})"
            ));
        }
    }
    assert_eq!(failures, Vec::<String>::new());
}

#[test]
fn hints_name_the_range() {
    assert_eq!(err("61 * * * *").2.as_deref(), Some("minute must be 0–59"));
    assert_eq!(err("0 24 * * *").2.as_deref(), Some("hour must be 0–23"));
    assert_eq!(
        err("0 0 0 * * * 1969").2.as_deref(),
        Some("year must be 1970–2099")
    );
    assert_eq!(
        err("0 0 * * 9").2.as_deref(),
        Some("day of week must be 0–7 (0 and 7 are Sunday) or SUN–SAT")
    );
}

#[test]
fn serde_uses_the_canonical_text() {
    let schedule = Schedule::parse("0  9 * * 1-5").unwrap();
    assert_eq!(
        serde_json::to_string(&schedule).unwrap(),
        r#""0 9 * * 1-5""#
    );
    assert_eq!(
        serde_json::from_str::<Schedule>(r#""every 30 minutes""#).unwrap(),
        every(1800)
    );
    let e = serde_json::from_str::<Schedule>(r#""0 0 30 2 *""#).unwrap_err();
    assert_eq!(
        e.to_string(),
        "this schedule can never fire: no date matches its day and month fields (check the day of month against the months: e.g. `30 2` (February 30) or `31 4,6,9,11` never occur)"
    );
}

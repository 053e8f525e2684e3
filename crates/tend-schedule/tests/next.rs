//! next_after for plain cron cases, the specials, the Vixie day rule, years, seconds, aliases,
//! `every` and `at`. Expected instants are worked out by hand from a calendar.

mod common;

use std::time::Duration;

use common::{cron_next, next_n, plan, show, ts, zone};
use pretty_assertions::assert_eq;
use tend_schedule::{Plan, Schedule, Slot};

#[track_caller]
fn check(expr: &str, after: &str, expected: &[&str]) {
    assert_eq!(
        cron_next(expr, "UTC", after, expected.len()),
        expected,
        "{expr} after {after}"
    );
}

#[test]
fn plain_cron() {
    check(
        "*/15 * * * *",
        "2026-03-10T10:07:30Z",
        &[
            "2026-03-10T10:15:00+00:00",
            "2026-03-10T10:30:00+00:00",
            "2026-03-10T10:45:00+00:00",
            "2026-03-10T11:00:00+00:00",
        ],
    );
    // 2026-03-06 is a Friday.
    check(
        "0 9 * * 1-5",
        "2026-03-06T09:00:00Z",
        &[
            "2026-03-09T09:00:00+00:00",
            "2026-03-10T09:00:00+00:00",
            "2026-03-11T09:00:00+00:00",
            "2026-03-12T09:00:00+00:00",
            "2026-03-13T09:00:00+00:00",
            "2026-03-16T09:00:00+00:00",
        ],
    );
    check(
        "0 9 * * MON-fri",
        "2026-03-13T09:00:00Z",
        &["2026-03-16T09:00:00+00:00"],
    );
    check(
        "30 2 1 * *",
        "2026-01-15T00:00:00Z",
        &[
            "2026-02-01T02:30:00+00:00",
            "2026-03-01T02:30:00+00:00",
            "2026-04-01T02:30:00+00:00",
        ],
    );
    check(
        "10-40/15 * * * *",
        "2026-03-10T10:00:00Z",
        &[
            "2026-03-10T10:10:00+00:00",
            "2026-03-10T10:25:00+00:00",
            "2026-03-10T10:40:00+00:00",
            "2026-03-10T11:10:00+00:00",
        ],
    );
    check(
        "0 0 1 jan,Jul *",
        "2026-03-10T10:00:00Z",
        &["2026-07-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00"],
    );
    // Sub-second `after` still means strictly after.
    check(
        "* * * * *",
        "2026-03-10T10:00:00.5Z",
        &["2026-03-10T10:01:00+00:00"],
    );
    check(
        "* * * * *",
        "2026-03-10T09:59:59.999Z",
        &["2026-03-10T10:00:00+00:00"],
    );
    check(
        "0 0 29 2 *",
        "2026-01-01T00:00:00Z",
        &["2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00"],
    );
}

#[test]
fn sunday_is_zero_and_seven() {
    // 2026-03-08 and 2026-03-15 are Sundays.
    let expected = ["2026-03-08T00:00:00+00:00", "2026-03-15T00:00:00+00:00"];
    check("0 0 * * 7", "2026-03-02T00:00:00Z", &expected);
    check("0 0 * * 0", "2026-03-02T00:00:00Z", &expected);
    check("0 0 * * sun", "2026-03-02T00:00:00Z", &expected);
    // Friday through Sunday.
    check(
        "0 0 * * FRI-SUN",
        "2026-03-02T00:00:00Z",
        &[
            "2026-03-06T00:00:00+00:00",
            "2026-03-07T00:00:00+00:00",
            "2026-03-08T00:00:00+00:00",
            "2026-03-13T00:00:00+00:00",
        ],
    );
    check(
        "0 0 * * 5-7",
        "2026-03-02T00:00:00Z",
        &[
            "2026-03-06T00:00:00+00:00",
            "2026-03-07T00:00:00+00:00",
            "2026-03-08T00:00:00+00:00",
            "2026-03-13T00:00:00+00:00",
        ],
    );
}

#[test]
fn last_day_and_offsets() {
    check(
        "0 0 L * *",
        "2026-01-31T00:00:00Z",
        &[
            "2026-02-28T00:00:00+00:00",
            "2026-03-31T00:00:00+00:00",
            "2026-04-30T00:00:00+00:00",
        ],
    );
    check(
        "0 0 L 2 *",
        "2027-06-01T00:00:00Z",
        &["2028-02-29T00:00:00+00:00"],
    );
    check(
        "0 0 L-2 * *",
        "2026-02-01T00:00:00Z",
        &[
            "2026-02-26T00:00:00+00:00",
            "2026-03-29T00:00:00+00:00",
            "2026-04-28T00:00:00+00:00",
        ],
    );
}

#[test]
fn nearest_weekday() {
    // 2026-02-15 and 2026-03-15 are Sundays; 2026-04-15 a Wednesday; 2026-05-15 a Friday.
    check(
        "0 9 15W * *",
        "2026-02-01T00:00:00Z",
        &[
            "2026-02-16T09:00:00+00:00",
            "2026-03-16T09:00:00+00:00",
            "2026-04-15T09:00:00+00:00",
            "2026-05-15T09:00:00+00:00",
        ],
    );
    // 2026-08-01 is a Saturday: 1W is Monday the 3rd, never Friday in July.
    check(
        "0 9 1W * *",
        "2026-07-05T00:00:00Z",
        &["2026-08-03T09:00:00+00:00", "2026-09-01T09:00:00+00:00"],
    );
    // 2026-05-31 is a Sunday: the last weekday is Friday the 29th. 2026-06-30 is a Tuesday.
    check(
        "0 18 LW * *",
        "2026-05-01T00:00:00Z",
        &["2026-05-29T18:00:00+00:00", "2026-06-30T18:00:00+00:00"],
    );
}

#[test]
fn nth_and_last_weekday() {
    check(
        "0 12 * * 5#3",
        "2026-01-01T00:00:00Z",
        &[
            "2026-01-16T12:00:00+00:00",
            "2026-02-20T12:00:00+00:00",
            "2026-03-20T12:00:00+00:00",
        ],
    );
    check(
        "0 12 ? * FRI#3",
        "2026-01-01T00:00:00Z",
        &["2026-01-16T12:00:00+00:00"],
    );
    check(
        "0 12 * * FRIL",
        "2026-01-01T00:00:00Z",
        &[
            "2026-01-30T12:00:00+00:00",
            "2026-02-27T12:00:00+00:00",
            "2026-03-27T12:00:00+00:00",
        ],
    );
    check(
        "0 12 * * 5L",
        "2026-01-31T00:00:00Z",
        &["2026-02-27T12:00:00+00:00"],
    );
    // A fifth Monday: March 2026 (30th), June 2026 (29th), August 2026 (31st).
    check(
        "0 0 * * 1#5",
        "2026-01-01T00:00:00Z",
        &[
            "2026-03-30T00:00:00+00:00",
            "2026-06-29T00:00:00+00:00",
            "2026-08-31T00:00:00+00:00",
        ],
    );
}

#[test]
fn vixie_day_rule() {
    // Both restricted: day 1 or 15 OR any Monday (2026-03: Mondays 2, 9, 16, 23, 30).
    check(
        "0 0 1,15 * 1",
        "2026-03-01T00:00:00Z",
        &[
            "2026-03-02T00:00:00+00:00",
            "2026-03-09T00:00:00+00:00",
            "2026-03-15T00:00:00+00:00",
            "2026-03-16T00:00:00+00:00",
            "2026-03-23T00:00:00+00:00",
            "2026-03-30T00:00:00+00:00",
            "2026-04-01T00:00:00+00:00",
        ],
    );
    // Day of month starts with `*`: odd days AND Mondays.
    check(
        "0 0 */2 * 1",
        "2026-03-01T00:00:00Z",
        &[
            "2026-03-09T00:00:00+00:00",
            "2026-03-23T00:00:00+00:00",
            "2026-04-13T00:00:00+00:00",
            "2026-04-27T00:00:00+00:00",
        ],
    );
    // Day of week starts with `*`: only the day of month counts (every weekday matches).
    check(
        "0 0 13 * */1",
        "2026-03-01T00:00:00Z",
        &["2026-03-13T00:00:00+00:00", "2026-04-13T00:00:00+00:00"],
    );
    // Restricted day of month with a `*` day of week: just the 13th.
    check(
        "0 0 13 * *",
        "2026-03-01T00:00:00Z",
        &["2026-03-13T00:00:00+00:00", "2026-04-13T00:00:00+00:00"],
    );
    // The 13th or any Friday; and with a specific occurrence.
    check(
        "0 0 13 * 5#1",
        "2026-03-01T00:00:00Z",
        &[
            "2026-03-06T00:00:00+00:00",
            "2026-03-13T00:00:00+00:00",
            "2026-04-03T00:00:00+00:00",
            "2026-04-13T00:00:00+00:00",
        ],
    );
}

#[test]
fn year_field() {
    check(
        "0 0 0 1 1 * 2027,2029",
        "2026-06-01T00:00:00Z",
        &["2027-01-01T00:00:00+00:00", "2029-01-01T00:00:00+00:00"],
    );
    assert_eq!(
        cron_next("0 0 0 1 1 * 2027,2029", "UTC", "2029-01-01T00:00:00Z", 3),
        Vec::<String>::new()
    );
    check(
        "0 0 12 * * ? 2099",
        "2099-12-30T12:00:00Z",
        &["2099-12-31T12:00:00+00:00"],
    );
    assert_eq!(
        cron_next("0 0 12 * * ? 2099", "UTC", "2099-12-31T12:00:00Z", 3),
        Vec::<String>::new()
    );
    check(
        "0 0 0 * * * 2070-2099/10",
        "2026-01-01T00:00:00Z",
        &["2070-01-01T00:00:00+00:00"],
    );
    // Before the first listed year.
    check(
        "0 0 0 29 2 * 2032",
        "1990-01-01T00:00:00Z",
        &["2032-02-29T00:00:00+00:00"],
    );
}

#[test]
fn seconds_field() {
    check(
        "*/20 * * * * *",
        "2026-03-10T10:00:50Z",
        &[
            "2026-03-10T10:01:00+00:00",
            "2026-03-10T10:01:20+00:00",
            "2026-03-10T10:01:40+00:00",
        ],
    );
    check(
        "* * * * * *",
        "2026-12-31T23:59:58Z",
        &["2026-12-31T23:59:59+00:00", "2027-01-01T00:00:00+00:00"],
    );
    check(
        "15 30 9 * * *",
        "2026-03-10T09:30:15Z",
        &["2026-03-11T09:30:15+00:00"],
    );
}

#[test]
fn aliases() {
    check(
        "@hourly",
        "2026-03-10T10:00:00Z",
        &["2026-03-10T11:00:00+00:00"],
    );
    check(
        "@daily",
        "2026-03-10T10:00:00Z",
        &["2026-03-11T00:00:00+00:00"],
    );
    check(
        "@midnight",
        "2026-03-10T10:00:00Z",
        &["2026-03-11T00:00:00+00:00"],
    );
    // Sunday midnight.
    check(
        "@weekly",
        "2026-03-10T10:00:00Z",
        &["2026-03-15T00:00:00+00:00"],
    );
    check(
        "@monthly",
        "2026-03-10T10:00:00Z",
        &["2026-04-01T00:00:00+00:00"],
    );
    check(
        "@yearly",
        "2026-03-10T10:00:00Z",
        &["2027-01-01T00:00:00+00:00"],
    );
    check(
        "@ANNUALLY",
        "2026-03-10T10:00:00Z",
        &["2027-01-01T00:00:00+00:00"],
    );
}

#[test]
fn every_is_anchored_and_drift_free() {
    let p = plan("every 30m", "America/New_York", "2026-01-01T00:07:00Z");
    assert_eq!(
        next_n(&p, "2026-01-01T01:00:00Z", 2),
        vec!["2025-12-31T20:07:00-05:00", "2025-12-31T20:37:00-05:00"]
    );
    // Slots exist before the anchor too: only the phase is fixed.
    assert_eq!(
        next_n(&p, "2025-12-31T23:00:00Z", 1),
        vec!["2025-12-31T18:07:00-05:00"]
    );
    // Pure elapsed time across the spring-forward gap.
    let p = plan("every 1h", "America/New_York", "2026-03-01T00:00:00Z");
    assert_eq!(
        next_n(&p, "2026-03-08T05:30:00Z", 3),
        vec![
            "2026-03-08T01:00:00-05:00",
            "2026-03-08T03:00:00-04:00",
            "2026-03-08T04:00:00-04:00"
        ]
    );
    // The 1000th slot is exactly anchor + 1000 periods, even with an odd anchor and period.
    let anchor = ts("2026-01-01T00:00:00.123456789Z");
    let p = Plan::new(
        Schedule::parse("every 1h 7m 13s").unwrap(),
        zone("UTC"),
        anchor,
    );
    let mut t = anchor;
    for _ in 0..1000 {
        t = p.next_after(t).unwrap().due;
    }
    let period = Duration::from_secs(3600 + 7 * 60 + 13);
    assert_eq!(t, anchor.checked_add(period * 1000).unwrap());
    assert_eq!(
        p.next_after(anchor.checked_add(period * 1000).unwrap())
            .unwrap()
            .due,
        anchor.checked_add(period * 1001).unwrap()
    );
}

#[test]
fn at_one_shot() {
    let p = plan(
        "at 2026-12-01 09:00",
        "Europe/Berlin",
        "2026-01-01T00:00:00Z",
    );
    assert_eq!(
        next_n(&p, "2026-06-01T00:00:00Z", 3),
        vec!["2026-12-01T09:00:00+01:00"]
    );
    assert_eq!(next_n(&p, "2026-12-01T08:00:00Z", 1), Vec::<String>::new());
    assert_eq!(
        next_n(&p, "2026-12-01T07:59:59Z", 1),
        vec!["2026-12-01T09:00:00+01:00"]
    );
    // An explicit offset wins over the zone.
    let p = plan(
        "at 2026-12-01T09:00:00-05:00",
        "Europe/Berlin",
        "2026-01-01T00:00:00Z",
    );
    assert_eq!(
        next_n(&p, "2026-06-01T00:00:00Z", 3),
        vec!["2026-12-01T15:00:00+01:00"]
    );
    // In the spring-forward gap: the instant the gap ends.
    let p = plan(
        "at 2026-03-08 02:30",
        "America/New_York",
        "2026-01-01T00:00:00Z",
    );
    assert_eq!(
        next_n(&p, "2026-01-01T00:00:00Z", 3),
        vec!["2026-03-08T03:00:00-04:00"]
    );
    // In the repeated hour: the first occurrence.
    let p = plan(
        "at 2026-11-01 01:30",
        "America/New_York",
        "2026-01-01T00:00:00Z",
    );
    assert_eq!(
        next_n(&p, "2026-01-01T00:00:00Z", 3),
        vec!["2026-11-01T01:30:00-04:00"]
    );
    assert_eq!(next_n(&p, "2026-11-01T05:30:00Z", 3), Vec::<String>::new());
}

#[test]
fn at_time_of_day() {
    let p = plan("at 17:30", "UTC", "2026-03-10T18:00:00Z");
    assert_eq!(
        next_n(&p, "2026-01-01T00:00:00Z", 3),
        vec!["2026-03-11T17:30:00+00:00"]
    );
    // Strictly after the anchor.
    let p = plan("at 17:30", "UTC", "2026-03-10T17:30:00Z");
    assert_eq!(
        next_n(&p, "2026-01-01T00:00:00Z", 3),
        vec!["2026-03-11T17:30:00+00:00"]
    );
    let p = plan("at 17:30", "Asia/Kolkata", "2026-03-10T11:00:00Z");
    assert_eq!(
        next_n(&p, "2026-01-01T00:00:00Z", 3),
        vec!["2026-03-10T17:30:00+05:30"]
    );
    let p = plan("at 02:30", "America/New_York", "2026-03-07T12:00:00Z");
    assert_eq!(
        next_n(&p, "2026-01-01T00:00:00Z", 3),
        vec!["2026-03-08T03:00:00-04:00"]
    );
}

#[test]
fn manual_never_fires() {
    let p = plan("manual", "UTC", "2026-01-01T00:00:00Z");
    assert_eq!(p.next_after(ts("2026-01-01T00:00:00Z")), None);
    assert_eq!(
        p.slots_between(ts("2000-01-01T00:00:00Z"), ts("2099-01-01T00:00:00Z"))
            .count(),
        0
    );
}

#[test]
fn jitter_shifts_fire_at_only() {
    let p = plan("0 * * * *", "UTC", "2026-01-01T00:00:00Z")
        .with_jitter(Duration::from_secs(300), "triage-api-log");
    let slot = p.next_after(ts("2026-03-10T10:00:00Z")).unwrap();
    // FNV-1a 64 of "triage-api-log" is 0xe0115c147e82ec03 (worked out outside this crate); mod 300.
    let expected = Duration::from_secs(JITTER_TRIAGE);
    assert_eq!(
        slot,
        Slot {
            due: ts("2026-03-10T11:00:00Z"),
            fire_at: ts("2026-03-10T11:00:00Z").checked_add(expected).unwrap(),
        }
    );
    let again = plan("0 * * * *", "UTC", "2026-01-01T00:00:00Z")
        .with_jitter(Duration::from_secs(300), "triage-api-log");
    assert_eq!(again.next_after(ts("2026-03-10T10:00:00Z")), Some(slot));
    let zero = plan("0 * * * *", "UTC", "2026-01-01T00:00:00Z").with_jitter(Duration::ZERO, "x");
    let s = zero.next_after(ts("2026-03-10T10:00:00Z")).unwrap();
    assert_eq!(s.fire_at, s.due);
    let other = plan("0 * * * *", "UTC", "2026-01-01T00:00:00Z")
        .with_jitter(Duration::from_secs(300), "weekly-deps");
    assert_ne!(other.jitter(), p.jitter());
    assert!(p.jitter() < Duration::from_secs(300));
}

const JITTER_TRIAGE: u64 = 143;

#[test]
fn slots_between_is_half_open_and_lazy() {
    let p = plan("0 * * * *", "UTC", "2026-01-01T00:00:00Z");
    let got: Vec<String> = p
        .slots_between(ts("2026-03-10T00:00:00Z"), ts("2026-03-10T03:00:00Z"))
        .map(|s| show(s.due, &zone("UTC")))
        .collect();
    assert_eq!(
        got,
        vec![
            "2026-03-10T01:00:00+00:00",
            "2026-03-10T02:00:00+00:00",
            "2026-03-10T03:00:00+00:00"
        ]
    );
    // Seconds over a century: taking the first few must not materialize the rest.
    let p = plan("* * * * * *", "UTC", "2026-01-01T00:00:00Z");
    let first: Vec<Slot> = p
        .slots_between(ts("2000-01-01T00:00:00Z"), ts("2099-01-01T00:00:00Z"))
        .take(2)
        .collect();
    assert_eq!(first.len(), 2);
    assert_eq!(first[1].due, ts("2000-01-01T00:00:02Z"));
    assert_eq!(
        p.slots_between(ts("2026-01-01T00:00:00Z"), ts("2026-01-01T00:00:00Z"))
            .count(),
        0
    );
}

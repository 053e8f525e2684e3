use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use pretty_assertions::assert_eq;
use tend_config::{CatchUp, Overlap};
use tend_schedule::{Plan, Schedule, Slot};

use super::*;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn plan(schedule: &str, anchor: &str) -> Plan {
    Plan::new(
        Schedule::parse(schedule).unwrap(),
        TimeZone::UTC,
        ts(anchor),
    )
}

const DAY: Duration = Duration::from_secs(86_400);
const GRACE: Duration = Duration::from_secs(10);

fn policy(catch_up: CatchUp, overlap: Overlap) -> Policy {
    Policy {
        catch_up,
        catch_up_window: 7 * DAY,
        overlap,
    }
}

fn view<'a>(
    plan: &'a Plan,
    policy: Policy,
    cursor: Option<&str>,
    first_seen: &str,
) -> TaskView<'a> {
    TaskView {
        plan,
        policy,
        cursor: cursor.map(ts),
        first_seen: ts(first_seen),
        pause: PauseState::Active,
        active_runs: 0,
        waiting_runs: 0,
    }
}

/// A decision as a short line: due instant and outcome, for whole-table comparisons.
fn lines(outlook: &Outlook, policy: &Policy) -> Vec<String> {
    outlook
        .decisions
        .iter()
        .map(|d| {
            let what = match d.outcome {
                Outcome::Run => "run".to_owned(),
                Outcome::Queue => "queue".to_owned(),
                Outcome::Skip(_) => "skip".to_owned(),
                Outcome::Miss(_) => "miss".to_owned(),
            };
            match d.reason(policy) {
                Some(reason) => format!("{} {what}: {reason}", d.slot.due),
                None => format!("{} {what}", d.slot.due),
            }
        })
        .collect()
}

fn slot(due: &str) -> Slot {
    Slot {
        due: ts(due),
        fire_at: ts(due),
    }
}

#[test]
fn an_on_time_slot_runs_whatever_the_catch_up_policy() {
    let p = plan("0 * * * *", "2026-01-01T00:00:00Z");
    for catch_up in [CatchUp::None, CatchUp::Latest, CatchUp::All] {
        let pol = policy(catch_up, Overlap::Skip);
        let task = view(
            &p,
            pol,
            Some("2026-03-01T09:00:00Z"),
            "2026-01-01T00:00:00Z",
        );
        let out = decide(&task, ts("2026-03-01T10:00:00.004Z"), GRACE);
        assert_eq!(
            out,
            Outlook {
                decisions: vec![Decision {
                    slot: slot("2026-03-01T10:00:00Z"),
                    outcome: Outcome::Run,
                    earlier: None,
                }],
                next: Some(slot("2026-03-01T11:00:00Z")),
                cancel_others: false,
                one_shot_over: false,
            },
            "{catch_up:?}"
        );
    }
}

#[test]
fn nothing_due_gives_only_the_next_slot() {
    let p = plan("0 * * * *", "2026-01-01T00:00:00Z");
    let pol = policy(CatchUp::Latest, Overlap::Skip);
    let task = view(
        &p,
        pol,
        Some("2026-03-01T10:00:00Z"),
        "2026-01-01T00:00:00Z",
    );
    let out = decide(&task, ts("2026-03-01T10:59:59.999Z"), GRACE);
    assert_eq!(out.decisions, vec![]);
    assert_eq!(out.next, Some(slot("2026-03-01T11:00:00Z")));
    assert_eq!(out.missed(), 0);
}

#[test]
fn catch_up_policies_after_five_hours_off() {
    // Hourly; the daemon last dealt with 05:00 and comes back at 10:30.
    let p = plan("0 * * * *", "2026-01-01T00:00:00Z");
    let now = ts("2026-03-01T10:30:00Z");
    let cases: [(CatchUp, Vec<&str>); 3] = [
        (
            CatchUp::None,
            vec![
                "2026-03-01T06:00:00Z miss: late by 4h 30m (tend was not running, or the machine slept); catch_up = \"none\"",
                "2026-03-01T07:00:00Z miss: late by 3h 30m (tend was not running, or the machine slept); catch_up = \"none\"",
                "2026-03-01T08:00:00Z miss: late by 2h 30m (tend was not running, or the machine slept); catch_up = \"none\"",
                "2026-03-01T09:00:00Z miss: late by 1h 30m (tend was not running, or the machine slept); catch_up = \"none\"",
                "2026-03-01T10:00:00Z miss: late by 30m (tend was not running, or the machine slept); catch_up = \"none\"",
            ],
        ),
        (
            CatchUp::Latest,
            vec![
                "2026-03-01T06:00:00Z miss: late by 4h 30m; catch_up = \"latest\" runs only the newest due slot",
                "2026-03-01T07:00:00Z miss: late by 3h 30m; catch_up = \"latest\" runs only the newest due slot",
                "2026-03-01T08:00:00Z miss: late by 2h 30m; catch_up = \"latest\" runs only the newest due slot",
                "2026-03-01T09:00:00Z miss: late by 1h 30m; catch_up = \"latest\" runs only the newest due slot",
                "2026-03-01T10:00:00Z run",
            ],
        ),
        (
            CatchUp::All,
            vec![
                "2026-03-01T06:00:00Z run",
                "2026-03-01T07:00:00Z queue: waiting for the task's previous run",
                "2026-03-01T08:00:00Z queue: waiting for the task's previous run",
                "2026-03-01T09:00:00Z queue: waiting for the task's previous run",
                "2026-03-01T10:00:00Z queue: waiting for the task's previous run",
            ],
        ),
    ];
    for (catch_up, want) in cases {
        let pol = policy(catch_up, Overlap::Skip);
        let task = view(
            &p,
            pol,
            Some("2026-03-01T05:00:00Z"),
            "2026-01-01T00:00:00Z",
        );
        let out = decide(&task, now, GRACE);
        assert_eq!(lines(&out, &pol), want, "{catch_up:?}");
        assert_eq!(out.next, Some(slot("2026-03-01T11:00:00Z")));
    }
}

#[test]
fn a_late_backlog_with_an_on_time_slot_runs_the_on_time_one_under_none_and_latest() {
    let p = plan("0 * * * *", "2026-01-01T00:00:00Z");
    let now = ts("2026-03-01T10:00:01Z");
    for catch_up in [CatchUp::None, CatchUp::Latest] {
        let pol = policy(catch_up, Overlap::Skip);
        let task = view(
            &p,
            pol,
            Some("2026-03-01T07:00:00Z"),
            "2026-01-01T00:00:00Z",
        );
        let out = decide(&task, now, GRACE);
        let outcomes: Vec<Outcome> = out.decisions.iter().map(|d| d.outcome).collect();
        assert!(matches!(
            outcomes[..],
            [Outcome::Miss(_), Outcome::Miss(_), Outcome::Run]
        ));
    }
}

#[test]
fn catch_up_all_runs_the_ten_newest_in_order_and_misses_the_rest() {
    let p = plan("0 * * * *", "2026-01-01T00:00:00Z");
    let pol = policy(CatchUp::All, Overlap::Skip);
    let task = view(
        &p,
        pol,
        Some("2026-03-01T00:00:00Z"),
        "2026-01-01T00:00:00Z",
    );
    let out = decide(&task, ts("2026-03-01T12:20:00Z"), GRACE);
    let got: Vec<(Timestamp, Outcome)> = out
        .decisions
        .iter()
        .map(|d| (d.slot.due, d.outcome))
        .collect();
    let mut want = vec![];
    for h in 1..=2 {
        want.push((
            ts(&format!("2026-03-01T{h:02}:00:00Z")),
            Outcome::Miss(MissReason {
                kind: MissKind::BeyondAllLimit,
                late_by: SignedDuration::from_mins(60 * (12 - h) + 20),
            }),
        ));
    }
    want.push((ts("2026-03-01T03:00:00Z"), Outcome::Run));
    for h in 4..=12 {
        want.push((ts(&format!("2026-03-01T{h:02}:00:00Z")), Outcome::Queue));
    }
    assert_eq!(got, want);
}

#[test]
fn the_window_bounds_catch_up() {
    let p = plan("0 * * * *", "2026-01-01T00:00:00Z");
    let mut pol = policy(CatchUp::All, Overlap::Skip);
    pol.catch_up_window = Duration::from_secs(2 * 3600);
    let task = view(
        &p,
        pol,
        Some("2026-03-01T05:00:00Z"),
        "2026-01-01T00:00:00Z",
    );
    let out = decide(&task, ts("2026-03-01T10:30:00Z"), GRACE);
    assert_eq!(
        lines(&out, &pol),
        vec![
            "2026-03-01T06:00:00Z miss: late by 4h 30m, more than catch_up_window (2h)",
            "2026-03-01T07:00:00Z miss: late by 3h 30m, more than catch_up_window (2h)",
            "2026-03-01T08:00:00Z miss: late by 2h 30m, more than catch_up_window (2h)",
            "2026-03-01T09:00:00Z run",
            "2026-03-01T10:00:00Z queue: waiting for the task's previous run",
        ]
    );
    // Everything outside the window: `latest` runs nothing.
    pol.catch_up = CatchUp::Latest;
    let p = plan("0 6-10 * * *", "2026-01-01T00:00:00Z");
    let task = view(
        &p,
        pol,
        Some("2026-03-01T05:00:00Z"),
        "2026-01-01T00:00:00Z",
    );
    let out = decide(&task, ts("2026-03-01T12:30:00Z"), GRACE);
    assert!(
        out.decisions.iter().all(|d| matches!(
            d.outcome,
            Outcome::Miss(MissReason {
                kind: MissKind::OutsideWindow(_),
                ..
            })
        )),
        "{:?}",
        lines(&out, &pol)
    );
}

#[test]
fn overlap_policies_when_the_previous_run_is_still_going() {
    let p = plan("0 * * * *", "2026-01-01T00:00:00Z");
    let now = ts("2026-03-01T10:00:00.002Z");
    // (overlap, active, waiting) -> (outcome, cancel_others)
    let cases = [
        (
            Overlap::Skip,
            1,
            0,
            Outcome::Skip(SkipReason::Overlap),
            false,
        ),
        (
            Overlap::Skip,
            0,
            1,
            Outcome::Skip(SkipReason::Overlap),
            false,
        ),
        (Overlap::Queue, 1, 0, Outcome::Queue, false),
        (
            Overlap::Queue,
            1,
            1,
            Outcome::Skip(SkipReason::QueueFull),
            false,
        ),
        (Overlap::Replace, 1, 0, Outcome::Run, true),
        (Overlap::Replace, 1, 1, Outcome::Run, true),
        (Overlap::Replace, 0, 0, Outcome::Run, false),
        (Overlap::Queue, 0, 0, Outcome::Run, false),
    ];
    for (overlap, active, waiting, want, cancel) in cases {
        let pol = policy(CatchUp::Latest, overlap);
        let mut task = view(
            &p,
            pol,
            Some("2026-03-01T09:00:00Z"),
            "2026-01-01T00:00:00Z",
        );
        task.active_runs = active;
        task.waiting_runs = waiting;
        let out = decide(&task, now, GRACE);
        assert_eq!(
            (
                out.decisions.len(),
                out.decisions[0].outcome,
                out.cancel_others
            ),
            (1, want, cancel),
            "{overlap:?} active {active} waiting {waiting}"
        );
    }
    let pol = policy(CatchUp::Latest, Overlap::Queue);
    let d = Decision {
        slot: slot("2026-03-01T10:00:00Z"),
        outcome: Outcome::Skip(SkipReason::QueueFull),
        earlier: None,
    };
    assert_eq!(
        d.reason(&pol).unwrap(),
        "overlap: a run is already waiting (overlap = \"queue\" keeps one)"
    );
}

#[test]
fn a_paused_task_skips_every_due_slot_late_ones_too() {
    let p = plan("0 * * * *", "2026-01-01T00:00:00Z");
    let pol = policy(CatchUp::All, Overlap::Skip);
    let mut task = view(
        &p,
        pol,
        Some("2026-03-01T08:00:00Z"),
        "2026-01-01T00:00:00Z",
    );
    task.pause = PauseState::Paused;
    let out = decide(&task, ts("2026-03-01T10:00:00Z"), GRACE);
    assert_eq!(
        lines(&out, &pol),
        vec![
            "2026-03-01T09:00:00Z skip: paused",
            "2026-03-01T10:00:00Z skip: paused",
        ]
    );
    assert_eq!(out.next, Some(slot("2026-03-01T11:00:00Z")));
}

#[test]
fn slots_before_first_seen_are_never_due() {
    let p = plan("0 * * * *", "2026-01-01T00:00:00Z");
    let pol = policy(CatchUp::All, Overlap::Skip);
    // Seen first at 10:10, no cursor yet: the 10:00 slot was before the task existed.
    let task = view(&p, pol, None, "2026-03-01T10:10:00Z");
    let out = decide(&task, ts("2026-03-01T10:50:00Z"), GRACE);
    assert_eq!(out.decisions, vec![]);
    assert_eq!(out.next, Some(slot("2026-03-01T11:00:00Z")));
    // A cursor older than first_seen (a task re-created under the same name) changes nothing.
    let task = view(
        &p,
        pol,
        Some("2026-02-01T00:00:00Z"),
        "2026-03-01T10:10:00Z",
    );
    assert_eq!(
        decide(&task, ts("2026-03-01T10:50:00Z"), GRACE).decisions,
        vec![]
    );
    // Without a cursor the first slot after first_seen is due like any other.
    let task = view(&p, pol, None, "2026-03-01T10:10:00Z");
    let out = decide(&task, ts("2026-03-01T11:00:00.001Z"), GRACE);
    assert_eq!(lines(&out, &pol), vec!["2026-03-01T11:00:00Z run"]);
}

#[test]
fn dealt_with_slots_are_never_decided_again_and_a_clock_going_back_waits() {
    let p = plan("*/10 * * * *", "2026-01-01T00:00:00Z");
    let pol = policy(CatchUp::All, Overlap::Skip);
    let task = view(
        &p,
        pol,
        Some("2026-03-01T10:20:00Z"),
        "2026-01-01T00:00:00Z",
    );
    // The wall clock went back to 10:05: nothing is due until after the cursor.
    let out = decide(&task, ts("2026-03-01T10:05:00Z"), GRACE);
    assert_eq!(out.decisions, vec![]);
    assert_eq!(out.next, Some(slot("2026-03-01T10:30:00Z")));
}

#[test]
fn jitter_delays_when_a_slot_is_due() {
    let p = plan("0 * * * *", "2026-01-01T00:00:00Z").with_jitter(Duration::from_secs(600), "t");
    let j = p.jitter();
    assert!(j > Duration::ZERO);
    let pol = policy(CatchUp::Latest, Overlap::Skip);
    let task = view(
        &p,
        pol,
        Some("2026-03-01T09:00:00Z"),
        "2026-01-01T00:00:00Z",
    );
    let due = ts("2026-03-01T10:00:00Z");
    let fire_at = due.checked_add(j).unwrap();
    let before = decide(
        &task,
        fire_at.checked_sub(SignedDuration::from_millis(1)).unwrap(),
        GRACE,
    );
    assert_eq!(before.decisions, vec![]);
    assert_eq!(before.next, Some(Slot { due, fire_at }));
    let at = decide(&task, fire_at, GRACE);
    assert_eq!(
        at.decisions,
        vec![Decision {
            slot: Slot { due, fire_at },
            outcome: Outcome::Run,
            earlier: None
        }]
    );
}

#[test]
fn a_one_shot_task_is_over_after_its_slot() {
    let pol = policy(CatchUp::Latest, Overlap::Skip);
    let p = plan("at 2026-03-01 10:00", "2026-01-01T00:00:00Z");
    // Before: waiting for it.
    let task = view(&p, pol, None, "2026-01-01T00:00:00Z");
    let out = decide(&task, ts("2026-03-01T09:00:00Z"), GRACE);
    assert_eq!(
        (out.decisions.len(), out.next, out.one_shot_over),
        (0, Some(slot("2026-03-01T10:00:00Z")), false)
    );
    // Its slot: it runs, and the task is over.
    let out = decide(&task, ts("2026-03-01T10:00:00.001Z"), GRACE);
    assert_eq!(lines(&out, &pol), vec!["2026-03-01T10:00:00Z run"]);
    assert_eq!((out.next, out.one_shot_over), (None, true));
    // Dealt with already (cursor at it): nothing more, still over.
    let task = view(
        &p,
        pol,
        Some("2026-03-01T10:00:00Z"),
        "2026-01-01T00:00:00Z",
    );
    let out = decide(&task, ts("2026-03-02T00:00:00Z"), GRACE);
    assert_eq!((out.decisions.len(), out.one_shot_over), (0, true));
    // An instant before the task was first seen never comes due, and the task is over.
    let task = view(&p, pol, None, "2026-03-05T00:00:00Z");
    let out = decide(&task, ts("2026-03-06T00:00:00Z"), GRACE);
    assert_eq!((out.decisions.len(), out.one_shot_over), (0, true));
}

#[test]
fn manual_tasks_have_no_slots() {
    let p = plan("manual", "2026-01-01T00:00:00Z");
    let pol = policy(CatchUp::All, Overlap::Skip);
    let task = view(&p, pol, None, "2026-01-01T00:00:00Z");
    let out = decide(&task, ts("2026-03-06T00:00:00Z"), GRACE);
    assert_eq!(
        out,
        Outlook {
            decisions: vec![],
            next: None,
            cancel_others: false,
            one_shot_over: false
        }
    );
}

#[test]
fn a_week_of_a_task_due_every_second_is_counted_not_listed() {
    // Off for exactly a week (604,800 slots); the window is a little longer, so all are in it.
    let p = plan("* * * * * *", "2026-01-01T00:00:00Z");
    let mut pol = policy(CatchUp::Latest, Overlap::Skip);
    pol.catch_up_window = 8 * DAY;
    let task = view(
        &p,
        pol,
        Some("2026-03-01T00:00:00Z"),
        "2026-01-01T00:00:00Z",
    );
    let now = ts("2026-03-08T00:00:00.500Z");
    let out = decide(&task, now, GRACE);
    assert_eq!(out.decisions.len(), MAX_LISTED);
    // The newest is on time and runs; the 99 before it are listed as missed.
    assert_eq!(out.decisions[99].slot.due, ts("2026-03-08T00:00:00Z"));
    assert_eq!(out.decisions[99].outcome, Outcome::Run);
    assert_eq!(out.decisions[0].slot.due, ts("2026-03-07T23:58:21Z"));
    assert_eq!(
        out.decisions[0].earlier,
        Some(Earlier {
            count: 604_700,
            capped: false,
            since: ts("2026-03-01T00:00:01Z")
        })
    );
    assert_eq!(
        out.decisions[0].reason(&pol).unwrap(),
        "late by 1m 39s; catch_up = \"latest\" runs only the newest due slot; 604,700 earlier \
         slots since 2026-03-01T00:00:01Z were missed too (not listed one by one)"
    );
    // Every slot of the week is accounted for: 604,799 missed and one that runs.
    assert_eq!(out.missed(), 604_799);
    assert!(out.decisions[1..].iter().all(|d| d.earlier.is_none()));
}

#[test]
fn a_long_paused_backlog_is_summarised_on_its_oldest_listed_slot() {
    let p = plan("every 1m", "2026-01-01T00:00:00Z");
    let pol = policy(CatchUp::Latest, Overlap::Skip);
    let mut task = view(
        &p,
        pol,
        Some("2026-03-01T00:00:00Z"),
        "2026-01-01T00:00:00Z",
    );
    task.pause = PauseState::Paused;
    let out = decide(&task, ts("2026-03-02T00:00:00Z"), GRACE);
    assert_eq!(out.decisions.len(), MAX_LISTED);
    assert_eq!(
        out.decisions[0].reason(&pol).unwrap(),
        "paused; 1,340 earlier slots since 2026-03-01T00:01:00Z were skipped too (not listed one by one)"
    );
}

#[test]
fn durations_read_as_their_two_largest_units() {
    let cases = [
        (SignedDuration::from_millis(120), "120ms"),
        (SignedDuration::from_secs(45), "45s"),
        (SignedDuration::from_secs(3600), "1h"),
        (SignedDuration::from_secs(3600 + 5 * 60 + 7), "1h 5m"),
        (
            SignedDuration::from_secs(3 * 86_400 + 4 * 3600 + 59),
            "3d 4h",
        ),
        (SignedDuration::from_secs(86_400 + 30), "1d"),
        (SignedDuration::from_secs(-90), "-1m 30s"),
    ];
    for (d, want) in cases {
        assert_eq!(human(d), want);
    }
    assert_eq!(thousands(1_234_567), "1,234,567");
    assert_eq!(thousands(999), "999");
}

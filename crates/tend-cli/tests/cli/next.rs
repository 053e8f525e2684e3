//! `tend next EXPR`: trying schedules out.

use pretty_assertions::assert_eq;
use serde_json::json;

use crate::common::{Env, transcripts};

const AFTER: &str = "2026-03-07T12:00:00Z";

fn next(env: &Env, args: &[&str]) -> crate::common::Out {
    let mut full = vec!["next"];
    full.extend_from_slice(args);
    let out = env.tend(&full);
    out.ok();
    out
}

#[test]
fn next_for_each_kind_of_schedule() {
    let env = Env::new();
    let runs = [
        next(
            &env,
            &[
                "0 9 * * 1-5",
                "--tz",
                "Europe/Berlin",
                "--after",
                AFTER,
                "-n",
                "3",
            ],
        ),
        // Six fields: seconds first.
        next(
            &env,
            &["*/20 * * * * *", "--tz", "UTC", "--after", AFTER, "-n", "3"],
        ),
        // Seven fields: a year at the end.
        next(
            &env,
            &[
                "0 0 12 1 1 ? 2028",
                "--tz",
                "UTC",
                "--after",
                AFTER,
                "-n",
                "3",
            ],
        ),
        next(
            &env,
            &["@daily", "--tz", "Asia/Tokyo", "--after", AFTER, "-n", "2"],
        ),
        // `every` is anchored at --after.
        next(
            &env,
            &[
                "every 90m",
                "--tz",
                "UTC",
                "--after",
                "2026-03-07 10:00",
                "-n",
                "3",
            ],
        ),
        next(
            &env,
            &[
                "at 2026-12-01 09:00",
                "--tz",
                "Europe/Berlin",
                "--after",
                AFTER,
            ],
        ),
        // Spring forward in New York: 02:30 on 2026-03-08 does not exist, it fires at 03:00.
        next(
            &env,
            &[
                "30 2 * * *",
                "--tz",
                "America/New_York",
                "--after",
                AFTER,
                "-n",
                "3",
            ],
        ),
    ];
    insta::assert_snapshot!(transcripts(&runs));
}

#[test]
fn next_without_after_uses_the_clock() {
    let env = Env::new();
    let out = next(&env, &["0 * * * *", "--tz", "UTC", "-n", "1"]);
    assert_eq!(
        out.stdout,
        "0 * * * *: at minute 0 past every hour\ntime zone UTC, after 2026-03-07T12:00:00+00:00\n  Sat 2026-03-07 13:00:00 +00:00 UTC  in 1h\n"
    );
}

#[test]
fn next_json_has_offsets_and_abbreviations() {
    let env = Env::new();
    let out = next(
        &env,
        &[
            "30 2 * * *",
            "--tz",
            "America/New_York",
            "--after",
            AFTER,
            "-n",
            "2",
            "--json",
        ],
    );
    assert_eq!(
        out.json(),
        json!({
            "expression": "30 2 * * *",
            "canonical": "30 2 * * *",
            "description": "at 02:30 every day",
            "timezone": "America/New_York",
            "after": "2026-03-07T07:00:00-05:00",
            "slots": [
                {
                    "fire_at": "2026-03-08T03:00:00-04:00",
                    "due": "2026-03-08T03:00:00-04:00",
                    "offset": "-04:00",
                    "abbreviation": "EDT",
                },
                {
                    "fire_at": "2026-03-09T02:30:00-04:00",
                    "due": "2026-03-09T02:30:00-04:00",
                    "offset": "-04:00",
                    "abbreviation": "EDT",
                },
            ],
        })
    );
}

#[test]
fn jitter_is_deterministic_per_name() {
    let env = Env::new();
    let fires = |spec: &str| {
        let out = next(
            &env,
            &[
                "0 9 * * *",
                "--tz",
                "UTC",
                "--after",
                AFTER,
                "-n",
                "2",
                "--jitter",
                spec,
                "--json",
            ],
        );
        out.json()["slots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["due"].clone(), s["fire_at"].clone()))
            .collect::<Vec<_>>()
    };
    let triage = fires("5m:triage");
    assert_eq!(fires("5m:triage"), triage);
    // The same offset every day, inside [0, 5m) after the due time.
    assert_eq!(
        triage,
        vec![
            (
                json!("2026-03-08T09:00:00+00:00"),
                json!("2026-03-08T09:01:37+00:00")
            ),
            (
                json!("2026-03-09T09:00:00+00:00"),
                json!("2026-03-09T09:01:37+00:00")
            ),
        ]
    );
    assert_ne!(fires("5m:nightly"), triage);
    let text = next(
        &env,
        &[
            "0 9 * * *",
            "--tz",
            "UTC",
            "--after",
            AFTER,
            "-n",
            "1",
            "--jitter",
            "5m:triage",
        ],
    );
    assert_eq!(
        text.stdout,
        "0 9 * * *: at 09:00 every day\ntime zone UTC, after 2026-03-07T12:00:00+00:00\n  Sun 2026-03-08 09:01:37 +00:00 UTC  in 21h 1m  (due 09:00:00, jitter)\n"
    );
}

#[test]
fn a_one_shot_in_the_past_never_fires() {
    let env = Env::new();
    let out = next(
        &env,
        &["at 2025-01-01 09:00", "--tz", "UTC", "--after", AFTER],
    );
    assert_eq!(
        out.stdout,
        "at 2025-01-01 09:00: once, at 2025-01-01 09:00\ntime zone UTC, after 2026-03-07T12:00:00+00:00\n  no fire times: the one-shot time is not after --after\n"
    );
    let json = next(
        &env,
        &[
            "at 2025-01-01 09:00",
            "--tz",
            "UTC",
            "--after",
            AFTER,
            "--json",
        ],
    );
    assert_eq!(json.json()["slots"], json!([]));
}

#[test]
fn bad_expressions_point_at_the_problem() {
    let env = Env::new();
    let cases: &[&[&str]] = &[
        &["0 25 * * *"],
        &["0 9 * * MON-FRY"],
        &["0 9 * *"],
        &["0 9 31 2 * *  2027 1"],
        &["every 5"],
        &["every 30x"],
        &["at 2026-13-01 09:00"],
        &["manaul"],
        &["0 9 * * *", "--tz", "Europe/Berln"],
        &["0 9 * * *", "--jitter", "5m"],
        &["0 9 * * *", "--jitter", "5q:triage"],
        &["0 9 * * *", "--after", "yesterday"],
    ];
    let mut runs = Vec::new();
    for args in cases {
        let mut full = vec!["next"];
        full.extend_from_slice(args);
        let out = env.tend(&full);
        out.code(2);
        assert!(out.stdout.is_empty(), "{}", out.transcript());
        runs.push(out);
    }
    insta::assert_snapshot!(transcripts(&runs));
}

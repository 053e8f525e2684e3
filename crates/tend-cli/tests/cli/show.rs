//! `tend show TASK`, and how a task name is found.

use pretty_assertions::assert_eq;
use serde_json::json;

use crate::common::{Env, transcripts};

/// `30 2 * * *` in New York seen from 2026-03-05: the 2026-03-08 slot falls in the
/// spring-forward gap and runs once, at 03:00 EDT.
fn dst_env() -> Env {
    let env = Env::at("2026-03-05T12:00:00Z");
    env.tend(&[
        "add",
        "nightly",
        "--cron",
        "30 2 * * *",
        "--timezone",
        "America/New_York",
        "--mode",
        "read-only",
        "--allow",
        "bash(cargo test *)",
        "--prompt",
        "Summarize the day.",
    ])
    .ok();
    env
}

#[test]
fn show_prints_resolved_settings_and_the_next_slots_across_dst() {
    let env = dst_env();
    let out = env.tend(&["show", "nightly"]);
    out.ok();
    insta::assert_snapshot!(out.transcript());
}

#[test]
fn show_json_has_the_next_five_slots_across_dst() {
    let env = dst_env();
    let out = env.tend(&["show", "nightly", "--json"]);
    out.ok();
    let slot = |t: &str| json!({ "due": t, "fire_at": t });
    let expected = json!({
        "task": "nightly",
        "project": "repo",
        "path": ".tend/tasks/nightly.md",
        "state": "active",
        "describe": "at 02:30 every day",
        "first_seen_at": "2026-03-05T07:00:00-05:00",
        "paused_at": null,
        "settings": {
            "anchor": null,
            "approval_timeout": "1d",
            "budget_usd": null,
            "catch_up": "latest",
            "catch_up_window": "7d",
            "command": null,
            "description": null,
            "enabled": true,
            "engine": "builtin",
            "inputs": [],
            "jitter": null,
            "max_turns": 60,
            "mcp": {},
            "mode": "read-only",
            "model": null,
            "notify": { "channels": [], "on": ["proposal", "approval", "failure"] },
            "open_pr": false,
            "output": null,
            "overlap": "skip",
            "permissions": { "allow": ["bash(cargo test *)"], "ask": [], "deny": [] },
            "retry_interrupted": false,
            "sandbox": { "allow_write": [], "deny_read": [], "max_disk": "1GB", "mode": "auto", "network": [] },
            "schedule": "30 2 * * *",
            "timeout": "20m",
            "timezone": "America/New_York",
            "when": { "check": null, "inputs_changed": false },
        },
        "next_slots": [
            slot("2026-03-06T02:30:00-05:00"),
            slot("2026-03-07T02:30:00-05:00"),
            slot("2026-03-08T03:00:00-04:00"),
            slot("2026-03-09T02:30:00-04:00"),
            slot("2026-03-10T02:30:00-04:00"),
        ],
    });
    assert_eq!(out.json(), expected);
}

#[test]
fn show_count_jitter_manual_and_past_one_shot() {
    let env = Env::new();
    env.tend(&[
        "add",
        "spread",
        "--cron",
        "0 9 * * *",
        "--jitter",
        "10m",
        "--tz",
        "UTC",
        "--prompt",
        "p",
    ])
    .ok();
    env.tend(&["add", "byhand", "--manual", "--prompt", "p"])
        .ok();
    env.write_task(
        "past",
        "+++\nschedule = \"at 2026-01-01 09:00\"\n+++\nToo late.\n",
    );
    let spread = env.tend(&["show", "spread", "-n", "2"]);
    let byhand = env.tend(&["show", "byhand"]);
    let past = env.tend(&["show", "past"]);
    for out in [&spread, &byhand, &past] {
        out.ok();
    }
    let tails: Vec<String> = [&spread, &byhand, &past]
        .iter()
        .map(|o| {
            let at = o.stdout.find("next slots").unwrap();
            o.stdout[at..].to_owned()
        })
        .collect();
    insta::assert_snapshot!(tails.join("\n"));
}

#[test]
fn unknown_task_lists_the_known_names() {
    let env = Env::new();
    let empty = env.tend(&["show", "nope"]);
    empty.code(2);
    env.tend(&["add", "triage", "--cron", "0 9 * * *", "--prompt", "p"])
        .ok();
    env.tend(&["add", "poll", "--every", "1h", "--prompt", "p"])
        .ok();
    env.write_task("broken", "+++\nschedule = 5\n+++\nHi\n");
    let unknown = env.tend(&["show", "nope"]);
    unknown.code(2);
    let broken = env.tend(&["show", "broken"]);
    broken.code(2);
    insta::assert_snapshot!(transcripts([&empty, &unknown, &broken]));
}

#[test]
fn a_name_in_two_projects_is_ambiguous_outside_both() {
    let env = Env::new();
    let other = env.root.join("other");
    env.git_repo(&other);
    env.tend(&[
        "add",
        "triage",
        "--cron",
        "0 9 * * *",
        "--prompt",
        "Repo's.",
    ])
    .ok();
    env.tend_in(
        &other,
        &[
            "add",
            "triage",
            "--cron",
            "0 1 * * *",
            "--prompt",
            "Other's.",
        ],
    )
    .ok();

    let outside = env.tend_in(&env.root, &["show", "triage"]);
    outside.code(2);
    assert_eq!(
        outside.stderr,
        "error: `triage` names 2 tasks\n  hint: say which one: other/triage, repo/triage\n"
    );
    for verb in ["pause", "resume"] {
        let out = env.tend_in(&env.root, &[verb, "triage"]);
        out.code(2);
        assert_eq!(out.stderr, outside.stderr);
    }

    // `project/name` picks one; inside a project its own task wins.
    let qualified = env.tend_in(&env.root, &["show", "other/triage", "--json"]);
    qualified.ok();
    assert_eq!(qualified.json()["settings"]["schedule"], json!("0 1 * * *"));
    let inside = env.tend(&["show", "triage", "--json"]);
    inside.ok();
    assert_eq!(
        (
            inside.json()["project"].clone(),
            inside.json()["settings"]["schedule"].clone()
        ),
        (json!("repo"), json!("0 9 * * *"))
    );
    let wrong = env.tend_in(&env.root, &["show", "nowhere/triage"]);
    wrong.code(2);
    assert_eq!(
        wrong.stderr,
        "error: no task named `nowhere/triage`\n  hint: known tasks: other/triage, repo/triage\n"
    );
}

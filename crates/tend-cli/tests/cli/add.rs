//! `tend add`: the files it writes, that they load back, and its refusals.

use pretty_assertions::assert_eq;
use serde_json::json;

use crate::common::{Env, transcripts};

/// Adds a task, checks it loads back (`tend validate FILE`), and returns the run and the file.
fn add(env: &Env, args: &[&str]) -> (String, String) {
    let mut full = vec!["add"];
    full.extend_from_slice(args);
    let out = env.tend(&full);
    out.ok();
    let name = args[0];
    let path = if args.windows(2).any(|w| w == ["--scope", "user"]) {
        env.user_task_path(name)
    } else {
        env.task_path(name)
    };
    let file = env.read(&path);
    env.tend(&["validate", path.to_str().unwrap()]).ok();
    (out.transcript(), file)
}

fn snapshot_of(runs: &[(String, String)]) -> String {
    runs.iter()
        .map(|(run, file)| format!("{run}--- file\n{file}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn add_cron_with_rules_mode_zone_and_limits() {
    let env = Env::new();
    let run = add(
        &env,
        &[
            "triage",
            "--cron",
            "0 */4 * * *",
            "--timezone",
            "Europe/Berlin",
            "--mode",
            "propose",
            "--description",
            "Triage new errors in the API log",
            "--model",
            "anthropic:claude-sonnet-4-5",
            "--timeout",
            "20m",
            "--max-turns",
            "60",
            "--budget",
            "1.50",
            "--catch-up",
            "all",
            "--overlap",
            "queue",
            "--jitter",
            "5m",
            "--allow",
            "bash(cargo test *)",
            "--allow",
            "edit(src/**)",
            "--ask",
            "bash(git push *)",
            "--deny",
            "bash(rm -rf *)",
            "--prompt",
            "Group the recurring errors; fix the most frequent one.",
        ],
    );
    insta::assert_snapshot!(snapshot_of(&[run]));

    // What the file says is what tend resolves.
    let show = env.tend(&["show", "triage", "--json"]);
    show.ok();
    let settings = &show.json()["settings"];
    assert_eq!(
        json!({
            "timezone": settings["timezone"],
            "mode": settings["mode"],
            "model": settings["model"],
            "timeout": settings["timeout"],
            "max_turns": settings["max_turns"],
            "budget_usd": settings["budget_usd"],
            "catch_up": settings["catch_up"],
            "overlap": settings["overlap"],
            "jitter": settings["jitter"],
            "permissions": settings["permissions"],
        }),
        json!({
            "timezone": "Europe/Berlin",
            "mode": "propose",
            "model": "anthropic:claude-sonnet-4-5",
            "timeout": "20m",
            "max_turns": 60,
            "budget_usd": "$1.50",
            "catch_up": "all",
            "overlap": "queue",
            "jitter": "5m",
            "permissions": {
                "allow": ["bash(cargo test *)", "edit(src/**)"],
                "ask": ["bash(git push *)"],
                "deny": ["bash(rm -rf *)"],
            },
        })
    );
}

#[test]
fn add_every_writes_its_anchor() {
    let env = Env::new();
    let run = add(
        &env,
        &["poll", "--every", "90m", "--prompt", "Check the queue."],
    );
    insta::assert_snapshot!(snapshot_of(&[run]));
    // Anchored at creation (TEND_NOW): the slots are now + k × 90m.
    let show = env.tend(&["show", "poll", "--json", "-n", "3"]);
    let fires: Vec<serde_json::Value> = show.json()["next_slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["fire_at"].clone())
        .collect();
    assert_eq!(
        fires,
        vec![
            json!("2026-03-07T13:30:00+00:00"),
            json!("2026-03-07T15:00:00+00:00"),
            json!("2026-03-07T16:30:00+00:00"),
        ]
    );
}

#[test]
fn add_at_a_time_of_day_writes_the_next_date() {
    let env = Env::new();
    // 12:00Z is 07:00 in New York: 17:30 is still ahead today; 05:00 is tomorrow, which is
    // already daylight time (EDT).
    let later = add(
        &env,
        &[
            "evening",
            "--at",
            "17:30",
            "--tz",
            "America/New_York",
            "--prompt",
            "Wrap up.",
        ],
    );
    let tomorrow = add(
        &env,
        &[
            "early",
            "--at",
            "05:00",
            "--tz",
            "America/New_York",
            "--prompt",
            "Start up.",
        ],
    );
    let dated = add(
        &env,
        &[
            "release",
            "--at",
            "2026-12-01 09:00",
            "--tz",
            "Europe/Berlin",
            "--prompt",
            "Ship.",
        ],
    );
    insta::assert_snapshot!(snapshot_of(&[later, tomorrow, dated]));
}

#[test]
fn add_manual_command_and_user_tasks() {
    let env = Env::new();
    let manual = add(
        &env,
        &["byhand", "--manual", "--prompt", "Only when asked."],
    );
    let command = add(
        &env,
        &[
            "lint",
            "--cron",
            "@daily",
            "--engine",
            "command",
            "--command",
            "cargo clippy -- -D warnings",
        ],
    );
    let user = add(
        &env,
        &[
            "mine",
            "--scope",
            "user",
            "--cron",
            "0 9 * * 1-5",
            "--prompt",
            "My own task.",
        ],
    );
    insta::assert_snapshot!(snapshot_of(&[manual, command, user]));
}

#[test]
fn add_reads_the_prompt_from_stdin() {
    let env = Env::new();
    let out = env.tend_with_stdin(
        &["add", "piped", "--cron", "0 9 * * *", "--prompt-file", "-"],
        "  Read the logs.\nSay what broke.\n\n",
    );
    out.ok();
    assert_eq!(
        env.read(&env.task_path("piped")),
        "+++\nschedule = \"0 9 * * *\"\nengine = \"builtin\"\n+++\nRead the logs.\nSay what broke.\n"
    );
}

#[test]
fn add_refuses_an_existing_name_and_force_replaces_it() {
    let env = Env::new();
    env.tend(&[
        "add",
        "triage",
        "--cron",
        "0 */4 * * *",
        "--prompt",
        "First.",
    ])
    .ok();
    let path = env.task_path("triage");
    let before = std::fs::read(&path).unwrap();

    let again = env.tend(&[
        "add",
        "triage",
        "--cron",
        "0 1 * * *",
        "--prompt",
        "Second.",
    ]);
    again.code(2);
    assert_eq!(std::fs::read(&path).unwrap(), before);

    let forced = env.tend(&[
        "add",
        "triage",
        "--cron",
        "0 1 * * *",
        "--prompt",
        "Second.",
        "--force",
    ]);
    forced.ok();
    assert_eq!(
        env.read(&path),
        "+++\nschedule = \"0 1 * * *\"\nengine = \"builtin\"\n+++\nSecond.\n"
    );
    insta::assert_snapshot!(transcripts([&again, &forced]));
}

#[test]
fn add_rejects_bad_flags_with_a_hint_and_writes_nothing() {
    let env = Env::new();
    let cases: &[&[&str]] = &[
        &["x", "--cron", "61 * * * *", "--prompt", "p"],
        &["x", "--cron", "0 9 * * MON-FRY", "--prompt", "p"],
        &["x", "--cron", "every 5m", "--prompt", "p"],
        &[
            "x",
            "--cron",
            "0 9 * * *",
            "--timezone",
            "Europe/Berln",
            "--prompt",
            "p",
        ],
        &[
            "x",
            "--cron",
            "0 9 * * *",
            "--allow",
            "frobnicate(x)",
            "--prompt",
            "p",
        ],
        &[
            "x",
            "--cron",
            "0 9 * * *",
            "--deny",
            "bash(rm -rf *",
            "--prompt",
            "p",
        ],
        &["x", "--every", "5", "--prompt", "p"],
        &["x", "--every", "5parsecs", "--prompt", "p"],
        &[
            "x",
            "--cron",
            "0 9 * * *",
            "--timeout",
            "5x",
            "--prompt",
            "p",
        ],
        &["x", "--at", "someday", "--prompt", "p"],
        &["Nightly Build", "--cron", "0 9 * * *", "--prompt", "p"],
        &["../evil", "--cron", "0 9 * * *", "--prompt", "p"],
        &[
            "x",
            "--cron",
            "0 9 * * *",
            "--mode",
            "yolo",
            "--prompt",
            "p",
        ],
        &[
            "x",
            "--cron",
            "0 9 * * *",
            "--model",
            "claude",
            "--prompt",
            "p",
        ],
        &[
            "x",
            "--cron",
            "0 9 * * *",
            "--budget",
            "lots",
            "--prompt",
            "p",
        ],
        &["x", "--cron", "0 9 * * *"],
        &["x", "--cron", "0 9 * * *", "--engine", "command"],
        &[
            "x",
            "--cron",
            "0 9 * * *",
            "--command",
            "ls",
            "--prompt",
            "p",
        ],
    ];
    let mut runs = Vec::new();
    for args in cases {
        let mut full = vec!["add"];
        full.extend_from_slice(args);
        let out = env.tend(&full);
        out.code(2);
        assert!(out.stdout.is_empty(), "{}", out.transcript());
        assert!(
            out.stderr.starts_with("error: ") && out.stderr.contains("hint: "),
            "no error with a hint:\n{}",
            out.transcript()
        );
        runs.push(out);
    }
    insta::assert_snapshot!(transcripts(&runs));
    assert!(!env.repo.join(".tend/tasks").exists() || dir_is_empty(&env.repo.join(".tend/tasks")));
}

fn dir_is_empty(dir: &std::path::Path) -> bool {
    std::fs::read_dir(dir).unwrap().next().is_none()
}

#[test]
fn add_needs_exactly_one_schedule() {
    let env = Env::new();
    // clap's own usage errors exit 2 as well.
    let none = env.tend(&["add", "x", "--prompt", "p"]);
    none.code(2);
    let two = env.tend(&[
        "add",
        "x",
        "--cron",
        "0 9 * * *",
        "--every",
        "1h",
        "--prompt",
        "p",
    ]);
    two.code(2);
    assert!(
        none.stderr.contains("--cron <CRON>"),
        "{}",
        none.transcript()
    );
    assert!(
        two.stderr.contains("cannot be used with"),
        "{}",
        two.transcript()
    );
}

#[test]
fn add_outside_a_project_asks_for_init_or_the_user_scope() {
    let env = Env::new();
    let plain = env.root.join("plain");
    std::fs::create_dir(&plain).unwrap();
    let out = env.tend_in(
        &plain,
        &["add", "x", "--cron", "0 9 * * *", "--prompt", "p"],
    );
    out.code(2);
    assert_eq!(
        out.stderr,
        "error: not inside a project (no `.tend/` or git repository here or above)\n  hint: run `tend init` in your repository first, or pass --scope user for a task of your own\n"
    );
}

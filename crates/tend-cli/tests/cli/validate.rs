//! `tend validate`: every problem with `file:line:col`, a hint, and exit code 2.

use pretty_assertions::assert_eq;
use serde_json::json;

use crate::common::Env;

/// One file with one mistake of each kind a task file can have, in order.
const MANY_ERRORS: &str = r#"+++
description = 42
schedule = "0 25 * * *"
timezone = "Europe/Berln"
mode = "yolo"
timeout = "20 parsecs"
max_turns = 5000
budget_usd = "lots"
colour = "blue"
catch_up = "sometimes"
overlap = "skip"
jitter = "-5m"
model = "claude"

[[input]]
log = ""

[permissions]
allow = ["bash(cargo test *)", "frobnicate(x)"]
deny = ["bash(rm -rf *"]

[sandbox]
network = ["https://crates.io/"]

[notify]
on = ["proposal", "explosion"]
+++
Do it.
"#;

/// Splits validate's stderr into its error blocks.
fn blocks(stderr: &str) -> Vec<&str> {
    stderr
        .split("\n\n")
        .map(str::trim_end)
        .filter(|b| !b.is_empty())
        .collect()
}

#[test]
fn every_error_in_a_file_has_its_position_and_a_hint() {
    let env = Env::new();
    env.write_task("many", MANY_ERRORS);
    let out = env.tend(&["validate"]);
    out.code(2);
    assert_eq!(out.stdout, "1 task file(s) checked: 1 with errors\n");
    insta::assert_snapshot!(out.stderr);

    let blocks = blocks(&out.stderr);
    assert_eq!(blocks.len(), 16, "{}", out.stderr);
    let mut without_hint = Vec::new();
    for block in &blocks {
        let first = block.lines().next().unwrap();
        let (position, _) = first.split_once(": error: ").unwrap();
        let mut parts = position.rsplitn(3, ':');
        let col: usize = parts.next().unwrap().parse().unwrap();
        let line: usize = parts.next().unwrap().parse().unwrap();
        assert_eq!(parts.next(), Some(".tend/tasks/many.md"), "{first}");
        assert!(line >= 2 && col >= 1, "{first}");
        if !block.contains("\n  hint: ") {
            without_hint.push(first);
        }
    }
    // These classes of error come from tend-config without a hint yet (reported to the lead);
    // the list must shrink, never grow.
    assert_eq!(
        without_hint,
        vec![
            ".tend/tasks/many.md:2:15: error: `description` must be a string, not an integer",
            ".tend/tasks/many.md:7:13: error: `max_turns` must be an integer from 1 to 1000, not 5000",
            ".tend/tasks/many.md:16:7: error: `input[0].log` is empty",
        ]
    );
}

#[test]
fn problems_with_the_file_as_a_whole() {
    // The invalid TOML error has no hint yet (reported to the lead); see the snapshot.
    let env = Env::new();
    env.write_task(
        "syntax",
        "+++\nschedule = \"0 9 * * *\nmode = \"propose\"\n+++\nx\n",
    );
    env.write_task("no-front-matter", "Just a prompt.\n");
    env.write_task("no-schedule", "+++\nmode = \"propose\"\n+++\nx\n");
    env.write_task("no-prompt", "+++\nschedule = \"every 30m\"\n+++\n");
    env.write_task(
        "mixed-up",
        "+++\nschedule = \"@daily\"\nanchor = \"2026-01-01 09:00\"\nengine = \"claude\"\ncommand = \"make\"\n+++\nhi\n",
    );
    env.write_task("Bad Name", "+++\nschedule = \"manual\"\n+++\nx\n");
    let out = env.tend(&["validate"]);
    out.code(2);
    assert_eq!(out.stdout, "6 task file(s) checked: 6 with errors\n");
    insta::assert_snapshot!(out.stderr);
}

#[test]
fn validate_a_file_a_folder_or_a_project_root() {
    let env = Env::new();
    env.tend(&["add", "good", "--cron", "0 9 * * *", "--prompt", "p"])
        .ok();
    env.write_task(
        "bad",
        "+++\nschedule = \"0 9 * * *\"\nmode = \"yolo\"\n+++\nx\n",
    );
    let loose = env.root.join("loose");
    std::fs::create_dir(&loose).unwrap();
    std::fs::write(
        loose.join("solo.md"),
        "+++\nschedule = \"@hourly\"\n+++\nx\n",
    )
    .unwrap();
    let outside = &env.root;

    let good_file = env.tend_in(outside, &["validate", "repo/.tend/tasks/good.md"]);
    good_file.ok();
    assert_eq!(good_file.stdout, "1 task file(s) checked: all valid\n");
    assert_eq!(good_file.stderr, "");

    let bad_file = env.tend_in(outside, &["validate", "repo/.tend/tasks/bad.md"]);
    bad_file.code(2);
    let bad_error = "repo/.tend/tasks/bad.md:3:8: error: unknown mode `yolo`\n  hint: use one of: read-only, propose, auto\n\n";
    assert_eq!(
        (bad_file.stdout.as_str(), bad_file.stderr.as_str()),
        ("1 task file(s) checked: 1 with errors\n", bad_error)
    );

    for path in ["repo/.tend/tasks", "repo"] {
        let out = env.tend_in(outside, &["validate", path]);
        out.code(2);
        assert_eq!(
            (out.stdout.as_str(), out.stderr.as_str()),
            ("2 task file(s) checked: 1 with errors\n", bad_error),
            "validate {path}"
        );
    }

    // A folder that is not a project: its own `*.md` files.
    let folder = env.tend_in(outside, &["validate", "loose"]);
    folder.ok();
    assert_eq!(folder.stdout, "1 task file(s) checked: all valid\n");

    let missing = env.tend_in(outside, &["validate", "nothere.md"]);
    missing.code(2);
    assert_eq!(
        (missing.stdout.as_str(), missing.stderr.as_str()),
        (
            "",
            "error: nothere.md: no such file or folder\n  hint: give task files (`.tend/tasks/NAME.md`) or folders that hold them\n"
        )
    );
}

#[test]
fn validate_json_lists_each_file() {
    let env = Env::new();
    env.tend(&["add", "good", "--cron", "0 9 * * *", "--prompt", "p"])
        .ok();
    env.write_task(
        "bad",
        "+++\nschedule = \"0 9 * * *\"\ntimezone = \"Mars/Base\"\n+++\nx\n",
    );
    let out = env.tend(&["validate", "--json"]);
    out.code(2);
    assert_eq!(
        out.json(),
        json!({
            "checked": 2,
            "valid": 1,
            "files": [
                {
                    "path": ".tend/tasks/bad.md",
                    "ok": false,
                    "errors": [{
                        "line": 3,
                        "col": 12,
                        "message": "unknown time zone `Mars/Base`",
                        "hint": "Time zones are IANA names like `Europe/Berlin` or `UTC`",
                    }],
                },
                { "path": ".tend/tasks/good.md", "ok": true, "errors": [] },
            ],
        })
    );
}

#[test]
fn validate_with_nothing_to_check_succeeds() {
    let env = Env::new();
    let out = env.tend(&["validate"]);
    out.ok();
    assert_eq!(out.stdout, "no task files found\n");
}

//! `tend list` and `tend list --json`.

use pretty_assertions::assert_eq;
use serde_json::json;

use crate::common::Env;

fn setup() -> Env {
    let env = Env::new();
    env.tend(&[
        "add",
        "triage",
        "--cron",
        "0 */4 * * *",
        "--timezone",
        "Europe/Berlin",
        "--description",
        "Triage new errors",
        "--prompt",
        "Triage.",
    ])
    .ok();
    env.tend(&["add", "poll", "--every", "30m", "--prompt", "Poll."])
        .ok();
    env.tend(&["add", "byhand", "--manual", "--prompt", "By hand."])
        .ok();
    env.tend(&[
        "add",
        "mine",
        "--scope",
        "user",
        "--cron",
        "30 2 * * *",
        "--tz",
        "America/New_York",
        "--prompt",
        "Mine.",
    ])
    .ok();
    env.write_task(
        "broken",
        "+++\nschedule = \"0 9 * * *\"\ntimezon = \"UTC\"\n+++\nHi\n",
    );
    env
}

#[test]
fn list_shows_project_and_user_tasks_and_flags_broken_files() {
    let env = setup();
    let out = env.tend(&["list"]);
    out.ok();
    insta::assert_snapshot!(out.transcript());
}

#[test]
fn list_json_is_one_row_per_task_with_every_field() {
    let env = setup();
    let out = env.tend(&["list", "--json"]);
    out.ok();
    // The warning goes to stderr, so stdout stays valid JSON.
    assert_eq!(
        out.stderr,
        "warning: 1 task file(s) have errors and will not run; `tend validate` shows them\n"
    );
    let row = |name: &str, schedule: &str, tz: &str, next: serde_json::Value| {
        json!({
            "name": name,
            "project": "repo",
            "path": format!(".tend/tasks/{name}.md"),
            "description": null,
            "schedule": schedule,
            "timezone": tz,
            "state": "active",
            "next": next,
            "last_run": null,
            "errors": [],
        })
    };
    let at = |t: &str| json!({ "due": t, "fire_at": t });
    let mut triage = row(
        "triage",
        "0 */4 * * *",
        "Europe/Berlin",
        at("2026-03-07T16:00:00+01:00"),
    );
    triage["description"] = json!("Triage new errors");
    let mut mine = row(
        "mine",
        "30 2 * * *",
        "America/New_York",
        // New York springs forward on 2026-03-08: 02:30 does not exist, the slot is 03:00.
        at("2026-03-08T03:00:00-04:00"),
    );
    mine["project"] = json!("user");
    mine["path"] = json!("[TMP]/home/config/tasks/mine.md");
    let expected = json!([
        row("byhand", "manual", "UTC", json!(null)),
        row("poll", "every 30m", "UTC", at("2026-03-07T12:30:00+00:00")),
        triage,
        mine,
        {
            "name": "broken",
            "project": "repo",
            "path": ".tend/tasks/broken.md",
            "description": null,
            "schedule": "",
            "timezone": null,
            "state": "invalid",
            "next": null,
            "last_run": null,
            "errors": [
                ".tend/tasks/broken.md:3:1: error: unknown key `timezon`\n  hint: did you mean `timezone`?"
            ],
        },
    ]);
    assert_eq!(out.json(), expected);
}

#[test]
fn list_with_no_tasks_says_how_to_make_one() {
    let env = Env::new();
    let out = env.tend(&["list"]);
    out.ok();
    assert_eq!(
        out.stdout,
        "No tasks yet. Create one with `tend init` or `tend add NAME --cron \"0 9 * * 1-5\" --prompt \"...\"`.\n"
    );
    let json = env.tend(&["list", "--json"]);
    json.ok();
    assert_eq!(json.json(), json!([]));
}

#[test]
fn list_includes_other_registered_projects_and_notes_vanished_ones() {
    let env = Env::new();
    let other = env.root.join("other");
    env.git_repo(&other);
    let gone = env.root.join("gone");
    env.git_repo(&gone);
    env.tend(&["add", "triage", "--cron", "0 9 * * *", "--prompt", "Here."])
        .ok();
    env.tend_in(
        &other,
        &[
            "add",
            "nightly",
            "--cron",
            "0 1 * * *",
            "--prompt",
            "There.",
        ],
    )
    .ok();
    env.tend_in(
        &gone,
        &["add", "old", "--cron", "0 2 * * *", "--prompt", "Gone."],
    )
    .ok();
    std::fs::remove_dir_all(&gone).unwrap();

    let out = env.tend(&["list"]);
    out.ok();
    insta::assert_snapshot!(out.transcript());
}

//! `tend pause` and `tend resume`, as list and show see them.

use pretty_assertions::assert_eq;
use serde_json::json;

use crate::common::{Env, transcripts};

fn state_in_list(env: &Env) -> serde_json::Value {
    let out = env.tend(&["list", "--json"]);
    out.ok();
    out.json()[0]["state"].clone()
}

#[test]
fn pause_and_resume_show_everywhere_and_are_idempotent() {
    let env = Env::new();
    env.tend(&["add", "triage", "--cron", "0 */4 * * *", "--prompt", "p"])
        .ok();
    let before = env.read(&env.task_path("triage"));
    assert_eq!(state_in_list(&env), json!("active"));

    let pause = env.tend(&["pause", "triage"]);
    pause.ok();
    let pause_again = env.tend(&["pause", "triage"]);
    pause_again.ok();
    let list = env.tend(&["list"]);
    list.ok();
    assert_eq!(state_in_list(&env), json!("paused"));
    let show = env.tend(&["show", "triage", "--json"]);
    show.ok();
    assert_eq!(
        (
            show.json()["state"].clone(),
            show.json()["paused_at"].clone()
        ),
        (json!("paused"), json!("2026-03-07T12:00:00+00:00"))
    );
    let show_text = env.tend(&["show", "triage"]);
    assert!(
        show_text.stdout.contains("\nstate     paused\n"),
        "{}",
        show_text.transcript()
    );

    let resume = env.tend(&["resume", "triage"]);
    resume.ok();
    let resume_again = env.tend(&["resume", "triage"]);
    resume_again.ok();
    assert_eq!(state_in_list(&env), json!("active"));
    assert_eq!(
        env.tend(&["show", "triage", "--json"]).json()["paused_at"],
        json!(null)
    );

    // Pausing is runtime state: the task file is not touched.
    assert_eq!(env.read(&env.task_path("triage")), before);
    insta::assert_snapshot!(transcripts([
        &pause,
        &pause_again,
        &list,
        &resume,
        &resume_again
    ]));
}

#[test]
fn pause_json_says_whether_anything_changed() {
    let env = Env::new();
    env.tend(&["add", "triage", "--cron", "0 */4 * * *", "--prompt", "p"])
        .ok();
    let outcome = |verb: &str| {
        let out = env.tend(&[verb, "triage", "--json"]);
        out.ok();
        out.json()
    };
    let expect = |paused: bool, changed: bool| json!({ "task": "triage", "project": "repo", "paused": paused, "changed": changed });
    assert_eq!(
        vec![
            outcome("pause"),
            outcome("pause"),
            outcome("resume"),
            outcome("resume")
        ],
        vec![
            expect(true, true),
            expect(true, false),
            expect(false, true),
            expect(false, false)
        ]
    );
}

#[test]
fn pausing_an_unknown_task_names_the_known_ones() {
    let env = Env::new();
    env.tend(&["add", "triage", "--cron", "0 */4 * * *", "--prompt", "p"])
        .ok();
    let out = env.tend(&["pause", "triag"]);
    out.code(2);
    assert_eq!(
        out.stderr,
        "error: no task named `triag`\n  hint: known tasks: triage\n"
    );
}

use std::path::Path;

use pretty_assertions::assert_eq;
use tend_policy::Rule;

use super::*;
use crate::task::Anchor;
use crate::units::Money;

const DESIGN_EXAMPLE: &str = crate::task::tests::DESIGN_EXAMPLE;
const PATH: &str = "/repo/.tend/tasks/triage.md";

fn load(text: &str) -> TaskFile {
    TaskFile::parse(Path::new(PATH), text, Scope::User).unwrap()
}

fn rule(text: &str) -> Rule {
    text.parse().unwrap()
}

fn round_trip(task: &TaskFile) {
    let rendered = render_task_file(&NewTask {
        def: task.def.clone(),
        prompt: task.prompt.clone(),
    });
    let back = load(&rendered);
    assert_eq!(
        (&back.def, &back.prompt),
        (&task.def, &task.prompt),
        "{rendered}"
    );
}

#[test]
fn design_example_renders_cleanly_and_loads_back_equal() {
    let task = load(DESIGN_EXAMPLE);
    round_trip(&task);
    let rendered = render_task_file(&NewTask {
        def: task.def.clone(),
        prompt: task.prompt.clone(),
    });
    insta::assert_snapshot!(rendered);
}

#[test]
fn every_key_round_trips() {
    let text = r#"+++
description = "Everything"
schedule = "every 30m"
timezone = "America/New_York"
anchor = "2026-01-01T09:15:00Z"
jitter = "5m"
engine = "command"
command = "./nightly.sh"
model = "openai:gpt-5"
mode = "read-only"
timeout = "1h30m"
max_turns = 7
budget_usd = "$0.000001"
catch_up = "all"
catch_up_window = "2d"
overlap = "replace"
retry_interrupted = true
approval_timeout = "8h"
output = "reports/{task}/{date}-{time}-{run}.md"
open_pr = true
enabled = false

[[input]]
name = "prs"
command = "gh pr list"
timeout = "30s"
max_bytes = 4096

[[input]]
file = "TODO.md"

[when]
inputs_changed = true
check = "test -f x"

[permissions]
allow = ["edit(src/**)"]
deny = ["read(~/.ssh/**)"]

[sandbox]
mode = "off"
network = ["*.github.com"]
allow_write = ["/tmp/cache"]
max_disk = "20MB"

[mcp.servers.files]
command = "npx"
args = ["-y", "server"]
env = { DEBUG = "1", "WEIRD KEY" = "x" }
cwd = "tools"
call_timeout = "1m"
enabled = false

[mcp.servers.remote]
url = "https://example.com/mcp"
headers = { "X-Team" = "core" }
bearer_token_env = "REMOTE_TOKEN"
startup_timeout = "10s"

[notify]
on = ["success", "failure"]
channels = ["desk"]
+++
Line one.

Line "two" with +++ inside.
"#;
    let task = load(text);
    assert_eq!(task.def.budget_usd, Some(Money::from_micros(1)));
    assert!(matches!(task.def.anchor, Some(Anchor::Instant(_))));
    round_trip(&task);
}

#[test]
fn minimal_task_renders_only_what_it_says() {
    let task = load("+++\nschedule = \"manual\"\n+++\nDo it.\n");
    let rendered = render_task_file(&NewTask {
        def: task.def.clone(),
        prompt: task.prompt.clone(),
    });
    assert_eq!(
        rendered,
        "+++\nschedule = \"manual\"\nengine = \"builtin\"\n+++\nDo it.\n"
    );
    round_trip(&task);
    let sandbox_off = load("+++\nschedule = \"manual\"\nsandbox = \"off\"\n+++\nDo it.\n");
    round_trip(&sandbox_off);
    let local_anchor =
        load("+++\nschedule = \"every 1d\"\nanchor = \"2026-03-29 02:30\"\n+++\nDo it.\n");
    round_trip(&local_anchor);
}

fn add(text: &str, r: &str) -> Option<String> {
    add_allow_rule_to_text(Path::new(PATH), text, &rule(r)).unwrap()
}

#[test]
fn add_allow_rule_changes_only_the_allow_list() {
    let new = add(DESIGN_EXAMPLE, "bash(cargo build *)").unwrap();
    let expected = DESIGN_EXAMPLE.replace(
        "allow = [\"bash(cargo test *)\"]",
        "allow = [\"bash(cargo test *)\", \"bash(cargo build *)\"]",
    );
    assert_eq!(new, expected);
    assert_eq!(
        load(&new).def.permissions.allow,
        vec![rule("bash(cargo test *)"), rule("bash(cargo build *)")]
    );
}

#[test]
fn add_allow_rule_keeps_multi_line_layout_and_comments() {
    let text = "+++\n# my task\nschedule = \"manual\" # by hand\n\n[permissions]\nallow = [\n    \"bash(ls *)\",   # listing\n    \"edit(src/**)\",\n]\ndeny = [\"bash(rm *)\"]\n+++\n\nPrompt  \n+++ not a fence\n";
    let expected = "+++\n# my task\nschedule = \"manual\" # by hand\n\n[permissions]\nallow = [\n    \"bash(ls *)\",   # listing\n    \"edit(src/**)\",\n    \"bash(git push *)\",\n]\ndeny = [\"bash(rm *)\"]\n+++\n\nPrompt  \n+++ not a fence\n";
    assert_eq!(add(text, "bash(git push *)").unwrap(), expected);

    let spaced =
        "+++\nschedule = \"manual\"\n[permissions]\nallow = [ \"bash(ls *)\" ] # keep\n+++\nP\n";
    assert_eq!(
        add(spaced, "bash(pwd)").unwrap(),
        "+++\nschedule = \"manual\"\n[permissions]\nallow = [ \"bash(ls *)\", \"bash(pwd)\" ] # keep\n+++\nP\n"
    );
}

#[test]
fn add_allow_rule_creates_what_is_missing() {
    let no_table = "+++\nschedule = \"manual\" # comment\n[when]\ncheck = \"true\"\n+++\nP\n";
    assert_eq!(
        add(no_table, "bash(make *)").unwrap(),
        "+++\nschedule = \"manual\" # comment\n[when]\ncheck = \"true\"\n\n[permissions]\nallow = [\"bash(make *)\"]\n+++\nP\n"
    );
    let no_allow = "+++\nschedule = \"manual\"\n\n[permissions]\ndeny = [\"bash(rm *)\"]\n\n[notify]\non = [\"failure\"]\n+++\nP\n";
    assert_eq!(
        add(no_allow, "bash(make *)").unwrap(),
        "+++\nschedule = \"manual\"\n\n[permissions]\ndeny = [\"bash(rm *)\"]\nallow = [\"bash(make *)\"]\n\n[notify]\non = [\"failure\"]\n+++\nP\n"
    );
    let inline = "+++\nschedule = \"manual\"\npermissions = { allow = [\"bash(ls)\"] }\n+++\nP\n";
    assert_eq!(
        add(inline, "bash(pwd)").unwrap(),
        "+++\nschedule = \"manual\"\npermissions = { allow = [\"bash(ls)\", \"bash(pwd)\"] }\n+++\nP\n"
    );
}

#[test]
fn add_allow_rule_is_idempotent_and_refuses_broken_files() {
    assert_eq!(add(DESIGN_EXAMPLE, "bash(cargo test *)"), None);
    let broken = "+++\nschedule = \"manual\"\ntimeout = 5\n+++\nP\n";
    let err = add_allow_rule_to_text(Path::new(PATH), broken, &rule("bash(ls)")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "/repo/.tend/tasks/triage.md:3:11: error: `timeout` must be a string, not an integer\n  hint: write durations as strings with a unit: `timeout = \"20m\"`"
    );
}

#[test]
fn add_allow_rule_writes_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("triage.md");
    std::fs::write(&path, DESIGN_EXAMPLE).unwrap();
    assert_eq!(
        add_allow_rule(&path, &rule("bash(cargo fmt)")).unwrap(),
        AddRuleOutcome::Added
    );
    assert_eq!(
        add_allow_rule(&path, &rule("bash(cargo fmt)")).unwrap(),
        AddRuleOutcome::AlreadyPresent
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("allow = [\"bash(cargo test *)\", \"bash(cargo fmt)\"]"));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1);
    assert!(matches!(
        add_allow_rule(&dir.path().join("missing.md"), &rule("bash(ls)")),
        Err(EditError::Read { .. })
    ));
}

#[test]
fn every_schedule_form_round_trips() {
    for schedule in [
        "0 */4 * * *",
        "0 9 * * MON-FRI",
        "30 0 9 * * * 2027",
        "@daily",
        "every 30m",
        "every 2 hours",
        "at 2026-12-01 09:00",
        "manual",
    ] {
        let task = load(&format!("+++\nschedule = \"{schedule}\"\n+++\nP\n"));
        round_trip(&task);
    }
}

#[test]
fn create_task_file_writes_a_loadable_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let tasks = dir.path().join(".tend/tasks");
    let mut new = NewTask::new(
        crate::task::Schedule::parse("@daily").unwrap(),
        "Check the build.",
    );
    new.def.mode = Some(tend_policy::Mode::ReadOnly);
    let path = create_task_file(&tasks, "ci-watch", &new, Existing::Refuse).unwrap();
    assert_eq!(path, tasks.join("ci-watch.md"));
    let loaded = TaskFile::load(&path, Scope::User).unwrap();
    assert_eq!(
        (loaded.def, loaded.prompt),
        (new.def.clone(), new.prompt.clone())
    );
    assert!(matches!(
        create_task_file(&tasks, "ci-watch", &new, Existing::Refuse),
        Err(EditError::Exists { .. })
    ));
    // Replacing writes the new definition; no temporary file is left behind.
    let mut changed = new.clone();
    changed.def.mode = Some(tend_policy::Mode::Auto);
    create_task_file(&tasks, "ci-watch", &changed, Existing::Replace).unwrap();
    let reloaded = TaskFile::load(&path, Scope::User).unwrap();
    assert_eq!(reloaded.def.mode, Some(tend_policy::Mode::Auto));
    let names: Vec<String> = std::fs::read_dir(&tasks)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["ci-watch.md".to_owned()]);
    let bad_name = create_task_file(&tasks, "CI Watch", &new, Existing::Refuse).unwrap_err();
    assert!(
        bad_name
            .to_string()
            .contains("`CI Watch` is not a valid task name")
    );
    let no_prompt = NewTask::new(crate::task::Schedule::Manual, "");
    let err = create_task_file(&tasks, "empty", &no_prompt, Existing::Refuse).unwrap_err();
    assert!(err.to_string().contains("the task has no prompt"));
    assert!(!tasks.join("empty.md").exists());
}

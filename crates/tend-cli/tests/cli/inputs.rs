//! Inputs, the `[when]` gate and the task's memory through `tend run`, against the scripted
//! model: a gate that says no runs nothing and calls no model (`--force` runs anyway); new log
//! lines reach the model once; notes a run writes are in the next run's system prompt.

use std::io::Write as _;
use std::path::Path;

use pretty_assertions::assert_eq;
use serde_json::json;
use tend_mock_model::{MockContent, MockModel, Reply, Script, Step};

use crate::common::{Env, Out};

struct Live {
    _rt: tokio::runtime::Runtime,
    mock: MockModel,
}

fn live(script: Script) -> Live {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mock = rt.block_on(MockModel::start(script)).unwrap();
    Live { _rt: rt, mock }
}

fn tend(env: &Env, live: &Live, args: &[&str]) -> Out {
    let mut cmd = env.command(&env.repo, args);
    cmd.env("ANTHROPIC_BASE_URL", live.mock.base_url())
        .env("ANTHROPIC_API_KEY", "test-key");
    env.finish(args, &mut cmd)
}

fn task(env: &Env, mode: &str, extra: &str) {
    env.write_task(
        "watch",
        &format!(
            "+++\nschedule = \"manual\"\nmodel = \"anthropic:claude-sonnet-4-5\"\nmode = \"{mode}\"\n{extra}\n+++\nTriage the new errors.\n"
        ),
    );
}

fn log(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn report(summary: &str) -> Step {
    Step::tool_use(
        "report",
        json!({"status": "nothing-to-do", "summary": summary}),
    )
}

fn run_count(env: &Env) -> usize {
    let out = env.tend(&["runs", "--json"]);
    out.ok();
    out.json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "run")
        .count()
}

#[test]
fn the_gate_skips_a_run_without_new_input_and_never_calls_the_model() {
    let env = Env::new();
    let api_log = env.root.join("api.log");
    std::fs::write(&api_log, "").unwrap();
    task(
        &env,
        "read-only",
        &format!(
            "\n[[input]]\nlog = \"{}\"\nname = \"api\"\n\n[when]\ninputs_changed = true",
            api_log.display()
        ),
    );
    let live = live(Script::new([
        Step::Reply(
            Reply::new(vec![MockContent::tool_use(
                "report",
                json!({"status": "nothing-to-do", "summary": "One error, known."}),
            )])
            .expecting("ERROR boom"),
        ),
        report("Forced."),
    ]));
    let skipped = tend(&env, &live, &["run", "watch"]);
    skipped.ok();
    assert_eq!(
        skipped.stdout,
        "repo/watch: not run, the task's [when] gate says no (gate: no new input); `--force` runs it anyway\n"
    );
    assert_eq!(live.mock.requests().len(), 0);
    assert_eq!(run_count(&env), 0);

    log(&api_log, "ERROR boom\n");
    tend(&env, &live, &["run", "watch"]).ok();
    assert_eq!(live.mock.requests().len(), 1);
    // The line is taken: the gate says no again, and the model is not asked.
    let again = tend(&env, &live, &["run", "watch"]);
    again.ok();
    assert!(
        again.stdout.contains("gate: no new input"),
        "{}",
        again.stdout
    );
    assert_eq!(live.mock.requests().len(), 1);
    let forced = tend(&env, &live, &["run", "--force", "watch"]);
    forced.ok();
    assert_eq!(live.mock.requests().len(), 2);
    assert_eq!(run_count(&env), 2);
}

#[test]
fn a_failing_check_command_skips_the_run() {
    let env = Env::new();
    task(&env, "read-only", "\n[when]\ncheck = \"test -e ready\"");
    let live = live(Script::new([report("Ready.")]));
    let skipped = tend(&env, &live, &["run", "watch"]);
    skipped.ok();
    assert!(
        skipped.stdout.contains("(gate: check exited 1)"),
        "{}",
        skipped.stdout
    );
    std::fs::write(env.repo.join("ready"), "").unwrap();
    let ran = tend(&env, &live, &["run", "watch"]);
    ran.ok();
    assert!(
        ran.stdout.contains("nothing-to-do: succeeded"),
        "{}",
        ran.stdout
    );
    assert_eq!(live.mock.requests().len(), 1);
}

#[test]
fn the_next_run_reads_the_notes_the_last_one_wrote() {
    let env = Env::new();
    task(&env, "propose", "");
    let live = live(Script::new([
        // Run 1 finds an error and notes that it reported it.
        Step::tool_use(
            "write",
            json!({"path": ".tend/memory/watch.md", "content": "Reported already: E42 (timeout in /api/pay).\n"}),
        ),
        report("Reported E42."),
        // Run 2's system prompt holds the note.
        Step::Reply(
            Reply::new(vec![MockContent::tool_use(
                "report",
                json!({"status": "nothing-to-do", "summary": "E42 was reported before."}),
            )])
            .expecting("Task memory:\nReported already: E42 (timeout in /api/pay)."),
        ),
    ]));
    let first = tend(&env, &live, &["run", "watch"]);
    first.ok();
    let second = tend(&env, &live, &["run", "watch"]);
    second.ok();
    assert!(
        second.stdout.contains("E42 was reported before."),
        "{}",
        second.stdout
    );
    let system = &live.mock.requests()[2].body["system"];
    assert!(
        system.to_string().contains("Reported already: E42"),
        "{system}"
    );
    // The notes stay out of the user's checkout and out of any proposal.
    assert!(!env.repo.join(".tend/memory/watch.md").exists());
    let out = env.tend(&["runs", "--json"]);
    let proposals = out
        .json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["proposal"].is_null())
        .count();
    assert_eq!(proposals, 0);
}

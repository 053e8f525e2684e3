//! Durable approvals through the binary: a run parks on `git push`, `tend approvals` lists it,
//! `tend approve`/`deny` resume it in another process, `--always` adds the allow rule, and an
//! unanswered request expires keeping the work.

use std::path::{Path, PathBuf};
use std::process::Command;

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use tend_mock_model::{MockModel, Script, Step};

use crate::common::Env;

const TASK: &str = "+++\nschedule = \"manual\"\nmodel = \"anthropic:claude-sonnet-4-5\"\nmode = \"MODE\"\napproval_timeout = \"1h\"\n+++\nFix the greeting, then push it.\n";

fn repo(env: &Env, mode: &str) -> PathBuf {
    let repo = env.root.join("greet");
    std::fs::create_dir_all(repo.join(".tend/tasks")).unwrap();
    std::fs::write(repo.join("greet.sh"), "echo goodbye\n").unwrap();
    std::fs::write(repo.join(".tend/tasks/ship.md"), TASK.replace("MODE", mode)).unwrap();
    for args in [
        vec!["init", "-q", "-b", "main"],
        vec!["add", "."],
        vec![
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            "greet",
        ],
    ] {
        let out = Command::new("git")
            .arg("-C")
            .arg(&repo)
            .args(&args)
            .output()
            .unwrap();
        assert!(out.status.success());
    }
    repo
}

fn script() -> Script {
    Script::new([
        Step::tool_use(
            "edit",
            json!({"path": "greet.sh", "old_string": "goodbye", "new_string": "hello"}),
        ),
        Step::tool_use("bash", json!({"command": "git push origin main"})),
        Step::tool_use(
            "report",
            json!({"status": "changed", "summary": "Greeting fixed."}),
        ),
    ])
}

struct Live {
    rt: tokio::runtime::Runtime,
    mock: MockModel,
}

fn live(script: Script) -> Live {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mock = rt.block_on(MockModel::start(script)).unwrap();
    Live { rt, mock }
}

fn tend(env: &Env, live: &Live, repo: &Path, args: &[&str]) -> crate::common::Out {
    let mut cmd = env.command(repo, args);
    cmd.env("ANTHROPIC_BASE_URL", live.mock.base_url())
        .env("ANTHROPIC_API_KEY", "test-key")
        .env("USER", "ana");
    env.finish(args, &mut cmd)
}

fn approvals(env: &Env, repo: &Path) -> Vec<Value> {
    let out = env.tend_in(repo, &["approvals", "--json"]);
    out.ok();
    serde_json::from_str(&out.stdout).unwrap()
}

fn run_state(env: &Env, repo: &Path) -> (String, Option<String>) {
    let out = env.tend_in(repo, &["runs", "--json"]);
    let runs: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    let run = runs.iter().find(|r| r.get("state").is_some()).unwrap();
    (
        run["state"].as_str().unwrap().to_owned(),
        run["status"].as_str().map(str::to_owned),
    )
}

#[test]
fn a_parked_run_is_listed_and_approval_resumes_it_in_another_process() {
    let env = Env::new();
    let repo = repo(&env, "propose");
    let live = live(script());
    let parked = tend(&env, &live, &repo, &["run", "--local", "ship"]);
    parked.ok();
    assert!(
        parked.stdout.contains("⏸ bash waits for a human"),
        "{}",
        parked.stdout
    );
    assert!(
        parked.stdout.contains("needs-human: waiting_approval"),
        "{}",
        parked.stdout
    );
    let waiting = approvals(&env, &repo);
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0]["tool"], json!("bash"));
    assert_eq!(
        waiting[0]["arguments"],
        json!({"command": "git push origin main"})
    );
    assert_eq!(waiting[0]["task"], json!("ship"));
    assert_eq!(run_state(&env, &repo).0, "waiting_approval");
    let id = waiting[0]["id"].to_string();

    // Another process answers; the run resumes from its checkpoint and finishes.
    let approved = tend(&env, &live, &repo, &["approve", &id]);
    approved.ok();
    assert!(
        approved.stdout.starts_with(&format!(
            "approved approval {id}: bash: git push origin main"
        )),
        "{}",
        approved.stdout
    );
    assert!(
        approved.stdout.contains("▶ resumed: approved by ana"),
        "{}",
        approved.stdout
    );
    assert!(
        approved.stdout.contains("changed: succeeded"),
        "{}",
        approved.stdout
    );
    assert_eq!(
        run_state(&env, &repo),
        ("succeeded".into(), Some("changed".into()))
    );
    assert_eq!(approvals(&env, &repo).len(), 0);
    // Answering twice is refused.
    let again = env.tend_in(&repo, &["approve", &id]);
    again.code(2);
    assert_eq!(
        again.stderr,
        format!(
            "error: approval {id} was already approved\n  hint: `tend approvals` lists the ones waiting\n"
        )
    );
    live.rt.block_on(live.mock.shutdown());
}

#[test]
fn a_denial_reaches_the_model_and_the_run_goes_on() {
    let env = Env::new();
    let repo = repo(&env, "propose");
    let live = live(script());
    tend(&env, &live, &repo, &["run", "--local", "-q", "ship"]).ok();
    let id = approvals(&env, &repo)[0]["id"].to_string();
    tend(
        &env,
        &live,
        &repo,
        &["deny", &id, "--reason", "release freeze"],
    )
    .ok();
    let third = live.mock.requests()[2].body.to_string();
    assert!(
        third.contains("a human (ana) denied this call: release freeze"),
        "{third}"
    );
    assert_eq!(run_state(&env, &repo).0, "succeeded");
    live.rt.block_on(live.mock.shutdown());
}

#[test]
fn always_adds_the_allow_rule_so_the_next_run_does_not_ask() {
    let env = Env::new();
    // In auto mode an allow rule lets a push through; in propose mode it would still ask.
    let repo = repo(&env, "auto");
    let live_a = live(script());
    tend(&env, &live_a, &repo, &["run", "--local", "-q", "ship"]).ok();
    let id = approvals(&env, &repo)[0]["id"].to_string();
    let out = tend(&env, &live_a, &repo, &["approve", "--always", "-q", &id]);
    out.ok();
    assert!(
        out.stdout
            .contains("added allow rule `bash(git push *)` to .tend/tasks/ship.md"),
        "{}",
        out.stdout
    );
    let task = std::fs::read_to_string(repo.join(".tend/tasks/ship.md")).unwrap();
    assert!(task.contains("allow = [\"bash(git push *)\"]"), "{task}");
    live_a.rt.block_on(live_a.mock.shutdown());
    // The next run pushes without asking.
    let live_b = live(script());
    let second = tend(&env, &live_b, &repo, &["run", "--local", "ship"]);
    second.ok();
    assert!(
        !second.stdout.contains("waits for a human"),
        "{}",
        second.stdout
    );
    assert_eq!(approvals(&env, &repo).len(), 0);
    live_b.rt.block_on(live_b.mock.shutdown());
}

#[test]
fn an_unanswered_request_expires_and_the_work_is_kept() {
    let env = Env::new();
    let repo = repo(&env, "propose");
    let live = live(script());
    tend(&env, &live, &repo, &["run", "--local", "-q", "ship"]).ok();
    // Two hours later (approval_timeout is 1h).
    let mut cmd = env.command(&repo, &["approvals"]);
    cmd.env("TEND_NOW", "2026-03-07T14:00:00Z");
    let out = env.finish(&["approvals"], &mut cmd);
    out.ok();
    assert!(out.stderr.contains("expired; run"), "{}", out.stderr);
    assert!(
        out.stdout.contains("No approvals waiting."),
        "{}",
        out.stdout
    );
    assert_eq!(
        run_state(&env, &repo),
        ("expired".into(), Some("needs-human".into()))
    );
    let review = env.tend_in(&repo, &["review"]);
    assert!(
        review.stdout.contains("tend/ship/"),
        "the edit is a proposal: {}",
        review.stdout
    );
    live.rt.block_on(live.mock.shutdown());
}

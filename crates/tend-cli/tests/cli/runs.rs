//! `tend run`, `runs`, `logs`, `review`, `apply`, `discard` through the binary: the demo's
//! recorded session replayed against the real tools, and a live run against the scripted
//! model server.

use std::path::{Path, PathBuf};
use std::process::Command;

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use tend_mock_model::{ErrorReply, MockModel, Script, Step};

use crate::common::Env;

/// The repository's demo project (a failing test, its task, its recording), copied into the
/// test's folder and committed.
fn demo_repo(env: &Env) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../demo/calc");
    let repo = env.root.join("calc");
    copy_dir(&source, &repo);
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
            "calc",
        ],
    ] {
        let out = Command::new("git")
            .arg("-C")
            .arg(&repo)
            .args(&args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    repo
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn git(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Replaces run ids (`20260307-120000-abc123`) so output can be compared whole.
fn without_ids(text: &str, id: &str) -> String {
    text.replace(id, "[RUN]")
}

/// Replaces how long commands took (`in 0.1s`): a sandboxed command's time depends on the
/// machine's load.
fn without_durations(text: &str) -> String {
    text.lines()
        .map(|line| match line.split_once(" in ") {
            Some((head, rest)) => match rest.split_once("s  ") {
                Some((secs, tail)) if secs.parse::<f64>().is_ok() => {
                    format!("{head} in [T]s  {tail}")
                }
                _ => line.to_owned(),
            },
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + if text.ends_with('\n') { "\n" } else { "" }
}

fn runs_json(env: &Env, repo: &Path) -> Vec<Value> {
    let out = env.tend_in(repo, &["runs", "--json"]);
    out.ok();
    serde_json::from_str::<Vec<Value>>(&out.stdout).unwrap()
}

#[test]
fn the_demo_replays_fixes_the_test_and_the_proposal_can_be_applied() {
    let env = Env::new();
    let repo = demo_repo(&env);
    let calc_before = std::fs::read_to_string(repo.join("calc.sh")).unwrap();

    let run = env.tend_in(&repo, &["run", "fix-tests"]);
    run.ok();
    let runs = runs_json(&env, &repo);
    assert_eq!(runs.len(), 1);
    let id = runs[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (
            runs[0]["state"].as_str(),
            runs[0]["status"].as_str(),
            runs[0]["proposal"].as_str()
        ),
        (Some("succeeded"), Some("changed"), Some("pending"))
    );
    assert_eq!(
        without_durations(&without_ids(&run.stdout, &id)),
        "\
▶ calc/fix-tests · run [RUN] · branch tend/fix-tests/[RUN]
  replaying the recorded session .tend/recordings/fix-tests.json (no model is called; the tools run for real)
model replay:.tend/recordings/fix-tests.json (fixed prompt 3838 bytes)
I'll start by running the test suite.
  → bash sh test.sh
    ✗ exit 1 in [T]s  FAIL: add 2 3 = -1, want 5
`add 2 3` returns -1: it looks like add subtracts. Let me read calc.sh.
  → read calc.sh
    ✓ 6 lines
Line 4 uses `-` in add. Fixing it.
  → edit calc.sh
    ✓ 1 replacement
  → bash sh test.sh
    ✓ exit 0 in [T]s  all tests passed
  → write .tend/memory/fix-tests.md
    ✓ wrote 68 bytes
  → report changed
■ changed: Fixed `add` in calc.sh: it subtracted its arguments (`$1 - $2`) instead of adding them. `sh test.sh` now passes (all 3 checks).

changed: succeeded
  Fixed `add` in calc.sh: it subtracted its arguments (`$1 - $2`) instead of adding them. `sh test.sh` now passes (all 3 checks).
  report  [TMP]/home/state/runs/[RUN]/report.md
  branch  tend/fix-tests/[RUN]
  next    tend review [RUN] · tend apply [RUN] · tend discard [RUN]
"
    );
    // The user's checkout is untouched; the fix is on the run's branch.
    assert_eq!(git(&repo, &["status", "--porcelain"]), "");
    assert_eq!(
        std::fs::read_to_string(repo.join("calc.sh")).unwrap(),
        calc_before
    );
    assert!(
        git(&repo, &["show", &format!("tend/fix-tests/{id}:calc.sh")]).contains("$(( $1 + $2 ))")
    );

    // Review lists it, then shows its report and diff.
    let pending = env.tend_in(&repo, &["review"]);
    pending.ok();
    assert!(pending.stdout.contains(&id), "{}", pending.stdout);
    let shown = env.tend_in(&repo, &["review", &id[id.len() - 6..]]);
    shown.ok();
    assert!(
        shown.stdout.starts_with("# fix-tests: changed\n"),
        "{}",
        shown.stdout
    );
    assert!(
        shown
            .stdout
            .contains("-add() { echo $(( $1 - $2 )); }\n+add() { echo $(( $1 + $2 )); }"),
        "{}",
        shown.stdout
    );

    // The transcript reads back the same way.
    let logs = env.tend_in(&repo, &["logs", &id]);
    logs.ok();
    assert!(logs.stdout.contains("→ edit calc.sh"), "{}", logs.stdout);
    let raw = env.tend_in(&repo, &["logs", "--json", &id]);
    let kinds: Vec<String> = raw
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(kinds.first().map(String::as_str), Some("start"));
    assert_eq!(kinds.last().map(String::as_str), Some("end"));

    // Apply puts the fix in the working tree, uncommitted, and the tests pass there.
    env.tend_in(&repo, &["apply", &id]).ok();
    assert_eq!(git(&repo, &["status", "--porcelain"]), " M calc.sh\n");
    let test = Command::new("sh")
        .arg("test.sh")
        .current_dir(&repo)
        .output()
        .unwrap();
    assert!(test.status.success());
    assert_eq!(git(&repo, &["branch", "--list", "tend/*"]), "");
    assert_eq!(runs_json(&env, &repo)[0]["proposal"], json!("applied"));
    // Nothing is left to review, and a second apply or a discard says why not.
    assert!(
        env.tend_in(&repo, &["review"])
            .stdout
            .contains("No proposals waiting")
    );
    let again = env.tend_in(&repo, &["apply", &id]);
    again.code(2);
    assert_eq!(
        again.stderr,
        format!("error: run {id} was already applied\n")
    );
    env.tend_in(&repo, &["discard", &id]).code(2);
}

#[test]
fn a_discarded_proposal_loses_its_branch() {
    let env = Env::new();
    let repo = demo_repo(&env);
    env.tend_in(&repo, &["run", "--quiet", "fix-tests"]).ok();
    let id = runs_json(&env, &repo)[0]["id"].as_str().unwrap().to_owned();
    let out = env.tend_in(&repo, &["discard", &id]);
    out.ok();
    assert_eq!(
        out.stdout,
        format!("discarded run {id} and deleted branch tend/fix-tests/{id}\n")
    );
    assert_eq!(git(&repo, &["branch", "--list", "tend/*"]), "");
    assert_eq!(runs_json(&env, &repo)[0]["proposal"], json!("discarded"));
}

#[test]
fn a_live_run_against_a_flaky_model_endpoint_records_retries_and_succeeds() {
    let env = Env::new();
    let repo = demo_repo(&env);
    let task = repo.join(".tend/tasks/fix-tests.md");
    let text = std::fs::read_to_string(&task).unwrap().replace(
        "model = \"replay:.tend/recordings/fix-tests.json\"",
        "model = \"anthropic:claude-sonnet-4-5\"",
    );
    std::fs::write(&task, text).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mock = rt
        .block_on(MockModel::start(Script::new([
            Step::Error(ErrorReply::new(529).retry_after("0")),
            Step::Error(ErrorReply::new(429).retry_after("0")),
            Step::Error(ErrorReply::new(500).retry_after("0")),
            Step::tool_use(
                "report",
                json!({"status": "nothing-to-do", "summary": "Checked."}),
            ),
        ])))
        .unwrap();
    let mut cmd = env.command(&repo, &["run", "fix-tests"]);
    cmd.env("ANTHROPIC_BASE_URL", mock.base_url())
        .env("ANTHROPIC_API_KEY", "test-key");
    let out = env.finish(&["run", "fix-tests"], &mut cmd);
    out.ok();
    assert_eq!(
        out.stdout.matches("retrying in 0.0s").count(),
        3,
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("nothing-to-do: succeeded"),
        "{}",
        out.stdout
    );
    assert_eq!(mock.requests().len(), 4);
    // The key went to the model server, and nowhere into tend's files.
    assert_eq!(mock.requests()[3].header("x-api-key"), Some("test-key"));
    let id = runs_json(&env, &repo)[0]["id"].as_str().unwrap().to_owned();
    let transcript =
        std::fs::read_to_string(env.home.join(format!("state/runs/{id}/transcript.jsonl")))
            .unwrap();
    assert!(!transcript.contains("test-key"));
    rt.block_on(mock.shutdown());
}

#[test]
fn a_task_without_a_model_or_key_fails_with_a_clear_error() {
    let env = Env::new();
    let repo = demo_repo(&env);
    let task = repo.join(".tend/tasks/fix-tests.md");
    let text = std::fs::read_to_string(&task).unwrap().replace(
        "model = \"replay:.tend/recordings/fix-tests.json\"",
        "model = \"anthropic:claude-sonnet-4-5\"",
    );
    std::fs::write(&task, text).unwrap();
    let out = env.tend_in(&repo, &["run", "fix-tests"]);
    out.code(2);
    assert!(out.stderr.contains("ANTHROPIC_API_KEY"), "{}", out.stderr);
    // No run was started: nothing to clean up.
    assert_eq!(runs_json(&env, &repo).len(), 0);
}

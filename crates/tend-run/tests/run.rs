//! Whole runs: a real git repository with a failing test, the scripted model server over
//! HTTP, the real tools, a real store. The run's branch holds the fix; the user's checkout
//! is untouched.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use pretty_assertions::assert_eq;
use serde_json::json;
use tend_agent::Resolution;
use tend_agent::{AgentEvent, ReportStatus};
use tend_config::{
    Config, FixedClock, MachineZone, Paths, ResolvedTask, Scope, TaskFile, ZoneName,
};
use tend_mock_model::{ErrorReply, MockContent, MockModel, Script, Step};
use tend_run::{
    Closing, RunRequest, Runner, StopReason, StopSignal, close_parked, execute, execute_with_stop,
    model_choice, resume_with_stop, stop_pair, transcript,
};
use tend_store::{NewRun, RunState, Store, TaskKey, Trigger};

const CALC: &str = "add() { echo $(( $1 - $2 )); }\n";
const TEST: &str = "#!/bin/sh\n. ./calc.sh\ngot=$(add 2 3)\n[ \"$got\" = 5 ] || { echo \"FAIL: add 2 3 = $got, want 5\"; exit 1; }\necho ok\n";

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

struct Setup {
    _tmp: tempfile::TempDir,
    repo: PathBuf,
    paths: Paths,
    store: Store,
    clock: FixedClock,
}

async fn setup(task_front_matter: &str) -> Setup {
    // Shell commands run in the real sandbox, entered through this crate's helper binary.
    tend_run::set_sandbox_helper(env!("CARGO_BIN_EXE_tend-run-sandbox-exec").into());
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(repo.join(".tend/tasks")).unwrap();
    std::fs::write(repo.join("calc.sh"), CALC).unwrap();
    std::fs::write(repo.join("test.sh"), TEST).unwrap();
    std::fs::write(repo.join("AGENTS.md"), "Test with `sh test.sh`.\n").unwrap();
    std::fs::write(
        repo.join(".tend/tasks/fix.md"),
        format!("+++\n{task_front_matter}\n+++\nRun the tests; if they fail, fix the code.\n"),
    )
    .unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(
        &repo,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            "init",
        ],
    );
    let paths = Paths::under(
        tmp.path().join("home/config"),
        tmp.path().join("home/state"),
    );
    let store = Store::open(&paths.db_path).await.unwrap();
    let clock = FixedClock::new("2026-11-25T10:00:00Z".parse().unwrap());
    Setup {
        _tmp: tmp,
        repo,
        paths,
        store,
        clock,
    }
}

/// The request to run (or resume) the task `fix` against `mock`.
async fn request(s: &Setup, mock: &MockModel, run_id: Option<tend_store::RunId>) -> RunRequest {
    let repo = s.repo.canonicalize().unwrap();
    let file = TaskFile::load(
        &repo.join(".tend/tasks/fix.md"),
        Scope::Project { root: repo.clone() },
    )
    .unwrap();
    let task = ResolvedTask::resolve(
        &file,
        &Config::default(),
        &MachineZone::fixed(ZoneName::utc()),
    )
    .unwrap();
    let now = s.clock.now();
    s.store.register_project(&repo, now).await.unwrap();
    let state = s
        .store
        .ensure_task(&TaskKey::project(repo.clone(), "fix"), now)
        .await
        .unwrap();
    let run_id = match run_id {
        Some(id) => id,
        None => {
            s.store
                .create_run(&NewRun {
                    task: state.id,
                    trigger: Trigger::Manual,
                    created_at: now,
                })
                .await
                .unwrap()
                .id
        }
    };
    let base = mock.base_url();
    let env = move |name: &str| match name {
        "ANTHROPIC_API_KEY" => Some("test-key".to_owned()),
        "ANTHROPIC_BASE_URL" => Some(base.clone()),
        _ => None,
    };
    let model = model_choice(&task, &Config::default(), &env).unwrap();
    RunRequest {
        task,
        task_id: state.id,
        run_id,
        model,
    }
}

/// Runs the task `fix` of the setup's repository against `mock`.
async fn run(
    s: &Setup,
    mock: &MockModel,
) -> (
    Result<tend_run::Finished, tend_run::RunError>,
    Vec<AgentEvent>,
    tend_store::RunId,
) {
    run_with(s, mock, StopSignal::never(), |_| {}).await
}

/// [`run`] with a stop signal, and a look at each event as it happens.
async fn run_with(
    s: &Setup,
    mock: &MockModel,
    stop: StopSignal,
    mut on_event: impl FnMut(&AgentEvent) + Send,
) -> (
    Result<tend_run::Finished, tend_run::RunError>,
    Vec<AgentEvent>,
    tend_store::RunId,
) {
    let repo = s.repo.canonicalize().unwrap();
    let file = TaskFile::load(
        &repo.join(".tend/tasks/fix.md"),
        Scope::Project { root: repo.clone() },
    )
    .unwrap();
    let task = ResolvedTask::resolve(
        &file,
        &Config::default(),
        &MachineZone::fixed(ZoneName::utc()),
    )
    .unwrap();
    let now = s.clock.now();
    s.store.register_project(&repo, now).await.unwrap();
    let state = s
        .store
        .ensure_task(&TaskKey::project(repo.clone(), "fix"), now)
        .await
        .unwrap();
    let run = s
        .store
        .create_run(&NewRun {
            task: state.id,
            trigger: Trigger::Manual,
            created_at: now,
        })
        .await
        .unwrap();
    let base = mock.base_url();
    let env = move |name: &str| match name {
        "ANTHROPIC_API_KEY" => Some("test-key".to_owned()),
        "ANTHROPIC_BASE_URL" => Some(base.clone()),
        _ => None,
    };
    let model = model_choice(&task, &Config::default(), &env).unwrap();
    let runner = Runner {
        store: &s.store,
        paths: &s.paths,
        clock: &s.clock,
    };
    let mut events = Vec::new();
    let request = RunRequest {
        task,
        task_id: state.id,
        run_id: run.id.clone(),
        model,
    };
    let result = execute_with_stop(
        &runner,
        request,
        &mut |e: &AgentEvent| {
            on_event(e);
            events.push(e.clone());
        },
        stop,
    )
    .await;
    (result, events, run.id)
}

use tend_config::Clock as _;

#[tokio::test]
async fn a_run_fixes_the_failing_test_on_its_branch_and_leaves_the_checkout_alone() {
    let s = setup("schedule = \"manual\"\nmodel = \"anthropic:claude-sonnet-4-5\"").await;
    let head_before = git(&s.repo, &["rev-parse", "HEAD"]);
    let script = Script::new([
        Step::tool_use("bash", json!({"command": "sh test.sh"})),
        Step::tool_use("read", json!({"path": "calc.sh"})),
        Step::tool_use(
            "edit",
            json!({"path": "calc.sh", "old_string": "$1 - $2", "new_string": "$1 + $2"}),
        ),
        Step::tool_use("bash", json!({"command": "sh test.sh"})),
        Step::tool_use(
            "write",
            json!({"path": ".tend/memory/fix.md", "content": "Fixed add() once (it subtracted).\n"}),
        ),
        Step::reply(vec![MockContent::tool_use(
            "report",
            json!({"status": "changed", "summary": "`add` subtracted; it adds now and `test.sh` passes."}),
        )]),
    ]);
    let mock = MockModel::start(script).await.unwrap();
    let (result, events, run_id) = run(&s, &mock).await;
    let finished = result.unwrap();
    assert_eq!(finished.status, ReportStatus::Changed);
    assert_eq!(finished.run.state, RunState::Succeeded);
    let branch = format!("tend/fix/{run_id}");
    assert_eq!(finished.branch.as_deref(), Some(branch.as_str()));

    // The fix is on the branch, and only the fix: tend's memory file is not part of it.
    assert_eq!(
        git(&s.repo, &["show", &format!("{branch}:calc.sh")]),
        "add() { echo $(( $1 + $2 )); }\n"
    );
    assert_eq!(
        git(&s.repo, &["diff", "--name-only", "main", &branch]),
        "calc.sh\n"
    );
    // The user's checkout: same HEAD, same files, nothing modified or untracked.
    assert_eq!(git(&s.repo, &["rev-parse", "HEAD"]), head_before);
    assert_eq!(
        std::fs::read_to_string(s.repo.join("calc.sh")).unwrap(),
        CALC
    );
    assert_eq!(git(&s.repo, &["status", "--porcelain"]), "");
    // The worktree is kept for the next run, detached: the branch is free for review.
    let worktrees = git(&s.repo, &["worktree", "list", "--porcelain"]);
    assert_eq!(worktrees.matches("worktree ").count(), 2, "{worktrees}");
    assert!(worktrees.contains("detached"), "{worktrees}");
    assert!(
        !worktrees.contains(&format!("branch refs/heads/{branch}")),
        "{worktrees}"
    );

    // The tool results the model saw: the test failing, then passing.
    let bash_outputs: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::ToolResult { name, content, .. } if name == "bash" => Some(content.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(bash_outputs.len(), 2);
    assert!(
        bash_outputs[0].contains("FAIL: add 2 3 = -1, want 5"),
        "{}",
        bash_outputs[0]
    );
    assert!(bash_outputs[1].contains("ok"), "{}", bash_outputs[1]);
    // Project memory reached the model.
    assert!(
        mock.requests()[0]
            .body
            .to_string()
            .contains("Test with `sh test.sh`.")
    );

    // Report, diff and transcript.
    let report = std::fs::read_to_string(finished.run_dir.join("report.md")).unwrap();
    assert!(
        report
            .starts_with("# fix: changed\n\n`add` subtracted; it adds now and `test.sh` passes.\n"),
        "{report}"
    );
    assert!(
        report.contains(&format!("| branch | `{branch}` |")),
        "{report}"
    );
    let diff = std::fs::read_to_string(finished.run_dir.join("diff.patch")).unwrap();
    assert!(
        diff.contains("-add() { echo $(( $1 - $2 )); }\n+add() { echo $(( $1 + $2 )); }"),
        "{diff}"
    );
    let lines = transcript::read(&finished.run_dir.join("transcript.jsonl")).unwrap();
    let kinds: Vec<&str> = lines.iter().map(|l| l.event.kind()).collect();
    assert_eq!(kinds.first(), Some(&"start"));
    assert_eq!(
        kinds.iter().rev().take(2).collect::<Vec<_>>(),
        vec![&"end", &"report"]
    );
    assert_eq!(kinds.iter().filter(|k| **k == "tool_call").count(), 6);
    let seqs: Vec<u64> = lines.iter().map(|l| l.seq).collect();
    assert_eq!(seqs, (1..=lines.len() as u64).collect::<Vec<_>>());

    // The task's notes carry over to the next run, from tend's state.
    let stored = s
        .paths
        .state_dir
        .join(format!("memory/task-{}.md", finished.run.task.get()));
    assert_eq!(
        std::fs::read_to_string(stored).unwrap(),
        "Fixed add() once (it subtracted).\n"
    );
    // The store has the run, finished.
    let stored_run = s.store.run(&run_id).await.unwrap().unwrap();
    assert_eq!(stored_run.state, RunState::Succeeded);
    assert_eq!(stored_run.status, Some(tend_store::ReportStatus::Changed));
    assert_eq!(stored_run.branch.as_deref(), Some(branch.as_str()));
    assert_eq!(
        stored_run.proposal,
        Some(tend_store::ProposalState::Pending)
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn a_run_whose_model_fails_three_times_then_answers_succeeds() {
    let s = setup("schedule = \"manual\"\nmodel = \"anthropic:claude-sonnet-4-5\"").await;
    let script = Script::new([
        Step::Error(ErrorReply::new(429).retry_after("0")),
        Step::Error(ErrorReply::new(529).retry_after("0")),
        Step::Error(ErrorReply::new(503).retry_after("0")),
        Step::tool_use(
            "report",
            json!({"status": "nothing-to-do", "summary": "Tests pass already? No: left for later."}),
        ),
    ]);
    let mock = MockModel::start(script).await.unwrap();
    let (result, events, run_id) = run(&s, &mock).await;
    let finished = result.unwrap();
    assert_eq!(finished.run.state, RunState::Succeeded);
    assert_eq!(finished.status, ReportStatus::NothingToDo);
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, AgentEvent::Retry { .. }))
            .count(),
        3
    );
    assert_eq!(mock.requests().len(), 4);
    // Nothing changed: no branch is left behind.
    assert_eq!(
        git(
            &s.repo,
            &["branch", "--list", &format!("tend/fix/{run_id}")]
        ),
        ""
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn a_read_only_run_works_in_place_and_writes_nothing() {
    let s = setup(
        "schedule = \"manual\"\nmodel = \"anthropic:claude-sonnet-4-5\"\nmode = \"read-only\"",
    )
    .await;
    let script = Script::new([
        Step::tool_use("grep", json!({"pattern": "add"})),
        Step::tool_use(
            "report",
            json!({"status": "needs-human", "summary": "`add` subtracts."}),
        ),
    ]);
    let mock = MockModel::start(script).await.unwrap();
    let (result, _events, _run_id) = run(&s, &mock).await;
    let finished = result.unwrap();
    assert_eq!(finished.status, ReportStatus::NeedsHuman);
    assert_eq!(finished.branch, None);
    assert_eq!(git(&s.repo, &["status", "--porcelain"]), "");
    assert_eq!(git(&s.repo, &["branch", "--list", "tend/*"]), "");
    mock.shutdown().await;
}

#[tokio::test]
async fn a_run_outside_a_repository_fails_clearly_and_is_recorded() {
    let s = setup("schedule = \"manual\"\nmodel = \"anthropic:claude-sonnet-4-5\"").await;
    std::fs::remove_dir_all(s.repo.join(".git")).unwrap();
    let mock = MockModel::start(Script::new([])).await.unwrap();
    let (result, _events, run_id) = run(&s, &mock).await;
    let error = result.unwrap_err().to_string();
    assert!(error.contains("is not a git repository"), "{error}");
    let stored = s.store.run(&run_id).await.unwrap().unwrap();
    assert_eq!(stored.state, RunState::Failed);
    assert_eq!(mock.requests().len(), 0);
    mock.shutdown().await;
}

#[tokio::test]
async fn the_next_run_reuses_the_worktree_from_a_clean_base() {
    let s = setup("schedule = \"manual\"\nmodel = \"anthropic:claude-sonnet-4-5\"").await;
    let fix = Script::new([
        Step::tool_use(
            "edit",
            json!({"path": "calc.sh", "old_string": "$1 - $2", "new_string": "$1 + $2"}),
        ),
        Step::tool_use(
            "write",
            json!({"path": "leftover.txt", "content": "scratch"}),
        ),
        Step::tool_use(
            "report",
            json!({"status": "changed", "summary": "Fixed add."}),
        ),
    ]);
    let mock = MockModel::start(fix).await.unwrap();
    let (first, _, _) = run(&s, &mock).await;
    let first = first.unwrap();
    mock.shutdown().await;
    let look = Script::new([
        Step::tool_use("bash", json!({"command": "cat calc.sh; ls; pwd"})),
        Step::tool_use(
            "report",
            json!({"status": "nothing-to-do", "summary": "Looked."}),
        ),
    ]);
    let mock = MockModel::start(look).await.unwrap();
    let (second, events, _) = run(&s, &mock).await;
    let second = second.unwrap();
    assert_eq!(
        second.run.worktree, first.run.worktree,
        "the same kept worktree"
    );
    let seen = events
        .iter()
        .find_map(|e| match e {
            AgentEvent::ToolResult { content, .. } => Some(content.clone()),
            _ => None,
        })
        .unwrap();
    // The second run starts from the repository's HEAD, not from the first run's changes.
    assert!(seen.contains("$1 - $2"), "{seen}");
    assert!(!seen.contains("leftover.txt"), "{seen}");
    mock.shutdown().await;
}

#[tokio::test]
async fn a_cancelled_run_stops_its_command_keeps_its_changes_and_ends_cancelled() {
    let s = setup("schedule = \"manual\"\nmodel = \"anthropic:claude-sonnet-4-5\"").await;
    let script = Script::new([
        Step::tool_use(
            "edit",
            json!({"path": "calc.sh", "old_string": "$1 - $2", "new_string": "$1 + $2"}),
        ),
        Step::tool_use("bash", json!({"command": "sleep 30"})),
        Step::tool_use("report", json!({"status": "changed", "summary": "never"})),
    ]);
    let mock = MockModel::start(script).await.unwrap();
    let (handle, signal) = stop_pair();
    let started = std::time::Instant::now();
    let (result, events, run_id) = run_with(&s, &mock, signal, |e| {
        if matches!(e, AgentEvent::ToolCall { name, .. } if name == "bash") {
            handle.stop(StopReason::Cancelled);
        }
    })
    .await;
    let finished = result.unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(finished.run.state, RunState::Cancelled);
    assert_eq!(finished.status, ReportStatus::Failed);
    // The edit made before the cancel is kept on the branch for a human to look at.
    let branch = format!("tend/fix/{run_id}");
    assert_eq!(finished.branch.as_deref(), Some(branch.as_str()));
    assert_eq!(
        git(&s.repo, &["show", &format!("{branch}:calc.sh")]),
        "add() { echo $(( $1 + $2 )); }\n"
    );
    let report = std::fs::read_to_string(finished.run_dir.join("report.md")).unwrap();
    assert!(report.contains("the run was cancelled"), "{report}");
    let last = events.last().unwrap();
    assert!(
        matches!(
            last,
            AgentEvent::End {
                reason: tend_agent::EndReason::Cancelled,
                turns: 2,
                ..
            }
        ),
        "{last:?}"
    );
    let lines = transcript::read(&finished.run_dir.join("transcript.jsonl")).unwrap();
    assert_eq!(lines.last().map(|l| l.event.kind()), Some("end"));
    let stored = s.store.run(&run_id).await.unwrap().unwrap();
    assert_eq!(stored.state, RunState::Cancelled);
    mock.shutdown().await;
}

#[tokio::test]
async fn a_run_stopped_before_its_session_is_interrupted_without_calling_the_model() {
    let s = setup("schedule = \"manual\"\nmodel = \"anthropic:claude-sonnet-4-5\"").await;
    let mock = MockModel::start(Script::new([])).await.unwrap();
    let (handle, signal) = stop_pair();
    handle.stop(StopReason::Interrupted);
    let (result, events, run_id) = run_with(&s, &mock, signal, |_| {}).await;
    let finished = result.unwrap();
    assert_eq!(finished.run.state, RunState::Interrupted);
    assert_eq!(mock.requests().len(), 0);
    assert_eq!(events.len(), 1, "{events:?}");
    let stored = s.store.run(&run_id).await.unwrap().unwrap();
    assert_eq!(stored.state, RunState::Interrupted);
    assert!(stored.ended_at.is_some());
    mock.shutdown().await;
}

const PUSHING: &str =
    "schedule = \"manual\"\nmodel = \"anthropic:claude-sonnet-4-5\"\napproval_timeout = \"1h\"";

/// A session that fixes the bug, then wants to push (a propose run asks a human first).
fn pushing_script() -> Script {
    Script::new([
        Step::tool_use(
            "edit",
            json!({"path": "calc.sh", "old_string": "$1 - $2", "new_string": "$1 + $2"}),
        ),
        Step::tool_use("bash", json!({"command": "git push origin HEAD"})),
        Step::tool_use(
            "report",
            json!({"status": "changed", "summary": "Fixed add; pushed."}),
        ),
    ])
}

async fn parked_run(s: &Setup, mock: &MockModel) -> (tend_run::Finished, tend_store::RunId) {
    let req = request(s, mock, None).await;
    let id = req.run_id.clone();
    let runner = Runner {
        store: &s.store,
        paths: &s.paths,
        clock: &s.clock,
    };
    let parked = execute(&runner, req, &mut |_: &AgentEvent| {})
        .await
        .unwrap();
    (parked, id)
}

#[tokio::test]
async fn a_push_parks_the_run_durably_and_an_approval_resumes_it_in_the_same_worktree() {
    let s = setup(PUSHING).await;
    let mock = MockModel::start(pushing_script()).await.unwrap();
    let (parked, id) = parked_run(&s, &mock).await;
    assert_eq!(parked.run.state, RunState::WaitingApproval);
    let approval = parked.approval.clone().unwrap();
    assert_eq!(approval.tool, "bash");
    assert_eq!(
        approval.arguments,
        json!({"command": "git push origin HEAD"})
    );
    assert!(approval.rule.contains("publishes"), "{}", approval.rule);
    assert_eq!(
        s.store.pending_approvals().await.unwrap(),
        vec![approval.clone()]
    );
    // Parked: the run holds no process, its worktree keeps the edit, nothing is committed yet.
    let stored = s.store.run(&id).await.unwrap().unwrap();
    assert_eq!(stored.owner, None);
    let wt = stored.worktree.clone().unwrap();
    assert!(
        std::fs::read_to_string(wt.join("calc.sh"))
            .unwrap()
            .contains("$1 + $2")
    );
    assert!(parked.run_dir.join("parked.json").exists());
    let report = std::fs::read_to_string(parked.run_dir.join("report.md")).unwrap();
    assert!(
        report.starts_with("# fix: waiting for approval"),
        "{report}"
    );

    // Another process (here: another runner over the same store) approves and resumes.
    s.store
        .decide_approval(
            approval.id,
            tend_store::Decision::Approve,
            "ana",
            None,
            s.clock.now(),
        )
        .await
        .unwrap();
    let runner = Runner {
        store: &s.store,
        paths: &s.paths,
        clock: &s.clock,
    };
    let req = request(&s, &mock, Some(id.clone())).await;
    let mut events = Vec::new();
    let done = resume_with_stop(
        &runner,
        req,
        Resolution::Approve { by: "ana".into() },
        &mut |e: &AgentEvent| events.push(e.clone()),
        StopSignal::never(),
    )
    .await
    .unwrap();
    assert_eq!(done.run.state, RunState::Succeeded);
    assert_eq!(done.status, ReportStatus::Changed);
    assert_eq!(done.run.worktree, Some(wt), "resumed in the same worktree");
    // The push ran (and failed: the test repository has no remote) and the model saw that.
    let push = events.iter().find_map(|e| match e {
        AgentEvent::ToolResult { name, content, .. } if name == "bash" => Some(content.clone()),
        _ => None,
    });
    assert!(push.unwrap().contains("origin"));
    let branch = done.branch.clone().unwrap();
    assert!(git(&s.repo, &["show", &format!("{branch}:calc.sh")]).contains("$1 + $2"));
    // One transcript, numbered on from where the first process stopped.
    let lines = transcript::read(&done.run_dir.join("transcript.jsonl")).unwrap();
    let seqs: Vec<u64> = lines.iter().map(|l| l.seq).collect();
    assert_eq!(seqs, (1..=lines.len() as u64).collect::<Vec<_>>());
    let kinds: Vec<&str> = lines.iter().map(|l| l.event.kind()).collect();
    assert!(
        kinds.contains(&"parked") && kinds.contains(&"resumed"),
        "{kinds:?}"
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn a_denied_push_is_refused_and_the_run_goes_on() {
    let s = setup(PUSHING).await;
    let mock = MockModel::start(pushing_script()).await.unwrap();
    let (_parked, id) = parked_run(&s, &mock).await;
    let runner = Runner {
        store: &s.store,
        paths: &s.paths,
        clock: &s.clock,
    };
    let req = request(&s, &mock, Some(id)).await;
    let done = resume_with_stop(
        &runner,
        req,
        Resolution::Deny {
            by: "ana".into(),
            reason: "we release on Mondays".into(),
        },
        &mut |_: &AgentEvent| {},
        StopSignal::never(),
    )
    .await
    .unwrap();
    assert_eq!(done.run.state, RunState::Succeeded);
    let third = mock.requests()[2].body.to_string();
    assert!(
        third.contains("a human (ana) denied this call: we release on Mondays"),
        "{third}"
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn an_unanswered_approval_expires_and_keeps_the_work_so_far() {
    let s = setup(PUSHING).await;
    let mock = MockModel::start(pushing_script()).await.unwrap();
    let (parked, id) = parked_run(&s, &mock).await;
    let runner = Runner {
        store: &s.store,
        paths: &s.paths,
        clock: &s.clock,
    };
    let req = request(&s, &mock, Some(id.clone())).await;
    let closed = close_parked(
        &runner,
        &req.task,
        req.task_id,
        &id,
        &req.model.label,
        Closing::Expired,
    )
    .await
    .unwrap();
    assert_eq!(closed.run.state, RunState::Expired);
    assert_eq!(closed.status, ReportStatus::NeedsHuman);
    assert_eq!(
        closed.run.proposal,
        Some(tend_store::ProposalState::Pending)
    );
    let branch = closed.branch.clone().unwrap();
    assert!(git(&s.repo, &["show", &format!("{branch}:calc.sh")]).contains("$1 + $2"));
    let report = std::fs::read_to_string(parked.run_dir.join("report.md")).unwrap();
    assert!(
        report
            .contains("nobody answered the approval request for `git push origin HEAD` within 1h"),
        "{report}"
    );
    // The worktree is free for the next run.
    let next = Script::new([Step::tool_use(
        "report",
        json!({"status": "nothing-to-do", "summary": "ok"}),
    )]);
    let mock2 = MockModel::start(next).await.unwrap();
    let (again, _, _) = run(&s, &mock2).await;
    assert_eq!(again.unwrap().run.worktree, closed.run.worktree);
    mock.shutdown().await;
    mock2.shutdown().await;
}

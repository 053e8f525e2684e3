//! What a run hands out once it is recorded: notifications (a local webhook server, a command
//! channel), the briefing file in each kind of workspace, and `open_pr` as the policy decides
//! it. Real git, the scripted model server, a real store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use tend_agent::{AgentEvent, ReportStatus};
use tend_config::{
    Clock as _, Config, FixedClock, MachineZone, Paths, ResolvedTask, Scope, TaskFile, ZoneName,
};
use tend_mock_model::{MockModel, Script, Step};
use tend_run::{
    Closing, OPEN_PR_TOOL, PullRequestAnswer, RunRequest, Runner, answer_pull_request,
    close_parked, execute, model_choice, transcript,
};
use tend_store::{NewRun, ProposalState, RunState, Store, TaskKey, Trigger};

const CALC: &str = "add() { echo $(( $1 - $2 )); }\n";

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@t"])
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
    tmp: tempfile::TempDir,
    repo: PathBuf,
    paths: Paths,
    store: Store,
    clock: FixedClock,
}

async fn setup() -> Setup {
    tend_run::set_sandbox_helper(env!("CARGO_BIN_EXE_tend-run-sandbox-exec").into());
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(repo.join(".tend/tasks")).unwrap();
    std::fs::write(repo.join("calc.sh"), CALC).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "init"]);
    let repo = repo.canonicalize().unwrap();
    let paths = Paths::under(
        tmp.path().join("home/config"),
        tmp.path().join("home/state"),
    );
    let store = Store::open(&paths.db_path).await.unwrap();
    let clock = FixedClock::new("2026-11-25T09:30:00Z".parse().unwrap());
    Setup {
        tmp,
        repo,
        paths,
        store,
        clock,
    }
}

/// The task `fix` with `front_matter`, under `config` (TOML of a config file).
fn task(s: &Setup, front_matter: &str, config: &str) -> ResolvedTask {
    let path = s.repo.join(".tend/tasks/fix.md");
    std::fs::write(
        &path,
        format!(
            "+++\nschedule = \"manual\"\nmodel = \"anthropic:claude-sonnet-4-5\"\ntimezone = \"Europe/Berlin\"\n{front_matter}\n+++\nFix the code.\n"
        ),
    )
    .unwrap();
    let file = TaskFile::load(
        &path,
        Scope::Project {
            root: s.repo.clone(),
        },
    )
    .unwrap();
    let config = Config::parse(Path::new("config.toml"), config).unwrap();
    ResolvedTask::resolve(&file, &config, &MachineZone::fixed(ZoneName::utc())).unwrap()
}

/// Runs `task` against `script`; the run, its live events and the model server (kept alive).
async fn run(
    s: &Setup,
    task: ResolvedTask,
    script: Script,
) -> (tend_run::Finished, Vec<AgentEvent>, MockModel) {
    let mock = MockModel::start(script).await.unwrap();
    let now = s.clock.now();
    s.store.register_project(&s.repo, now).await.unwrap();
    let state = s
        .store
        .ensure_task(&TaskKey::project(s.repo.clone(), "fix"), now)
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
    let request = RunRequest {
        task,
        task_id: state.id,
        run_id: run.id,
        model,
    };
    let mut events = Vec::new();
    let finished = execute(&runner, request, &mut |e: &AgentEvent| {
        events.push(e.clone())
    })
    .await
    .unwrap();
    (finished, events, mock)
}

fn fixing() -> Script {
    Script::new([
        Step::tool_use(
            "edit",
            json!({"path": "calc.sh", "old_string": "$1 - $2", "new_string": "$1 + $2"}),
        ),
        Step::tool_use(
            "report",
            json!({"status": "changed", "summary": "`add` subtracted; it adds now."}),
        ),
    ])
}

fn idle() -> Script {
    Script::new([Step::tool_use(
        "report",
        json!({"status": "nothing-to-do", "summary": "All quiet."}),
    )])
}

fn failing() -> Script {
    Script::new([Step::tool_use(
        "report",
        json!({"status": "failed", "summary": "Could not find the bug."}),
    )])
}

/// The after-the-run events of a finished run's transcript.
fn after_events(finished: &tend_run::Finished) -> Vec<AgentEvent> {
    transcript::read(&finished.run_dir.join("transcript.jsonl"))
        .unwrap()
        .into_iter()
        .map(|l| l.event)
        .filter(|e| {
            matches!(
                e,
                AgentEvent::Briefing { .. }
                    | AgentEvent::PullRequest { .. }
                    | AgentEvent::Notified { .. }
            )
        })
        .collect()
}

/// What a webhook receiver saw: each body, and the run's state in the store at that moment.
#[derive(Clone)]
struct Receiver {
    db: PathBuf,
    hang: bool,
    seen: Arc<Mutex<Vec<(Value, String)>>>,
}

async fn hook(State(r): State<Receiver>, body: String) -> &'static str {
    let body: Value = serde_json::from_str(&body).unwrap();
    let run = tend_store::RunId::parse(body["tend"]["run"].as_str().unwrap()).unwrap();
    let store = Store::open(&r.db).await.unwrap();
    let state = store.run(&run).await.unwrap().unwrap().state.to_string();
    store.close().await;
    r.seen.lock().unwrap().push((body, state));
    if r.hang {
        std::future::pending::<()>().await;
    }
    "ok"
}

async fn receiver(s: &Setup, hang: bool) -> (String, Receiver) {
    let r = Receiver {
        db: s.paths.db_path.clone(),
        hang,
        seen: Arc::default(),
    };
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, r)
}

#[tokio::test]
async fn a_proposal_is_posted_to_the_webhook_once_the_run_is_recorded() {
    let s = setup().await;
    let (url, r) = receiver(&s, false).await;
    let config = format!("[notify.channels.team]\nkind = \"webhook\"\nurl = \"{url}\"\n");
    let (finished, events, _mock) = run(&s, task(&s, "", &config), fixing()).await;
    assert_eq!(finished.run.state, RunState::Succeeded);
    let seen = r.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let (body, state_then) = &seen[0];
    assert_eq!(
        state_then, "succeeded",
        "the run was recorded before delivery"
    );
    let id = finished.run.id.to_string();
    let branch = format!("tend/fix/{id}");
    assert_eq!(
        body["tend"],
        json!({
            "event": "proposal",
            "title": "tend · fix: proposal ready",
            "task": "fix",
            "run": id,
            "state": "succeeded",
            "status": "changed",
            "summary": "`add` subtracted; it adds now.",
            "branch": branch,
            "report": finished.run_dir.join("report.md").display().to_string(),
            "briefing": null,
            "pull_request": null,
            "approval": null,
            "next": [format!("tend review {id}"), format!("tend apply {id}"), format!("tend discard {id}")],
            "sensitive": [],
        })
    );
    assert_eq!(
        body["text"],
        json!("tend · fix: proposal ready: `add` subtracted; it adds now.")
    );
    let notified = AgentEvent::Notified {
        on: "proposal".into(),
        channel: "team".into(),
        kind: "webhook".into(),
        ok: true,
        detail: "HTTP 200".into(),
        attempts: 1,
        duration_ms: 0,
    };
    let zero = |e: AgentEvent| match e {
        AgentEvent::Notified {
            duration_ms: _,
            on,
            channel,
            kind,
            ok,
            detail,
            attempts,
        } => AgentEvent::Notified {
            on,
            channel,
            kind,
            ok,
            detail,
            attempts,
            duration_ms: 0,
        },
        other => other,
    };
    assert_eq!(
        after_events(&finished)
            .into_iter()
            .map(zero)
            .collect::<Vec<_>>(),
        vec![notified.clone()]
    );
    // Shown live too, after the session's end.
    assert_eq!(events.last().cloned().map(zero), Some(notified));
}

#[tokio::test]
async fn a_webhook_that_never_answers_costs_its_timeout_and_changes_nothing() {
    let s = setup().await;
    let (url, r) = receiver(&s, true).await;
    let config = format!(
        "[notify.channels.slow]\nkind = \"webhook\"\nurl = \"{url}\"\ntimeout = \"300ms\"\n"
    );
    let (finished, _, _mock) = run(&s, task(&s, "", &config), fixing()).await;
    assert_eq!(
        (finished.run.state, finished.status),
        (RunState::Succeeded, ReportStatus::Changed)
    );
    assert_eq!(r.seen.lock().unwrap()[0].1, "succeeded");
    let stored = s.store.run(&finished.run.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.state, stored.proposal),
        (RunState::Succeeded, Some(ProposalState::Pending))
    );
    let after = after_events(&finished);
    let [
        AgentEvent::Notified {
            ok,
            detail,
            attempts,
            ..
        },
    ] = after.as_slice()
    else {
        panic!("{after:?}");
    };
    assert_eq!(
        (*ok, detail.as_str(), *attempts),
        (
            false,
            format!(
                "{}/… did not answer within 300ms",
                url.trim_end_matches("/hook")
            )
            .as_str(),
            1
        )
    );
}

#[tokio::test]
async fn on_filters_events_and_a_command_channel_gets_the_details() {
    let s = setup().await;
    let out = s.tmp.path().join("told");
    let config = format!(
        "[notify.channels.log]\nkind = \"command\"\ncommand = \"echo \\\"$TEND_EVENT $TEND_STATE $TEND_BRANCH\\\" >> '{}'\"\n",
        out.display()
    );
    // Only failures: a proposal is not told.
    let (finished, _, _mock) = run(
        &s,
        task(&s, "[notify]\non = [\"failure\"]", &config),
        fixing(),
    )
    .await;
    assert_eq!(finished.run.state, RunState::Succeeded);
    assert!(!out.exists());
    assert_eq!(after_events(&finished), vec![]);
    // A failure is.
    let (failed, _, _mock) = run(
        &s,
        task(&s, "[notify]\non = [\"failure\"]", &config),
        failing(),
    )
    .await;
    assert_eq!(failed.run.state, RunState::Failed);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "failure failed \n");
    // Success is told only when asked for; nothing-to-do is a success.
    let (quiet, _, _mock) = run(
        &s,
        task(&s, "[notify]\non = [\"success\"]", &config),
        idle(),
    )
    .await;
    assert_eq!(quiet.status, ReportStatus::NothingToDo);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "failure failed \nsuccess succeeded \n"
    );
}

#[tokio::test]
async fn a_briefing_in_propose_mode_is_committed_on_the_run_branch() {
    let s = setup().await;
    let t = task(&s, "output = \"reports/{date}-{time}-{task}.md\"", "");
    let (finished, _, _mock) = run(&s, t, fixing()).await;
    let branch = finished.branch.clone().unwrap();
    // 09:30 UTC is 10:30 in Berlin: the task's zone.
    let file = "reports/2026-11-25-1030-fix.md";
    let briefing = git(&s.repo, &["show", &format!("{branch}:{file}")]);
    assert!(
        briefing.starts_with("# fix: changed\n\n`add` subtracted; it adds now.\n"),
        "{briefing}"
    );
    assert_eq!(
        git(&s.repo, &["diff", "--name-only", "main", &branch]),
        format!("calc.sh\n{file}\n")
    );
    // Not in the user's checkout; part of the proposal's patch; named in the report.
    assert!(!s.repo.join("reports").exists());
    let patch = std::fs::read_to_string(finished.run_dir.join("diff.patch")).unwrap();
    assert!(patch.contains(&format!("+++ b/{file}")), "{patch}");
    let report = std::fs::read_to_string(finished.run_dir.join("report.md")).unwrap();
    assert!(
        report.contains(&format!("| briefing | `{file}` |")),
        "{report}"
    );
    assert_eq!(
        after_events(&finished),
        vec![AgentEvent::Briefing {
            path: file.into(),
            place: "branch".into()
        }]
    );
}

#[tokio::test]
async fn a_briefing_alone_makes_a_proposal_but_a_failed_run_writes_none() {
    let s = setup().await;
    let t = task(&s, "output = \"reports/{date}.md\"", "");
    let (quiet, _, _mock) = run(&s, t.clone(), idle()).await;
    assert_eq!(
        (quiet.status, quiet.run.proposal),
        (ReportStatus::NothingToDo, Some(ProposalState::Pending))
    );
    let branch = quiet.branch.clone().unwrap();
    assert_eq!(
        git(&s.repo, &["diff", "--name-only", "main", &branch]),
        "reports/2026-11-25.md\n"
    );
    let (failed, _, _mock) = run(&s, t, failing()).await;
    assert_eq!(
        (failed.run.state, failed.branch.clone()),
        (RunState::Failed, None)
    );
    assert_eq!(after_events(&failed), vec![]);
}

#[tokio::test]
async fn a_read_only_run_writes_its_briefing_in_tends_outputs_folder() {
    let s = setup().await;
    let t = task(
        &s,
        "mode = \"read-only\"\noutput = \"{task}/{date}.md\"",
        "",
    );
    let (finished, _, _mock) = run(&s, t, idle()).await;
    let path = s.paths.state_dir.join("outputs/fix/fix/2026-11-25.md");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with("# fix: nothing-to-do\n\nAll quiet.\n"),
        "{text}"
    );
    // Nothing in the checkout but the task file this test wrote.
    assert_eq!(git(&s.repo, &["status", "--porcelain"]), "?? .tend/\n");
    assert_eq!(
        after_events(&finished),
        vec![AgentEvent::Briefing {
            path: path.display().to_string(),
            place: "outputs".into()
        }]
    );
}

/// A bare repository as the task repository's `origin`.
fn with_origin(s: &Setup) -> PathBuf {
    let bare = s.tmp.path().join("origin.git");
    git(
        s.tmp.path(),
        &["init", "-q", "--bare", bare.to_str().unwrap()],
    );
    git(
        &s.repo,
        &["remote", "add", "origin", bare.to_str().unwrap()],
    );
    bare
}

#[tokio::test]
async fn open_pr_in_a_propose_run_asks_and_a_denial_is_noted() {
    let s = setup().await;
    let bare = with_origin(&s);
    let out = s.tmp.path().join("told");
    let config = format!(
        "[notify.channels.log]\nkind = \"command\"\ncommand = \"echo \\\"$TEND_EVENT $TEND_APPROVAL\\\" >> '{}'\"\n",
        out.display()
    );
    let t = task(&s, "open_pr = true\napproval_timeout = \"1h\"", &config);
    let (finished, _, _mock) = run(&s, t.clone(), fixing()).await;
    // The run is over; only the pull request waits.
    assert_eq!(finished.run.state, RunState::Succeeded);
    let approval = finished.approval.clone().unwrap();
    let branch = finished.branch.clone().unwrap();
    assert_eq!(approval.tool, OPEN_PR_TOOL);
    assert_eq!(
        approval.arguments,
        json!({"remote": "origin", "branch": branch, "title": "fix: `add` subtracted; it adds now.", "allow_rules": []})
    );
    assert!(
        approval.rule.contains("a propose run does not allow")
            || approval.rule.contains("default of a propose run"),
        "{}",
        approval.rule
    );
    assert_eq!(
        tend_run::approval_wants(&approval),
        format!("open a pull request: push {branch} to origin, then `gh pr create`")
    );
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        format!("approval {}\n", approval.id)
    );
    // Nothing was pushed.
    assert_eq!(git(&bare, &["branch", "--list"]), "");
    // A human says no: the report says so, the run stays as it was.
    let runner = Runner {
        store: &s.store,
        paths: &s.paths,
        clock: &s.clock,
    };
    let answered = answer_pull_request(
        &runner,
        &t,
        &approval,
        PullRequestAnswer::Deny {
            by: "ana".into(),
            reason: "not yet".into(),
        },
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!(answered.run.state, RunState::Succeeded);
    let report = std::fs::read_to_string(finished.run_dir.join("report.md")).unwrap();
    assert!(
        report.ends_with("\n> tend: no pull request: ana denied it: not yet\n"),
        "{report}"
    );
    assert_eq!(git(&bare, &["branch", "--list"]), "");
}

#[tokio::test]
async fn an_expired_pull_request_request_closes_without_touching_the_run() {
    let s = setup().await;
    with_origin(&s);
    let t = task(&s, "open_pr = true\napproval_timeout = \"1h\"", "");
    let (finished, _, _mock) = run(&s, t.clone(), fixing()).await;
    let approval = finished.approval.clone().unwrap();
    let runner = Runner {
        store: &s.store,
        paths: &s.paths,
        clock: &s.clock,
    };
    // What the daemon and `tend approvals` do with an expired request.
    let closed = close_parked(
        &runner,
        &t,
        finished.run.task,
        &finished.run.id,
        "x",
        Closing::Expired,
    )
    .await
    .unwrap();
    assert_eq!(
        (closed.run.state, closed.run.proposal, closed.branch.clone()),
        (
            RunState::Succeeded,
            Some(ProposalState::Pending),
            finished.branch.clone()
        )
    );
    let last = after_events(&finished).pop();
    assert_eq!(
        last,
        Some(AgentEvent::PullRequest {
            status: "skipped".into(),
            url: None,
            approval: None,
            detail: "nobody answered the request in time".into()
        })
    );
    let _ = approval;
}

#[tokio::test]
async fn open_pr_is_refused_by_a_deny_rule_and_skipped_without_a_remote() {
    let s = setup().await;
    let t = task(&s, "open_pr = true", "");
    let (no_remote, _, _mock) = run(&s, t, fixing()).await;
    assert_eq!(no_remote.approval, None);
    assert_eq!(
        after_events(&no_remote),
        vec![AgentEvent::PullRequest {
            status: "skipped".into(),
            url: None,
            approval: None,
            detail: "the repository has no remote to push to".into()
        }]
    );
    with_origin(&s);
    let t = task(
        &s,
        "open_pr = true\nmode = \"auto\"\n[permissions]\ndeny = [\"bash(git push *)\"]",
        "",
    );
    let (refused, _, _mock) = run(&s, t, fixing()).await;
    let after = after_events(&refused);
    let [AgentEvent::PullRequest { status, detail, .. }] = after.as_slice() else {
        panic!("{after:?}");
    };
    assert_eq!(status, "refused");
    assert!(
        detail.contains("rule `bash(git push *)` in the deny list"),
        "{detail}"
    );
    let report = std::fs::read_to_string(refused.run_dir.join("report.md")).unwrap();
    assert!(
        report.contains("> tend: no pull request: rule `bash(git push *)`"),
        "{report}"
    );
}

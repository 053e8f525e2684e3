//! The external engines through whole runs: the real Claude Code and Codex CLIs (pinned in
//! `test-support/npm`, installed by `scripts/test`) pointed at the scripted model server, so
//! no account or network is needed; and the `command` engine. Each run works in a real git
//! worktree, and its outcome is committed and reported as a builtin run's is.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use pretty_assertions::assert_eq;
use serde_json::json;
use tend_agent::{AgentEvent, EndReason, ReportStatus};
use tend_config::{
    Config, FixedClock, MachineZone, Paths, ResolvedTask, Scope, TaskFile, ZoneName,
};
use tend_mock_model::{MockContent, MockModel, MockUsage, Reply, Script, Step};
use tend_run::{RunRequest, Runner, StopReason, execute_with_stop, model_choice, stop_pair};
use tend_store::{NewRun, RunState, Store, TaskKey, Trigger};
use tend_tools::ToolDetail;

const CALC: &str = "add() { echo $(( $1 - $2 )); }\n";
const TEST: &str = "#!/bin/sh\n. ./calc.sh\ngot=$(add 2 3)\n[ \"$got\" = 5 ] || { echo \"FAIL: add 2 3 = $got, want 5\"; exit 1; }\necho ok\n";

fn node_modules() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-support/npm/node_modules");
    assert!(
        dir.join(".bin/claude").is_file() && dir.join(".bin/codex").is_file(),
        "the Claude Code and Codex CLIs are not installed in {}: run `bash scripts/test`, or \
         `npm ci --prefix test-support/npm` once",
        dir.display()
    );
    dir
}

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
    tmp: tempfile::TempDir,
    repo: PathBuf,
    paths: Paths,
    store: Store,
    clock: FixedClock,
    task_id: tend_store::TaskId,
}

impl Setup {
    /// The worktree a first run of the task works in.
    fn worktree(&self) -> PathBuf {
        self.paths
            .state_dir
            .join("worktrees")
            .join(format!("task-{}-0", self.task_id.get()))
    }
}

async fn setup(front_matter: &str, prompt: &str) -> Setup {
    tend_run::set_sandbox_helper(env!("CARGO_BIN_EXE_tend-run-sandbox-exec").into());
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(repo.join(".tend/tasks")).unwrap();
    std::fs::write(repo.join("calc.sh"), CALC).unwrap();
    std::fs::write(repo.join("test.sh"), TEST).unwrap();
    std::fs::write(
        repo.join(".tend/tasks/fix.md"),
        format!("+++\n{front_matter}\n+++\n{prompt}\n"),
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
    let repo = repo.canonicalize().unwrap();
    let paths = Paths::under(
        tmp.path().join("home/config"),
        tmp.path().join("home/state"),
    );
    let store = Store::open(&paths.db_path).await.unwrap();
    let clock = FixedClock::new("2026-11-25T10:00:00Z".parse().unwrap());
    let now = tend_config::Clock::now(&clock);
    store.register_project(&repo, now).await.unwrap();
    let state = store
        .ensure_task(&TaskKey::project(repo.clone(), "fix"), now)
        .await
        .unwrap();
    Setup {
        tmp,
        repo,
        paths,
        store,
        clock,
        task_id: state.id,
    }
}

/// What the engine's process may see: a home of its own, the mock's address and a dummy key,
/// nothing that could reach a real service.
fn engine_env(s: &Setup, mock: &MockModel) -> impl Fn(&str) -> Option<String> + use<> {
    let modules = node_modules();
    let home = s.tmp.path().join("engine-home");
    std::fs::create_dir_all(&home).unwrap();
    // Codex refuses to set up its sandbox helpers under /tmp, where tempdirs live.
    let codex_home = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "codex-home-{}",
        s.tmp.path().file_name().unwrap().to_string_lossy()
    ));
    std::fs::create_dir_all(&codex_home).unwrap();
    let anthropic = mock.base_url();
    let openai = mock.openai_base_url();
    move |name: &str| {
        let value = match name {
            "PATH" => "/usr/local/bin:/usr/bin:/bin".to_owned(),
            "HOME" => home.display().to_string(),
            "ANTHROPIC_API_KEY" | "OPENAI_API_KEY" => "sk-tend-test".to_owned(),
            "ANTHROPIC_BASE_URL" => anthropic.clone(),
            "OPENAI_BASE_URL" => openai.clone(),
            "DISABLE_TELEMETRY" | "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC" => "1".to_owned(),
            "CODEX_HOME" => codex_home.display().to_string(),
            "TEND_CLAUDE_BIN" => modules.join(".bin/claude").display().to_string(),
            "TEND_CODEX_BIN" => modules.join(".bin/codex").display().to_string(),
            _ => return None,
        };
        Some(value)
    }
}

struct Ran {
    result: Result<tend_run::Finished, tend_run::RunError>,
    events: Vec<AgentEvent>,
}

async fn run(
    s: &Setup,
    env: &dyn Fn(&str) -> Option<String>,
    stop: tend_run::StopSignal,
    mut on_event: impl FnMut(&AgentEvent) + Send,
) -> Ran {
    let file = TaskFile::load(
        &s.repo.join(".tend/tasks/fix.md"),
        Scope::Project {
            root: s.repo.clone(),
        },
    )
    .unwrap();
    let task = ResolvedTask::resolve(
        &file,
        &Config::default(),
        &MachineZone::fixed(ZoneName::utc()),
    )
    .unwrap();
    let run = s
        .store
        .create_run(&NewRun {
            task: s.task_id,
            trigger: Trigger::Manual,
            created_at: tend_config::Clock::now(&s.clock),
        })
        .await
        .unwrap();
    let model = model_choice(&task, &Config::default(), env).unwrap();
    let runner = Runner {
        store: &s.store,
        paths: &s.paths,
        clock: &s.clock,
    };
    let mut events = Vec::new();
    let request = RunRequest {
        task,
        task_id: s.task_id,
        run_id: run.id,
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
    Ran { result, events }
}

fn kinds(events: &[AgentEvent]) -> Vec<&'static str> {
    events.iter().map(AgentEvent::kind).collect()
}

fn usage(input: u64, output: u64) -> MockUsage {
    MockUsage {
        input_tokens: input,
        output_tokens: output,
        ..MockUsage::default()
    }
}

/// The transcript on disk holds what the live viewer saw (all events are durable here).
fn transcript_events(dir: &Path) -> Vec<AgentEvent> {
    tend_run::transcript::read(&dir.join("transcript.jsonl"))
        .unwrap()
        .into_iter()
        .map(|l| l.event)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_fixes_the_code_in_its_worktree() {
    let s = setup(
        "schedule = \"manual\"\nengine = \"claude\"\nmodel = \"anthropic:claude-sonnet-4-5\"\n\
         max_turns = 10\nbudget_usd = 1.0\n\n[permissions]\nallow = [\"bash(sh test.sh)\"]\n\
         ask = [\"bash(git push *)\"]",
        "Run the tests with `sh test.sh`; if they fail, fix the code.",
    )
    .await;
    let calc = s.worktree().join("calc.sh").display().to_string();
    let mock = MockModel::start(Script::new([
        Reply::new(vec![
            MockContent::text("Running the tests."),
            MockContent::tool_use(
                "Bash",
                json!({"command": "sh test.sh", "description": "run the tests"}),
            ),
        ])
        .with_usage(usage(1000, 40))
        // tend's instructions reach Claude Code's system prompt.
        .expecting("STATUS: needs-human")
        .into(),
        Reply::new(vec![MockContent::tool_use(
            "Read",
            json!({"file_path": calc}),
        )])
        .with_usage(usage(1000, 40))
        // The test's failure came back from the real shell.
        .expecting("FAIL: add 2 3 = -1, want 5")
        .into(),
        Reply::new(vec![MockContent::tool_use(
            "Edit",
            json!({"file_path": calc, "old_string": "$1 - $2", "new_string": "$1 + $2"}),
        )])
        .with_usage(usage(1000, 40))
        .into(),
        Reply::new(vec![MockContent::tool_use(
            "Bash",
            json!({"command": "git push origin HEAD", "description": "publish"}),
        )])
        .with_usage(usage(1000, 40))
        .into(),
        Reply::new(vec![MockContent::text(
            "Fixed `add`: it subtracted.\n\nSTATUS: changed",
        )])
        .with_usage(usage(1000, 40))
        .expecting("has been denied")
        .into(),
    ]))
    .await
    .unwrap();
    let env = engine_env(&s, &mock);
    let ran = run(&s, &env, tend_run::StopSignal::never(), |_| {}).await;
    let finished = ran.result.unwrap();
    assert_eq!(mock.steps_left(), 0, "{:#?}", ran.events);
    assert_eq!(
        (finished.status, finished.run.state),
        (ReportStatus::Changed, RunState::Succeeded)
    );
    assert_eq!(finished.summary, "Fixed `add`: it subtracted.");
    // The edit is on the run's branch; the user's checkout is untouched.
    let branch = finished.branch.clone().unwrap();
    assert_eq!(
        git(&s.repo, &["show", &format!("{branch}:calc.sh")]),
        "add() { echo $(( $1 + $2 )); }\n"
    );
    assert_eq!(
        std::fs::read_to_string(s.repo.join("calc.sh")).unwrap(),
        CALC
    );
    assert_eq!(git(&s.repo, &["status", "--porcelain"]), "");
    // tend's events, as the transcript holds them.
    let events = transcript_events(&finished.run_dir);
    assert_eq!(events, ran.events);
    assert_eq!(
        kinds(&events),
        [
            "start",
            "assistant_text",
            "tool_call",
            "tool_result",
            "tool_call",
            "tool_result",
            "tool_call",
            "tool_result",
            "tool_call",
            "refused",
            "assistant_text",
            "usage",
            "report",
            "end"
        ]
    );
    assert_eq!(
        events[0],
        AgentEvent::Start {
            engine: "claude".into(),
            model: "anthropic:claude-sonnet-4-5".into(),
            fixed_prompt_bytes: 0
        }
    );
    let AgentEvent::ToolResult {
        name,
        is_error,
        detail,
        content,
        ..
    } = &events[3]
    else {
        panic!("{:?}", events[3]);
    };
    assert_eq!(
        (name.as_str(), *is_error, detail),
        (
            "Bash",
            true,
            &ToolDetail::External {
                tool: "Bash".into(),
                summary: "Bash sh test.sh: Exit code 1".into()
            }
        )
    );
    assert!(content.contains("FAIL: add 2 3 = -1"), "{content}");
    let AgentEvent::Refused { name, reason, .. } = &events[9] else {
        panic!("{:?}", events[9]);
    };
    assert_eq!(name, "Bash");
    assert!(reason.contains("git push origin HEAD"), "{reason}");
    // Claude Code's own cost: 5,000 input and 200 output tokens at $3 / $15 per million.
    let AgentEvent::End {
        reason,
        turns,
        usage,
        cost_micro_usd,
    } = events.last().unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (
            *reason,
            *turns,
            usage.input_tokens,
            usage.output_tokens,
            *cost_micro_usd
        ),
        (EndReason::Finished, 5, 5000, 200, Some(18_000))
    );
    assert_eq!(finished.run.usage.cost_micro_usd, 18_000);
    let report = std::fs::read_to_string(finished.run_dir.join("report.md")).unwrap();
    assert!(
        report.starts_with("# fix: changed\n\nFixed `add`: it subtracted.\n"),
        "{report}"
    );
    assert!(report.contains("| cost | $0.0180 |"), "{report}");
    assert!(report.contains("calc.sh | 2 +-"), "{report}");
    let diff = std::fs::read_to_string(finished.run_dir.join("diff.patch")).unwrap();
    assert!(diff.contains("+add() { echo $(( $1 + $2 )); }"), "{diff}");
    // Every request had the dummy key and the task's model; the flags reached Claude Code.
    for request in mock.requests() {
        assert_eq!(request.header("x-api-key"), Some("sk-tend-test"));
        assert_eq!(request.body["model"], json!("claude-sonnet-4-5"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_in_a_read_only_run_cannot_write() {
    let s = setup(
        "schedule = \"manual\"\nengine = \"claude\"\nmode = \"read-only\"",
        "Look at calc.sh.",
    )
    .await;
    let target = s.repo.join("calc.sh").display().to_string();
    let mock = MockModel::start(Script::new([
        Step::tool_use("Write", json!({"file_path": target, "content": "broken\n"})),
        Step::text("I may not change files here.\nSTATUS: nothing-to-do"),
    ]))
    .await
    .unwrap();
    let env = engine_env(&s, &mock);
    let ran = run(&s, &env, tend_run::StopSignal::never(), |_| {}).await;
    let finished = ran.result.unwrap();
    assert_eq!(
        (finished.status, finished.run.state, finished.branch.clone()),
        (ReportStatus::NothingToDo, RunState::Succeeded, None)
    );
    assert_eq!(
        std::fs::read_to_string(s.repo.join("calc.sh")).unwrap(),
        CALC
    );
    assert_eq!(git(&s.repo, &["status", "--porcelain"]), "");
    // The read-only run has no Write tool at all: the call fails without touching anything.
    assert!(
        ran.events.iter().any(|e| matches!(
            e,
            AgentEvent::ToolResult { name, is_error: true, content, .. }
                if name == "Write" && content.contains("disabled")
        )),
        "{:#?}",
        ran.events
    );
    // No model named: Claude Code's own default, which the report says.
    assert_eq!(
        ran.events[0],
        AgentEvent::Start {
            engine: "claude".into(),
            model: "claude's default".into(),
            fixed_prompt_bytes: 0
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_stops_at_the_tasks_budget() {
    let s = setup(
        "schedule = \"manual\"\nengine = \"claude\"\nmodel = \"anthropic:claude-sonnet-4-5\"\n\
         budget_usd = 0.01",
        "Look around.",
    )
    .await;
    let target = s.worktree().join("test.sh").display().to_string();
    let mock = MockModel::start(Script::new([
        Reply::new(vec![MockContent::tool_use(
            "Read",
            json!({"file_path": target}),
        )])
        .with_usage(usage(100_000, 10))
        .into(),
        Step::text("never asked"),
    ]))
    .await
    .unwrap();
    let env = engine_env(&s, &mock);
    let ran = run(&s, &env, tend_run::StopSignal::never(), |_| {}).await;
    let finished = ran.result.unwrap();
    assert_eq!(
        (finished.status, finished.run.state),
        (ReportStatus::Failed, RunState::Failed)
    );
    assert_eq!(mock.steps_left(), 1);
    let Some(AgentEvent::End {
        reason,
        cost_micro_usd,
        ..
    }) = ran.events.last()
    else {
        panic!()
    };
    assert_eq!(
        (*reason, *cost_micro_usd),
        (EndReason::Budget, Some(300_150))
    );
    let report = std::fs::read_to_string(finished.run_dir.join("report.md")).unwrap();
    assert!(
        report.contains("> tend: Claude Code: Reached maximum budget ($0.01)"),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_claude_run_is_stopped_and_recorded() {
    let s = setup(
        "schedule = \"manual\"\nengine = \"claude\"\nmodel = \"anthropic:claude-sonnet-4-5\"",
        "Wait for the model.",
    )
    .await;
    // The model never answers in time: only the stop can end this run.
    let mock = MockModel::start(Script::new([Step::Hang { ms: 120_000 }]))
        .await
        .unwrap();
    let env = engine_env(&s, &mock);
    let (handle, signal) = stop_pair();
    let ran = run(&s, &env, signal, |e| {
        if matches!(e, AgentEvent::Start { .. }) {
            handle.stop(StopReason::Cancelled);
        }
    })
    .await;
    let finished = ran.result.unwrap();
    assert_eq!(finished.run.state, RunState::Cancelled);
    assert_eq!(kinds(&ran.events), ["start", "end"]);
    let report = std::fs::read_to_string(finished.run_dir.join("report.md")).unwrap();
    assert!(report.contains("> tend: the run was cancelled"), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_runs_a_command_in_its_sandbox_and_reports() {
    let s = setup(
        "schedule = \"manual\"\nengine = \"codex\"\nmodel = \"openai:gpt-4.1\"",
        "Add a line to NOTES.md.",
    )
    .await;
    let mock = MockModel::start(Script::new([
        Reply::new(vec![
            MockContent::text("I will add the note."),
            MockContent::tool_use(
                "exec_command",
                json!({"cmd": "printf 'checked\\n' >> NOTES.md && cat NOTES.md"}),
            ),
        ])
        .with_usage(usage(1000, 50))
        .expecting("STATUS: needs-human")
        .into(),
        Reply::new(vec![MockContent::text("Added the note.\nSTATUS: changed")])
            .with_usage(MockUsage {
                input_tokens: 1000,
                output_tokens: 50,
                cache_read_tokens: 500,
                cache_write_tokens: 0,
            })
            .expecting("checked")
            .into(),
    ]))
    .await
    .unwrap();
    let env = engine_env(&s, &mock);
    let ran = run(&s, &env, tend_run::StopSignal::never(), |_| {}).await;
    let finished = ran.result.unwrap();
    assert_eq!(mock.steps_left(), 0, "{:#?}", ran.events);
    assert_eq!(
        (
            finished.status,
            finished.run.state,
            finished.summary.as_str()
        ),
        (
            ReportStatus::Changed,
            RunState::Succeeded,
            "Added the note."
        )
    );
    let branch = finished.branch.clone().unwrap();
    assert_eq!(
        git(&s.repo, &["show", &format!("{branch}:NOTES.md")]),
        "checked\n"
    );
    assert!(!s.repo.join("NOTES.md").exists());
    let events = transcript_events(&finished.run_dir);
    assert_eq!(
        kinds(&events),
        [
            "start",
            "assistant_text",
            "tool_call",
            "tool_result",
            "assistant_text",
            "usage",
            "report",
            "end"
        ]
    );
    let AgentEvent::ToolResult {
        is_error,
        content,
        detail: ToolDetail::External { tool, summary },
        ..
    } = &events[3]
    else {
        panic!("{:?}", events[3]);
    };
    assert_eq!(
        (*is_error, content.as_str(), tool.as_str()),
        (false, "checked\n", "command_execution")
    );
    assert!(summary.ends_with("→ exit 0"), "{summary}");
    // Codex counts cached tokens inside its input; tend prices them apart, with its table
    // (gpt-4.1: $2 in, $0.50 cached, $8 out per million).
    let AgentEvent::Usage {
        usage: u,
        cost_micro_usd,
        ..
    } = &events[5]
    else {
        panic!()
    };
    assert_eq!(
        (
            u.input_tokens,
            u.cache_read_tokens,
            u.output_tokens,
            *cost_micro_usd
        ),
        (2000, 500, 100, Some(4_000 + 250 + 800))
    );
    for request in mock.requests() {
        assert_eq!(request.path, "/v1/responses");
        assert_eq!(request.header("authorization"), Some("Bearer sk-tend-test"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_in_a_read_only_run_cannot_write() {
    let s = setup(
        "schedule = \"manual\"\nengine = \"codex\"\nmodel = \"openai:gpt-4.1\"\nmode = \"read-only\"",
        "Look at calc.sh.",
    )
    .await;
    let mock = MockModel::start(Script::new([
        Step::tool_use("exec_command", json!({"cmd": "echo broken > calc.sh"})),
        // Codex's own sandbox refused the write, and told the model so.
        Reply::new(vec![MockContent::text(
            "The sandbox is read-only.\nSTATUS: nothing-to-do",
        )])
        .expecting("Read-only file system")
        .into(),
    ]))
    .await
    .unwrap();
    let env = engine_env(&s, &mock);
    let ran = run(&s, &env, tend_run::StopSignal::never(), |_| {}).await;
    let finished = ran.result.unwrap();
    assert_eq!(
        (finished.status, finished.run.state),
        (ReportStatus::NothingToDo, RunState::Succeeded)
    );
    assert_eq!(
        std::fs::read_to_string(s.repo.join("calc.sh")).unwrap(),
        CALC
    );
    assert_eq!(mock.steps_left(), 0, "{:#?}", ran.events);
    assert_eq!(git(&s.repo, &["status", "--porcelain"]), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_task_is_a_better_cron_job() {
    let s = setup(
        "schedule = \"manual\"\nengine = \"command\"\n\
         command = \"sed -i 's/- \\\\$2/+ $2/' calc.sh && sh test.sh\"",
        "Fix the sign.",
    )
    .await;
    let env = |_: &str| None;
    let ran = run(&s, &env, tend_run::StopSignal::never(), |_| {}).await;
    let finished = ran.result.unwrap();
    assert_eq!(
        (finished.status, finished.run.state),
        (ReportStatus::Changed, RunState::Succeeded),
        "{:#?}",
        ran.events
    );
    let branch = finished.branch.clone().unwrap();
    assert_eq!(
        git(&s.repo, &["show", &format!("{branch}:calc.sh")]),
        "add() { echo $(( $1 + $2 )); }\n"
    );
    assert_eq!(
        kinds(&ran.events),
        ["start", "tool_call", "tool_result", "end"]
    );
    let report = std::fs::read_to_string(finished.run_dir.join("report.md")).unwrap();
    assert!(report.contains("exited with 0"), "{report}");
    assert!(report.contains("\nok\n"), "{report}");
    assert!(report.contains("| model | `none` |"), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_command_fails_the_run_with_its_output() {
    let s = setup(
        "schedule = \"manual\"\nengine = \"command\"\ncommand = \"sh test.sh\"",
        "Run the tests.",
    )
    .await;
    let env = |_: &str| None;
    let ran = run(&s, &env, tend_run::StopSignal::never(), |_| {}).await;
    let finished = ran.result.unwrap();
    assert_eq!(
        (finished.status, finished.run.state, finished.branch.clone()),
        (ReportStatus::Failed, RunState::Failed, None)
    );
    let report = std::fs::read_to_string(finished.run_dir.join("report.md")).unwrap();
    assert!(
        report.starts_with("# fix: failed\n\n`sh test.sh` exited with 1"),
        "{report}"
    );
    assert!(report.contains("FAIL: add 2 3 = -1, want 5"), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_past_its_timeout_is_killed() {
    let s = setup(
        "schedule = \"manual\"\nengine = \"command\"\ncommand = \"sleep 600\"\ntimeout = \"1s\"",
        "Sleep.",
    )
    .await;
    let env = |_: &str| None;
    let ran = run(&s, &env, tend_run::StopSignal::never(), |_| {}).await;
    let finished = ran.result.unwrap();
    assert_eq!(finished.run.state, RunState::TimedOut, "{:#?}", ran.events);
    let Some(AgentEvent::End { reason, .. }) = ran.events.last() else {
        panic!()
    };
    assert_eq!(*reason, EndReason::Timeout);
}

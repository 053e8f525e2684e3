//! The agent loop against the scripted model server over real HTTP, with real tools in a
//! temp folder.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::json;
use tend_agent::{
    AgentEvent, EndReason, Limits, ReportStatus, SessionSettings, TaskContext, run_session,
};
use tend_mock_model::{ErrorReply, MockContent, MockModel, MockUsage, Reply, Script, Step};
use tend_model::{Client, Price, Provider, ProviderOverrides, ProviderSettings, Sleeper};
use tend_policy::Mode;

fn context(mode: Mode) -> TaskContext {
    TaskContext {
        task: "fix".into(),
        prompt: "Make the greeting say hello.".into(),
        mode,
        branch: Some("tend/fix/r1".into()),
        project_memory: vec![],
        memory_path: ".tend/memory/fix.md".into(),
        task_memory: String::new(),
        inputs: vec![],
        now: "2026-11-25 10:00:00 +00:00".into(),
    }
}

fn settings(max_turns: u32) -> SessionSettings {
    SessionSettings {
        model: "claude-sonnet-4-5".into(),
        model_label: "anthropic:claude-sonnet-4-5".into(),
        price: Some(Price {
            input: 3_000_000,
            output: 15_000_000,
            cache_read: 300_000,
            cache_write: 3_750_000,
        }),
        max_tokens: 4096,
        context_window: 200_000,
        limits: Limits {
            max_turns,
            timeout: Duration::from_secs(60),
            budget_micro_usd: None,
        },
        tool_limits: tend_tools::Limits::default(),
    }
}

fn client(mock: &MockModel) -> Client {
    let env = |name: &str| match name {
        "ANTHROPIC_API_KEY" => Some("test-key".to_owned()),
        _ => None,
    };
    let overrides = ProviderOverrides {
        base_url: Some(mock.base_url()),
        api_key_env: None,
    };
    let settings = ProviderSettings::from_lookup(Provider::Anthropic, &overrides, &env).unwrap();
    let (sleeper, _log) = Sleeper::instant();
    Client::new(Provider::Anthropic, &settings)
        .unwrap()
        .with_sleeper(sleeper)
}

struct Folder {
    _dir: tempfile::TempDir,
    ws: tend_tools::Workspace,
    root: std::path::PathBuf,
}

fn folder() -> Folder {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    let tmp = dir.path().join("tmp");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::write(root.join("greet.sh"), "echo goodbye\n").unwrap();
    let ws = tend_tools::Workspace::new(&root, &tmp).unwrap();
    let root = ws.root().to_path_buf();
    Folder {
        _dir: dir,
        ws,
        root,
    }
}

fn kinds(events: &[AgentEvent]) -> Vec<&'static str> {
    events
        .iter()
        .filter(|e| e.is_durable())
        .map(AgentEvent::kind)
        .collect()
}

#[tokio::test]
async fn reads_edits_runs_and_reports() {
    let script = Script::new([
        Step::tool_use("read", json!({"path": "greet.sh"})),
        Step::tool_use(
            "edit",
            json!({"path": "greet.sh", "old_string": "goodbye", "new_string": "hello"}),
        ),
        Step::tool_use("bash", json!({"command": "sh greet.sh"})),
        Step::reply(vec![
            MockContent::text("Fixed it."),
            MockContent::tool_use(
                "report",
                json!({"status": "changed", "summary": "The greeting now says hello."}),
            ),
        ]),
    ]);
    let mock = MockModel::start(script).await.unwrap();
    let f = folder();
    let mut events = Vec::new();
    let outcome = run_session(
        &client(&mock),
        &f.ws,
        &context(Mode::Propose),
        &settings(10),
        &mut |e| events.push(e),
    )
    .await;
    assert_eq!(outcome.end, EndReason::Finished);
    assert_eq!(outcome.turns, 4);
    assert_eq!(
        outcome.report.map(|r| (r.status, r.summary)),
        Some((ReportStatus::Changed, "The greeting now says hello.".into()))
    );
    assert_eq!(
        std::fs::read_to_string(f.root.join("greet.sh")).unwrap(),
        "echo hello\n"
    );
    assert_eq!(
        kinds(&events),
        vec![
            "start",
            "request",
            "usage",
            "tool_call",
            "tool_result",
            "request",
            "usage",
            "tool_call",
            "tool_result",
            "request",
            "usage",
            "tool_call",
            "tool_result",
            "request",
            "usage",
            "assistant_text",
            "tool_call",
            "report",
            "end"
        ]
    );
    // The bash result reached the model: the fourth request carries the command's output.
    let requests = mock.requests();
    assert_eq!(requests.len(), 4);
    let last = requests[3].body.to_string();
    assert!(last.contains("hello"), "{last}");
    // The fixed part of the request stays lean.
    let AgentEvent::Start {
        fixed_prompt_bytes, ..
    } = &events[0]
    else {
        panic!("first event is {:?}", events[0]);
    };
    assert!(*fixed_prompt_bytes < 6 * 1024, "{fixed_prompt_bytes}");
    mock.shutdown().await;
}

#[tokio::test]
async fn survives_three_failures_before_an_answer() {
    let script = Script::new([
        Step::Error(ErrorReply::new(429).retry_after("0")),
        Step::Error(ErrorReply::new(529)),
        Step::Error(ErrorReply::new(500)),
        Step::tool_use(
            "report",
            json!({"status": "nothing-to-do", "summary": "All fine."}),
        ),
    ]);
    let mock = MockModel::start(script).await.unwrap();
    let f = folder();
    let mut events = Vec::new();
    let outcome = run_session(
        &client(&mock),
        &f.ws,
        &context(Mode::Propose),
        &settings(5),
        &mut |e| events.push(e),
    )
    .await;
    assert_eq!(outcome.end, EndReason::Finished);
    assert_eq!(outcome.report.unwrap().status, ReportStatus::NothingToDo);
    let retries: Vec<u32> = events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::Retry { attempt, .. } => Some(*attempt),
            _ => None,
        })
        .collect();
    assert_eq!(retries, vec![1, 2, 3]);
    mock.shutdown().await;
}

#[tokio::test]
async fn read_only_runs_cannot_write_and_the_model_is_told() {
    let script = Script::new([
        Step::tool_use("write", json!({"path": "x.txt", "content": "no"})),
        Step::tool_use(
            "report",
            json!({"status": "needs-human", "summary": "I may not write."}),
        ),
    ]);
    let mock = MockModel::start(script).await.unwrap();
    let f = folder();
    let mut events = Vec::new();
    let outcome = run_session(
        &client(&mock),
        &f.ws,
        &context(Mode::ReadOnly),
        &settings(5),
        &mut |e| events.push(e),
    )
    .await;
    assert_eq!(outcome.report.unwrap().status, ReportStatus::NeedsHuman);
    assert!(!f.root.join("x.txt").exists());
    assert!(events.iter().any(|e| matches!(e,
        AgentEvent::Refused { name, reason, .. }
            if name == "write" && reason == "`write` is not available in a read-only run")));
    // Read-only runs are not even offered the write tools.
    let tools: Vec<String> = mock.requests()[0].body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(tools, vec!["read", "glob", "grep", "report"]);
    mock.shutdown().await;
}

#[tokio::test]
async fn stops_at_max_turns() {
    let script = Script::new([
        Step::tool_use("glob", json!({"pattern": "*"})),
        Step::tool_use("glob", json!({"pattern": "*"})),
    ]);
    let mock = MockModel::start(script).await.unwrap();
    let f = folder();
    let outcome = run_session(
        &client(&mock),
        &f.ws,
        &context(Mode::Propose),
        &settings(2),
        &mut |_| {},
    )
    .await;
    assert_eq!(outcome.end, EndReason::MaxTurns);
    assert_eq!(outcome.turns, 2);
    assert_eq!(outcome.error.as_deref(), Some("reached max_turns (2)"));
    mock.shutdown().await;
}

#[tokio::test]
async fn stops_when_the_budget_is_spent() {
    let expensive = MockUsage {
        input_tokens: 1_000_000,
        output_tokens: 0,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
    };
    let script = Script::new([Step::Reply(
        Reply::new(vec![MockContent::tool_use("glob", json!({"pattern": "*"}))])
            .with_usage(expensive),
    )]);
    let mock = MockModel::start(script).await.unwrap();
    let f = folder();
    let mut s = settings(10);
    s.limits.budget_micro_usd = Some(2_000_000);
    let outcome = run_session(
        &client(&mock),
        &f.ws,
        &context(Mode::Propose),
        &s,
        &mut |_| {},
    )
    .await;
    assert_eq!(outcome.end, EndReason::Budget);
    assert_eq!(outcome.cost_micro_usd, Some(3_000_000));
    assert_eq!(
        outcome.error.as_deref(),
        Some("spent $3.00 of a $2.00 budget")
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn compacts_near_the_context_window_and_goes_on() {
    let big = MockUsage {
        input_tokens: 900,
        output_tokens: 10,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
    };
    let script = Script::new([
        Step::Reply(
            Reply::new(vec![MockContent::tool_use(
                "read",
                json!({"path": "greet.sh"}),
            )])
            .with_usage(big),
        ),
        // The summary request.
        Step::Reply(
            Reply::new(vec![MockContent::text("Read greet.sh; it says goodbye.")])
                .expecting("compact summary"),
        ),
        Step::Reply(
            Reply::new(vec![MockContent::tool_use(
                "report",
                json!({"status": "nothing-to-do", "summary": "Done."}),
            )])
            .expecting("it says goodbye"),
        ),
    ]);
    let mock = MockModel::start(script).await.unwrap();
    let f = folder();
    let mut s = settings(10);
    s.context_window = 1_000;
    let mut events = Vec::new();
    let outcome = run_session(
        &client(&mock),
        &f.ws,
        &context(Mode::Propose),
        &s,
        &mut |e| events.push(e),
    )
    .await;
    assert_eq!(outcome.end, EndReason::Finished, "{:?}", outcome.error);
    assert!(events.iter().any(|e| matches!(
        e,
        AgentEvent::Compacted {
            messages_before: 3,
            messages_after: 1,
            ..
        }
    )));
    assert_eq!(
        outcome.messages.len(),
        3,
        "task+summary, report call, its result"
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn an_invalid_report_is_sent_back_for_another_try() {
    let script = Script::new([
        Step::tool_use("report", json!({"status": "done", "summary": "x"})),
        Step::tool_use(
            "report",
            json!({"status": "failed", "summary": "Could not."}),
        ),
    ]);
    let mock = MockModel::start(script).await.unwrap();
    let f = folder();
    let outcome = run_session(
        &client(&mock),
        &f.ws,
        &context(Mode::Propose),
        &settings(5),
        &mut |_| {},
    )
    .await;
    assert_eq!(outcome.turns, 2);
    assert_eq!(outcome.report.unwrap().status, ReportStatus::Failed);
    let second = mock.requests()[1].body.to_string();
    assert!(second.contains("unknown status `done`"), "{second}");
    mock.shutdown().await;
}

//! The agent loop against the scripted model server over real HTTP, with real tools in a
//! temp folder.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::json;
use tend_agent::{
    AgentEvent, Decision, EndReason, Gate, Limits, LoopSignal, LoopStart, Looping, ModeGate,
    ReportStatus, Resolution, Session, SessionOutcome, SessionSettings, Start, TaskContext,
    Verdict, loop_signal, run_session,
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

/// A fresh session with the mode's gate.
async fn session(
    client: &Client,
    ws: &tend_tools::Workspace,
    ctx: &TaskContext,
    settings: &SessionSettings,
    sink: &mut (dyn FnMut(AgentEvent) + Send),
) -> SessionOutcome {
    let gate = ModeGate(ctx.mode);
    let s = Session {
        client,
        workspace: ws,
        ctx,
        settings,
        gate: &gate,
    };
    run_session(&s, Start::Fresh, sink).await
}

/// Asks a human for any `bash` command that pushes; allows everything else.
struct AskForPush;

impl Gate for AskForPush {
    fn decide(&self, call: &tend_tools::ToolCall) -> Decision {
        let command = call.input["command"].as_str().unwrap_or("");
        let (verdict, because) = if command.contains("git push") {
            (Verdict::Ask, "rule bash(git push *) in ask".to_owned())
        } else {
            (Verdict::Allow, "propose mode".to_owned())
        };
        Decision {
            verdict,
            because,
            allow_rule: Some("bash(git push *)".into()),
        }
    }
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
    let outcome = session(
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
            "decision",
            "tool_result",
            "request",
            "usage",
            "tool_call",
            "decision",
            "tool_result",
            "request",
            "usage",
            "tool_call",
            "decision",
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
    let outcome = session(
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
    let outcome = session(
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
    assert_eq!(tools, vec!["read", "glob", "grep", "bash", "report"]);
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
    let outcome = session(
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
    let outcome = session(
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
    let outcome = session(
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
    let outcome = session(
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

/// The script of a session that pushes (parks), then writes a file and reports.
fn push_script() -> Script {
    Script::new([
        Step::reply(vec![
            MockContent::tool_use("bash", json!({"command": "echo before > before.txt"})),
            MockContent::tool_use("bash", json!({"command": "git push origin HEAD"})),
            MockContent::tool_use("bash", json!({"command": "echo after > after.txt"})),
        ]),
        Step::tool_use("report", json!({"status": "changed", "summary": "Done."})),
    ])
}

async fn park(mock: &MockModel, f: &Folder) -> (SessionOutcome, Vec<AgentEvent>) {
    let gate = AskForPush;
    let ctx = context(Mode::Propose);
    let settings = settings(10);
    let client = client(mock);
    let s = Session {
        client: &client,
        workspace: &f.ws,
        ctx: &ctx,
        settings: &settings,
        gate: &gate,
    };
    let mut events = Vec::new();
    let outcome = run_session(&s, Start::Fresh, &mut |e| events.push(e)).await;
    (outcome, events)
}

#[tokio::test]
async fn an_ask_parks_the_session_with_a_checkpoint_and_approval_resumes_it() {
    let mock = MockModel::start(push_script()).await.unwrap();
    let f = folder();
    let (parked, events) = park(&mock, &f).await;
    assert_eq!(parked.end, EndReason::Parked);
    // The call before the ask ran; the ask and the call after it did not (yet).
    assert!(f.root.join("before.txt").exists());
    assert!(!f.root.join("after.txt").exists());
    let checkpoint = parked.parked.clone().unwrap();
    assert_eq!(checkpoint.pending, 1);
    assert_eq!(checkpoint.results.len(), 1);
    assert_eq!(checkpoint.because, "rule bash(git push *) in ask");
    assert!(
        matches!(events.last(), Some(AgentEvent::Parked { because, .. }) if because == "rule bash(git push *) in ask")
    );
    assert!(
        !events.iter().any(|e| matches!(e, AgentEvent::End { .. })),
        "a parked session has not ended"
    );
    // The checkpoint survives a trip through JSON (it is written to disk between processes).
    let checkpoint: tend_agent::Checkpoint =
        serde_json::from_str(&serde_json::to_string(&checkpoint).unwrap()).unwrap();

    // Resumed with approval: the push runs (and fails: no remote), the rest of the turn runs,
    // the model is asked again and reports.
    let gate = AskForPush;
    let ctx = context(Mode::Propose);
    let settings = settings(10);
    let client = client(&mock);
    let s = Session {
        client: &client,
        workspace: &f.ws,
        ctx: &ctx,
        settings: &settings,
        gate: &gate,
    };
    let mut events = Vec::new();
    let resumed = run_session(
        &s,
        Start::Resume(
            Box::new(checkpoint),
            Resolution::Approve { by: "ana".into() },
        ),
        &mut |e| events.push(e),
    )
    .await;
    assert_eq!(resumed.end, EndReason::Finished, "{:?}", resumed.error);
    assert_eq!(resumed.report.unwrap().status, ReportStatus::Changed);
    assert!(f.root.join("after.txt").exists());
    assert!(
        matches!(&events[0], AgentEvent::Resumed { resolution: Resolution::Approve { by }, .. } if by == "ana")
    );
    let ran: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::ToolResult {
                detail: tend_tools::ToolDetail::Bash { command, .. },
                ..
            } => Some(command.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(ran, vec!["git push origin HEAD", "echo after > after.txt"]);
    // The model's second request holds all three results of the parked turn, in order.
    let second = &mock.requests()[1].body;
    let results = second["messages"].as_array().unwrap().last().unwrap()["content"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(results, 3);
    mock.shutdown().await;
}

#[tokio::test]
async fn a_denied_call_is_refused_with_the_reason_and_the_session_goes_on() {
    let mock = MockModel::start(push_script()).await.unwrap();
    let f = folder();
    let (parked, _) = park(&mock, &f).await;
    let gate = AskForPush;
    let ctx = context(Mode::Propose);
    let settings = settings(10);
    let client = client(&mock);
    let s = Session {
        client: &client,
        workspace: &f.ws,
        ctx: &ctx,
        settings: &settings,
        gate: &gate,
    };
    let resumed = run_session(
        &s,
        Start::Resume(
            parked.parked.unwrap(),
            Resolution::Deny {
                by: "ana".into(),
                reason: "not on Fridays".into(),
            },
        ),
        &mut |_| {},
    )
    .await;
    assert_eq!(resumed.end, EndReason::Finished);
    let second = mock.requests()[1].body.to_string();
    assert!(
        second.contains("a human (ana) denied this call: not on Fridays"),
        "{second}"
    );
    assert!(
        f.root.join("after.txt").exists(),
        "the turn's later calls still ran"
    );
    mock.shutdown().await;
}

/// A loop's check, going on from `conversation`.
async fn check(
    client: &Client,
    f: &Folder,
    settings: &SessionSettings,
    looping: Looping,
    conversation: Vec<tend_model::Message>,
    events: &mut Vec<AgentEvent>,
) -> SessionOutcome {
    let ctx = context(Mode::ReadOnly);
    let gate = ModeGate(ctx.mode);
    let s = Session {
        client,
        workspace: &f.ws,
        ctx: &ctx,
        settings,
        gate: &gate,
    };
    let start = Start::Loop(Box::new(LoopStart {
        looping,
        conversation,
    }));
    run_session(&s, start, &mut |e| events.push(e)).await
}

#[tokio::test]
async fn loop_checks_share_one_conversation_and_end_with_the_loop_tools() {
    let script = Script::new([
        Step::reply(vec![
            MockContent::text("CI is still running."),
            MockContent::tool_use("next_check", json!({"seconds": 10, "why": "CI runs"})),
        ]),
        // The second check sees the first: its request holds the first check's text.
        Step::Reply(
            Reply::new(vec![MockContent::tool_use(
                "loop_done",
                json!({"reason": "CI is green."}),
            )])
            .expecting("CI is still running.")
            .expecting("Check 2 (2026-11-25 10:00:00 +00:00): Make the greeting say hello."),
        ),
    ]);
    let mock = MockModel::start(script).await.unwrap();
    let f = folder();
    let client = client(&mock);
    let looping = |check| Looping {
        check,
        until: Some("CI is green".into()),
        agent_picks_delay: true,
    };
    let mut events = Vec::new();
    let first = check(&client, &f, &settings(5), looping(1), vec![], &mut events).await;
    assert_eq!(first.end, EndReason::Finished);
    assert_eq!(first.final_text.as_deref(), Some("CI runs"));
    assert_eq!(
        loop_signal(&first.messages),
        Some(LoopSignal::NextCheck {
            seconds: 60,
            asked: 10,
            why: "CI runs".into()
        })
    );
    let AgentEvent::Start {
        fixed_prompt_bytes, ..
    } = &events[0]
    else {
        panic!("first event is {:?}", events[0]);
    };
    assert!(*fixed_prompt_bytes < 6 * 1024, "{fixed_prompt_bytes}");
    let request = mock.requests()[0].body.to_string();
    assert!(request.contains("\"name\":\"next_check\""), "{request}");
    assert!(
        request.contains("stop condition: CI is green."),
        "{request}"
    );

    let before = first.messages.len();
    let second = check(
        &client,
        &f,
        &settings(5),
        looping(2),
        first.messages,
        &mut Vec::new(),
    )
    .await;
    assert_eq!(second.end, EndReason::Finished, "{:?}", second.error);
    assert_eq!(second.turns, 1);
    // The first check's tool result and the second check's request are one user message.
    assert_eq!(second.messages.len(), before + 2);
    assert_eq!(
        loop_signal(&second.messages[before..]),
        Some(LoopSignal::Done {
            reason: "CI is green.".into()
        })
    );
    assert_eq!(mock.requests().len(), 2);
    mock.shutdown().await;
}

#[tokio::test]
async fn a_loop_check_survives_compaction_with_its_request() {
    let script = Script::new([
        // The summary request, at the start of the second check (the first check's usage is
        // near the window).
        Step::Reply(
            Reply::new(vec![MockContent::text("Checked once: CI was running.")])
                .expecting("compact summary"),
        ),
        Step::Reply(
            Reply::new(vec![MockContent::tool_use(
                "report",
                json!({"status": "nothing-to-do", "summary": "Still running."}),
            )])
            .expecting("CI was running.")
            .expecting("The current request:\n\nCheck 2"),
        ),
    ]);
    let mock = MockModel::start(script).await.unwrap();
    let f = folder();
    let mut s = settings(5);
    s.context_window = 1_000;
    // A first check as it would have ended, long enough to need compaction.
    let conversation = vec![
        tend_model::Message {
            role: tend_model::Role::User,
            content: vec![tend_model::Content::Text {
                text: format!("Task `fix`: check CI. {}", "x".repeat(4000)),
            }],
        },
        tend_model::Message {
            role: tend_model::Role::Assistant,
            content: vec![tend_model::Content::Text {
                text: "CI is running.".into(),
            }],
        },
    ];
    let mut events = Vec::new();
    let looping = Looping {
        check: 2,
        until: None,
        agent_picks_delay: false,
    };
    let outcome = check(&client(&mock), &f, &s, looping, conversation, &mut events).await;
    assert_eq!(outcome.end, EndReason::Finished, "{:?}", outcome.error);
    assert!(
        events.iter().any(|e| matches!(
            e,
            AgentEvent::Compacted {
                messages_before: 3,
                messages_after: 1,
                ..
            }
        )),
        "{events:?}"
    );
    assert_eq!(outcome.report.unwrap().summary, "Still running.");
    mock.shutdown().await;
}

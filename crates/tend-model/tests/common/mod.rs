//! Shared helpers: a mock server, a client pointed at it, and requests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use serde_json::json;
use tend_mock_model::{MockModel, Script, Step};
use tend_model::{
    Client, Content, Message, ModelError, ModelEvent, ModelRequest, ModelResponse, Provider,
    ProviderSettings, RetryPolicy, Role, Secret, SleepLog, Sleeper, ToolSpec,
};

pub const KEY: &str = "sk-test-THE-SECRET-KEY-0123456789";

/// Retries without jitter, so the waits are exact.
pub fn settings(base_url: String) -> ProviderSettings {
    ProviderSettings {
        base_url,
        api_key: Some(Secret::new(KEY)),
        timeout: Duration::from_secs(30),
        retry: RetryPolicy {
            jitter_percent: 0,
            ..RetryPolicy::default()
        },
    }
}

pub struct Setup {
    pub mock: MockModel,
    pub client: Client,
    pub sleeps: SleepLog,
}

pub async fn start(provider: Provider, steps: impl IntoIterator<Item = Step>) -> Setup {
    start_with(provider, Script::new(steps), |s| s).await
}

pub async fn start_with(
    provider: Provider,
    script: Script,
    adjust: impl FnOnce(ProviderSettings) -> ProviderSettings,
) -> Setup {
    let mock = MockModel::start(script).await.unwrap();
    let base_url = match provider {
        Provider::OpenAi => mock.openai_base_url(),
        Provider::Anthropic | Provider::Replay => mock.base_url(),
    };
    let (sleeper, sleeps) = Sleeper::instant();
    let client = Client::new(provider, &adjust(settings(base_url)))
        .unwrap()
        .with_sleeper(sleeper);
    Setup {
        mock,
        client,
        sleeps,
    }
}

pub async fn run(
    client: &Client,
    request: &ModelRequest,
) -> (Result<ModelResponse, ModelError>, Vec<ModelEvent>) {
    let mut events = Vec::new();
    let result = client
        .complete(request, &mut |event| events.push(event))
        .await;
    (result, events)
}

pub fn simple_request() -> ModelRequest {
    ModelRequest {
        model: "test-model".into(),
        system: vec!["You are a test.".into()],
        tools: vec![],
        messages: vec![Message::user_text("Say hello.")],
        max_tokens: 1000,
    }
}

pub fn tool(name: &str) -> ToolSpec {
    ToolSpec {
        name: name.into(),
        description: format!("The {name} tool."),
        input_schema: json!({"type": "object", "properties": {"path": {"type": "string"}}}),
    }
}

/// A conversation with every kind of block: the shape of an agent's second turn.
pub fn rich_request() -> ModelRequest {
    ModelRequest {
        model: "test-model".into(),
        system: vec![
            "You are tend.".into(),
            "# AGENTS.md\nRun cargo test.".into(),
            "# Task memory\nLast run: fine.".into(),
        ],
        tools: vec![tool("read"), tool("bash")],
        messages: vec![
            Message::user_text("Triage the log."),
            Message {
                role: Role::Assistant,
                content: vec![
                    Content::text("Reading it."),
                    Content::ToolUse {
                        id: "toolu_1".into(),
                        name: "read".into(),
                        input: json!({"path": "api.log"}),
                    },
                ],
            },
            Message {
                role: Role::User,
                content: vec![Content::ToolResult {
                    tool_use_id: "toolu_1".into(),
                    content: "ERROR x".into(),
                    is_error: false,
                }],
            },
            Message {
                role: Role::Assistant,
                content: vec![Content::ToolUse {
                    id: "toolu_2".into(),
                    name: "bash".into(),
                    input: json!({"command": "cargo test"}),
                }],
            },
            Message {
                role: Role::User,
                content: vec![
                    Content::ToolResult {
                        tool_use_id: "toolu_2".into(),
                        content: "exit 101".into(),
                        is_error: true,
                    },
                    Content::text("Keep it short."),
                ],
            },
        ],
        max_tokens: 4096,
    }
}

pub fn secs(list: &[u64]) -> Vec<Duration> {
    list.iter().map(|s| Duration::from_secs(*s)).collect()
}

/// Text deltas joined.
pub fn streamed_text(events: &[ModelEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            ModelEvent::TextDelta(text) => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

/// The retry events, as (attempt, wait).
pub fn retries(events: &[ModelEvent]) -> Vec<(u32, Duration)> {
    events
        .iter()
        .filter_map(|e| match e {
            ModelEvent::Retrying { attempt, wait, .. } => Some((*attempt, *wait)),
            _ => None,
        })
        .collect()
}

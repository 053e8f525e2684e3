//! The OpenAI client against the mock server over loopback HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use pretty_assertions::assert_eq;
use serde_json::json;
use tend_mock_model::{CutEnding, ErrorReply, MockContent, MockStop, MockUsage, Reply, Step};
use tend_model::{
    Client, Content, MaxTokensField, ModelError, ModelEvent, ModelResponse, OpenAiClient, Provider,
    Sleeper, StopReason, Usage,
};

const OPENAI: Provider = Provider::OpenAi;

#[tokio::test]
async fn text_reply_streams_in_deltas() {
    let setup = start(OPENAI, [Step::text("Hello, world! How are you?")]).await;
    let (result, events) = run(&setup.client, &simple_request()).await;
    assert_eq!(
        result.unwrap(),
        ModelResponse {
            content: vec![Content::text("Hello, world! How are you?")],
            stop: StopReason::EndTurn,
            usage: Usage::default(),
            request_id: Some("req_mock_1".into()),
        }
    );
    assert_eq!(
        events,
        ["Hello", ", wor", "ld! H", "ow ar", "e you", "?"]
            .map(|t| ModelEvent::TextDelta(t.into()))
            .to_vec()
    );
    assert_eq!(setup.mock.requests()[0].path, "/v1/chat/completions");
}

#[tokio::test]
async fn tool_arguments_are_assembled_from_many_deltas() {
    let input = json!({"command": "cargo test --workspace -- --nocapture", "timeout_ms": 120000});
    let setup = start(OPENAI, [Step::tool_use("bash", input.clone())]).await;
    let (result, events) = run(&setup.client, &simple_request()).await;
    let response = result.unwrap();
    assert_eq!(
        response.content,
        vec![Content::ToolUse {
            id: "call_mock_1_0".into(),
            name: "bash".into(),
            input: input.clone(),
        }]
    );
    assert_eq!(response.stop, StopReason::ToolUse);
    assert_eq!(
        events[0],
        ModelEvent::ToolUseStart {
            id: "call_mock_1_0".into(),
            name: "bash".into()
        }
    );
    let pieces: Vec<&str> = events[1..]
        .iter()
        .map(|e| match e {
            ModelEvent::ToolInputDelta { id, partial_json } if id == "call_mock_1_0" => {
                partial_json.as_str()
            }
            other => panic!("unexpected event {other:?}"),
        })
        .collect();
    assert!(pieces.len() > 10, "{pieces:?}");
    assert_eq!(pieces.concat(), input.to_string());
}

#[tokio::test]
async fn text_and_two_tool_calls_in_one_response() {
    let setup = start(
        OPENAI,
        [Step::reply(vec![
            MockContent::text("Two things."),
            MockContent::tool_use("read", json!({"path": "a.rs"})),
            MockContent::tool_use("bash", json!({"command": "ls"})),
        ])],
    )
    .await;
    let (result, events) = run(&setup.client, &simple_request()).await;
    let response = result.unwrap();
    assert_eq!(
        response.content,
        vec![
            Content::text("Two things."),
            Content::ToolUse {
                id: "call_mock_1_1".into(),
                name: "read".into(),
                input: json!({"path": "a.rs"}),
            },
            Content::ToolUse {
                id: "call_mock_1_2".into(),
                name: "bash".into(),
                input: json!({"command": "ls"}),
            },
        ]
    );
    assert_eq!(response.stop, StopReason::ToolUse);
    let starts: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            ModelEvent::ToolUseStart { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(starts, vec!["read".to_owned(), "bash".to_owned()]);
}

#[tokio::test]
async fn usage_maps_cached_tokens_and_stops_map() {
    let usage = MockUsage {
        input_tokens: 100,
        output_tokens: 50,
        cache_read_tokens: 2000,
        cache_write_tokens: 0,
    };
    let steps = [
        (MockStop::MaxTokens, StopReason::MaxTokens),
        (MockStop::Refusal, StopReason::Refusal),
        (MockStop::StopSequence, StopReason::EndTurn),
    ];
    let setup = start(
        OPENAI,
        steps.iter().map(|(stop, _)| {
            Reply::new(vec![MockContent::text("x")])
                .with_usage(usage)
                .with_stop(*stop)
                .into()
        }),
    )
    .await;
    for (_, expected) in steps {
        let response = run(&setup.client, &simple_request()).await.0.unwrap();
        assert_eq!(
            (response.usage, response.stop),
            (
                Usage {
                    input_tokens: 100,
                    output_tokens: 50,
                    cache_read_tokens: 2000,
                    cache_write_tokens: 0,
                },
                expected
            )
        );
    }
}

#[tokio::test]
async fn rate_limit_waits_exactly_retry_after() {
    let setup = start(
        OPENAI,
        [
            ErrorReply::new(429).retry_after("7").into(),
            Step::text("ok"),
        ],
    )
    .await;
    let (result, events) = run(&setup.client, &simple_request()).await;
    assert_eq!(result.unwrap().text(), "ok");
    assert_eq!(setup.sleeps.waits(), secs(&[7]));
    assert_eq!(
        events[0],
        ModelEvent::Retrying {
            attempt: 1,
            wait: Duration::from_secs(7),
            reason: "openai API error 429 (requests): Rate limit reached for requests [request id req_mock_1]".into(),
        }
    );
}

#[tokio::test]
async fn server_errors_back_off() {
    let setup = start(
        OPENAI,
        [Step::error(503), Step::error(502), Step::text("ok")],
    )
    .await;
    let (result, events) = run(&setup.client, &simple_request()).await;
    assert_eq!(result.unwrap().text(), "ok");
    assert_eq!(setup.sleeps.waits(), secs(&[1, 2]));
    assert_eq!(
        retries(&events),
        vec![(1, Duration::from_secs(1)), (2, Duration::from_secs(2))]
    );
}

#[tokio::test]
async fn a_stream_cut_midway_is_retried() {
    let reply = Reply::new(vec![MockContent::text("The whole answer.")]);
    let setup = start(OPENAI, [Step::cut(reply.clone(), 2), reply.into()]).await;
    let (result, events) = run(&setup.client, &simple_request()).await;
    assert_eq!(result.unwrap().text(), "The whole answer.");
    let retry_at = events
        .iter()
        .position(|e| matches!(e, ModelEvent::Retrying { .. }))
        .unwrap();
    assert_eq!(streamed_text(&events[..retry_at]), "The w");
    assert_eq!(setup.sleeps.waits(), secs(&[1]));
}

#[tokio::test]
async fn a_clean_end_before_finish_is_a_cut_but_after_finish_is_accepted() {
    let reply = Reply::new(vec![MockContent::text("Done.")]);
    let setup = start(
        OPENAI,
        [
            Step::Cut {
                reply: reply.clone(),
                after_events: 2,
                ending: CutEnding::Eof,
            },
            // role, one text piece, finish: no usage chunk, no [DONE].
            Step::Cut {
                reply: reply.clone(),
                after_events: 3,
                ending: CutEnding::Eof,
            },
        ],
    )
    .await;
    let (result, events) = run(&setup.client, &simple_request()).await;
    assert_eq!(result.unwrap().text(), "Done.");
    let ModelEvent::Retrying { reason, .. } = &events[1] else {
        panic!("{events:?}");
    };
    assert_eq!(
        reason,
        "the openai response stream broke off: the connection closed before `finish_reason` and `[DONE]`"
    );
}

#[tokio::test]
async fn error_chunks_in_the_stream() {
    let error_after = |after_events, error_type: &str| Step::Cut {
        reply: Reply::new(vec![MockContent::text("x")]),
        after_events,
        ending: CutEnding::Error {
            error_type: error_type.into(),
            message: format!("{error_type} happened"),
        },
    };
    let setup = start(
        OPENAI,
        [
            error_after(1, "server_error"),
            error_after(1, "invalid_request_error"),
        ],
    )
    .await;
    let (result, events) = run(&setup.client, &simple_request()).await;
    assert_eq!(retries(&events), vec![(1, Duration::from_secs(1))]);
    assert_eq!(
        result.unwrap_err(),
        ModelError::Api {
            provider: Provider::OpenAi,
            status: 200,
            kind: Some("invalid_request_error".into()),
            message: "invalid_request_error happened".into(),
            request_id: None,
        }
    );
}

#[tokio::test]
async fn three_failures_then_success() {
    let setup = start(
        OPENAI,
        [
            Step::error(500),
            Step::cut(Reply::new(vec![MockContent::text("partial")]), 2),
            ErrorReply::new(429).retry_after("3").into(),
            Step::text("finally"),
        ],
    )
    .await;
    let (result, events) = run(&setup.client, &simple_request()).await;
    assert_eq!(result.unwrap().text(), "finally");
    assert_eq!(
        retries(&events),
        vec![
            (1, Duration::from_secs(1)),
            (2, Duration::from_secs(2)),
            (3, Duration::from_secs(3))
        ]
    );
}

#[tokio::test]
async fn bad_requests_are_not_retried() {
    let setup = start(
        OPENAI,
        [
            ErrorReply::new(400)
                .message("Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.")
                .into(),
            Step::text("never"),
        ],
    )
    .await;
    let (result, events) = run(&setup.client, &simple_request()).await;
    assert_eq!(
        result.unwrap_err().to_string(),
        "openai API error 400 (invalid_request_error): Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'. [request id req_mock_1]"
    );
    assert_eq!(events, vec![]);
    assert_eq!(setup.mock.steps_left(), 1);
}

#[tokio::test]
async fn gives_up_after_max_attempts() {
    let setup = start(OPENAI, (0..5).map(|_| Step::error(503))).await;
    let (result, _) = run(&setup.client, &simple_request()).await;
    assert_eq!(
        result.unwrap_err().to_string(),
        "gave up after 5 attempts; last error: openai API error 503 (server_error): The server is overloaded or not ready yet. [request id req_mock_5]"
    );
    assert_eq!(setup.sleeps.waits(), secs(&[1, 2, 4, 8]));
    assert_eq!(setup.mock.steps_left(), 0);
}

#[tokio::test]
async fn garbage_is_a_decode_error() {
    let setup = start(OPENAI, [Step::Malformed { body: None }]).await;
    let (result, _) = run(&setup.client, &simple_request()).await;
    let error = result.unwrap_err().to_string();
    assert!(
        error.starts_with("cannot decode the openai response (stream chunk): expected value"),
        "{error}"
    );
}

#[tokio::test]
async fn the_request_body_has_tool_messages_and_empty_content() {
    let setup = start(OPENAI, [Step::text("ok")]).await;
    run(&setup.client, &rich_request()).await.0.unwrap();
    let requests = setup.mock.requests();
    let request = &requests[0];
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    let schema = json!({"type": "object", "properties": {"path": {"type": "string"}}});
    assert_eq!(
        request.body,
        json!({
            "model": "test-model",
            "max_tokens": 4096,
            "stream": true,
            "stream_options": {"include_usage": true},
            "tools": [
                {"type": "function", "function": {"name": "read", "description": "The read tool.", "parameters": schema}},
                {"type": "function", "function": {"name": "bash", "description": "The bash tool.", "parameters": schema}},
            ],
            "messages": [
                {"role": "system", "content": "You are tend.\n\n# AGENTS.md\nRun cargo test.\n\n# Task memory\nLast run: fine."},
                {"role": "user", "content": "Triage the log."},
                {"role": "assistant", "content": "Reading it.", "tool_calls": [
                    {"id": "toolu_1", "type": "function", "function": {"name": "read", "arguments": "{\"path\":\"api.log\"}"}},
                ]},
                {"role": "tool", "tool_call_id": "toolu_1", "content": "ERROR x"},
                {"role": "assistant", "content": "", "tool_calls": [
                    {"id": "toolu_2", "type": "function", "function": {"name": "bash", "arguments": "{\"command\":\"cargo test\"}"}},
                ]},
                {"role": "tool", "tool_call_id": "toolu_2", "content": "Error: exit 101"},
                {"role": "user", "content": "Keep it short."},
            ],
        })
    );
}

#[tokio::test]
async fn openai_itself_gets_max_completion_tokens() {
    let setup = start(OPENAI, [Step::text("ok")]).await;
    let settings = settings(setup.mock.openai_base_url());
    let client = Client::OpenAi(
        OpenAiClient::new(&settings)
            .unwrap()
            .with_max_tokens_field(MaxTokensField::MaxCompletionTokens)
            .with_sleeper(Sleeper::instant().0),
    );
    run(&client, &simple_request()).await.0.unwrap();
    let body = &setup.mock.requests()[0].body;
    assert_eq!(
        (body.get("max_completion_tokens"), body.get("max_tokens")),
        (Some(&json!(1000)), None)
    );
}

#[tokio::test]
async fn local_servers_need_no_key_and_no_v1() {
    let setup = start_with(
        OPENAI,
        tend_mock_model::Script::new([Step::text("ok")]),
        |s| s,
    )
    .await;
    let mut settings = settings(setup.mock.base_url());
    settings.api_key = None;
    let client = Client::new(OPENAI, &settings).unwrap();
    assert_eq!(
        run(&client, &simple_request()).await.0.unwrap().text(),
        "ok"
    );
    let request = &setup.mock.requests()[0];
    assert_eq!(
        (request.path.as_str(), request.header("authorization")),
        ("/chat/completions", None)
    );
}

#[tokio::test]
async fn a_user_message_cannot_call_tools() {
    let setup = start(OPENAI, [Step::text("never")]).await;
    let mut request = simple_request();
    request.messages[0].content.push(Content::ToolUse {
        id: "x".into(),
        name: "bash".into(),
        input: json!({}),
    });
    assert_eq!(
        run(&setup.client, &request)
            .await
            .0
            .unwrap_err()
            .to_string(),
        "cannot send this conversation to openai: message 0 is a user message with a call of the `bash` tool; only assistant messages call tools"
    );
    assert_eq!(setup.mock.requests().len(), 0);
}

//! The Anthropic client against the mock server over loopback HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use pretty_assertions::assert_eq;
use serde_json::json;
use tend_mock_model::{
    CutEnding, ErrorReply, MockContent, MockStop, MockUsage, Reply, Script, Step,
};
use tend_model::{Content, ModelError, ModelEvent, ModelResponse, Provider, StopReason, Usage};

const ANTHROPIC: Provider = Provider::Anthropic;

#[tokio::test]
async fn text_reply_streams_in_deltas() {
    let setup = start(ANTHROPIC, [Step::text("Hello, world! How are you?")]).await;
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
    assert_eq!(setup.sleeps.waits(), vec![]);
}

#[tokio::test]
async fn tool_input_is_assembled_from_many_deltas() {
    let input = json!({"command": "cargo test --workspace -- --nocapture", "timeout_ms": 120000, "env": {"RUST_LOG": "debug"}});
    let setup = start(ANTHROPIC, [Step::tool_use("bash", input.clone())]).await;
    let (result, events) = run(&setup.client, &simple_request()).await;
    let response = result.unwrap();
    assert_eq!(
        response.content,
        vec![Content::ToolUse {
            id: "toolu_mock_1_0".into(),
            name: "bash".into(),
            input: input.clone(),
        }]
    );
    assert_eq!(response.stop, StopReason::ToolUse);
    assert_eq!(
        events[0],
        ModelEvent::ToolUseStart {
            id: "toolu_mock_1_0".into(),
            name: "bash".into()
        }
    );
    let pieces: Vec<&str> = events[1..]
        .iter()
        .map(|e| match e {
            ModelEvent::ToolInputDelta { id, partial_json } if id == "toolu_mock_1_0" => {
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
        ANTHROPIC,
        [Step::reply(vec![
            MockContent::text("Two things."),
            MockContent::tool_use("read", json!({"path": "a.rs"})),
            MockContent::ToolUse {
                id: Some("toolu_custom".into()),
                name: "read".into(),
                input: json!({"path": "b.rs"}),
            },
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
                id: "toolu_mock_1_1".into(),
                name: "read".into(),
                input: json!({"path": "a.rs"}),
            },
            Content::ToolUse {
                id: "toolu_custom".into(),
                name: "read".into(),
                input: json!({"path": "b.rs"}),
            },
        ]
    );
    assert_eq!(response.stop, StopReason::ToolUse);
    let starts: Vec<&ModelEvent> = events
        .iter()
        .filter(|e| matches!(e, ModelEvent::ToolUseStart { .. }))
        .collect();
    assert_eq!(starts.len(), 2);
    assert_eq!(streamed_text(&events), "Two things.");
}

#[tokio::test]
async fn usage_with_cache_tokens_and_other_stops() {
    let usage = MockUsage {
        input_tokens: 12,
        output_tokens: 345,
        cache_read_tokens: 6789,
        cache_write_tokens: 1011,
    };
    let setup = start(
        ANTHROPIC,
        [Reply::new(vec![MockContent::text("cut")])
            .with_usage(usage)
            .with_stop(MockStop::MaxTokens)
            .into()],
    )
    .await;
    let response = run(&setup.client, &simple_request()).await.0.unwrap();
    assert_eq!(
        (response.usage, response.stop),
        (
            Usage {
                input_tokens: 12,
                output_tokens: 345,
                cache_read_tokens: 6789,
                cache_write_tokens: 1011,
            },
            StopReason::MaxTokens
        )
    );
}

#[tokio::test]
async fn rate_limit_waits_exactly_retry_after() {
    let setup = start(
        ANTHROPIC,
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
            reason: "anthropic API error 429 (rate_limit_error): Number of request tokens has exceeded your per-minute rate limit [request id req_mock_1]".into(),
        }
    );
    assert_eq!(setup.mock.requests().len(), 2);
}

#[tokio::test]
async fn retry_after_ms_wins_and_long_waits_are_refused() {
    let setup = start(
        ANTHROPIC,
        [
            ErrorReply::new(429)
                .retry_after("7")
                .header("retry-after-ms", "1250")
                .into(),
            ErrorReply::new(429).retry_after("3600").into(),
        ],
    )
    .await;
    let (result, _) = run(&setup.client, &simple_request()).await;
    assert_eq!(setup.sleeps.waits(), vec![Duration::from_millis(1250)]);
    assert_eq!(
        result.unwrap_err().to_string(),
        "anthropic asked to retry after 3600s, longer than the 300s this client waits; last error: anthropic API error 429 (rate_limit_error): Number of request tokens has exceeded your per-minute rate limit [request id req_mock_2]"
    );
}

#[tokio::test]
async fn overload_and_server_errors_back_off() {
    let setup = start(
        ANTHROPIC,
        [Step::error(529), Step::error(503), Step::text("ok")],
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
    let setup = start(ANTHROPIC, [Step::cut(reply.clone(), 4), reply.into()]).await;
    let (result, events) = run(&setup.client, &simple_request()).await;
    assert_eq!(
        result.unwrap().content,
        vec![Content::text("The whole answer.")]
    );
    // The partial text streamed first; the consumer discards it at the Retrying event.
    let retry_at = events
        .iter()
        .position(|e| matches!(e, ModelEvent::Retrying { .. }))
        .unwrap();
    assert_eq!(streamed_text(&events[..retry_at]), "The w");
    assert_eq!(streamed_text(&events[retry_at + 1..]), "The whole answer.");
    assert_eq!(setup.sleeps.waits(), secs(&[1]));
}

#[tokio::test]
async fn a_clean_end_before_message_stop_is_a_cut_too() {
    let reply = Reply::new(vec![MockContent::text("Almost.")]);
    let setup = start(
        ANTHROPIC,
        [
            Step::Cut {
                reply: reply.clone(),
                after_events: 6,
                ending: CutEnding::Eof,
            },
            reply.into(),
        ],
    )
    .await;
    let (result, events) = run(&setup.client, &simple_request()).await;
    assert_eq!(result.unwrap().text(), "Almost.");
    let ModelEvent::Retrying { reason, .. } = &events[2] else {
        panic!("{events:?}");
    };
    assert_eq!(
        reason,
        "the anthropic response stream broke off: the connection closed before `message_stop`"
    );
}

#[tokio::test]
async fn an_overloaded_error_event_is_retried_but_a_bad_request_event_is_not() {
    let overloaded = Step::Cut {
        reply: Reply::new(vec![MockContent::text("x")]),
        after_events: 2,
        ending: CutEnding::Error {
            error_type: "overloaded_error".into(),
            message: "Overloaded".into(),
        },
    };
    let invalid = Step::Cut {
        reply: Reply::new(vec![MockContent::text("x")]),
        after_events: 2,
        ending: CutEnding::Error {
            error_type: "invalid_request_error".into(),
            message: "prompt is too long".into(),
        },
    };
    let setup = start(ANTHROPIC, [overloaded, invalid]).await;
    let (result, events) = run(&setup.client, &simple_request()).await;
    assert_eq!(retries(&events), vec![(1, Duration::from_secs(1))]);
    assert_eq!(
        result.unwrap_err(),
        ModelError::Api {
            provider: Provider::Anthropic,
            status: 200,
            kind: Some("invalid_request_error".into()),
            message: "prompt is too long".into(),
            request_id: None,
        }
    );
}

#[tokio::test]
async fn three_failures_then_success() {
    let setup = start(
        ANTHROPIC,
        [
            Step::error(529),
            Step::cut(Reply::new(vec![MockContent::text("partial")]), 3),
            Step::error(500),
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
            (3, Duration::from_secs(4))
        ]
    );
    assert_eq!(setup.sleeps.waits(), secs(&[1, 2, 4]));
}

#[tokio::test]
async fn bad_requests_are_not_retried() {
    let setup = start(
        ANTHROPIC,
        [
            ErrorReply::new(400)
                .message("messages.1.content.0: unexpected `tool_use_id` found")
                .into(),
            Step::text("never"),
        ],
    )
    .await;
    let (result, events) = run(&setup.client, &simple_request()).await;
    let error = result.unwrap_err();
    assert_eq!(
        error.to_string(),
        "anthropic API error 400 (invalid_request_error): messages.1.content.0: unexpected `tool_use_id` found [request id req_mock_1]"
    );
    assert_eq!(error.request_id(), Some("req_mock_1"));
    assert_eq!(events, vec![]);
    assert_eq!(setup.sleeps.waits(), vec![]);
    assert_eq!(setup.mock.steps_left(), 1);
}

#[tokio::test]
async fn other_client_errors_and_should_retry_false_are_final() {
    for status in [401, 403, 404] {
        let setup = start(ANTHROPIC, [Step::error(status), Step::text("never")]).await;
        let (result, _) = run(&setup.client, &simple_request()).await;
        assert!(
            matches!(result, Err(ModelError::Api { status: s, .. }) if s == status),
            "{status}"
        );
        assert_eq!(setup.sleeps.waits(), vec![], "{status}");
    }
    let setup = start(
        ANTHROPIC,
        [ErrorReply::new(500)
            .header("x-should-retry", "false")
            .into()],
    )
    .await;
    let (result, _) = run(&setup.client, &simple_request()).await;
    assert!(matches!(result, Err(ModelError::Api { status: 500, .. })));
    assert_eq!(setup.sleeps.waits(), vec![]);
}

#[tokio::test]
async fn gives_up_after_max_attempts() {
    let setup = start(ANTHROPIC, (0..6).map(|_| Step::error(529))).await;
    let (result, events) = run(&setup.client, &simple_request()).await;
    assert_eq!(
        result.unwrap_err().to_string(),
        "gave up after 5 attempts; last error: anthropic API error 529 (overloaded_error): Overloaded [request id req_mock_5]"
    );
    assert_eq!(retries(&events).len(), 4);
    assert_eq!(setup.sleeps.waits(), secs(&[1, 2, 4, 8]));
    assert_eq!(setup.mock.requests().len(), 5);
}

#[tokio::test]
async fn garbage_is_a_decode_error_and_not_retried() {
    let setup = start(
        ANTHROPIC,
        [Step::Malformed { body: None }, Step::text("never")],
    )
    .await;
    let (result, _) = run(&setup.client, &simple_request()).await;
    let error = result.unwrap_err();
    assert!(
        error.to_string().starts_with(
            "cannot decode the anthropic response (event `message_start`): key must be a string"
        ),
        "{error}"
    );
    assert_eq!(setup.mock.steps_left(), 1);
}

#[tokio::test]
async fn malformed_tool_input_names_the_tool() {
    let body = [
        r#"event: message_start
data: {"type":"message_start","message":{"usage":{"input_tokens":1,"output_tokens":1}}}"#,
        r#"event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_x","name":"bash","input":{}}}"#,
        r#"event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"command\": \"ls"}}"#,
        r#"event: content_block_stop
data: {"type":"content_block_stop","index":0}"#,
        r#"event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":5}}"#,
        r#"event: message_stop
data: {"type":"message_stop"}"#,
    ]
    .map(|e| format!("{e}\n\n"))
    .concat();
    let setup = start(ANTHROPIC, [Step::Malformed { body: Some(body) }]).await;
    let (result, _) = run(&setup.client, &simple_request()).await;
    assert_eq!(
        result.unwrap_err().to_string(),
        "cannot decode the anthropic response (input of the `bash` tool call): EOF while parsing a string at line 1 column 15; received: {\"command\": \"ls"
    );
}

#[tokio::test]
async fn a_silent_server_times_out_and_is_retried() {
    let setup = start_with(
        ANTHROPIC,
        Script::new([Step::Hang { ms: 600_000 }, Step::text("awake")]),
        |mut settings| {
            settings.timeout = Duration::from_millis(100);
            settings
        },
    )
    .await;
    let (result, events) = run(&setup.client, &simple_request()).await;
    assert_eq!(result.unwrap().text(), "awake");
    let ModelEvent::Retrying { reason, .. } = &events[0] else {
        panic!("{events:?}");
    };
    assert!(
        reason.starts_with("cannot reach anthropic at http://127.0.0.1:"),
        "{reason}"
    );
    assert!(reason.contains("/v1/messages"), "{reason}");
}

#[tokio::test]
async fn the_request_body_caches_the_stable_prefix_and_the_conversation() {
    let setup = start(ANTHROPIC, [Step::text("ok")]).await;
    run(&setup.client, &rich_request()).await.0.unwrap();
    let requests = setup.mock.requests();
    let request = &requests[0];
    assert_eq!(request.path, "/v1/messages");
    assert_eq!(request.header("x-api-key"), Some(KEY));
    assert_eq!(request.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    let schema = json!({"type": "object", "properties": {"path": {"type": "string"}}});
    assert_eq!(
        request.body,
        json!({
            "model": "test-model",
            "max_tokens": 4096,
            "stream": true,
            "system": [
                {"type": "text", "text": "You are tend."},
                {"type": "text", "text": "# AGENTS.md\nRun cargo test."},
                {"type": "text", "text": "# Task memory\nLast run: fine.", "cache_control": {"type": "ephemeral"}},
            ],
            "tools": [
                {"name": "read", "description": "The read tool.", "input_schema": schema},
                {"name": "bash", "description": "The bash tool.", "input_schema": schema, "cache_control": {"type": "ephemeral"}},
            ],
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "Triage the log."}]},
                {"role": "assistant", "content": [
                    {"type": "text", "text": "Reading it."},
                    {"type": "tool_use", "id": "toolu_1", "name": "read", "input": {"path": "api.log"}},
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "ERROR x"},
                ]},
                {"role": "assistant", "content": [
                    {"type": "tool_use", "id": "toolu_2", "name": "bash", "input": {"command": "cargo test"}},
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_2", "content": "exit 101", "is_error": true},
                    {"type": "text", "text": "Keep it short.", "cache_control": {"type": "ephemeral"}},
                ]},
            ],
        })
    );
}

#[tokio::test]
async fn no_tools_and_no_system_leave_those_fields_out() {
    let setup = start(ANTHROPIC, [Step::text("ok")]).await;
    let mut request = simple_request();
    request.system = vec![String::new()];
    request.messages.push(tend_model::Message {
        role: tend_model::Role::Assistant,
        content: vec![Content::text("")],
    });
    run(&setup.client, &request).await.0.unwrap();
    assert_eq!(
        setup.mock.requests()[0].body,
        json!({
            "model": "test-model",
            "max_tokens": 1000,
            "stream": true,
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "Say hello."}]},
                {"role": "assistant", "content": []},
            ],
        })
    );
}

//! The mock over real HTTP on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use tend_mock_model::{
    CutEnding, ErrorReply, MockContent, MockModel, MockUsage, Reply, Script, Step, WireFormat,
};

fn http() -> reqwest::Client {
    // Built together with tend-model, reqwest has rustls without a built-in crypto provider
    // (cargo unifies features), so one must be installed first.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy().build().unwrap()
}

fn anthropic_body(stream: bool) -> Value {
    json!({
        "model": "claude-test",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "Please triage the log."}],
        "stream": stream,
    })
}

async fn post_anthropic(mock: &MockModel, body: &Value) -> reqwest::Response {
    http()
        .post(format!("{}/v1/messages", mock.base_url()))
        .header("x-api-key", "test-key")
        .header("anthropic-version", "2023-06-01")
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn post_openai(mock: &MockModel, path: &str, body: &Value) -> reqwest::Response {
    http()
        .post(format!("{}{path}", mock.base_url()))
        .header("authorization", "Bearer test-key")
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Events of an SSE body as (event name, data) pairs.
fn sse(text: &str) -> Vec<(Option<String>, String)> {
    text.split("\n\n")
        .filter(|frame| !frame.is_empty())
        .map(|frame| {
            let mut name = None;
            let mut data = String::new();
            for line in frame.lines() {
                if let Some(value) = line.strip_prefix("event: ") {
                    name = Some(value.to_owned());
                } else if let Some(value) = line.strip_prefix("data: ") {
                    data.push_str(value);
                }
            }
            (name, data)
        })
        .collect()
}

#[tokio::test]
async fn anthropic_stream_carries_the_reply() {
    let mock = MockModel::start(Script::new([Step::reply(vec![
        MockContent::text("Hello, world"),
        MockContent::tool_use("bash", json!({"command": "ls -la"})),
    ])]))
    .await
    .unwrap();
    let response = post_anthropic(&mock, &anthropic_body(true)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(response.headers()["request-id"], "req_mock_1");
    let events = sse(&response.text().await.unwrap());
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_deref().unwrap()).collect();
    assert_eq!(
        names,
        vec![
            "message_start",
            "ping",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
    let mut text = String::new();
    let mut json_input = String::new();
    for (_, data) in &events {
        let data: Value = serde_json::from_str(data).unwrap();
        if let Some(t) = data.pointer("/delta/text").and_then(Value::as_str) {
            text.push_str(t);
        }
        if let Some(t) = data.pointer("/delta/partial_json").and_then(Value::as_str) {
            json_input.push_str(t);
        }
    }
    assert_eq!(text, "Hello, world");
    assert_eq!(
        serde_json::from_str::<Value>(&json_input).unwrap(),
        json!({"command": "ls -la"})
    );
    let stop: Value = serde_json::from_str(&events[14].1).unwrap();
    assert_eq!(stop.pointer("/delta/stop_reason"), Some(&json!("tool_use")));

    let requests = mock.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/v1/messages");
    assert_eq!(requests[0].format, WireFormat::Anthropic);
    assert_eq!(requests[0].body, anthropic_body(true));
    assert_eq!(requests[0].header("X-Api-Key"), Some("test-key"));
    assert_eq!(mock.steps_left(), 0);
    mock.shutdown().await;
}

#[tokio::test]
async fn anthropic_without_stream_answers_one_json_body() {
    let reply = Reply::new(vec![MockContent::text("Hi")]).with_usage(MockUsage {
        input_tokens: 3,
        output_tokens: 4,
        cache_read_tokens: 5,
        cache_write_tokens: 6,
    });
    let mock = MockModel::start(Script::new([reply.into()])).await.unwrap();
    let response = post_anthropic(&mock, &anthropic_body(false)).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({
            "id": "msg_mock_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-test",
            "content": [{"type": "text", "text": "Hi"}],
            "stop_reason": "end_turn",
            "stop_sequence": null,
            "usage": {"input_tokens": 3, "cache_creation_input_tokens": 6, "cache_read_input_tokens": 5, "output_tokens": 4},
        })
    );
}

#[tokio::test]
async fn openai_is_served_with_and_without_v1() {
    let mock = MockModel::start(Script::new([Step::text("one"), Step::text("two")]))
        .await
        .unwrap();
    let body = json!({"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]});
    for (path, text) in [
        ("/v1/chat/completions", "one"),
        ("/chat/completions", "two"),
    ] {
        let response = post_openai(&mock, path, &body).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            response.headers()["x-request-id"]
                .to_str()
                .unwrap()
                .starts_with("req_mock_"),
            true
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body.pointer("/choices/0/message/content"),
            Some(&json!(text))
        );
        assert_eq!(body.pointer("/object"), Some(&json!("chat.completion")));
    }
    let formats: Vec<(String, WireFormat)> = mock
        .requests()
        .into_iter()
        .map(|r| (r.path, r.format))
        .collect();
    assert_eq!(
        formats,
        vec![
            ("/v1/chat/completions".to_owned(), WireFormat::OpenAi),
            ("/chat/completions".to_owned(), WireFormat::OpenAi),
        ]
    );
}

#[tokio::test]
async fn openai_stream_sends_usage_only_when_asked() {
    let mock = MockModel::start(Script::new([Step::text("abc"), Step::text("abc")]))
        .await
        .unwrap();
    let mut body = json!({"model": "gpt-test", "messages": [], "stream": true});
    let plain = post_openai(&mock, "/v1/chat/completions", &body).await;
    let plain = sse(&plain.text().await.unwrap());
    body["stream_options"] = json!({"include_usage": true});
    let with_usage = post_openai(&mock, "/v1/chat/completions", &body).await;
    let with_usage = sse(&with_usage.text().await.unwrap());
    assert_eq!((plain.len(), with_usage.len()), (4, 5));
    assert_eq!(plain.last().unwrap().1, "[DONE]");
    let usage: Value = serde_json::from_str(&with_usage[3].1).unwrap();
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage.pointer("/usage/prompt_tokens"), Some(&json!(0)));
}

#[tokio::test]
async fn errors_have_each_providers_shape() {
    let mock = MockModel::start(Script::new([
        ErrorReply::new(529).into(),
        ErrorReply::new(429)
            .retry_after("7")
            .header("retry-after-ms", "7000")
            .into(),
        ErrorReply::new(400)
            .message("messages: at least one message is required")
            .into(),
        ErrorReply {
            body: Some(json!({"custom": true})),
            ..ErrorReply::new(503)
        }
        .into(),
    ]))
    .await
    .unwrap();
    let response = post_anthropic(&mock, &anthropic_body(true)).await;
    assert_eq!(response.status(), 529);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}, "request_id": "req_mock_1"})
    );
    let response = post_anthropic(&mock, &anthropic_body(true)).await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "7");
    assert_eq!(response.headers()["retry-after-ms"], "7000");
    let openai = json!({"model": "gpt-test", "messages": []});
    let response = post_openai(&mock, "/v1/chat/completions", &openai).await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"error": {"message": "messages: at least one message is required", "type": "invalid_request_error", "param": null, "code": null}})
    );
    let response = post_openai(&mock, "/v1/chat/completions", &openai).await;
    assert_eq!(response.status(), 503);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"custom": true})
    );
}

#[tokio::test]
async fn refusals_use_no_step_and_running_out_names_the_request() {
    let mock = MockModel::start(Script::new([Step::text("only")]))
        .await
        .unwrap();
    let no_version = http()
        .post(format!("{}/v1/messages", mock.base_url()))
        .header("x-api-key", "k")
        .json(&anthropic_body(false))
        .send()
        .await
        .unwrap();
    assert_eq!(no_version.status(), 400);
    assert_eq!(
        no_version
            .json::<Value>()
            .await
            .unwrap()
            .pointer("/error/message"),
        Some(&json!("anthropic-version: header is required"))
    );
    let no_key = http()
        .post(format!("{}/v1/messages", mock.base_url()))
        .header("anthropic-version", "2023-06-01")
        .json(&anthropic_body(false))
        .send()
        .await
        .unwrap();
    assert_eq!(no_key.status(), 401);
    assert_eq!(mock.steps_left(), 1);
    assert_eq!(
        post_anthropic(&mock, &anthropic_body(false)).await.status(),
        200
    );
    let over = post_anthropic(&mock, &anthropic_body(false)).await;
    assert_eq!(over.status(), 500);
    assert_eq!(
        over.json::<Value>()
            .await
            .unwrap()
            .pointer("/error/message"),
        Some(&json!(
            "tend-mock-model: the script has 1 steps; request 4 (POST /v1/messages) has none left"
        ))
    );
    assert_eq!(mock.requests().len(), 4);
}

#[tokio::test]
async fn expectations_answer_400_when_unmet() {
    let reply = |needle: &str| {
        Reply::new(vec![MockContent::text("ok")])
            .expecting(needle)
            .into()
    };
    let mock = MockModel::start(Script::new([reply("triage the log"), reply("not there")]))
        .await
        .unwrap();
    assert_eq!(
        post_anthropic(&mock, &anthropic_body(false)).await.status(),
        200
    );
    let missing = post_anthropic(&mock, &anthropic_body(false)).await;
    assert_eq!(missing.status(), 400);
    assert_eq!(
        missing
            .json::<Value>()
            .await
            .unwrap()
            .pointer("/error/message"),
        Some(&json!(
            "tend-mock-model: request 2 was expected to contain `not there`"
        ))
    );
}

#[tokio::test]
async fn cuts_end_the_stream_early() {
    let reply = Reply::new(vec![MockContent::text("a long answer")]);
    let mock = MockModel::start(Script::new([
        Step::cut(reply.clone(), 3),
        Step::Cut {
            reply: reply.clone(),
            after_events: 3,
            ending: CutEnding::Eof,
        },
        Step::Cut {
            reply,
            after_events: 1,
            ending: CutEnding::Error {
                error_type: "overloaded_error".into(),
                message: "Overloaded".into(),
            },
        },
    ]))
    .await
    .unwrap();
    // Abort: the body never completes.
    let aborted = post_anthropic(&mock, &anthropic_body(true)).await;
    assert_eq!(aborted.status(), 200);
    assert!(aborted.text().await.is_err());
    // Eof: three whole events, then a clean end.
    let eof = post_anthropic(&mock, &anthropic_body(true)).await;
    let names: Vec<Option<String>> = sse(&eof.text().await.unwrap())
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        names,
        vec![
            Some("message_start".into()),
            Some("ping".into()),
            Some("content_block_start".into())
        ]
    );
    // Error: one event, then the error event.
    let error = post_anthropic(&mock, &anthropic_body(true)).await;
    let events = sse(&error.text().await.unwrap());
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].0.as_deref(), Some("error"));
    assert_eq!(
        serde_json::from_str::<Value>(&events[1].1).unwrap(),
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    );
}

#[tokio::test]
async fn malformed_streams_are_not_json() {
    let mock = MockModel::start(Script::new([Step::Malformed { body: None }]))
        .await
        .unwrap();
    let response = post_anthropic(&mock, &anthropic_body(true)).await;
    let events = sse(&response.text().await.unwrap());
    assert_eq!(events.len(), 1);
    assert!(serde_json::from_str::<Value>(&events[0].1).is_err());
}

#[tokio::test]
async fn unknown_paths_are_404() {
    let mock = MockModel::start(Script::new([])).await.unwrap();
    let response = http()
        .get(format!("{}/v1/models", mock.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(
        response
            .json::<Value>()
            .await
            .unwrap()
            .pointer("/error/message"),
        Some(&json!(
            "tend-mock-model serves POST /v1/messages (Anthropic), POST /v1/chat/completions or /chat/completions (OpenAI) and POST /v1/responses or /responses (OpenAI Responses), not GET /v1/models"
        ))
    );
    assert_eq!(mock.requests(), vec![]);
}

#[tokio::test]
async fn shutdown_ends_a_hang() {
    let mock = MockModel::start(Script::new([Step::Hang { ms: 3_600_000 }]))
        .await
        .unwrap();
    let url = format!("{}/v1/messages", mock.base_url());
    let request = tokio::spawn(async move {
        http()
            .post(url)
            .header("x-api-key", "k")
            .header("anthropic-version", "2023-06-01")
            .json(&anthropic_body(true))
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    // Wait until the request has arrived, without sleeping a fixed time.
    while mock.requests().is_empty() && !request.is_finished() {
        tokio::task::yield_now().await;
    }
    mock.shutdown().await;
    assert_eq!(request.await.unwrap().unwrap(), 500);
}

#[tokio::test]
async fn scripts_load_from_json_files() {
    let script = Script::from_json(
        r#"{"steps": [{"type": "reply", "content": [{"type": "text", "text": "from a file"}]}], "chunk_chars": 100}"#,
    )
    .unwrap();
    let mock = MockModel::start(script).await.unwrap();
    let response = post_anthropic(&mock, &anthropic_body(true)).await;
    let deltas: Vec<String> = sse(&response.text().await.unwrap())
        .into_iter()
        .filter_map(|(_, data)| {
            serde_json::from_str::<Value>(&data)
                .unwrap()
                .pointer("/delta/text")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(deltas, vec!["from a file".to_owned()]);
}

#[tokio::test]
async fn responses_api_streams_items_and_answers_errors_in_openai_shape() {
    let mock = MockModel::start(Script::new([
        Reply::new(vec![
            MockContent::text("Checking."),
            MockContent::tool_use("exec_command", json!({"cmd": "ls"})),
        ])
        .with_usage(MockUsage {
            input_tokens: 7,
            output_tokens: 3,
            ..MockUsage::default()
        })
        .into(),
        Step::text("plain"),
        Step::error(429),
    ]))
    .await
    .unwrap();
    let body =
        json!({"model": "gpt-test", "input": [{"role": "user", "content": "hi"}], "stream": true});
    let response = post_openai(&mock, "/v1/responses", &body).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let events = sse(&response.text().await.unwrap());
    let names: Vec<&str> = events.iter().filter_map(|(n, _)| n.as_deref()).collect();
    assert_eq!(names.first(), Some(&"response.created"));
    assert_eq!(names.last(), Some(&"response.completed"));
    let done: Vec<Value> = events
        .iter()
        .filter(|(n, _)| n.as_deref() == Some("response.output_item.done"))
        .map(|(_, d)| serde_json::from_str::<Value>(d).unwrap()["item"].clone())
        .collect();
    assert_eq!(
        done,
        vec![
            json!({"id": "msg_mock_1_0", "type": "message", "status": "completed", "role": "assistant",
                   "content": [{"type": "output_text", "text": "Checking.", "annotations": [], "logprobs": []}]}),
            json!({"id": "fc_mock_1_1", "type": "function_call", "status": "completed",
                   "call_id": "call_mock_1_1", "name": "exec_command", "arguments": "{\"cmd\":\"ls\"}"}),
        ]
    );
    let completed: Value = serde_json::from_str(&events.last().unwrap().1).unwrap();
    assert_eq!(completed["response"]["usage"]["total_tokens"], json!(10));
    // Without `stream`, one JSON response object; without `input`, the API's refusal.
    let plain = post_openai(&mock, "/responses", &json!({"model": "m", "input": "x"})).await;
    let plain: Value = plain.json().await.unwrap();
    assert_eq!(plain["output"][0]["content"][0]["text"], json!("plain"));
    let refused = post_openai(&mock, "/v1/responses", &json!({"model": "m"})).await;
    assert_eq!(refused.status(), 400);
    let limited = post_openai(&mock, "/v1/responses", &body).await;
    assert_eq!(limited.status(), 429);
    let error: Value = limited.json().await.unwrap();
    assert_eq!(error["error"]["code"], json!("rate_limit_exceeded"));
    let formats: Vec<WireFormat> = mock.requests().into_iter().map(|r| r.format).collect();
    assert_eq!(formats, vec![WireFormat::Responses; 4]);
}

//! The Anthropic Messages wire format, as the real API writes it.

use serde_json::{Value, json};

use crate::script::{MockContent, MockStop, Reply, chunks};

pub(crate) fn stop_word(stop: MockStop) -> &'static str {
    match stop {
        MockStop::EndTurn => "end_turn",
        MockStop::ToolUse => "tool_use",
        MockStop::MaxTokens => "max_tokens",
        MockStop::StopSequence => "stop_sequence",
        MockStop::Refusal => "refusal",
    }
}

fn tool_id(id: Option<&String>, request: usize, block: usize) -> String {
    id.cloned()
        .unwrap_or_else(|| format!("toolu_mock_{request}_{block}"))
}

fn frame(data: &Value) -> String {
    let kind = data
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("message");
    format!("event: {kind}\ndata: {data}\n\n")
}

/// The whole event stream of a reply, one server-sent event per item.
pub(crate) fn events(
    reply: &Reply,
    model: &str,
    request: usize,
    chunk_chars: usize,
) -> Vec<String> {
    let usage = &reply.usage;
    let mut out = vec![
        frame(&json!({
            "type": "message_start",
            "message": {
                "id": format!("msg_mock_{request}"),
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": null,
                "stop_sequence": null,
                "usage": {
                    "input_tokens": usage.input_tokens,
                    "cache_creation_input_tokens": usage.cache_write_tokens,
                    "cache_read_input_tokens": usage.cache_read_tokens,
                    "output_tokens": 1,
                },
            },
        })),
        frame(&json!({"type": "ping"})),
    ];
    for (index, block) in reply.content.iter().enumerate() {
        match block {
            MockContent::Text { text } => {
                out.push(frame(&json!({
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": ""},
                })));
                for piece in chunks(text, chunk_chars) {
                    out.push(frame(&json!({
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "text_delta", "text": piece},
                    })));
                }
            }
            MockContent::ToolUse { id, name, input } => {
                out.push(frame(&json!({
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {
                        "type": "tool_use",
                        "id": tool_id(id.as_ref(), request, index),
                        "name": name,
                        "input": {},
                    },
                })));
                // The API starts every tool input with an empty delta.
                let mut pieces = vec![String::new()];
                pieces.extend(chunks(&input.to_string(), chunk_chars));
                for piece in pieces {
                    out.push(frame(&json!({
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": piece},
                    })));
                }
            }
        }
        out.push(frame(
            &json!({"type": "content_block_stop", "index": index}),
        ));
    }
    out.push(frame(&json!({
        "type": "message_delta",
        "delta": {"stop_reason": stop_word(reply.stop_or_default()), "stop_sequence": null},
        "usage": {"output_tokens": usage.output_tokens},
    })));
    out.push(frame(&json!({"type": "message_stop"})));
    out
}

/// The non-streaming body of a reply.
pub(crate) fn body(reply: &Reply, model: &str, request: usize) -> Value {
    let content: Vec<Value> = reply
        .content
        .iter()
        .enumerate()
        .map(|(index, block)| match block {
            MockContent::Text { text } => json!({"type": "text", "text": text}),
            MockContent::ToolUse { id, name, input } => json!({
                "type": "tool_use",
                "id": tool_id(id.as_ref(), request, index),
                "name": name,
                "input": input,
            }),
        })
        .collect();
    let usage = &reply.usage;
    json!({
        "id": format!("msg_mock_{request}"),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_word(reply.stop_or_default()),
        "stop_sequence": null,
        "usage": {
            "input_tokens": usage.input_tokens,
            "cache_creation_input_tokens": usage.cache_write_tokens,
            "cache_read_input_tokens": usage.cache_read_tokens,
            "output_tokens": usage.output_tokens,
        },
    })
}

/// An in-stream error event.
pub(crate) fn error_event(error_type: &str, message: &str) -> String {
    frame(&json!({"type": "error", "error": {"type": error_type, "message": message}}))
}

pub(crate) fn error_type(status: u16) -> &'static str {
    match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 => "timeout_error",
        529 => "overloaded_error",
        500..=599 => "api_error",
        _ => "invalid_request_error",
    }
}

pub(crate) fn default_message(status: u16) -> &'static str {
    match status {
        400 => "Invalid request",
        401 => "invalid x-api-key",
        403 => "Your API key does not have permission to use the specified resource.",
        404 => "The requested resource could not be found.",
        413 => "Request exceeds the maximum allowed number of bytes.",
        429 => "Number of request tokens has exceeded your per-minute rate limit",
        529 => "Overloaded",
        504 => "Request timed out",
        _ => "Internal server error",
    }
}

pub(crate) fn error_body(status: u16, message: &str, request: usize) -> Value {
    json!({
        "type": "error",
        "error": {"type": error_type(status), "message": message},
        "request_id": format!("req_mock_{request}"),
    })
}

/// What the real API refuses before any model runs: a missing version header or key, or a
/// body without its required fields.
pub(crate) fn validate(
    header: &dyn Fn(&str) -> Option<String>,
    body: &Value,
) -> Option<(u16, String)> {
    if header("x-api-key").is_none() && header("authorization").is_none() {
        return Some((401, "x-api-key header is required".into()));
    }
    if header("anthropic-version").is_none() {
        return Some((400, "anthropic-version: header is required".into()));
    }
    if !body.is_object() {
        return Some((400, "The request body is not valid JSON.".into()));
    }
    for field in ["model", "max_tokens", "messages"] {
        if body.get(field).is_none() {
            return Some((400, format!("{field}: Field required")));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::MockUsage;
    use pretty_assertions::assert_eq;

    #[test]
    fn stream_of_text_and_tool() {
        let reply = Reply::new(vec![
            MockContent::text("Hello!"),
            MockContent::tool_use("read", json!({"path": "a"})),
        ])
        .with_usage(MockUsage {
            input_tokens: 10,
            output_tokens: 20,
            cache_read_tokens: 30,
            cache_write_tokens: 40,
        });
        let events: Vec<(String, Value)> = events(&reply, "claude-x", 3, 4)
            .iter()
            .map(|frame| {
                let (head, data) = frame.split_once('\n').unwrap();
                assert!(data.ends_with("\n\n"), "{frame}");
                let data = data.strip_prefix("data: ").unwrap().trim_end();
                let name = head.strip_prefix("event: ").unwrap().to_owned();
                (name, serde_json::from_str(data).unwrap())
            })
            .collect();
        let delta = |index: usize, delta: Value| {
            (
                "content_block_delta".to_owned(),
                json!({"type": "content_block_delta", "index": index, "delta": delta}),
            )
        };
        let expected = vec![
            (
                "message_start".to_owned(),
                json!({"type": "message_start", "message": {
                    "id": "msg_mock_3", "type": "message", "role": "assistant", "model": "claude-x",
                    "content": [], "stop_reason": null, "stop_sequence": null,
                    "usage": {"input_tokens": 10, "cache_creation_input_tokens": 40,
                              "cache_read_input_tokens": 30, "output_tokens": 1},
                }}),
            ),
            ("ping".to_owned(), json!({"type": "ping"})),
            (
                "content_block_start".to_owned(),
                json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            ),
            delta(0, json!({"type": "text_delta", "text": "Hell"})),
            delta(0, json!({"type": "text_delta", "text": "o!"})),
            (
                "content_block_stop".to_owned(),
                json!({"type": "content_block_stop", "index": 0}),
            ),
            (
                "content_block_start".to_owned(),
                json!({"type": "content_block_start", "index": 1, "content_block":
                    {"type": "tool_use", "id": "toolu_mock_3_1", "name": "read", "input": {}}}),
            ),
            delta(1, json!({"type": "input_json_delta", "partial_json": ""})),
            delta(
                1,
                json!({"type": "input_json_delta", "partial_json": "{\"pa"}),
            ),
            delta(
                1,
                json!({"type": "input_json_delta", "partial_json": "th\":"}),
            ),
            delta(
                1,
                json!({"type": "input_json_delta", "partial_json": "\"a\"}"}),
            ),
            (
                "content_block_stop".to_owned(),
                json!({"type": "content_block_stop", "index": 1}),
            ),
            (
                "message_delta".to_owned(),
                json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null},
                       "usage": {"output_tokens": 20}}),
            ),
            ("message_stop".to_owned(), json!({"type": "message_stop"})),
        ];
        assert_eq!(events, expected);
    }

    #[test]
    fn validation() {
        let full = |name: &str| Some(format!("value of {name}"));
        let no_version = |name: &str| (name != "anthropic-version").then(|| "v".to_owned());
        let bearer_only = |name: &str| (name != "x-api-key").then(|| "v".to_owned());
        let body = json!({"model": "m", "max_tokens": 5, "messages": []});
        assert_eq!(validate(&full, &body), None);
        assert_eq!(validate(&bearer_only, &body), None);
        assert_eq!(
            validate(&no_version, &body),
            Some((400, "anthropic-version: header is required".into()))
        );
        assert_eq!(
            validate(&|_: &str| None, &body),
            Some((401, "x-api-key header is required".into()))
        );
        assert_eq!(
            validate(&full, &json!({"model": "m", "messages": []})),
            Some((400, "max_tokens: Field required".into()))
        );
    }
}

//! The OpenAI Chat Completions wire format, as the real API writes it.

use serde_json::{Value, json};

use crate::script::{MockContent, MockStop, Reply, chunks};

/// A fixed creation time keeps responses reproducible.
const CREATED: u64 = 1_700_000_000;

pub(crate) fn finish_reason(stop: MockStop) -> &'static str {
    match stop {
        MockStop::EndTurn | MockStop::StopSequence => "stop",
        MockStop::ToolUse => "tool_calls",
        MockStop::MaxTokens => "length",
        MockStop::Refusal => "content_filter",
    }
}

fn call_id(id: Option<&String>, request: usize, block: usize) -> String {
    id.cloned()
        .unwrap_or_else(|| format!("call_mock_{request}_{block}"))
}

fn text_of(reply: &Reply) -> Option<String> {
    let texts: Vec<&str> = reply
        .content
        .iter()
        .filter_map(|c| match c {
            MockContent::Text { text } => Some(text.as_str()),
            MockContent::ToolUse { .. } => None,
        })
        .collect();
    (!texts.is_empty()).then(|| texts.concat())
}

/// Tool calls with their block position (for default ids) and call index.
fn calls(reply: &Reply) -> Vec<(usize, usize, Option<&String>, &str, &Value)> {
    reply
        .content
        .iter()
        .enumerate()
        .filter_map(|(block, c)| match c {
            MockContent::ToolUse { id, name, input } => {
                Some((block, id.as_ref(), name.as_str(), input))
            }
            MockContent::Text { .. } => None,
        })
        .enumerate()
        .map(|(index, (block, id, name, input))| (index, block, id, name, input))
        .collect()
}

fn usage(reply: &Reply) -> Value {
    let u = &reply.usage;
    let prompt = u.input_tokens + u.cache_read_tokens + u.cache_write_tokens;
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": u.output_tokens,
        "total_tokens": prompt + u.output_tokens,
        "prompt_tokens_details": {"cached_tokens": u.cache_read_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    })
}

/// Whether usage comes: the real API sends it only when asked, in a last chunk of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IncludeUsage {
    Yes,
    No,
}

pub(crate) fn include_usage(body: &Value) -> IncludeUsage {
    match body.pointer("/stream_options/include_usage") {
        Some(Value::Bool(true)) => IncludeUsage::Yes,
        _ => IncludeUsage::No,
    }
}

/// The whole event stream of a reply, one `data:` event per item, `[DONE]` last.
pub(crate) fn events(
    reply: &Reply,
    model: &str,
    request: usize,
    chunk_chars: usize,
    include: IncludeUsage,
) -> Vec<String> {
    let chunk = |delta: Value, finish: Value| {
        let mut chunk = json!({
            "id": format!("chatcmpl-mock-{request}"),
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": model,
            "system_fingerprint": "fp_mock",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        });
        if include == IncludeUsage::Yes {
            chunk["usage"] = Value::Null;
        }
        format!("data: {chunk}\n\n")
    };
    let text = text_of(reply);
    let first_content = if text.is_some() {
        json!("")
    } else {
        Value::Null
    };
    let mut out = vec![chunk(
        json!({"role": "assistant", "content": first_content, "refusal": null}),
        Value::Null,
    )];
    if let Some(text) = &text {
        for piece in chunks(text, chunk_chars) {
            out.push(chunk(json!({"content": piece}), Value::Null));
        }
    }
    for (index, block, id, name, input) in calls(reply) {
        out.push(chunk(
            json!({"tool_calls": [{
                "index": index,
                "id": call_id(id, request, block),
                "type": "function",
                "function": {"name": name, "arguments": ""},
            }]}),
            Value::Null,
        ));
        for piece in chunks(&input.to_string(), chunk_chars) {
            out.push(chunk(
                json!({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}),
                Value::Null,
            ));
        }
    }
    out.push(chunk(
        json!({}),
        json!(finish_reason(reply.stop_or_default())),
    ));
    if include == IncludeUsage::Yes {
        let last = json!({
            "id": format!("chatcmpl-mock-{request}"),
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": model,
            "system_fingerprint": "fp_mock",
            "choices": [],
            "usage": usage(reply),
        });
        out.push(format!("data: {last}\n\n"));
    }
    out.push("data: [DONE]\n\n".to_owned());
    out
}

/// The non-streaming body of a reply.
pub(crate) fn body(reply: &Reply, model: &str, request: usize) -> Value {
    let mut message = json!({
        "role": "assistant",
        "content": text_of(reply),
        "refusal": null,
    });
    let calls: Vec<Value> = calls(reply)
        .into_iter()
        .map(|(_, block, id, name, input)| {
            json!({
                "id": call_id(id, request, block),
                "type": "function",
                "function": {"name": name, "arguments": input.to_string()},
            })
        })
        .collect();
    if !calls.is_empty() {
        message["tool_calls"] = Value::Array(calls);
    }
    json!({
        "id": format!("chatcmpl-mock-{request}"),
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "system_fingerprint": "fp_mock",
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish_reason(reply.stop_or_default()),
        }],
        "usage": usage(reply),
    })
}

/// An error chunk inside a stream.
pub(crate) fn error_event(error_type: &str, message: &str) -> String {
    let body =
        json!({"error": {"message": message, "type": error_type, "param": null, "code": null}});
    format!("data: {body}\n\n")
}

pub(crate) fn error_body(status: u16, message: &str) -> Value {
    let (kind, code) = match status {
        400 => ("invalid_request_error", Value::Null),
        401 => ("invalid_request_error", json!("invalid_api_key")),
        403 => (
            "invalid_request_error",
            json!("unsupported_country_region_territory"),
        ),
        404 => ("invalid_request_error", json!("model_not_found")),
        429 => ("requests", json!("rate_limit_exceeded")),
        500..=599 => ("server_error", Value::Null),
        _ => ("invalid_request_error", Value::Null),
    };
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

pub(crate) fn default_message(status: u16) -> &'static str {
    match status {
        400 => "Invalid request",
        401 => "Incorrect API key provided.",
        404 => "The model does not exist or you do not have access to it.",
        429 => "Rate limit reached for requests",
        503 => "The server is overloaded or not ready yet.",
        _ => "The server had an error while processing your request.",
    }
}

/// What the real API refuses before any model runs. No key is fine: local servers want none.
pub(crate) fn validate(body: &Value) -> Option<(u16, String)> {
    if !body.is_object() {
        return Some((
            400,
            "We could not parse the JSON body of your request.".into(),
        ));
    }
    for field in ["model", "messages"] {
        if body.get(field).is_none() {
            return Some((400, format!("Missing required parameter: '{field}'.")));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::MockUsage;
    use pretty_assertions::assert_eq;

    fn parse(frames: &[String]) -> Vec<Value> {
        frames
            .iter()
            .map(|frame| {
                let data = frame.strip_prefix("data: ").unwrap();
                assert!(data.ends_with("\n\n"), "{frame}");
                let data = data.trim_end();
                if data == "[DONE]" {
                    json!("[DONE]")
                } else {
                    serde_json::from_str(data).unwrap()
                }
            })
            .collect()
    }

    #[test]
    fn stream_of_text_and_tool() {
        let reply = Reply::new(vec![
            MockContent::text("Hi there"),
            MockContent::tool_use("read", json!({"path": "a"})),
        ])
        .with_usage(MockUsage {
            input_tokens: 10,
            output_tokens: 20,
            cache_read_tokens: 30,
            cache_write_tokens: 0,
        });
        let chunk = |choices: Value, usage: Value| {
            json!({
                "id": "chatcmpl-mock-2", "object": "chat.completion.chunk", "created": CREATED,
                "model": "gpt-x", "system_fingerprint": "fp_mock", "choices": choices, "usage": usage,
            })
        };
        let delta = |delta: Value| {
            chunk(
                json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": null}]),
                Value::Null,
            )
        };
        assert_eq!(
            parse(&events(&reply, "gpt-x", 2, 6, IncludeUsage::Yes)),
            vec![
                delta(json!({"role": "assistant", "content": "", "refusal": null})),
                delta(json!({"content": "Hi the"})),
                delta(json!({"content": "re"})),
                delta(
                    json!({"tool_calls": [{"index": 0, "id": "call_mock_2_1", "type": "function",
                    "function": {"name": "read", "arguments": ""}}]})
                ),
                delta(json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"path"}}]})),
                delta(
                    json!({"tool_calls": [{"index": 0, "function": {"arguments": "\":\"a\"}"}}]})
                ),
                chunk(
                    json!([{"index": 0, "delta": {}, "logprobs": null, "finish_reason": "tool_calls"}]),
                    Value::Null
                ),
                chunk(
                    json!([]),
                    json!({
                        "prompt_tokens": 40, "completion_tokens": 20, "total_tokens": 60,
                        "prompt_tokens_details": {"cached_tokens": 30, "audio_tokens": 0},
                        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                            "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
                    })
                ),
                json!("[DONE]"),
            ]
        );
        // Without include_usage: no usage key at all, no usage chunk.
        let plain = parse(&events(
            &Reply::new(vec![MockContent::text("ok")]),
            "gpt-x",
            1,
            6,
            IncludeUsage::No,
        ));
        assert_eq!(plain.len(), 4);
        assert_eq!(plain[0].get("usage"), None);
        assert_eq!(
            plain[2].pointer("/choices/0/finish_reason"),
            Some(&json!("stop"))
        );
    }

    #[test]
    fn whole_body() {
        let reply = Reply::new(vec![MockContent::tool_use(
            "bash",
            json!({"command": "ls"}),
        )]);
        let body = body(&reply, "gpt-x", 4);
        assert_eq!(
            body.pointer("/choices/0"),
            Some(&json!({
                "index": 0,
                "message": {"role": "assistant", "content": null, "refusal": null, "tool_calls": [
                    {"id": "call_mock_4_0", "type": "function", "function": {"name": "bash", "arguments": "{\"command\":\"ls\"}"}}
                ]},
                "logprobs": null,
                "finish_reason": "tool_calls",
            }))
        );
    }
}

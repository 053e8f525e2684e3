//! The OpenAI Responses API wire format (`POST /v1/responses`), as the real API writes it:
//! the one Codex speaks. Each text block of a reply is a `message` output item, each tool call
//! a `function_call` item (or a `custom_tool_call` when its scripted input is a JSON string,
//! as for Codex's free-form `apply_patch`).

use serde_json::{Value, json};

use crate::script::{MockContent, MockStop, Reply, chunks};

/// A fixed creation time keeps responses reproducible.
const CREATED: u64 = 1_700_000_000;

fn response_id(request: usize) -> String {
    format!("resp_mock_{request}")
}

fn call_id(id: Option<&String>, request: usize, block: usize) -> String {
    id.cloned()
        .unwrap_or_else(|| format!("call_mock_{request}_{block}"))
}

fn usage(reply: &Reply) -> Value {
    let u = &reply.usage;
    let input = u.input_tokens + u.cache_read_tokens + u.cache_write_tokens;
    json!({
        "input_tokens": input,
        "input_tokens_details": {"cached_tokens": u.cache_read_tokens},
        "output_tokens": u.output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input + u.output_tokens,
    })
}

/// The finished output item of one content block.
fn item(block: &MockContent, request: usize, index: usize) -> Value {
    match block {
        MockContent::Text { text } => json!({
            "id": format!("msg_mock_{request}_{index}"),
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
        }),
        MockContent::ToolUse {
            id,
            name,
            input: Value::String(input),
        } => json!({
            "id": format!("ctc_mock_{request}_{index}"),
            "type": "custom_tool_call",
            "status": "completed",
            "call_id": call_id(id.as_ref(), request, index),
            "name": name,
            "input": input,
        }),
        MockContent::ToolUse { id, name, input } => json!({
            "id": format!("fc_mock_{request}_{index}"),
            "type": "function_call",
            "status": "completed",
            "call_id": call_id(id.as_ref(), request, index),
            "name": name,
            "arguments": input.to_string(),
        }),
    }
}

/// The same item while it streams: no text or arguments yet.
fn started(item: &Value) -> Value {
    let mut item = item.clone();
    item["status"] = json!("in_progress");
    for (field, empty) in [
        ("content", json!([])),
        ("arguments", json!("")),
        ("input", json!("")),
    ] {
        if item.get(field).is_some() {
            item[field] = empty;
        }
    }
    item
}

/// `completed`, or `incomplete` with its reason when the reply was cut at max_tokens.
fn status(reply: &Reply) -> (&'static str, Value) {
    match reply.stop_or_default() {
        MockStop::MaxTokens => ("incomplete", json!({"reason": "max_output_tokens"})),
        MockStop::Refusal => ("incomplete", json!({"reason": "content_filter"})),
        MockStop::EndTurn | MockStop::ToolUse | MockStop::StopSequence => {
            ("completed", Value::Null)
        }
    }
}

fn response(reply: &Reply, model: &str, request: usize, done: bool) -> Value {
    let (status, incomplete) = if done {
        status(reply)
    } else {
        ("in_progress", Value::Null)
    };
    let output: Vec<Value> = if done {
        reply
            .content
            .iter()
            .enumerate()
            .map(|(i, b)| item(b, request, i))
            .collect()
    } else {
        Vec::new()
    };
    json!({
        "id": response_id(request),
        "object": "response",
        "created_at": CREATED,
        "status": status,
        "error": null,
        "incomplete_details": incomplete,
        "model": model,
        "output": output,
        "parallel_tool_calls": true,
        "tool_choice": "auto",
        "usage": if done { usage(reply) } else { Value::Null },
    })
}

/// Numbers the events as the real API does (`sequence_number`) and frames them.
struct Frames {
    out: Vec<String>,
}

impl Frames {
    fn push(&mut self, mut data: Value) {
        data["sequence_number"] = json!(self.out.len());
        let kind = data
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("error")
            .to_owned();
        self.out.push(format!("event: {kind}\ndata: {data}\n\n"));
    }
}

/// The whole event stream of a reply, one server-sent event per item.
pub(crate) fn events(
    reply: &Reply,
    model: &str,
    request: usize,
    chunk_chars: usize,
) -> Vec<String> {
    let mut f = Frames { out: Vec::new() };
    let pending = response(reply, model, request, false);
    f.push(json!({"type": "response.created", "response": pending}));
    f.push(json!({"type": "response.in_progress", "response": pending}));
    for (index, block) in reply.content.iter().enumerate() {
        let done = item(block, request, index);
        let item_id = done["id"].clone();
        f.push(json!({
            "type": "response.output_item.added",
            "output_index": index,
            "item": started(&done),
        }));
        match block {
            MockContent::Text { text } => {
                let part =
                    json!({"type": "output_text", "text": "", "annotations": [], "logprobs": []});
                f.push(json!({
                    "type": "response.content_part.added",
                    "item_id": item_id, "output_index": index, "content_index": 0, "part": part,
                }));
                for piece in chunks(text, chunk_chars) {
                    f.push(json!({
                        "type": "response.output_text.delta",
                        "item_id": item_id, "output_index": index, "content_index": 0,
                        "delta": piece, "logprobs": [],
                    }));
                }
                f.push(json!({
                    "type": "response.output_text.done",
                    "item_id": item_id, "output_index": index, "content_index": 0,
                    "text": text, "logprobs": [],
                }));
                f.push(json!({
                    "type": "response.content_part.done",
                    "item_id": item_id, "output_index": index, "content_index": 0,
                    "part": done["content"][0],
                }));
            }
            MockContent::ToolUse {
                input: Value::String(input),
                ..
            } => {
                for piece in chunks(input, chunk_chars) {
                    f.push(json!({
                        "type": "response.custom_tool_call_input.delta",
                        "item_id": item_id, "output_index": index, "delta": piece,
                    }));
                }
                f.push(json!({
                    "type": "response.custom_tool_call_input.done",
                    "item_id": item_id, "output_index": index, "input": input,
                }));
            }
            MockContent::ToolUse { input, .. } => {
                let arguments = input.to_string();
                for piece in chunks(&arguments, chunk_chars) {
                    f.push(json!({
                        "type": "response.function_call_arguments.delta",
                        "item_id": item_id, "output_index": index, "delta": piece,
                    }));
                }
                f.push(json!({
                    "type": "response.function_call_arguments.done",
                    "item_id": item_id, "output_index": index, "arguments": arguments,
                }));
            }
        }
        f.push(json!({
            "type": "response.output_item.done",
            "output_index": index,
            "item": done,
        }));
    }
    let finished = response(reply, model, request, true);
    let last = match status(reply).0 {
        "incomplete" => "response.incomplete",
        _ => "response.completed",
    };
    f.push(json!({"type": last, "response": finished}));
    f.out
}

/// The non-streaming body of a reply: the finished response object.
pub(crate) fn body(reply: &Reply, model: &str, request: usize) -> Value {
    response(reply, model, request, true)
}

/// An error event inside a stream.
pub(crate) fn error_event(error_type: &str, message: &str) -> String {
    let data = json!({"type": "error", "code": error_type, "message": message, "param": null});
    format!("event: error\ndata: {data}\n\n")
}

/// What the real API refuses before any model runs. No key is fine, as for Chat Completions.
pub(crate) fn validate(body: &Value) -> Option<(u16, String)> {
    if !body.is_object() {
        return Some((
            400,
            "We could not parse the JSON body of your request.".into(),
        ));
    }
    for field in ["model", "input"] {
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

    fn parse(frames: &[String]) -> Vec<(String, Value)> {
        frames
            .iter()
            .map(|frame| {
                let (event, data) = frame.split_once('\n').unwrap();
                let kind = event.strip_prefix("event: ").unwrap().to_owned();
                let data = data.strip_prefix("data: ").unwrap();
                assert!(data.ends_with("\n\n"), "{frame}");
                (kind, serde_json::from_str(data.trim_end()).unwrap())
            })
            .collect()
    }

    #[test]
    fn stream_of_text_and_function_call() {
        let reply = Reply::new(vec![
            MockContent::text("Hi there"),
            MockContent::tool_use("exec_command", json!({"cmd": "ls"})),
        ])
        .with_usage(MockUsage {
            input_tokens: 10,
            output_tokens: 20,
            cache_read_tokens: 30,
            cache_write_tokens: 0,
        });
        let events = parse(&events(&reply, "gpt-x", 2, 5));
        let kinds: Vec<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            kinds,
            vec![
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "response.output_text.delta",
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.output_item.added",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.done",
                "response.output_item.done",
                "response.completed",
            ]
        );
        for (kind, data) in &events {
            assert_eq!(data["type"], json!(kind));
        }
        let numbers: Vec<Value> = events
            .iter()
            .map(|(_, d)| d["sequence_number"].clone())
            .collect();
        assert_eq!(numbers, (0..16).map(|n| json!(n)).collect::<Vec<_>>());
        let deltas: String = events
            .iter()
            .filter(|(k, _)| k == "response.function_call_arguments.delta")
            .map(|(_, d)| d["delta"].as_str().unwrap())
            .collect();
        assert_eq!(deltas, r#"{"cmd":"ls"}"#);
        assert_eq!(
            events[9].1["item"],
            json!({"id": "fc_mock_2_1", "type": "function_call", "status": "in_progress",
                   "call_id": "call_mock_2_1", "name": "exec_command", "arguments": ""})
        );
        let completed = &events[15].1["response"];
        assert_eq!(completed["id"], json!("resp_mock_2"));
        assert_eq!(completed["status"], json!("completed"));
        assert_eq!(
            completed["usage"],
            json!({"input_tokens": 40, "input_tokens_details": {"cached_tokens": 30},
                   "output_tokens": 20, "output_tokens_details": {"reasoning_tokens": 0},
                   "total_tokens": 60})
        );
        assert_eq!(
            completed["output"][0]["content"][0]["text"],
            json!("Hi there")
        );
        assert_eq!(
            completed["output"][1]["arguments"],
            json!(r#"{"cmd":"ls"}"#)
        );
    }

    #[test]
    fn custom_tool_calls_and_cut_replies() {
        let reply = Reply::new(vec![MockContent::tool_use(
            "apply_patch",
            json!("*** Begin Patch"),
        )])
        .with_stop(MockStop::MaxTokens);
        let events = parse(&events(&reply, "gpt-x", 1, 100));
        assert_eq!(
            events[3].1,
            json!({"type": "response.custom_tool_call_input.delta", "item_id": "ctc_mock_1_0",
                   "output_index": 0, "delta": "*** Begin Patch", "sequence_number": 3})
        );
        let (kind, last) = events.last().unwrap();
        assert_eq!(kind, "response.incomplete");
        assert_eq!(
            last["response"]["incomplete_details"],
            json!({"reason": "max_output_tokens"})
        );
        assert_eq!(
            body(&reply, "gpt-x", 1)["output"][0]["input"],
            json!("*** Begin Patch")
        );
    }

    #[test]
    fn refuses_what_the_api_refuses() {
        assert_eq!(
            validate(&json!({"model": "m"})),
            Some((400, "Missing required parameter: 'input'.".into()))
        );
        assert_eq!(validate(&json!({"model": "m", "input": "hi"})), None);
    }
}

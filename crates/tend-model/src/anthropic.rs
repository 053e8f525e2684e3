//! The Anthropic Messages API (`POST {base}/v1/messages`, streamed).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::error::ModelError;
use crate::http::{Decoder, Ending, Progress, Sensitivity, Transport, headers, truncate};
use crate::retry::{Failure, Sleeper};
use crate::settings::{Provider, ProviderSettings};
use crate::sse::SseEvent;
use crate::types::{Content, ModelEvent, ModelRequest, ModelResponse, Role, StopReason, Usage};

pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// A client of the Anthropic Messages API.
#[derive(Debug, Clone)]
pub struct AnthropicClient {
    transport: Transport,
}

impl AnthropicClient {
    pub fn new(settings: &ProviderSettings) -> Result<AnthropicClient, ModelError> {
        let provider = Provider::Anthropic;
        let key = settings
            .api_key
            .as_ref()
            .ok_or_else(|| ModelError::MissingApiKey {
                provider,
                env_var: "ANTHROPIC_API_KEY".into(),
            })?;
        let headers = headers(
            provider,
            &[
                ("x-api-key", key.expose(), Sensitivity::Secret),
                ("anthropic-version", ANTHROPIC_VERSION, Sensitivity::Plain),
                ("content-type", "application/json", Sensitivity::Plain),
                ("accept", "text/event-stream", Sensitivity::Plain),
            ],
        )?;
        let transport = Transport::new(provider, settings, "/v1/messages", headers, "request-id")?;
        Ok(AnthropicClient { transport })
    }

    /// Replaces the real timer of retry waits (tests pass an instant one).
    pub fn with_sleeper(mut self, sleeper: Sleeper) -> AnthropicClient {
        self.transport.sleeper = sleeper;
        self
    }

    pub async fn complete(
        &self,
        req: &ModelRequest,
        on_event: &mut (dyn FnMut(ModelEvent) + Send),
    ) -> Result<ModelResponse, ModelError> {
        let body =
            serde_json::to_vec(&request_body(req)).map_err(|e| ModelError::InvalidRequest {
                provider: Provider::Anthropic,
                detail: e.to_string(),
            })?;
        let new_decoder = || Decoder::Anthropic(StreamState::default());
        self.transport.send(&body, &new_decoder, on_event).await
    }
}

fn ephemeral() -> Value {
    json!({"type": "ephemeral"})
}

/// The JSON body for a request. Prompt-cache breakpoints (at most 4 are allowed; this uses 3)
/// go on the last tool, the last system block and the last block of the last message, so the
/// tools, the system prefix and the conversation so far are each read from the cache on the
/// next turn.
pub(crate) fn request_body(req: &ModelRequest) -> Value {
    let mut body = serde_json::Map::new();
    body.insert("model".into(), json!(req.model));
    body.insert("max_tokens".into(), json!(req.max_tokens));
    // The API rejects empty text blocks.
    let mut system: Vec<Value> = req
        .system
        .iter()
        .filter(|text| !text.is_empty())
        .map(|text| json!({"type": "text", "text": text}))
        .collect();
    if let Some(last) = system.last_mut() {
        last["cache_control"] = ephemeral();
    }
    if !system.is_empty() {
        body.insert("system".into(), Value::Array(system));
    }
    let mut tools: Vec<Value> = req
        .tools
        .iter()
        .map(|tool| {
            json!({
                "name": tool.name,
                "description": tool.description,
                "input_schema": tool.input_schema,
            })
        })
        .collect();
    if let Some(last) = tools.last_mut() {
        last["cache_control"] = ephemeral();
    }
    if !tools.is_empty() {
        body.insert("tools".into(), Value::Array(tools));
    }
    let mut messages: Vec<Value> = req
        .messages
        .iter()
        .map(|message| {
            let role = match message.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            let content: Vec<Value> = message.content.iter().filter_map(content_block).collect();
            json!({"role": role, "content": content})
        })
        .collect();
    if let Some(block) = messages
        .last_mut()
        .and_then(|m| m.get_mut("content"))
        .and_then(Value::as_array_mut)
        .and_then(|blocks| blocks.last_mut())
    {
        block["cache_control"] = ephemeral();
    }
    body.insert("messages".into(), Value::Array(messages));
    body.insert("stream".into(), json!(true));
    Value::Object(body)
}

fn content_block(content: &Content) -> Option<Value> {
    match content {
        Content::Text { text } if text.is_empty() => None,
        Content::Text { text } => Some(json!({"type": "text", "text": text})),
        Content::ToolUse { id, name, input } => {
            Some(json!({"type": "tool_use", "id": id, "name": name, "input": input}))
        }
        Content::ToolResult {
            tool_use_id,
            content,
            is_error,
        } => {
            let mut block =
                json!({"type": "tool_result", "tool_use_id": tool_use_id, "content": content});
            if *is_error {
                block["is_error"] = json!(true);
            }
            Some(block)
        }
    }
}

/// A content block while it streams.
#[derive(Debug)]
enum Block {
    Text(String),
    Tool {
        id: String,
        name: String,
        json: String,
    },
    /// Thinking and server-side blocks: not part of tend's conversation.
    Other,
}

#[derive(Debug, Default)]
pub(crate) struct StreamState {
    blocks: BTreeMap<u64, Block>,
    usage: Usage,
    stop: Option<StopReason>,
    started: bool,
}

impl StreamState {
    fn decode_error(context: &str, detail: impl Into<String>) -> Failure {
        Failure::Permanent(ModelError::Decode {
            provider: Provider::Anthropic,
            context: context.to_owned(),
            detail: detail.into(),
        })
    }

    pub(crate) fn event(
        &mut self,
        event: SseEvent,
        on_event: &mut (dyn FnMut(ModelEvent) + Send),
    ) -> Result<Progress, Failure> {
        let data: Value = serde_json::from_str(&event.data).map_err(|e| {
            Self::decode_error(
                &format!("event `{}`", event.event.as_deref().unwrap_or("message")),
                format!("{e}; data: {}", truncate(&event.data, 200)),
            )
        })?;
        let kind = data
            .get("type")
            .and_then(Value::as_str)
            .or(event.event.as_deref())
            .unwrap_or_default();
        let index = data.get("index").and_then(Value::as_u64).unwrap_or(0);
        match kind {
            "message_start" => {
                self.started = true;
                if let Some(usage) = data.pointer("/message/usage") {
                    self.read_usage(usage);
                }
            }
            "content_block_start" => {
                let block = data.get("content_block").unwrap_or(&Value::Null);
                let block = match block.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        let text = str_field(block, "text");
                        if !text.is_empty() {
                            on_event(ModelEvent::TextDelta(text.clone()));
                        }
                        Block::Text(text)
                    }
                    Some("tool_use") => {
                        let id = str_field(block, "id");
                        let name = str_field(block, "name");
                        on_event(ModelEvent::ToolUseStart {
                            id: id.clone(),
                            name: name.clone(),
                        });
                        Block::Tool {
                            id,
                            name,
                            json: String::new(),
                        }
                    }
                    _ => Block::Other,
                };
                self.blocks.insert(index, block);
            }
            "content_block_delta" => {
                let delta = data.get("delta").unwrap_or(&Value::Null);
                let delta_kind = delta.get("type").and_then(Value::as_str);
                match (self.blocks.get_mut(&index), delta_kind) {
                    (Some(Block::Text(text)), Some("text_delta")) => {
                        let part = str_field(delta, "text");
                        text.push_str(&part);
                        on_event(ModelEvent::TextDelta(part));
                    }
                    (Some(Block::Tool { id, json, .. }), Some("input_json_delta")) => {
                        let part = str_field(delta, "partial_json");
                        json.push_str(&part);
                        if !part.is_empty() {
                            on_event(ModelEvent::ToolInputDelta {
                                id: id.clone(),
                                partial_json: part,
                            });
                        }
                    }
                    (None, _) => {
                        return Err(Self::decode_error(
                            "content_block_delta",
                            format!("delta for block {index}, which never started"),
                        ));
                    }
                    // Thinking, signature and citation deltas.
                    (Some(_), _) => {}
                }
            }
            "message_delta" => {
                if let Some(reason) = data.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    self.stop = Some(StopReason::from(reason.to_owned()));
                }
                if let Some(usage) = data.get("usage") {
                    self.read_usage(usage);
                }
            }
            "message_stop" => return Ok(Progress::Done),
            "error" => {
                let error_kind = data
                    .pointer("/error/type")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let message = data
                    .pointer("/error/message")
                    .and_then(Value::as_str)
                    .unwrap_or("(no message)")
                    .to_owned();
                let transient = matches!(
                    error_kind.as_deref(),
                    Some("overloaded_error" | "api_error" | "rate_limit_error")
                );
                let error = ModelError::Api {
                    provider: Provider::Anthropic,
                    status: 200,
                    kind: error_kind,
                    message,
                    request_id: None,
                };
                return Err(if transient {
                    Failure::transient(error)
                } else {
                    Failure::Permanent(error)
                });
            }
            // `ping`, `content_block_stop` (blocks are finished at the end) and event types
            // added later.
            _ => {}
        }
        Ok(Progress::More)
    }

    /// Usage arrives in `message_start` and (cumulative) in `message_delta`; a field present in
    /// a later event replaces the earlier value.
    fn read_usage(&mut self, usage: &Value) {
        let field = |name: &str| usage.get(name).and_then(Value::as_u64);
        if let Some(n) = field("input_tokens") {
            self.usage.input_tokens = n;
        }
        if let Some(n) = field("output_tokens") {
            self.usage.output_tokens = n;
        }
        if let Some(n) = field("cache_read_input_tokens") {
            self.usage.cache_read_tokens = n;
        }
        if let Some(n) = field("cache_creation_input_tokens") {
            self.usage.cache_write_tokens = n;
        }
    }

    pub(crate) fn finish(
        self,
        ending: Ending,
        request_id: Option<String>,
    ) -> Result<ModelResponse, Failure> {
        match ending {
            Ending::Complete => {}
            Ending::Eof => {
                let detail = if self.started {
                    "the connection closed before `message_stop`"
                } else {
                    "the connection closed before `message_start`"
                };
                return Err(Failure::transient(ModelError::Interrupted {
                    provider: Provider::Anthropic,
                    detail: detail.into(),
                }));
            }
        }
        let mut content = Vec::new();
        for block in self.blocks.into_values() {
            match block {
                Block::Text(text) if text.is_empty() => {}
                Block::Text(text) => content.push(Content::Text { text }),
                Block::Tool { id, name, json } => {
                    let input = parse_tool_input(Provider::Anthropic, &name, &json)?;
                    content.push(Content::ToolUse { id, name, input });
                }
                Block::Other => {}
            }
        }
        let stop = self
            .stop
            .unwrap_or_else(|| StopReason::Other("none".into()));
        Ok(ModelResponse {
            content,
            stop,
            usage: self.usage,
            request_id,
        })
    }
}

fn str_field(value: &Value, name: &str) -> String {
    value
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The assembled input JSON of a tool call; empty means no arguments.
pub(crate) fn parse_tool_input(
    provider: Provider,
    name: &str,
    json: &str,
) -> Result<Value, Failure> {
    if json.trim().is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_str(json).map_err(|e| {
        Failure::Permanent(ModelError::Decode {
            provider,
            context: format!("input of the `{name}` tool call"),
            detail: format!("{e}; received: {}", truncate(json, 300)),
        })
    })
}

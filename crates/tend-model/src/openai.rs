//! OpenAI Chat Completions (`POST {base}/chat/completions`, streamed), also spoken by Ollama,
//! vLLM, llama.cpp and LM Studio.

use serde_json::{Value, json};

use crate::anthropic::parse_tool_input;
use crate::error::ModelError;
use crate::http::{Decoder, Ending, Progress, Sensitivity, Transport, headers, truncate};
use crate::retry::{Failure, Sleeper};
use crate::settings::{Provider, ProviderSettings, is_openai_host};
use crate::sse::SseEvent;
use crate::types::{Content, ModelEvent, ModelRequest, ModelResponse, Role, StopReason, Usage};

/// Which field carries the output limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxTokensField {
    /// OpenAI's own API: `max_tokens` is deprecated there and refused by reasoning models.
    MaxCompletionTokens,
    /// Every compatible server knows the older `max_tokens`; not all know the new name.
    MaxTokens,
}

/// A client of OpenAI Chat Completions or a compatible server.
#[derive(Debug, Clone)]
pub struct OpenAiClient {
    transport: Transport,
    max_tokens_field: MaxTokensField,
}

impl OpenAiClient {
    pub fn new(settings: &ProviderSettings) -> Result<OpenAiClient, ModelError> {
        let provider = Provider::OpenAi;
        let bearer = settings
            .api_key
            .as_ref()
            .map(|key| format!("Bearer {}", key.expose()));
        let mut entries = vec![
            ("content-type", "application/json", Sensitivity::Plain),
            ("accept", "text/event-stream", Sensitivity::Plain),
        ];
        if let Some(bearer) = &bearer {
            entries.push(("authorization", bearer.as_str(), Sensitivity::Secret));
        }
        let headers = headers(provider, &entries)?;
        let transport = Transport::new(
            provider,
            settings,
            "/chat/completions",
            headers,
            "x-request-id",
        )?;
        let max_tokens_field = if is_openai_host(&settings.base_url) {
            MaxTokensField::MaxCompletionTokens
        } else {
            MaxTokensField::MaxTokens
        };
        Ok(OpenAiClient {
            transport,
            max_tokens_field,
        })
    }

    /// Replaces the real timer of retry waits (tests pass an instant one).
    pub fn with_sleeper(mut self, sleeper: Sleeper) -> OpenAiClient {
        self.transport.sleeper = sleeper;
        self
    }

    /// The field that carries `max_tokens`: `max_completion_tokens` for OpenAI's own API,
    /// `max_tokens` for other servers.
    pub fn max_tokens_field(&self) -> MaxTokensField {
        self.max_tokens_field
    }

    /// Overrides the choice made from the base URL.
    pub fn with_max_tokens_field(mut self, field: MaxTokensField) -> OpenAiClient {
        self.max_tokens_field = field;
        self
    }

    pub async fn complete(
        &self,
        req: &ModelRequest,
        on_event: &mut (dyn FnMut(ModelEvent) + Send),
    ) -> Result<ModelResponse, ModelError> {
        let body = request_body(req, self.max_tokens_field)?;
        let body = serde_json::to_vec(&body).map_err(|e| ModelError::InvalidRequest {
            provider: Provider::OpenAi,
            detail: e.to_string(),
        })?;
        let new_decoder = || Decoder::OpenAi(StreamState::default());
        self.transport.send(&body, &new_decoder, on_event).await
    }
}

fn invalid(detail: String) -> ModelError {
    ModelError::InvalidRequest {
        provider: Provider::OpenAi,
        detail,
    }
}

/// The JSON body for a request.
pub(crate) fn request_body(req: &ModelRequest, field: MaxTokensField) -> Result<Value, ModelError> {
    let mut messages = Vec::new();
    let system: Vec<&str> = req
        .system
        .iter()
        .map(String::as_str)
        .filter(|text| !text.is_empty())
        .collect();
    if !system.is_empty() {
        messages.push(json!({"role": "system", "content": system.join("\n\n")}));
    }
    for (number, message) in req.messages.iter().enumerate() {
        match message.role {
            Role::User => user_messages(number, &message.content, &mut messages)?,
            Role::Assistant => messages.push(assistant_message(number, &message.content)?),
        }
    }
    let mut body = serde_json::Map::new();
    body.insert("model".into(), json!(req.model));
    body.insert("messages".into(), Value::Array(messages));
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|tool| {
                json!({
                    "type": "function",
                    "function": {
                        "name": tool.name,
                        "description": tool.description,
                        "parameters": tool.input_schema,
                    }
                })
            })
            .collect();
        body.insert("tools".into(), Value::Array(tools));
    }
    let limit = match field {
        MaxTokensField::MaxCompletionTokens => "max_completion_tokens",
        MaxTokensField::MaxTokens => "max_tokens",
    };
    body.insert(limit.into(), json!(req.max_tokens));
    body.insert("stream".into(), json!(true));
    body.insert("stream_options".into(), json!({"include_usage": true}));
    Ok(Value::Object(body))
}

/// Tool results become `role: tool` messages, which must directly follow the assistant's
/// calls, so they go first; the user's text follows as one user message.
fn user_messages(
    number: usize,
    content: &[Content],
    out: &mut Vec<Value>,
) -> Result<(), ModelError> {
    let mut texts = Vec::new();
    for block in content {
        match block {
            Content::Text { text } => texts.push(text.as_str()),
            Content::ToolResult {
                tool_use_id,
                content,
                is_error,
            } => {
                // Chat Completions has no error flag on tool results; say it in the text.
                let content = if *is_error {
                    format!("Error: {content}")
                } else {
                    content.clone()
                };
                out.push(json!({"role": "tool", "tool_call_id": tool_use_id, "content": content}));
            }
            Content::ToolUse { name, .. } => {
                return Err(invalid(format!(
                    "message {number} is a user message with a call of the `{name}` tool; only assistant messages call tools"
                )));
            }
        }
    }
    if !texts.is_empty() {
        out.push(json!({"role": "user", "content": texts.join("\n\n")}));
    }
    Ok(())
}

fn assistant_message(number: usize, content: &[Content]) -> Result<Value, ModelError> {
    let mut text = String::new();
    let mut calls = Vec::new();
    for block in content {
        match block {
            Content::Text { text: part } => text.push_str(part),
            Content::ToolUse { id, name, input } => calls.push(json!({
                "id": id,
                "type": "function",
                "function": {"name": name, "arguments": input.to_string()},
            })),
            Content::ToolResult { .. } => {
                return Err(invalid(format!(
                    "message {number} is an assistant message with a tool result; tool results belong in user messages"
                )));
            }
        }
    }
    // `content` is always a string, "" when the assistant only called tools: llama.cpp refuses
    // a null content, and OpenAI accepts the empty string.
    let mut message = json!({"role": "assistant", "content": text});
    if !calls.is_empty() {
        message["tool_calls"] = Value::Array(calls);
    }
    Ok(message)
}

#[derive(Debug)]
struct ToolCall {
    index: u64,
    id: String,
    name: String,
    arguments: String,
    announced: bool,
}

#[derive(Debug, Default)]
pub(crate) struct StreamState {
    text: String,
    calls: Vec<ToolCall>,
    finish: Option<String>,
    usage: Option<Usage>,
    started: bool,
}

impl StreamState {
    pub(crate) fn event(
        &mut self,
        event: SseEvent,
        on_event: &mut (dyn FnMut(ModelEvent) + Send),
    ) -> Result<Progress, Failure> {
        let data = event.data.trim();
        if data == "[DONE]" {
            return Ok(Progress::Done);
        }
        let chunk: Value = serde_json::from_str(data).map_err(|e| {
            Failure::Permanent(ModelError::Decode {
                provider: Provider::OpenAi,
                context: "stream chunk".into(),
                detail: format!("{e}; data: {}", truncate(data, 200)),
            })
        })?;
        if let Some(error) = chunk.get("error") {
            return Err(stream_error(error));
        }
        self.started = true;
        if let Some(usage) = chunk.get("usage").filter(|u| u.is_object()) {
            self.usage = Some(read_usage(usage));
        }
        let choices = chunk.get("choices").and_then(Value::as_array);
        // tend asks for one choice; any others are not part of the answer.
        let Some(choice) = choices.and_then(|c| {
            c.iter()
                .find(|ch| ch.get("index").and_then(Value::as_u64).unwrap_or(0) == 0)
        }) else {
            return Ok(Progress::More);
        };
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            self.finish = Some(reason.to_owned());
        }
        let delta = choice.get("delta").unwrap_or(&Value::Null);
        for key in ["content", "refusal"] {
            if let Some(text) = delta
                .get(key)
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
            {
                self.text.push_str(text);
                on_event(ModelEvent::TextDelta(text.to_owned()));
            }
        }
        if let Some(calls) = delta.get("tool_calls").and_then(Value::as_array) {
            for call in calls {
                self.tool_call_delta(call, on_event);
            }
        }
        Ok(Progress::More)
    }

    fn tool_call_delta(&mut self, call: &Value, on_event: &mut (dyn FnMut(ModelEvent) + Send)) {
        let id = call
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty());
        // Some servers leave out `index`; a new id then starts a new call.
        let index = match call.get("index").and_then(Value::as_u64) {
            Some(index) => index,
            None => match (id, self.calls.last()) {
                (Some(id), Some(last)) if last.id != id => last.index + 1,
                (_, Some(last)) => last.index,
                (_, None) => 0,
            },
        };
        let position = match self.calls.iter().position(|c| c.index == index) {
            Some(position) => position,
            None => {
                self.calls.push(ToolCall {
                    index,
                    // Some local servers send no id; the conversation still needs one to pair
                    // the result with the call.
                    id: id.map_or_else(|| format!("call_{index}"), str::to_owned),
                    name: String::new(),
                    arguments: String::new(),
                    announced: false,
                });
                self.calls.len() - 1
            }
        };
        let Some(entry) = self.calls.get_mut(position) else {
            return;
        };
        let function = call.get("function").unwrap_or(&Value::Null);
        if let Some(name) = function.get("name").and_then(Value::as_str) {
            entry.name.push_str(name);
        }
        let arguments = function
            .get("arguments")
            .and_then(Value::as_str)
            .unwrap_or_default();
        entry.arguments.push_str(arguments);
        if !entry.announced && !entry.name.is_empty() {
            entry.announced = true;
            on_event(ModelEvent::ToolUseStart {
                id: entry.id.clone(),
                name: entry.name.clone(),
            });
            // Arguments that came before the name, and these.
            if !entry.arguments.is_empty() {
                on_event(ModelEvent::ToolInputDelta {
                    id: entry.id.clone(),
                    partial_json: entry.arguments.clone(),
                });
            }
        } else if entry.announced && !arguments.is_empty() {
            on_event(ModelEvent::ToolInputDelta {
                id: entry.id.clone(),
                partial_json: arguments.to_owned(),
            });
        }
    }

    pub(crate) fn finish(
        self,
        ending: Ending,
        request_id: Option<String>,
    ) -> Result<ModelResponse, Failure> {
        // Without `[DONE]`, a clean end after `finish_reason` is accepted: some compatible
        // servers never send `[DONE]`. Anything less is a stream cut short.
        let complete = match ending {
            Ending::Complete => true,
            Ending::Eof => self.finish.is_some(),
        };
        if !complete {
            let detail = if self.started {
                "the connection closed before `finish_reason` and `[DONE]`"
            } else {
                "the connection closed before the first chunk"
            };
            return Err(Failure::transient(ModelError::Interrupted {
                provider: Provider::OpenAi,
                detail: detail.into(),
            }));
        }
        let mut content = Vec::new();
        if !self.text.is_empty() {
            content.push(Content::Text { text: self.text });
        }
        let has_calls = !self.calls.is_empty();
        let mut calls = self.calls;
        calls.sort_by_key(|c| c.index);
        for call in calls {
            let input = parse_tool_input(Provider::OpenAi, &call.name, &call.arguments)?;
            content.push(Content::ToolUse {
                id: call.id,
                name: call.name,
                input,
            });
        }
        let stop = match self.finish.as_deref() {
            Some("tool_calls" | "function_call") => StopReason::ToolUse,
            // Some servers say `stop` after tool calls; what matters is that calls came.
            Some("stop") | None if has_calls => StopReason::ToolUse,
            Some("stop") | None => StopReason::EndTurn,
            Some("length") => StopReason::MaxTokens,
            Some("content_filter") => StopReason::Refusal,
            Some(other) => StopReason::Other(other.to_owned()),
        };
        Ok(ModelResponse {
            content,
            stop,
            usage: self.usage.unwrap_or_default(),
            request_id,
        })
    }
}

/// `prompt_tokens` counts cached tokens too; tend's `input_tokens` does not.
fn read_usage(usage: &Value) -> Usage {
    let field = |pointer: &str| usage.pointer(pointer).and_then(Value::as_u64).unwrap_or(0);
    let prompt = field("/prompt_tokens");
    let cached = field("/prompt_tokens_details/cached_tokens");
    Usage {
        input_tokens: prompt.saturating_sub(cached),
        output_tokens: field("/completion_tokens"),
        cache_read_tokens: cached,
        cache_write_tokens: 0,
    }
}

/// An error object inside a stream; server-side trouble is worth a retry, a bad request not.
fn stream_error(error: &Value) -> Failure {
    let kind = error
        .get("type")
        .and_then(Value::as_str)
        .or_else(|| error.get("code").and_then(Value::as_str))
        .map(str::to_owned);
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .map_or_else(|| error.to_string(), str::to_owned);
    let permanent = matches!(
        kind.as_deref(),
        Some(
            "invalid_request_error"
                | "authentication_error"
                | "permission_error"
                | "not_found_error"
        )
    );
    let error = ModelError::Api {
        provider: Provider::OpenAi,
        status: 200,
        kind,
        message,
        request_id: None,
    };
    if permanent {
        Failure::Permanent(error)
    } else {
        Failure::transient(error)
    }
}

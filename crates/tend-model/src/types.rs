//! The provider-neutral conversation types. The transcript stores them, so they are serde with
//! snake_case tags and must stay backward compatible.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Who speaks a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Assistant,
}

/// One message of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: Vec<Content>,
}

impl Message {
    /// A user message with one text block.
    pub fn user_text(text: impl Into<String>) -> Message {
        Message {
            role: Role::User,
            content: vec![Content::text(text)],
        }
    }

    /// An assistant message with one text block.
    pub fn assistant_text(text: impl Into<String>) -> Message {
        Message {
            role: Role::Assistant,
            content: vec![Content::text(text)],
        }
    }
}

/// A block of message content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Content {
    Text {
        text: String,
    },
    /// A tool call by the assistant.
    ToolUse {
        id: String,
        name: String,
        input: serde_json::Value,
    },
    /// The answer to a tool call, in a user message.
    ToolResult {
        tool_use_id: String,
        content: String,
        #[serde(default)]
        is_error: bool,
    },
}

impl Content {
    pub fn text(text: impl Into<String>) -> Content {
        Content::Text { text: text.into() }
    }
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    /// A JSON Schema object.
    pub input_schema: serde_json::Value,
}

/// One call to the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRequest {
    /// The model name without the `provider:` prefix.
    pub model: String,
    /// The stable prefix blocks, in order: system prompt, project memory, task memory.
    pub system: Vec<String>,
    pub tools: Vec<ToolSpec>,
    pub messages: Vec<Message>,
    pub max_tokens: u32,
}

/// Streamed while a response arrives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelEvent {
    TextDelta(String),
    ToolUseStart {
        id: String,
        name: String,
    },
    ToolInputDelta {
        id: String,
        partial_json: String,
    },
    /// A failed attempt; partial output streamed so far must be discarded by the consumer.
    /// `attempt` is the number (from 1) of the attempt that failed; the next one starts after
    /// `wait`.
    Retrying {
        attempt: u32,
        #[serde(rename = "wait_ms", with = "duration_ms")]
        wait: Duration,
        reason: String,
    },
}

/// Why the model stopped. Serialized as the plain wire word (`"end_turn"`, `"tool_use"`, …);
/// unknown words round-trip through `Other`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum StopReason {
    EndTurn,
    ToolUse,
    MaxTokens,
    StopSequence,
    Refusal,
    Other(String),
}

impl StopReason {
    pub fn as_str(&self) -> &str {
        match self {
            StopReason::EndTurn => "end_turn",
            StopReason::ToolUse => "tool_use",
            StopReason::MaxTokens => "max_tokens",
            StopReason::StopSequence => "stop_sequence",
            StopReason::Refusal => "refusal",
            StopReason::Other(other) => other,
        }
    }
}

impl From<String> for StopReason {
    fn from(word: String) -> StopReason {
        match word.as_str() {
            "end_turn" => StopReason::EndTurn,
            "tool_use" => StopReason::ToolUse,
            "max_tokens" => StopReason::MaxTokens,
            "stop_sequence" => StopReason::StopSequence,
            "refusal" => StopReason::Refusal,
            _ => StopReason::Other(word),
        }
    }
}

impl From<StopReason> for String {
    fn from(reason: StopReason) -> String {
        match reason {
            StopReason::Other(other) => other,
            known => known.as_str().to_owned(),
        }
    }
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Token counts of one response.
///
/// `input_tokens` counts only the input that was neither read from nor written to the prompt
/// cache (Anthropic's meaning; OpenAI's `prompt_tokens` includes cached tokens, so the OpenAI
/// client subtracts them). The whole prompt is `input + cache_read + cache_write`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
}

impl Usage {
    /// The whole prompt, cached or not.
    pub fn prompt_tokens(&self) -> u64 {
        self.input_tokens
            .saturating_add(self.cache_read_tokens)
            .saturating_add(self.cache_write_tokens)
    }

    /// Adds another response's counts (a session total).
    pub fn add(&mut self, other: &Usage) {
        self.input_tokens = self.input_tokens.saturating_add(other.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(other.output_tokens);
        self.cache_read_tokens = self
            .cache_read_tokens
            .saturating_add(other.cache_read_tokens);
        self.cache_write_tokens = self
            .cache_write_tokens
            .saturating_add(other.cache_write_tokens);
    }
}

/// A whole response, accumulated from the stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelResponse {
    pub content: Vec<Content>,
    pub stop: StopReason,
    pub usage: Usage,
    /// The provider's request id (`request-id` / `x-request-id`), for support questions.
    #[serde(default)]
    pub request_id: Option<String>,
}

impl ModelResponse {
    /// The tool calls of the response, in order.
    pub fn tool_uses(&self) -> impl Iterator<Item = (&str, &str, &serde_json::Value)> {
        self.content.iter().filter_map(|block| match block {
            Content::ToolUse { id, name, input } => Some((id.as_str(), name.as_str(), input)),
            Content::Text { .. } | Content::ToolResult { .. } => None,
        })
    }

    /// All text blocks joined.
    pub fn text(&self) -> String {
        let mut text = String::new();
        for block in &self.content {
            match block {
                Content::Text { text: part } => text.push_str(part),
                Content::ToolUse { .. } | Content::ToolResult { .. } => {}
            }
        }
        text
    }
}

/// Durations as whole milliseconds in JSON.
pub(crate) mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        serializer.serialize_u64(millis)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    #[test]
    fn content_serializes_with_snake_case_tags() {
        let message = Message {
            role: Role::Assistant,
            content: vec![
                Content::text("Looking."),
                Content::ToolUse {
                    id: "t1".into(),
                    name: "read".into(),
                    input: json!({"path": "a.rs"}),
                },
                Content::ToolResult {
                    tool_use_id: "t1".into(),
                    content: "fn main() {}".into(),
                    is_error: false,
                },
            ],
        };
        let value = serde_json::to_value(&message).unwrap();
        assert_eq!(
            value,
            json!({
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Looking."},
                    {"type": "tool_use", "id": "t1", "name": "read", "input": {"path": "a.rs"}},
                    {"type": "tool_result", "tool_use_id": "t1", "content": "fn main() {}", "is_error": false},
                ]
            })
        );
        let back: Message = serde_json::from_value(value).unwrap();
        assert_eq!(back, message);
    }

    #[test]
    fn events_and_stop_reasons_round_trip() {
        let events = vec![
            ModelEvent::TextDelta("hi".into()),
            ModelEvent::ToolUseStart {
                id: "t".into(),
                name: "bash".into(),
            },
            ModelEvent::ToolInputDelta {
                id: "t".into(),
                partial_json: "{\"a".into(),
            },
            ModelEvent::Retrying {
                attempt: 1,
                wait: Duration::from_millis(1500),
                reason: "429 rate limited".into(),
            },
        ];
        let value = serde_json::to_value(&events).unwrap();
        assert_eq!(
            value,
            json!([
                {"text_delta": "hi"},
                {"tool_use_start": {"id": "t", "name": "bash"}},
                {"tool_input_delta": {"id": "t", "partial_json": "{\"a"}},
                {"retrying": {"attempt": 1, "wait_ms": 1500, "reason": "429 rate limited"}},
            ])
        );
        let back: Vec<ModelEvent> = serde_json::from_value(value).unwrap();
        assert_eq!(back, events);

        let stops = vec![
            StopReason::EndTurn,
            StopReason::ToolUse,
            StopReason::MaxTokens,
            StopReason::StopSequence,
            StopReason::Refusal,
            StopReason::Other("pause_turn".into()),
        ];
        let value = serde_json::to_value(&stops).unwrap();
        assert_eq!(
            value,
            json!([
                "end_turn",
                "tool_use",
                "max_tokens",
                "stop_sequence",
                "refusal",
                "pause_turn"
            ])
        );
        let back: Vec<StopReason> = serde_json::from_value(value).unwrap();
        assert_eq!(back, stops);
    }

    #[test]
    fn usage_sums() {
        let mut total = Usage::default();
        total.add(&Usage {
            input_tokens: 10,
            output_tokens: 5,
            cache_read_tokens: 100,
            cache_write_tokens: 20,
        });
        total.add(&Usage {
            input_tokens: 1,
            output_tokens: 2,
            cache_read_tokens: 3,
            cache_write_tokens: 4,
        });
        assert_eq!(
            total,
            Usage {
                input_tokens: 11,
                output_tokens: 7,
                cache_read_tokens: 103,
                cache_write_tokens: 24,
            }
        );
        assert_eq!(total.prompt_tokens(), 138);
    }
}

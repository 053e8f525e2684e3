//! What the mock answers: a script of steps, one per request, as Rust values or a JSON file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The steps, in order; each request to a model endpoint takes the next one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Script {
    pub steps: Vec<Step>,
    /// Text and tool-input JSON are streamed in pieces of at most this many characters, so
    /// clients must put them together as they do with the real APIs.
    #[serde(default = "default_chunk_chars")]
    pub chunk_chars: usize,
}

fn default_chunk_chars() -> usize {
    5
}

impl Script {
    pub fn new(steps: impl IntoIterator<Item = Step>) -> Script {
        Script {
            steps: steps.into_iter().collect(),
            chunk_chars: default_chunk_chars(),
        }
    }

    pub fn from_json(text: &str) -> Result<Script, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// One scripted answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Step {
    /// A model answer, in the wire format the request came in; streamed as server-sent events
    /// when the request says `"stream": true`, else one JSON body.
    Reply(Reply),
    /// An HTTP error status with the provider's error body.
    Error(ErrorReply),
    /// Streams `after_events` events of the reply, then ends as `ending` says.
    Cut {
        reply: Reply,
        after_events: usize,
        #[serde(default)]
        ending: CutEnding,
    },
    /// A 200 response whose body is not valid JSON events.
    Malformed {
        #[serde(default)]
        body: Option<String>,
    },
    /// Waits this long before answering at all (to trip client timeouts), then answers 500.
    Hang { ms: u64 },
}

impl Step {
    /// A reply with one text block.
    pub fn text(text: impl Into<String>) -> Step {
        Step::Reply(Reply::new(vec![MockContent::text(text)]))
    }

    /// A reply with one tool call.
    pub fn tool_use(name: impl Into<String>, input: serde_json::Value) -> Step {
        Step::Reply(Reply::new(vec![MockContent::tool_use(name, input)]))
    }

    pub fn reply(content: Vec<MockContent>) -> Step {
        Step::Reply(Reply::new(content))
    }

    /// An error status with the provider's usual body.
    pub fn error(status: u16) -> Step {
        Step::Error(ErrorReply::new(status))
    }

    pub fn cut(reply: Reply, after_events: usize) -> Step {
        Step::Cut {
            reply,
            after_events,
            ending: CutEnding::Abort,
        }
    }
}

impl From<Reply> for Step {
    fn from(reply: Reply) -> Step {
        Step::Reply(reply)
    }
}

impl From<ErrorReply> for Step {
    fn from(error: ErrorReply) -> Step {
        Step::Error(error)
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Reply {
    pub content: Vec<MockContent>,
    /// Default: `tool_use` when the reply calls a tool, else `end_turn`.
    #[serde(default)]
    pub stop: Option<MockStop>,
    #[serde(default)]
    pub usage: MockUsage,
    /// Texts the request must contain (in any string of its JSON body); when one is missing
    /// the answer is a 400 naming it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect_contains: Vec<String>,
}

impl Reply {
    pub fn new(content: Vec<MockContent>) -> Reply {
        Reply {
            content,
            ..Reply::default()
        }
    }

    pub fn with_stop(mut self, stop: MockStop) -> Reply {
        self.stop = Some(stop);
        self
    }

    pub fn with_usage(mut self, usage: MockUsage) -> Reply {
        self.usage = usage;
        self
    }

    pub fn expecting(mut self, text: impl Into<String>) -> Reply {
        self.expect_contains.push(text.into());
        self
    }

    pub(crate) fn stop_or_default(&self) -> MockStop {
        self.stop.unwrap_or_else(|| {
            if self
                .content
                .iter()
                .any(|c| matches!(c, MockContent::ToolUse { .. }))
            {
                MockStop::ToolUse
            } else {
                MockStop::EndTurn
            }
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MockContent {
    Text {
        text: String,
    },
    ToolUse {
        /// Default: `toolu_mock_<request>_<block>` (Anthropic), `call_mock_<request>_<block>`
        /// (OpenAI).
        #[serde(default)]
        id: Option<String>,
        name: String,
        input: serde_json::Value,
    },
}

impl MockContent {
    pub fn text(text: impl Into<String>) -> MockContent {
        MockContent::Text { text: text.into() }
    }

    pub fn tool_use(name: impl Into<String>, input: serde_json::Value) -> MockContent {
        MockContent::ToolUse {
            id: None,
            name: name.into(),
            input,
        }
    }
}

/// Why the reply ends; each wire format has its own word for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MockStop {
    EndTurn,
    ToolUse,
    MaxTokens,
    StopSequence,
    Refusal,
}

/// Token counts reported with a reply. `input_tokens` excludes cached tokens (Anthropic's
/// meaning); in OpenAI's format `prompt_tokens` is the sum of all three input counts and
/// `cached_tokens` the cache reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MockUsage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub cache_read_tokens: u64,
    #[serde(default)]
    pub cache_write_tokens: u64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ErrorReply {
    pub status: u16,
    /// The whole body; default: the provider's error JSON with `message`.
    #[serde(default)]
    pub body: Option<serde_json::Value>,
    /// The message in the default body; default: a typical one for the status.
    #[serde(default)]
    pub message: Option<String>,
    /// The `retry-after` header: seconds or an HTTP date.
    #[serde(default)]
    pub retry_after: Option<String>,
    /// More response headers (like `retry-after-ms` or `x-should-retry`).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

impl ErrorReply {
    pub fn new(status: u16) -> ErrorReply {
        ErrorReply {
            status,
            ..ErrorReply::default()
        }
    }

    pub fn retry_after(mut self, value: impl Into<String>) -> ErrorReply {
        self.retry_after = Some(value.into());
        self
    }

    pub fn message(mut self, message: impl Into<String>) -> ErrorReply {
        self.message = Some(message.into());
        self
    }

    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> ErrorReply {
        self.headers.insert(name.into(), value.into());
        self
    }
}

/// How a cut stream ends.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CutEnding {
    /// The connection breaks (the chunked body never completes), as when a proxy or the
    /// network drops it.
    #[default]
    Abort,
    /// The body ends cleanly, just without the final events.
    Eof,
    /// An in-stream error event (Anthropic's `event: error`, or OpenAI's `{"error": …}`
    /// chunk), then the end.
    Error { error_type: String, message: String },
}

/// Splits text into pieces of at most `size` characters (at least one piece, maybe empty).
pub(crate) fn chunks(text: &str, size: usize) -> Vec<String> {
    let size = size.max(1);
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    #[test]
    fn scripts_read_from_json() {
        let text = r#"{
          "steps": [
            {"type": "reply", "content": [{"type": "text", "text": "Hi"}], "expect_contains": ["triage"]},
            {"type": "reply", "content": [{"type": "tool_use", "name": "bash", "input": {"command": "ls"}}], "stop": "tool_use",
             "usage": {"input_tokens": 5, "output_tokens": 7}},
            {"type": "error", "status": 429, "retry_after": "7"},
            {"type": "cut", "after_events": 3, "reply": {"content": [{"type": "text", "text": "partial"}]}},
            {"type": "cut", "after_events": 2, "ending": {"error": {"error_type": "overloaded_error", "message": "Overloaded"}},
             "reply": {"content": []}},
            {"type": "malformed"},
            {"type": "hang", "ms": 100}
          ]
        }"#;
        let script = Script::from_json(text).unwrap();
        assert_eq!(
            script,
            Script {
                steps: vec![
                    Reply::new(vec![MockContent::text("Hi")])
                        .expecting("triage")
                        .into(),
                    Reply::new(vec![MockContent::tool_use(
                        "bash",
                        json!({"command": "ls"})
                    )])
                    .with_stop(MockStop::ToolUse)
                    .with_usage(MockUsage {
                        input_tokens: 5,
                        output_tokens: 7,
                        ..MockUsage::default()
                    })
                    .into(),
                    ErrorReply::new(429).retry_after("7").into(),
                    Step::cut(Reply::new(vec![MockContent::text("partial")]), 3),
                    Step::Cut {
                        reply: Reply::default(),
                        after_events: 2,
                        ending: CutEnding::Error {
                            error_type: "overloaded_error".into(),
                            message: "Overloaded".into(),
                        },
                    },
                    Step::Malformed { body: None },
                    Step::Hang { ms: 100 },
                ],
                chunk_chars: 5,
            }
        );
        let round_trip = Script::from_json(&serde_json::to_string(&script).unwrap()).unwrap();
        assert_eq!(round_trip, script);
    }

    #[test]
    fn chunking() {
        assert_eq!(chunks("Hello, wörld", 5), vec!["Hello", ", wör", "ld"]);
        assert_eq!(chunks("", 5), vec![""]);
        assert_eq!(chunks("ab", 0), vec!["a", "b"]);
    }

    #[test]
    fn default_stop() {
        assert_eq!(
            Reply::new(vec![MockContent::text("x")]).stop_or_default(),
            MockStop::EndTurn
        );
        assert_eq!(
            Reply::new(vec![
                MockContent::text("x"),
                MockContent::tool_use("t", json!({}))
            ])
            .stop_or_default(),
            MockStop::ToolUse
        );
    }
}

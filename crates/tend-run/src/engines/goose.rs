//! The `goose` engine: `goose run --output-format stream-json`, whose lines are goose's own
//! events: `message` (a conversation message; streamed text arrives as several messages with
//! one id), `notification`, `model_change`, `error` and `complete` (with the token total).
//!
//! goose has no read-only tool mode: a read-only run uses `GOOSE_MODE=chat` (no tools at all);
//! `propose` and `auto` use `auto` (tools run without asking: nobody could answer). goose
//! reports a token total but neither the split nor money, so a run's cost stays unknown.

use std::collections::BTreeMap;

use serde_json::Value;
use tend_agent::{AgentEvent, EndReason, TaskContext};
use tend_config::{McpTransport, ResolvedTask};
use tend_policy::Mode;
use tend_tools::ToolDetail;

use super::claude::cap;
use super::status::instructions;
use super::{Ending, Mapper};

/// The command line after the program name, and the variables goose reads its settings from.
pub(crate) fn args(task: &ResolvedTask, ctx: &TaskContext) -> (Vec<String>, Vec<(String, String)>) {
    let mut args = vec![
        "run".to_owned(),
        "--no-session".to_owned(),
        "--output-format".to_owned(),
        "stream-json".to_owned(),
        "--max-turns".to_owned(),
        task.max_turns.to_string(),
        "--with-builtin".to_owned(),
        "developer".to_owned(),
    ];
    for server in task.mcp.values().filter(|s| s.enabled) {
        match &server.transport {
            McpTransport::Stdio {
                command,
                args: a,
                env,
                ..
            } => {
                // goose takes a stdio extension as one line: `VAR=value command args…`.
                let mut line: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
                line.push(command.clone());
                line.extend(a.iter().cloned());
                args.extend(["--with-extension".to_owned(), line.join(" ")]);
            }
            McpTransport::Http { url, .. } => {
                args.extend(["--with-streamable-http-extension".to_owned(), url.clone()]);
            }
        }
    }
    args.extend([
        "--text".to_owned(),
        format!("{}\n\n{}", instructions(ctx), tend_agent::task_message(ctx)),
    ]);
    let mode = match task.mode {
        Mode::ReadOnly => "chat",
        Mode::Propose | Mode::Auto => "auto",
    };
    let mut env = vec![
        ("GOOSE_MODE".to_owned(), mode.to_owned()),
        // Never wait on a desktop keyring prompt in a background run.
        ("GOOSE_DISABLE_KEYRING".to_owned(), "1".to_owned()),
    ];
    if let Some(model) = &task.model {
        env.push(("GOOSE_PROVIDER".to_owned(), model.provider.to_string()));
        env.push(("GOOSE_MODEL".to_owned(), model.model.clone()));
    }
    (args, env)
}

/// Reads goose's `stream-json` lines.
#[derive(Debug, Default)]
pub(crate) struct GooseMapper {
    turn: u32,
    /// The assistant message being streamed: its id and text so far.
    streaming: Option<(String, String)>,
    calls: BTreeMap<String, (String, Value)>,
    ending: Option<Ending>,
}

impl GooseMapper {
    pub(crate) fn new() -> GooseMapper {
        GooseMapper::default()
    }

    /// The streamed text so far, as one event, when a message ends.
    fn flush(&mut self) -> Vec<AgentEvent> {
        match self.streaming.take() {
            Some((_, text)) if !text.trim().is_empty() => vec![AgentEvent::AssistantText {
                turn: self.turn,
                text: text.trim().to_owned(),
            }],
            Some(_) | None => Vec::new(),
        }
    }

    fn message(&mut self, message: &Value) -> Vec<AgentEvent> {
        let role = message.get("role").and_then(Value::as_str).unwrap_or("");
        let id = message
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let content = message
            .get("content")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut events = Vec::new();
        let continues =
            matches!(&self.streaming, Some((current, _)) if *current == id && !id.is_empty());
        if !continues {
            events.extend(self.flush());
            if role == "assistant" {
                self.turn += 1;
            }
        }
        for block in &content {
            match (role, block.get("type").and_then(Value::as_str)) {
                ("assistant", Some("text")) => {
                    let text = block.get("text").and_then(Value::as_str).unwrap_or("");
                    match &mut self.streaming {
                        Some((current, so_far)) if *current == id => so_far.push_str(text),
                        _ => self.streaming = Some((id.clone(), text.to_owned())),
                    }
                }
                ("assistant", Some("toolRequest")) => {
                    events.extend(self.flush());
                    let call_id = str_field(block, "id");
                    let call = block
                        .pointer("/toolCall/value")
                        .cloned()
                        .unwrap_or(Value::Null);
                    let name = str_field(&call, "name");
                    let input = call.get("arguments").cloned().unwrap_or(Value::Null);
                    self.calls
                        .insert(call_id.clone(), (name.clone(), input.clone()));
                    events.push(AgentEvent::ToolCall {
                        turn: self.turn,
                        id: call_id,
                        name,
                        input,
                    });
                }
                ("user", Some("toolResponse")) => {
                    let call_id = str_field(block, "id");
                    let (name, _) = self
                        .calls
                        .get(&call_id)
                        .cloned()
                        .unwrap_or_else(|| ("unknown".to_owned(), Value::Null));
                    let result = block.get("toolResult").cloned().unwrap_or(Value::Null);
                    let is_error = result.get("status").and_then(Value::as_str) != Some("success")
                        || result.pointer("/value/isError").and_then(Value::as_bool) == Some(true);
                    let content = result_text(&result);
                    let first = content.lines().next().unwrap_or("").trim().to_owned();
                    events.push(AgentEvent::ToolResult {
                        turn: self.turn,
                        id: call_id,
                        name: name.clone(),
                        is_error,
                        content: cap(&content, 8_000),
                        detail: ToolDetail::External {
                            tool: name.clone(),
                            summary: if first.is_empty() {
                                name
                            } else {
                                format!("{name}: {}", cap(&first, 200))
                            },
                        },
                        duration_ms: 0,
                    });
                }
                _ => {}
            }
        }
        events
    }
}

/// A tool result's text: goose's `{"status":"success","value":…}` holds the content blocks
/// (or a call result with `content`); an error holds its message.
fn result_text(result: &Value) -> String {
    let value = result.get("value").cloned().unwrap_or(Value::Null);
    let blocks = value
        .as_array()
        .cloned()
        .or_else(|| value.get("content").and_then(Value::as_array).cloned());
    match blocks {
        Some(blocks) => blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        None => result
            .get("error")
            .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned))
            .unwrap_or_default(),
    }
}

impl Mapper for GooseMapper {
    fn line(&mut self, line: &str) -> Vec<AgentEvent> {
        let Ok(value) = serde_json::from_str::<Value>(line) else {
            return Vec::new();
        };
        match value.get("type").and_then(Value::as_str) {
            Some("message") => match value.get("message") {
                Some(message) => self.message(message),
                None => Vec::new(),
            },
            Some("error") => {
                let events = self.flush();
                self.ending = Some(Ending {
                    end: Some(EndReason::ModelError),
                    error: Some(format!("goose: {}", str_field(&value, "error"))),
                    ..Ending::default()
                });
                events
            }
            Some("complete") => {
                let events = self.flush();
                if self.ending.is_none() {
                    self.ending = Some(Ending {
                        end: Some(EndReason::Finished),
                        ..Ending::default()
                    });
                }
                events
            }
            _ => Vec::new(),
        }
    }

    fn ending(&mut self) -> Ending {
        let events = self.flush();
        let mut ending = self.ending.take().unwrap_or_default();
        ending.events.extend(events);
        ending
    }
}

fn str_field(value: &Value, name: &str) -> String {
    value
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    /// Lines in the shape of goose's `stream-json` output (its `StreamEvent` and `Message`
    /// types serialized): text streamed in pieces under one id, a tool request and response,
    /// then `complete`. No goose binary can be installed from the registries tend's tests use,
    /// so this is the mapping's only test.
    #[test]
    fn maps_a_session() {
        let mut mapper = GooseMapper::new();
        let lines = [
            json!({"type": "message", "message": {"id": "m1", "role": "assistant", "created": 1, "content": [{"type": "text", "text": "Let me "}]}}),
            json!({"type": "message", "message": {"id": "m1", "role": "assistant", "created": 1, "content": [{"type": "text", "text": "check."}]}}),
            json!({"type": "message", "message": {"id": "m2", "role": "assistant", "created": 2, "content": [
                {"type": "toolRequest", "id": "call_1", "toolCall": {"status": "success", "value": {"name": "developer__shell", "arguments": {"command": "ls"}}}}]}}),
            json!({"type": "notification", "extension_id": "developer", "log": {"message": "running"}}),
            json!({"type": "message", "message": {"id": "m3", "role": "user", "created": 3, "content": [
                {"type": "toolResponse", "id": "call_1", "toolResult": {"status": "success", "value": [{"type": "text", "text": "a.txt\nb.txt"}]}}]}}),
            json!({"type": "message", "message": {"id": "m4", "role": "assistant", "created": 4, "content": [{"type": "text", "text": "Nothing to fix.\nSTATUS: nothing-to-do"}]}}),
            json!({"type": "complete", "total_tokens": 1234}),
        ];
        let events: Vec<AgentEvent> = lines
            .iter()
            .flat_map(|l| mapper.line(&l.to_string()))
            .collect();
        assert_eq!(
            events,
            vec![
                AgentEvent::AssistantText {
                    turn: 1,
                    text: "Let me check.".into()
                },
                AgentEvent::ToolCall {
                    turn: 2,
                    id: "call_1".into(),
                    name: "developer__shell".into(),
                    input: json!({"command": "ls"})
                },
                AgentEvent::ToolResult {
                    turn: 2,
                    id: "call_1".into(),
                    name: "developer__shell".into(),
                    is_error: false,
                    content: "a.txt\nb.txt".into(),
                    detail: ToolDetail::External {
                        tool: "developer__shell".into(),
                        summary: "developer__shell: a.txt".into()
                    },
                    duration_ms: 0
                },
                AgentEvent::AssistantText {
                    turn: 3,
                    text: "Nothing to fix.\nSTATUS: nothing-to-do".into()
                },
            ]
        );
        assert_eq!(mapper.ending().end, Some(EndReason::Finished));
    }

    #[test]
    fn errors_end_the_session() {
        let mut mapper = GooseMapper::new();
        mapper.line(r#"{"type":"message","message":{"id":"m1","role":"user","content":[{"type":"toolResponse","id":"x","toolResult":{"status":"error","error":"no such tool"}}]}}"#);
        mapper.line(r#"{"type":"error","error":"provider failed: 401"}"#);
        assert_eq!(
            mapper.ending(),
            Ending {
                end: Some(EndReason::ModelError),
                error: Some("goose: provider failed: 401".into()),
                result: None,
                events: Vec::new()
            }
        );
    }

    #[test]
    fn flags_and_settings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.md");
        std::fs::write(
            &path,
            "+++\nschedule = \"manual\"\nengine = \"goose\"\nmodel = \"openai:gpt-4.1\"\n\
             mode = \"read-only\"\nmax_turns = 7\n\
             [mcp.servers.docs]\nurl = \"http://127.0.0.1:1/mcp\"\n+++\nLook.\n",
        )
        .unwrap();
        let file = tend_config::TaskFile::load(&path, tend_config::Scope::User).unwrap();
        let task = ResolvedTask::resolve(
            &file,
            &tend_config::Config::default(),
            &tend_config::MachineZone::fixed(tend_config::ZoneName::utc()),
        )
        .unwrap();
        let ctx = TaskContext {
            task: "t".into(),
            prompt: "Look.".into(),
            mode: Mode::ReadOnly,
            branch: None,
            project_memory: Vec::new(),
            memory_path: ".tend/memory/t.md".into(),
            task_memory: String::new(),
            inputs: Vec::new(),
            now: "now".into(),
        };
        let (args, env) = args(&task, &ctx);
        assert_eq!(
            args[..args.len() - 1],
            [
                "run",
                "--no-session",
                "--output-format",
                "stream-json",
                "--max-turns",
                "7",
                "--with-builtin",
                "developer",
                "--with-streamable-http-extension",
                "http://127.0.0.1:1/mcp",
                "--text"
            ]
        );
        assert_eq!(
            env,
            vec![
                ("GOOSE_MODE".to_owned(), "chat".to_owned()),
                ("GOOSE_DISABLE_KEYRING".to_owned(), "1".to_owned()),
                ("GOOSE_PROVIDER".to_owned(), "openai".to_owned()),
                ("GOOSE_MODEL".to_owned(), "gpt-4.1".to_owned()),
            ]
        );
    }
}

//! The `claude` engine: Claude Code headless (`claude -p … --output-format stream-json
//! --verbose`), its flags mapped from the task, its stream mapped into tend's events.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tend_agent::{AgentEvent, EndReason, TaskContext};
use tend_config::{McpServer, McpTransport, ResolvedTask};
use tend_model::Usage;
use tend_tools::ToolDetail;

use super::rules::{claude_rules, permission_mode};
use super::status::instructions;
use super::{Ending, Launch, Mapper};
use crate::RunError;

/// Writes the task's MCP servers for `--mcp-config` into the run's folder.
pub(crate) fn write_mcp_config(launch: &Launch<'_>) -> Result<PathBuf, RunError> {
    let path = launch.dir.join("claude-mcp.json");
    std::fs::write(&path, mcp_config(&launch.task.mcp).to_string())
        .map_err(|e| RunError::Io(path.clone(), e))?;
    Ok(path)
}

/// The command line of a run, after the program name. The prompt comes first: several of
/// Claude Code's options take any number of values and would swallow it.
pub(crate) fn args(task: &ResolvedTask, ctx: &TaskContext, mcp_config: &Path) -> Vec<String> {
    let mut args = vec![
        "-p".to_owned(),
        tend_agent::task_message(ctx),
        "--output-format".to_owned(),
        "stream-json".to_owned(),
        "--verbose".to_owned(),
        "--max-turns".to_owned(),
        task.max_turns.to_string(),
        "--permission-mode".to_owned(),
        permission_mode(task.mode).to_owned(),
        // Whatever would ask a person is denied: nobody watches a background run.
        "--permission-prompts".to_owned(),
        "none".to_owned(),
        "--append-system-prompt".to_owned(),
        instructions(ctx),
        "--no-session-persistence".to_owned(),
    ];
    if let Some(model) = &task.model {
        args.extend(["--model".to_owned(), model.model.clone()]);
    }
    if let Some(budget) = task.budget_usd {
        args.extend(["--max-budget-usd".to_owned(), dollars(budget.micros())]);
    }
    // Only the task's servers: the user's other MCP configuration stays out of the run.
    args.extend([
        "--mcp-config".to_owned(),
        mcp_config.to_string_lossy().into_owned(),
        "--strict-mcp-config".to_owned(),
    ]);
    let rules = claude_rules(&task.permissions, task.mode);
    for rule in rules.allowed {
        args.extend(["--allowedTools".to_owned(), rule]);
    }
    for rule in rules.disallowed {
        args.extend(["--disallowedTools".to_owned(), rule]);
    }
    args
}

/// `1.5` from 1,500,000 millionths.
fn dollars(micros: u64) -> String {
    let text = format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Claude Code's `--mcp-config` JSON for the task's enabled servers. Values keep their
/// `${VAR}` references, which Claude Code expands from its environment (tend passes those
/// variables), so no secret is written to disk.
pub(crate) fn mcp_config(servers: &BTreeMap<String, McpServer>) -> Value {
    let mut out = serde_json::Map::new();
    for (name, server) in servers.iter().filter(|(_, s)| s.enabled) {
        let entry = match &server.transport {
            McpTransport::Stdio {
                command,
                args,
                env,
                cwd: _,
            } => json!({"type": "stdio", "command": command, "args": args, "env": env}),
            McpTransport::Http {
                url,
                headers,
                bearer_token_env,
            } => {
                let mut headers = headers.clone();
                if let Some(var) = bearer_token_env {
                    headers.insert("Authorization".to_owned(), format!("Bearer ${{{var}}}"));
                }
                json!({"type": "http", "url": url, "headers": headers})
            }
        };
        out.insert(name.clone(), entry);
    }
    json!({ "mcpServers": out })
}

/// Reads Claude Code's `stream-json` lines.
#[derive(Debug, Default)]
pub(crate) struct ClaudeMapper {
    turn: u32,
    /// The id of the assistant message being read (one message arrives as several lines).
    message: Option<String>,
    /// Tool names by call id, and calls already answered by a refusal.
    calls: BTreeMap<String, (String, Value)>,
    refused: Vec<String>,
    ending: Option<Ending>,
}

impl ClaudeMapper {
    pub(crate) fn new() -> ClaudeMapper {
        ClaudeMapper::default()
    }

    fn init(line: &Value) -> Vec<AgentEvent> {
        let tools: Vec<&str> = line
            .get("tools")
            .and_then(Value::as_array)
            .map(|t| t.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let servers = line
            .get("mcp_servers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        servers
            .iter()
            .filter_map(|server| {
                let name = server.get("name")?.as_str()?.to_owned();
                let status = server
                    .get("status")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown");
                let prefix = format!("mcp__{name}__");
                let (status, reason) = match status {
                    "connected" => ("ready".to_owned(), None),
                    other => (
                        "failed".to_owned(),
                        Some(format!("Claude Code reports the server {other}")),
                    ),
                };
                Some(AgentEvent::McpServer {
                    tools: tools.iter().filter(|t| t.starts_with(&prefix)).count(),
                    server: name,
                    status,
                    reason,
                    startup_ms: 0,
                })
            })
            .collect()
    }

    fn assistant(&mut self, line: &Value) -> Vec<AgentEvent> {
        let Some(message) = line.get("message") else {
            return Vec::new();
        };
        let id = message.get("id").and_then(Value::as_str).map(str::to_owned);
        if id.is_none() || id != self.message {
            self.turn += 1;
            self.message = id;
        }
        let turn = self.turn;
        let blocks = message
            .get("content")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut events = Vec::new();
        for block in &blocks {
            match block.get("type").and_then(Value::as_str) {
                Some("text") => {
                    let text = block.get("text").and_then(Value::as_str).unwrap_or("");
                    if !text.trim().is_empty() {
                        events.push(AgentEvent::AssistantText {
                            turn,
                            text: text.trim().to_owned(),
                        });
                    }
                }
                Some("tool_use") => {
                    let id = str_field(block, "id");
                    let name = str_field(block, "name");
                    let input = block.get("input").cloned().unwrap_or(Value::Null);
                    self.calls.insert(id.clone(), (name.clone(), input.clone()));
                    events.push(AgentEvent::ToolCall {
                        turn,
                        id,
                        name,
                        input,
                    });
                }
                _ => {}
            }
        }
        events
    }

    fn user(&mut self, line: &Value) -> Vec<AgentEvent> {
        let blocks = line
            .pointer("/message/content")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut events = Vec::new();
        for block in &blocks {
            if block.get("type").and_then(Value::as_str) != Some("tool_result") {
                continue;
            }
            let id = str_field(block, "tool_use_id");
            if self.refused.contains(&id) {
                continue;
            }
            let (name, input) = self
                .calls
                .get(&id)
                .cloned()
                .unwrap_or_else(|| ("unknown".to_owned(), Value::Null));
            let is_error = block.get("is_error").and_then(Value::as_bool) == Some(true);
            let content = result_text(block.get("content"));
            let mut summary = describe(&name, &input);
            if is_error {
                let first = content.lines().next().unwrap_or("").trim();
                summary = format!("{summary}: {first}");
            }
            events.push(AgentEvent::ToolResult {
                turn: self.turn,
                id,
                name: name.clone(),
                is_error,
                content: cap(&content, 8_000),
                detail: ToolDetail::External {
                    tool: name,
                    summary,
                },
                duration_ms: 0,
            });
        }
        events
    }

    fn denied(&mut self, line: &Value) -> Vec<AgentEvent> {
        let id = str_field(line, "tool_use_id");
        self.refused.push(id.clone());
        let name = line
            .get("tool_name")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| self.calls.get(&id).map(|(n, _)| n.clone()))
            .unwrap_or_default();
        vec![AgentEvent::Refused {
            turn: self.turn,
            id,
            name,
            reason: line
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("denied by Claude Code's permissions")
                .to_owned(),
        }]
    }

    fn result(&mut self, line: &Value) -> Vec<AgentEvent> {
        let subtype = line.get("subtype").and_then(Value::as_str).unwrap_or("");
        let is_error = line.get("is_error").and_then(Value::as_bool) == Some(true);
        let errors: Vec<String> = line
            .get("errors")
            .and_then(Value::as_array)
            .map(|e| {
                e.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let result = line
            .get("result")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let end = match (subtype, is_error) {
            ("success", false) => EndReason::Finished,
            ("error_max_turns", _) => EndReason::MaxTurns,
            ("error_max_budget_usd", _) => EndReason::Budget,
            _ => EndReason::ModelError,
        };
        let error = match end {
            EndReason::Finished => None,
            EndReason::MaxTurns
            | EndReason::Budget
            | EndReason::ModelError
            | EndReason::Timeout
            | EndReason::Cancelled
            | EndReason::Parked => Some(if errors.is_empty() {
                format!(
                    "Claude Code ended with `{subtype}`{}",
                    result
                        .as_deref()
                        .map(|r| format!(": {}", first_line(r)))
                        .unwrap_or_default()
                )
            } else {
                format!("Claude Code: {}", errors.join("; "))
            }),
        };
        self.ending = Some(Ending {
            end: Some(end),
            error,
            result: result.filter(|r| !r.trim().is_empty()),
            events: Vec::new(),
        });
        // `modelUsage` has the totals of every model the session used, also when `usage` is
        // left empty (a session that ended at a limit).
        let usage = match line.get("modelUsage").and_then(Value::as_object) {
            Some(models) if !models.is_empty() => {
                models.values().fold(Usage::default(), |sum, m| {
                    let n = |f: &str| m.get(f).and_then(Value::as_u64).unwrap_or(0);
                    Usage {
                        input_tokens: sum.input_tokens + n("inputTokens"),
                        output_tokens: sum.output_tokens + n("outputTokens"),
                        cache_read_tokens: sum.cache_read_tokens + n("cacheReadInputTokens"),
                        cache_write_tokens: sum.cache_write_tokens + n("cacheCreationInputTokens"),
                    }
                })
            }
            _ => line.get("usage").map(usage_of).unwrap_or_default(),
        };
        let cost = line
            .get("total_cost_usd")
            .and_then(Value::as_f64)
            .map(micro_usd);
        vec![AgentEvent::Usage {
            turn: self.turn,
            usage,
            cost_micro_usd: cost,
        }]
    }
}

impl Mapper for ClaudeMapper {
    fn line(&mut self, line: &str) -> Vec<AgentEvent> {
        let Ok(value) = serde_json::from_str::<Value>(line) else {
            return Vec::new();
        };
        match (
            value.get("type").and_then(Value::as_str),
            value.get("subtype").and_then(Value::as_str),
        ) {
            (Some("system"), Some("init")) => ClaudeMapper::init(&value),
            (Some("system"), Some("permission_denied")) => self.denied(&value),
            (Some("assistant"), _) => self.assistant(&value),
            (Some("user"), _) => self.user(&value),
            (Some("result"), _) => self.result(&value),
            _ => Vec::new(),
        }
    }

    fn ending(&mut self) -> Ending {
        self.ending.take().unwrap_or_default()
    }
}

fn str_field(value: &Value, name: &str) -> String {
    value
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim()
}

/// A tool result's content: a string, or text blocks.
fn result_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(blocks)) => blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// What a call did, in a few words: the command, the file, the pattern.
fn describe(name: &str, input: &Value) -> String {
    let field = |f: &str| input.get(f).and_then(Value::as_str).unwrap_or("");
    let what = match name {
        "Bash" => field("command"),
        "Read" | "Write" | "Edit" | "MultiEdit" | "NotebookEdit" => {
            let path = field("file_path");
            if path.is_empty() {
                field("notebook_path")
            } else {
                path
            }
        }
        "Glob" | "Grep" => field("pattern"),
        "WebFetch" => field("url"),
        "WebSearch" => field("query"),
        _ => "",
    };
    let what = first_line(what);
    if what.is_empty() {
        name.to_owned()
    } else {
        format!("{name} {}", cap(what, 200))
    }
}

pub(crate) fn usage_of(usage: &Value) -> Usage {
    let n = |f: &str| usage.get(f).and_then(Value::as_u64).unwrap_or(0);
    Usage {
        input_tokens: n("input_tokens"),
        output_tokens: n("output_tokens"),
        cache_read_tokens: n("cache_read_input_tokens"),
        cache_write_tokens: n("cache_creation_input_tokens"),
    }
}

pub(crate) fn micro_usd(dollars: f64) -> u64 {
    let micros = (dollars * 1_000_000.0).round();
    if micros.is_finite() && micros > 0.0 {
        // Saturating: a cost beyond u64 is not a real case, and `as` saturates floats.
        micros as u64
    } else {
        0
    }
}

pub(crate) fn cap(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [{} more bytes]", &text[..end], text.len() - end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn feed(mapper: &mut ClaudeMapper, lines: &[Value]) -> Vec<AgentEvent> {
        lines
            .iter()
            .flat_map(|l| mapper.line(&l.to_string()))
            .collect()
    }

    /// Lines as Claude Code 2.1 writes them (trimmed to the fields that matter).
    #[test]
    fn maps_a_session() {
        let mut mapper = ClaudeMapper::new();
        let events = feed(
            &mut mapper,
            &[
                json!({"type": "system", "subtype": "init", "tools": ["Bash", "mcp__docs__search", "mcp__docs__get"],
                       "mcp_servers": [{"name": "docs", "status": "connected"}, {"name": "gone", "status": "failed"}]}),
                json!({"type": "assistant", "message": {"id": "msg_1", "content": [{"type": "text", "text": "Let me look."}]}}),
                json!({"type": "assistant", "message": {"id": "msg_1", "content": [{"type": "tool_use", "id": "t1", "name": "Write", "input": {"file_path": "/w/a.txt", "content": "x"}}]}}),
                json!({"type": "assistant", "message": {"id": "msg_1", "content": [{"type": "tool_use", "id": "t2", "name": "Bash", "input": {"command": "git push"}}]}}),
                json!({"type": "user", "message": {"content": [{"type": "tool_result", "tool_use_id": "t1", "content": "File created"}]}}),
                json!({"type": "system", "subtype": "permission_denied", "tool_name": "Bash", "tool_use_id": "t2",
                       "message": "Permission to use Bash with command git push has been denied."}),
                json!({"type": "user", "message": {"content": [{"type": "tool_result", "tool_use_id": "t2", "is_error": true, "content": "denied"}]}}),
                json!({"type": "assistant", "message": {"id": "msg_2", "content": [{"type": "text", "text": "Done.\nSTATUS: changed"}]}}),
                json!({"type": "result", "subtype": "success", "is_error": false, "result": "Done.\nSTATUS: changed",
                       "total_cost_usd": 0.00111, "usage": {"input_tokens": 220, "output_tokens": 30,
                       "cache_read_input_tokens": 5, "cache_creation_input_tokens": 7}}),
            ],
        );
        assert_eq!(
            events,
            vec![
                AgentEvent::McpServer {
                    server: "docs".into(),
                    status: "ready".into(),
                    tools: 2,
                    reason: None,
                    startup_ms: 0
                },
                AgentEvent::McpServer {
                    server: "gone".into(),
                    status: "failed".into(),
                    tools: 0,
                    reason: Some("Claude Code reports the server failed".into()),
                    startup_ms: 0
                },
                AgentEvent::AssistantText {
                    turn: 1,
                    text: "Let me look.".into()
                },
                AgentEvent::ToolCall {
                    turn: 1,
                    id: "t1".into(),
                    name: "Write".into(),
                    input: json!({"file_path": "/w/a.txt", "content": "x"})
                },
                AgentEvent::ToolCall {
                    turn: 1,
                    id: "t2".into(),
                    name: "Bash".into(),
                    input: json!({"command": "git push"})
                },
                AgentEvent::ToolResult {
                    turn: 1,
                    id: "t1".into(),
                    name: "Write".into(),
                    is_error: false,
                    content: "File created".into(),
                    detail: ToolDetail::External {
                        tool: "Write".into(),
                        summary: "Write /w/a.txt".into()
                    },
                    duration_ms: 0
                },
                AgentEvent::Refused {
                    turn: 1,
                    id: "t2".into(),
                    name: "Bash".into(),
                    reason: "Permission to use Bash with command git push has been denied.".into()
                },
                AgentEvent::AssistantText {
                    turn: 2,
                    text: "Done.\nSTATUS: changed".into()
                },
                AgentEvent::Usage {
                    turn: 2,
                    usage: Usage {
                        input_tokens: 220,
                        output_tokens: 30,
                        cache_read_tokens: 5,
                        cache_write_tokens: 7
                    },
                    cost_micro_usd: Some(1_110)
                },
            ]
        );
        assert_eq!(
            mapper.ending(),
            Ending {
                end: Some(EndReason::Finished),
                error: None,
                result: Some("Done.\nSTATUS: changed".into()),
                events: Vec::new()
            }
        );
    }

    #[test]
    fn limits_and_errors_end_the_session_accordingly() {
        let mut mapper = ClaudeMapper::new();
        feed(
            &mut mapper,
            &[
                json!({"type": "result", "subtype": "error_max_budget_usd", "is_error": true, "result": null,
                       "errors": ["Reached maximum budget ($0.1)"], "total_cost_usd": 0.3003,
                       "usage": {"input_tokens": 0, "output_tokens": 0},
                       "modelUsage": {"claude-sonnet-4-5": {"inputTokens": 100000, "outputTokens": 20,
                                      "cacheReadInputTokens": 0, "cacheCreationInputTokens": 0, "costUSD": 0.3003}}}),
            ],
        );
        assert_eq!(
            mapper.ending(),
            Ending {
                end: Some(EndReason::Budget),
                error: Some("Claude Code: Reached maximum budget ($0.1)".into()),
                result: None,
                events: Vec::new()
            }
        );
        let mut mapper = ClaudeMapper::new();
        feed(
            &mut mapper,
            &[
                json!({"type": "result", "subtype": "success", "is_error": true, "result": "API Error: 401 invalid x-api-key"}),
            ],
        );
        assert_eq!(mapper.ending().end, Some(EndReason::ModelError));
        let mut mapper = ClaudeMapper::new();
        assert_eq!(mapper.line("not json"), Vec::new());
        assert_eq!(mapper.ending(), Ending::default());
    }

    #[test]
    fn mcp_servers_keep_their_variable_references() {
        let mut servers = BTreeMap::new();
        servers.insert(
            "files".to_owned(),
            McpServer {
                transport: McpTransport::Stdio {
                    command: "npx".into(),
                    args: vec!["-y".into(), "server".into()],
                    env: BTreeMap::from([("TOKEN".to_owned(), "${FILES_TOKEN}".to_owned())]),
                    cwd: None,
                },
                startup_timeout: None,
                call_timeout: None,
                enabled: true,
            },
        );
        servers.insert(
            "linear".to_owned(),
            McpServer {
                transport: McpTransport::Http {
                    url: "https://mcp.linear.app/mcp".into(),
                    headers: BTreeMap::new(),
                    bearer_token_env: Some("LINEAR_TOKEN".into()),
                },
                startup_timeout: None,
                call_timeout: None,
                enabled: true,
            },
        );
        servers.insert(
            "off".to_owned(),
            McpServer {
                transport: McpTransport::Http {
                    url: "http://x".into(),
                    headers: BTreeMap::new(),
                    bearer_token_env: None,
                },
                startup_timeout: None,
                call_timeout: None,
                enabled: false,
            },
        );
        assert_eq!(
            mcp_config(&servers),
            json!({"mcpServers": {
                "files": {"type": "stdio", "command": "npx", "args": ["-y", "server"], "env": {"TOKEN": "${FILES_TOKEN}"}},
                "linear": {"type": "http", "url": "https://mcp.linear.app/mcp", "headers": {"Authorization": "Bearer ${LINEAR_TOKEN}"}},
            }})
        );
        assert_eq!(dollars(1_500_000), "1.5");
        assert_eq!(dollars(250_000), "0.25");
        assert_eq!(dollars(2_000_000), "2");
    }
}

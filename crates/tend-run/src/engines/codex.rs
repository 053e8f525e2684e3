//! The `codex` engine: `codex exec --json` with the sandbox mode matching tend's mode, its
//! JSONL events (thread, turn, item) mapped into tend's.
//!
//! Codex has no flags for turns, money or per-tool rules: its own sandbox (`read-only` or
//! `workspace-write`, no network unless the task's `[sandbox] network` lists domains) bounds
//! what it does, and tend's timeout bounds how long. Cost comes from tend's price table and
//! the tokens Codex reports at the end of its turn.

use std::collections::BTreeMap;

use serde_json::Value;
use tend_agent::{AgentEvent, EndReason, TaskContext};
use tend_config::{McpServer, McpTransport, ResolvedTask};
use tend_model::{Price, Usage, cost_micro_usd};
use tend_policy::Mode;
use tend_tools::ToolDetail;

use super::claude::cap;
use super::status::instructions;
use super::{Ending, Mapper};

/// The provider tend defines for Codex when a base URL is configured.
const PROVIDER: &str = "tend";

/// `-c key=value` with a TOML string value.
fn toml_string(text: &str) -> String {
    // A JSON string is a valid TOML basic string (same escapes).
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

fn config(args: &mut Vec<String>, key: &str, value: String) {
    args.push("-c".to_owned());
    args.push(format!("{key}={value}"));
}

/// The command line after the program name. `base_url`: an endpoint from tend's config or
/// `OPENAI_BASE_URL`, given to Codex as a provider of its own (Responses API); without one
/// Codex uses its configured provider and login.
pub(crate) fn args(task: &ResolvedTask, ctx: &TaskContext, base_url: Option<&str>) -> Vec<String> {
    let sandbox = match task.mode {
        Mode::ReadOnly => "read-only",
        Mode::Propose | Mode::Auto => "workspace-write",
    };
    let mut args = vec![
        "exec".to_owned(),
        "--json".to_owned(),
        "--skip-git-repo-check".to_owned(),
        "--ephemeral".to_owned(),
        "--sandbox".to_owned(),
        sandbox.to_owned(),
    ];
    // Nobody answers approvals in a background run.
    config(&mut args, "approval_policy", toml_string("never"));
    if let Some(model) = &task.model {
        args.extend(["--model".to_owned(), model.model.clone()]);
    }
    if let Some(url) = base_url {
        config(&mut args, "model_provider", toml_string(PROVIDER));
        let key = format!("model_providers.{PROVIDER}");
        config(&mut args, &format!("{key}.name"), toml_string(PROVIDER));
        config(&mut args, &format!("{key}.base_url"), toml_string(url));
        config(
            &mut args,
            &format!("{key}.env_key"),
            toml_string("OPENAI_API_KEY"),
        );
        config(
            &mut args,
            &format!("{key}.wire_api"),
            toml_string("responses"),
        );
    }
    if mode_writes(task.mode) && !task.sandbox.network.is_empty() {
        // Codex's sandbox opens the network whole or not at all.
        config(
            &mut args,
            "sandbox_workspace_write.network_access",
            "true".to_owned(),
        );
    }
    mcp_args(&mut args, &task.mcp);
    args.push(format!(
        "{}\n\n{}",
        instructions(ctx),
        tend_agent::task_message(ctx)
    ));
    args
}

fn mode_writes(mode: Mode) -> bool {
    match mode {
        Mode::ReadOnly => false,
        Mode::Propose | Mode::Auto => true,
    }
}

/// `mcp_servers.NAME.…` settings. A variable reference that is a whole value (`"${TOKEN}"`)
/// is forwarded from Codex's environment (`env_vars`), never written out.
fn mcp_args(args: &mut Vec<String>, servers: &BTreeMap<String, McpServer>) {
    for (name, server) in servers.iter().filter(|(_, s)| s.enabled) {
        let key = format!("mcp_servers.{}", toml_string(name));
        match &server.transport {
            McpTransport::Stdio {
                command,
                args: a,
                env,
                ..
            } => {
                config(args, &format!("{key}.command"), toml_string(command));
                let list: Vec<String> = a.iter().map(|s| toml_string(s)).collect();
                config(
                    args,
                    &format!("{key}.args"),
                    format!("[{}]", list.join(", ")),
                );
                let mut literal = Vec::new();
                let mut forwarded = Vec::new();
                for (k, v) in env {
                    match whole_reference(v) {
                        Some(var) if var == k => forwarded.push(toml_string(k)),
                        _ => literal.push(format!("{} = {}", toml_string(k), toml_string(v))),
                    }
                }
                if !literal.is_empty() {
                    config(
                        args,
                        &format!("{key}.env"),
                        format!("{{ {} }}", literal.join(", ")),
                    );
                }
                if !forwarded.is_empty() {
                    config(
                        args,
                        &format!("{key}.env_vars"),
                        format!("[{}]", forwarded.join(", ")),
                    );
                }
            }
            McpTransport::Http {
                url,
                headers,
                bearer_token_env,
            } => {
                config(args, &format!("{key}.url"), toml_string(url));
                if let Some(var) = bearer_token_env {
                    config(
                        args,
                        &format!("{key}.bearer_token_env_var"),
                        toml_string(var),
                    );
                }
                if !headers.is_empty() {
                    let pairs: Vec<String> = headers
                        .iter()
                        .map(|(k, v)| format!("{} = {}", toml_string(k), toml_string(v)))
                        .collect();
                    config(
                        args,
                        &format!("{key}.http_headers"),
                        format!("{{ {} }}", pairs.join(", ")),
                    );
                }
            }
        }
    }
}

/// `VAR` of a value that is exactly `${VAR}`.
fn whole_reference(value: &str) -> Option<&str> {
    value.strip_prefix("${")?.strip_suffix('}')
}

/// Reads `codex exec --json` lines.
#[derive(Debug)]
pub(crate) struct CodexMapper {
    price: Option<Price>,
    turn: u32,
    /// Whether the last thing seen was a tool's result: the next message or call is then the
    /// model's next response.
    after_result: bool,
    started: Vec<String>,
    error: Option<String>,
    ending: Option<Ending>,
}

impl CodexMapper {
    pub(crate) fn new(price: Option<Price>) -> CodexMapper {
        CodexMapper {
            price,
            turn: 0,
            after_result: true,
            started: Vec::new(),
            error: None,
            ending: None,
        }
    }

    fn next_response(&mut self) -> u32 {
        if self.after_result {
            self.turn += 1;
            self.after_result = false;
        }
        self.turn
    }

    /// The call an item stands for: its tool name and input.
    fn call(item: &Value) -> Option<(String, Value)> {
        let kind = item.get("type").and_then(Value::as_str)?;
        let field = |f: &str| item.get(f).cloned().unwrap_or(Value::Null);
        match kind {
            "command_execution" => Some((
                "command_execution".to_owned(),
                serde_json::json!({"command": field("command")}),
            )),
            "file_change" => Some((
                "file_change".to_owned(),
                serde_json::json!({"changes": field("changes")}),
            )),
            "mcp_tool_call" => Some((
                format!(
                    "mcp__{}__{}",
                    item.get("server").and_then(Value::as_str).unwrap_or(""),
                    item.get("tool").and_then(Value::as_str).unwrap_or("")
                ),
                field("arguments"),
            )),
            "web_search" => Some((
                "web_search".to_owned(),
                serde_json::json!({"query": field("query")}),
            )),
            _ => None,
        }
    }

    fn started(&mut self, item: &Value) -> Vec<AgentEvent> {
        let Some((name, input)) = CodexMapper::call(item) else {
            return Vec::new();
        };
        let id = str_field(item, "id");
        self.started.push(id.clone());
        let turn = self.next_response();
        vec![AgentEvent::ToolCall {
            turn,
            id,
            name,
            input,
        }]
    }

    fn completed(&mut self, item: &Value) -> Vec<AgentEvent> {
        let kind = item.get("type").and_then(Value::as_str).unwrap_or("");
        match kind {
            "agent_message" => {
                let text = str_field(item, "text");
                if text.trim().is_empty() {
                    return Vec::new();
                }
                let turn = self.next_response();
                vec![AgentEvent::AssistantText {
                    turn,
                    text: text.trim().to_owned(),
                }]
            }
            "error" => {
                // Codex reports warnings this way too; kept in case the run fails.
                self.error = Some(str_field(item, "message"));
                Vec::new()
            }
            _ => {
                let Some((name, input)) = CodexMapper::call(item) else {
                    return Vec::new();
                };
                let id = str_field(item, "id");
                let mut events = Vec::new();
                if !self.started.contains(&id) {
                    events.extend(self.started(item));
                }
                let (is_error, summary, content) = result_of(kind, item);
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
                let _ = input;
                self.after_result = true;
                events
            }
        }
    }
}

/// Whether a finished item failed, a summary, and its output.
fn result_of(kind: &str, item: &Value) -> (bool, String, String) {
    let status = item.get("status").and_then(Value::as_str).unwrap_or("");
    match kind {
        "command_execution" => {
            let exit = item.get("exit_code").and_then(Value::as_i64);
            let command = str_field(item, "command");
            let how = exit.map_or_else(|| status.to_owned(), |c| format!("exit {c}"));
            (
                exit != Some(0),
                format!("{} → {how}", cap(&command, 200)),
                str_field(item, "aggregated_output"),
            )
        }
        "file_change" => {
            let changes: Vec<String> = item
                .get("changes")
                .and_then(Value::as_array)
                .map(|c| {
                    c.iter()
                        .map(|ch| format!("{} {}", str_field(ch, "kind"), str_field(ch, "path")))
                        .collect()
                })
                .unwrap_or_default();
            let summary = changes.join(", ");
            (status == "failed", summary.clone(), summary)
        }
        "mcp_tool_call" => {
            let error = item
                .pointer("/error/message")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let content = match &error {
                Some(e) => e.clone(),
                None => item
                    .pointer("/result/content")
                    .and_then(Value::as_array)
                    .map(|blocks| {
                        blocks
                            .iter()
                            .filter_map(|b| b.get("text").and_then(Value::as_str))
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                    .unwrap_or_default(),
            };
            (
                error.is_some() || status == "failed",
                format!(
                    "{}/{} {status}",
                    str_field(item, "server"),
                    str_field(item, "tool")
                ),
                content,
            )
        }
        _ => (
            status == "failed",
            format!("{kind} {}", str_field(item, "query")),
            String::new(),
        ),
    }
}

impl Mapper for CodexMapper {
    fn line(&mut self, line: &str) -> Vec<AgentEvent> {
        let Ok(value) = serde_json::from_str::<Value>(line) else {
            return Vec::new();
        };
        let item = value.get("item").cloned().unwrap_or(Value::Null);
        match value.get("type").and_then(Value::as_str) {
            Some("item.started") => self.started(&item),
            Some("item.completed") => self.completed(&item),
            Some("turn.completed") => {
                let u = value.get("usage").cloned().unwrap_or(Value::Null);
                let n = |f: &str| u.get(f).and_then(Value::as_u64).unwrap_or(0);
                // Codex counts cached tokens inside its input tokens; tend counts them apart.
                let usage = Usage {
                    input_tokens: n("input_tokens").saturating_sub(n("cached_input_tokens")),
                    output_tokens: n("output_tokens"),
                    cache_read_tokens: n("cached_input_tokens"),
                    cache_write_tokens: n("cache_write_input_tokens"),
                };
                self.ending = Some(Ending {
                    end: Some(EndReason::Finished),
                    ..Ending::default()
                });
                vec![AgentEvent::Usage {
                    turn: self.turn.max(1),
                    usage,
                    cost_micro_usd: self.price.map(|p| cost_micro_usd(&usage, &p)),
                }]
            }
            Some("turn.failed") => {
                let message = value
                    .pointer("/error/message")
                    .and_then(Value::as_str)
                    .unwrap_or("the turn failed")
                    .to_owned();
                self.ending = Some(Ending {
                    end: Some(EndReason::ModelError),
                    error: Some(format!("Codex: {message}")),
                    ..Ending::default()
                });
                Vec::new()
            }
            Some("error") => {
                self.error = value
                    .get("message")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn ending(&mut self) -> Ending {
        match self.ending.take() {
            Some(ending) => ending,
            None => Ending {
                end: None,
                error: self.error.take().map(|e| format!("Codex: {e}")),
                ..Ending::default()
            },
        }
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

    /// Lines as `codex exec --json` 0.169 writes them.
    #[test]
    fn maps_a_session() {
        let price = Price {
            input: 2_000_000,
            output: 8_000_000,
            cache_read: 500_000,
            cache_write: 2_000_000,
        };
        let mut mapper = CodexMapper::new(Some(price));
        let lines = [
            json!({"type": "thread.started", "thread_id": "t"}),
            json!({"type": "item.completed", "item": {"id": "item_0", "type": "error", "message": "Model metadata for `x` not found."}}),
            json!({"type": "turn.started"}),
            json!({"type": "item.completed", "item": {"id": "item_1", "type": "agent_message", "text": "I will write the file."}}),
            json!({"type": "item.started", "item": {"id": "item_2", "type": "command_execution", "command": "/bin/bash -lc 'echo hi > a'", "aggregated_output": "", "exit_code": null, "status": "in_progress"}}),
            json!({"type": "item.completed", "item": {"id": "item_2", "type": "command_execution", "command": "/bin/bash -lc 'echo hi > a'", "aggregated_output": "", "exit_code": 0, "status": "completed"}}),
            json!({"type": "item.completed", "item": {"id": "item_3", "type": "file_change", "changes": [{"path": "b.txt", "kind": "add"}], "status": "completed"}}),
            json!({"type": "item.completed", "item": {"id": "item_4", "type": "agent_message", "text": "Done.\nSTATUS: changed"}}),
            json!({"type": "turn.completed", "usage": {"input_tokens": 280, "cached_input_tokens": 50, "output_tokens": 30, "reasoning_output_tokens": 0}}),
        ];
        let events: Vec<AgentEvent> = lines
            .iter()
            .flat_map(|l| mapper.line(&l.to_string()))
            .collect();
        let usage = Usage {
            input_tokens: 230,
            output_tokens: 30,
            cache_read_tokens: 50,
            cache_write_tokens: 0,
        };
        assert_eq!(
            events,
            vec![
                AgentEvent::AssistantText {
                    turn: 1,
                    text: "I will write the file.".into()
                },
                AgentEvent::ToolCall {
                    turn: 1,
                    id: "item_2".into(),
                    name: "command_execution".into(),
                    input: json!({"command": "/bin/bash -lc 'echo hi > a'"})
                },
                AgentEvent::ToolResult {
                    turn: 1,
                    id: "item_2".into(),
                    name: "command_execution".into(),
                    is_error: false,
                    content: String::new(),
                    detail: ToolDetail::External {
                        tool: "command_execution".into(),
                        summary: "/bin/bash -lc 'echo hi > a' → exit 0".into()
                    },
                    duration_ms: 0
                },
                AgentEvent::ToolCall {
                    turn: 2,
                    id: "item_3".into(),
                    name: "file_change".into(),
                    input: json!({"changes": [{"path": "b.txt", "kind": "add"}]})
                },
                AgentEvent::ToolResult {
                    turn: 2,
                    id: "item_3".into(),
                    name: "file_change".into(),
                    is_error: false,
                    content: "add b.txt".into(),
                    detail: ToolDetail::External {
                        tool: "file_change".into(),
                        summary: "add b.txt".into()
                    },
                    duration_ms: 0
                },
                AgentEvent::AssistantText {
                    turn: 3,
                    text: "Done.\nSTATUS: changed".into()
                },
                AgentEvent::Usage {
                    turn: 3,
                    usage,
                    cost_micro_usd: Some(cost_micro_usd(&usage, &price))
                },
            ]
        );
        assert_eq!(mapper.ending().end, Some(EndReason::Finished));
    }

    #[test]
    fn a_failed_turn_is_a_model_error() {
        let mut mapper = CodexMapper::new(None);
        mapper.line(r#"{"type":"error","message":"unexpected status 401"}"#);
        mapper.line(r#"{"type":"turn.failed","error":{"message":"unexpected status 401"}}"#);
        assert_eq!(
            mapper.ending(),
            Ending {
                end: Some(EndReason::ModelError),
                error: Some("Codex: unexpected status 401".into()),
                result: None,
                events: Vec::new()
            }
        );
    }

    fn task(front_matter: &str) -> ResolvedTask {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.md");
        std::fs::write(&path, format!("+++\n{front_matter}\n+++\nFix it.\n")).unwrap();
        let file = tend_config::TaskFile::load(&path, tend_config::Scope::User).unwrap();
        ResolvedTask::resolve(
            &file,
            &tend_config::Config::default(),
            &tend_config::MachineZone::fixed(tend_config::ZoneName::utc()),
        )
        .unwrap()
    }

    fn ctx(mode: Mode) -> TaskContext {
        TaskContext {
            task: "t".into(),
            prompt: "Fix it.".into(),
            mode,
            branch: None,
            project_memory: Vec::new(),
            memory_path: ".tend/memory/t.md".into(),
            task_memory: String::new(),
            inputs: Vec::new(),
            now: "now".into(),
        }
    }

    #[test]
    fn flags_follow_the_mode_the_model_and_the_endpoint() {
        let t = task(
            "schedule = \"manual\"\nengine = \"codex\"\nmodel = \"openai:gpt-5\"\n\
             [sandbox]\nnetwork = [\"crates.io\"]\n\
             [mcp.servers.files]\ncommand = \"npx\"\nargs = [\"-y\", \"srv\"]\n\
             env = { TOKEN = \"${TOKEN}\", MODE = \"ro\" }",
        );
        let args = args(&t, &ctx(Mode::Propose), Some("http://127.0.0.1:9/v1"));
        let (prompt, flags) = args.split_last().unwrap();
        assert_eq!(
            flags,
            [
                "exec",
                "--json",
                "--skip-git-repo-check",
                "--ephemeral",
                "--sandbox",
                "workspace-write",
                "-c",
                "approval_policy=\"never\"",
                "--model",
                "gpt-5",
                "-c",
                "model_provider=\"tend\"",
                "-c",
                "model_providers.tend.name=\"tend\"",
                "-c",
                "model_providers.tend.base_url=\"http://127.0.0.1:9/v1\"",
                "-c",
                "model_providers.tend.env_key=\"OPENAI_API_KEY\"",
                "-c",
                "model_providers.tend.wire_api=\"responses\"",
                "-c",
                "sandbox_workspace_write.network_access=true",
                "-c",
                "mcp_servers.\"files\".command=\"npx\"",
                "-c",
                "mcp_servers.\"files\".args=[\"-y\", \"srv\"]",
                "-c",
                "mcp_servers.\"files\".env={ \"MODE\" = \"ro\" }",
                "-c",
                "mcp_servers.\"files\".env_vars=[\"TOKEN\"]",
            ]
        );
        assert!(prompt.ends_with("Fix it.\n"), "{prompt}");
        assert!(prompt.contains("STATUS: changed"), "{prompt}");
        let read_only = task("schedule = \"manual\"\nengine = \"codex\"\nmode = \"read-only\"");
        let args = super::args(&read_only, &ctx(Mode::ReadOnly), None);
        assert_eq!(
            args[..8],
            [
                "exec",
                "--json",
                "--skip-git-repo-check",
                "--ephemeral",
                "--sandbox",
                "read-only",
                "-c",
                "approval_policy=\"never\""
            ]
        );
        assert_eq!(args.len(), 9);
    }
}

//! Claude Code's MCP server configs (`.mcp.json`, `~/.claude.json`) as tend's, with every
//! literal secret replaced by a reference to an environment variable the user must set.
//!
//! `.mcp.json`: `{"mcpServers": {NAME: {command, args, env} | {type: "http"|"sse", url,
//! headers}}}`. `~/.claude.json` has the same `mcpServers` at the top (the user's servers) and
//! per project under `projects[PATH].mcpServers`.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};
use tend_config::{McpServer, McpTransport};

/// One server as tend will write it, and what the user must know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub name: String,
    pub server: McpServer,
    pub warnings: Vec<String>,
}

/// A server that could not be imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub name: String,
    pub reason: String,
}

/// The servers of one Claude Code file: its top-level `mcpServers`, and, for `~/.claude.json`,
/// those of the project at `project` (if the file knows it).
pub fn servers_of(file: &Value, project: Option<&Path>) -> (Vec<Imported>, Vec<Skipped>) {
    let mut imported = Vec::new();
    let mut skipped = Vec::new();
    let mut tables: Vec<&Map<String, Value>> = Vec::new();
    if let Some(top) = file.get("mcpServers").and_then(Value::as_object) {
        tables.push(top);
    }
    if let (Some(projects), Some(project)) =
        (file.get("projects").and_then(Value::as_object), project)
    {
        let key = project.display().to_string();
        if let Some(own) = projects
            .get(&key)
            .and_then(|p| p.get("mcpServers"))
            .and_then(Value::as_object)
        {
            tables.push(own);
        }
    }
    for table in tables {
        for (name, entry) in table {
            match convert(name, entry) {
                Ok(i) => {
                    // A project's server replaces a global one of the same name, as in Claude.
                    imported.retain(|x: &Imported| x.name != i.name);
                    imported.push(i);
                }
                Err(reason) => skipped.push(Skipped {
                    name: name.clone(),
                    reason,
                }),
            }
        }
    }
    (imported, skipped)
}

fn convert(original: &str, entry: &Value) -> Result<Imported, String> {
    let Some(entry) = entry.as_object() else {
        return Err("its entry is not an object".to_owned());
    };
    let mut warnings = Vec::new();
    let name = server_name(original);
    if name != original {
        warnings.push(format!(
            "renamed from `{original}`: tend's server names are letters, digits, `-` and `_` \
             (they appear in rules as mcp__{name}__<tool>)"
        ));
    }
    let kind = entry.get("type").and_then(Value::as_str).unwrap_or("");
    let command = entry.get("command").and_then(Value::as_str);
    let url = entry.get("url").and_then(Value::as_str);
    let transport = match (kind, command, url) {
        ("" | "stdio", Some(command), _) => {
            let args = strings(entry.get("args"));
            let mut env = BTreeMap::new();
            for (key, value) in string_map(entry.get("env")) {
                let value = if !value.contains("${") && secret_name(&key) {
                    warnings.push(format!(
                        "set {key} in tend's environment: the literal value of `env.{key}` \
                         was not copied"
                    ));
                    format!("${{{key}}}")
                } else {
                    value
                };
                env.insert(key, value);
            }
            McpTransport::Stdio {
                command: command.to_owned(),
                args,
                env,
                cwd: entry.get("cwd").and_then(Value::as_str).map(Into::into),
            }
        }
        ("" | "http" | "streamable-http" | "sse", None, Some(url)) => {
            if kind == "sse" {
                warnings.push(
                    "it is an SSE server; tend speaks streamable HTTP, which most servers \
                     also offer (often at /mcp instead of /sse)"
                        .to_owned(),
                );
            }
            let prefix = env_prefix(&name);
            let mut headers = BTreeMap::new();
            let mut bearer_token_env = None;
            for (key, value) in string_map(entry.get("headers")) {
                let is_auth = key.eq_ignore_ascii_case("authorization");
                match (is_auth, bearer_of(&value)) {
                    (true, Some(token)) => {
                        let var = match var_reference(token) {
                            Some(var) => var.to_owned(),
                            None => {
                                let var = format!("{prefix}_TOKEN");
                                warnings.push(format!(
                                    "set {var} to the bearer token: the literal token was not \
                                     copied"
                                ));
                                var
                            }
                        };
                        bearer_token_env = Some(var);
                    }
                    _ if value.contains("${") => {
                        headers.insert(key, value);
                    }
                    _ if is_auth || secret_name(&key) => {
                        let var = format!("{prefix}_{}", env_prefix(&key));
                        warnings.push(format!(
                            "set {var} to the value of header `{key}`: the literal value was \
                             not copied"
                        ));
                        headers.insert(key, format!("${{{var}}}"));
                    }
                    _ => {
                        headers.insert(key, value);
                    }
                }
            }
            McpTransport::Http {
                url: url.to_owned(),
                headers,
                bearer_token_env,
            }
        }
        (kind, _, _) if !kind.is_empty() && kind != "stdio" && kind != "http" && kind != "sse" => {
            return Err(format!("transport `{kind}` is not supported by tend"));
        }
        _ => return Err("it has neither a `command` nor a `url`".to_owned()),
    };
    Ok(Imported {
        name,
        server: McpServer {
            transport,
            startup_timeout: None,
            call_timeout: None,
            enabled: !entry
                .get("disabled")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        },
        warnings,
    })
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn string_map(value: Option<&Value>) -> Vec<(String, String)> {
    value
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// `Bearer X` → `X`.
fn bearer_of(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// `${VAR}` (the whole text) → `VAR`.
fn var_reference(text: &str) -> Option<&str> {
    let inner = text.strip_prefix("${")?.strip_suffix('}')?;
    let name = inner.split(":-").next().unwrap_or(inner);
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then_some(name)
}

/// Whether a variable's or header's name says it carries a secret.
fn secret_name(name: &str) -> bool {
    let name = name.to_ascii_uppercase();
    [
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "KEY",
        "AUTH",
        "CREDENTIAL",
        "COOKIE",
        "PAT",
    ]
    .iter()
    .any(|s| name.contains(s))
}

/// A valid tend server name: letters, digits, `-`, `_`, no `__`.
fn server_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            c
        } else {
            '-'
        };
        if c == '_' && out.ends_with('_') {
            continue;
        }
        out.push(c);
    }
    if out.is_empty() {
        "server".to_owned()
    } else {
        out
    }
}

/// `my-server` → `MY_SERVER`.
fn env_prefix(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    #[test]
    fn mcp_json_servers_with_secrets_replaced() {
        let file = json!({"mcpServers": {
            "github": {
                "command": "npx",
                "args": ["-y", "@modelcontextprotocol/server-github"],
                "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_literal", "DEBUG": "1", "HOST": "${GH_HOST}"}
            },
            "linear": {
                "type": "http",
                "url": "https://mcp.linear.app/mcp",
                "headers": {"Authorization": "Bearer lin_literal", "X-Team": "core", "X-Api-Key": "k-123"}
            },
            "sentry.io": {"type": "sse", "url": "https://mcp.sentry.dev/sse", "headers": {"Authorization": "Bearer ${SENTRY_TOKEN}"}},
            "weird": {"type": "ws", "url": "ws://x"},
            "empty": {}
        }});
        let (imported, skipped) = servers_of(&file, None);
        assert_eq!(
            skipped,
            vec![
                Skipped {
                    name: "empty".into(),
                    reason: "it has neither a `command` nor a `url`".into()
                },
                Skipped {
                    name: "weird".into(),
                    reason: "transport `ws` is not supported by tend".into()
                },
            ]
        );
        let github = &imported[0];
        assert_eq!(github.name, "github");
        assert_eq!(
            github.server.transport,
            McpTransport::Stdio {
                command: "npx".into(),
                args: vec!["-y".into(), "@modelcontextprotocol/server-github".into()],
                env: BTreeMap::from([
                    ("DEBUG".to_owned(), "1".to_owned()),
                    (
                        "GITHUB_PERSONAL_ACCESS_TOKEN".to_owned(),
                        "${GITHUB_PERSONAL_ACCESS_TOKEN}".to_owned()
                    ),
                    ("HOST".to_owned(), "${GH_HOST}".to_owned()),
                ]),
                cwd: None,
            }
        );
        assert_eq!(
            github.warnings,
            vec![
                "set GITHUB_PERSONAL_ACCESS_TOKEN in tend's environment: the literal value of `env.GITHUB_PERSONAL_ACCESS_TOKEN` was not copied"
            ]
        );
        let linear = &imported[1];
        assert_eq!(
            linear.server.transport,
            McpTransport::Http {
                url: "https://mcp.linear.app/mcp".into(),
                headers: BTreeMap::from([
                    ("X-Api-Key".to_owned(), "${LINEAR_X_API_KEY}".to_owned()),
                    ("X-Team".to_owned(), "core".to_owned()),
                ]),
                bearer_token_env: Some("LINEAR_TOKEN".into()),
            }
        );
        assert_eq!(
            linear.warnings,
            vec![
                "set LINEAR_TOKEN to the bearer token: the literal token was not copied",
                "set LINEAR_X_API_KEY to the value of header `X-Api-Key`: the literal value was not copied",
            ]
        );
        let sentry = &imported[2];
        assert_eq!(sentry.name, "sentry-io");
        assert_eq!(
            sentry.server.transport,
            McpTransport::Http {
                url: "https://mcp.sentry.dev/sse".into(),
                headers: BTreeMap::new(),
                bearer_token_env: Some("SENTRY_TOKEN".into()),
            }
        );
        assert_eq!(sentry.warnings.len(), 2);
        let all = format!("{imported:?}");
        for secret in ["ghp_literal", "lin_literal", "k-123"] {
            assert!(!all.contains(secret), "{secret} was copied");
        }
    }

    #[test]
    fn claude_json_global_and_this_projects_servers() {
        let file = json!({
            "mcpServers": {"a": {"command": "global-a"}, "b": {"command": "global-b"}},
            "projects": {
                "/work/repo": {"mcpServers": {"b": {"command": "project-b"}}},
                "/elsewhere": {"mcpServers": {"c": {"command": "other"}}}
            }
        });
        let (imported, _) = servers_of(&file, Some(Path::new("/work/repo")));
        let commands: Vec<(String, String)> = imported
            .iter()
            .map(|i| match &i.server.transport {
                McpTransport::Stdio { command, .. } => (i.name.clone(), command.clone()),
                McpTransport::Http { url, .. } => (i.name.clone(), url.clone()),
            })
            .collect();
        assert_eq!(
            commands,
            vec![
                ("a".to_owned(), "global-a".to_owned()),
                ("b".to_owned(), "project-b".to_owned())
            ]
        );
    }
}

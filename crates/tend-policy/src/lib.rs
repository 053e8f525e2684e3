//! The permission policy: modes and `tool(argument-glob)` rules.
//!
//! Pure: no IO, no clock. This module parses and validates rules at load time; evaluating them
//! against tool calls (deny → ask → allow, compound shell commands) is built on top of these types.

use std::fmt;
use std::str::FromStr;

/// What a background run may do without asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Read, search, read-only shell commands.
    ReadOnly,
    /// Also edits and sandboxed shell commands inside the worktree; tend commits the result.
    Propose,
    /// Also everything an allow rule names.
    Auto,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::ReadOnly, Mode::Propose, Mode::Auto];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::ReadOnly => "read-only",
            Mode::Propose => "propose",
            Mode::Auto => "auto",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = RuleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| RuleError {
                message: format!("unknown mode `{s}`"),
                hint: Some("use one of: read-only, propose, auto".to_owned()),
                offset: 0,
            })
    }
}

/// A rule failed to parse. `offset` is the byte offset in the rule text where the problem is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RuleError {
    pub message: String,
    pub hint: Option<String>,
    pub offset: usize,
}

/// The tools a rule can name, besides MCP tools.
const BUILTIN_TOOLS: [&str; 6] = ["read", "write", "edit", "glob", "grep", "bash"];

/// Which tool a rule is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ToolSelector {
    /// One of tend's built-in tools, by name.
    Builtin(String),
    /// `mcp__server__tool`, where `tool` may be `*` for every tool of the server.
    Mcp { server: String, tool: String },
}

/// A permission rule: `bash(cargo test *)`, `edit(src/**)`, `mcp__linear__create_issue`,
/// `mcp__server__*`, or a bare tool name (every call of that tool).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rule {
    pub tool: ToolSelector,
    /// The glob the tool's argument must match; `None` matches every call.
    pub pattern: Option<String>,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.tool {
            ToolSelector::Builtin(name) => f.write_str(name)?,
            ToolSelector::Mcp { server, tool } => write!(f, "mcp__{server}__{tool}")?,
        }
        if let Some(p) = &self.pattern {
            write!(f, "({p})")?;
        }
        Ok(())
    }
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

impl FromStr for Rule {
    type Err = RuleError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = |message: String, hint: &str, offset: usize| RuleError {
            message,
            hint: Some(hint.to_owned()),
            offset,
        };
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(err(
                "empty rule".to_owned(),
                "write a rule like `bash(cargo test *)` or `mcp__server__tool`",
                0,
            ));
        }
        let (head, pattern) = match trimmed.find('(') {
            Some(open) => {
                if !trimmed.ends_with(')') {
                    return Err(err(
                        format!("rule `{trimmed}` opens `(` but does not end with `)`"),
                        "close the argument pattern: `bash(git push *)`",
                        text.len(),
                    ));
                }
                let inner = &trimmed[open + 1..trimmed.len() - 1];
                if inner.trim().is_empty() {
                    return Err(err(
                        format!("rule `{trimmed}` has an empty argument pattern"),
                        "leave out the parentheses to match every call of the tool",
                        open,
                    ));
                }
                (&trimmed[..open], Some(inner.to_owned()))
            }
            None => (trimmed, None),
        };
        if let Some(rest) = head.strip_prefix("mcp__") {
            let Some((server, tool)) = rest.split_once("__") else {
                return Err(err(
                    format!("MCP rule `{head}` names no tool"),
                    "write `mcp__<server>__<tool>` or `mcp__<server>__*`",
                    0,
                ));
            };
            if !is_ident(server) || !(tool == "*" || is_ident(tool)) {
                return Err(err(
                    format!("MCP rule `{head}` has an invalid server or tool name"),
                    "names are letters, digits, `_`, `-` and `.`; the tool may be `*`",
                    0,
                ));
            }
            return Ok(Rule {
                tool: ToolSelector::Mcp {
                    server: server.to_owned(),
                    tool: tool.to_owned(),
                },
                pattern,
            });
        }
        if !BUILTIN_TOOLS.contains(&head) {
            return Err(err(
                format!("unknown tool `{head}` in rule `{trimmed}`"),
                "rules name one of read, write, edit, glob, grep, bash, or mcp__<server>__<tool>",
                0,
            ));
        }
        Ok(Rule {
            tool: ToolSelector::Builtin(head.to_owned()),
            pattern,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn parses_builtin_rule_with_pattern() {
        let rule: Rule = "bash(cargo test *)".parse().unwrap();
        assert_eq!(
            rule,
            Rule {
                tool: ToolSelector::Builtin("bash".into()),
                pattern: Some("cargo test *".into())
            }
        );
        assert_eq!(rule.to_string(), "bash(cargo test *)");
    }

    #[test]
    fn parses_mcp_rules() {
        let rule: Rule = "mcp__linear__create_issue".parse().unwrap();
        assert_eq!(
            rule.tool,
            ToolSelector::Mcp {
                server: "linear".into(),
                tool: "create_issue".into()
            }
        );
        let all: Rule = "mcp__linear__*".parse().unwrap();
        assert_eq!(all.to_string(), "mcp__linear__*");
    }

    #[test]
    fn rejects_bad_rules_with_hints() {
        for bad in [
            "",
            "bash(",
            "bash()",
            "shell(ls)",
            "mcp__linear",
            "mcp__a b__c",
        ] {
            let e = bad.parse::<Rule>().unwrap_err();
            assert!(e.hint.is_some(), "{bad}: {e:?}");
        }
    }

    #[test]
    fn modes_round_trip() {
        for m in Mode::ALL {
            assert_eq!(m.as_str().parse::<Mode>().unwrap(), m);
        }
        assert!("readonly".parse::<Mode>().is_err());
    }
}

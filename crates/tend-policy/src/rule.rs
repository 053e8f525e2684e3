//! Permission rules as written in a task's `[permissions]`: `tool(argument-glob)`.

use std::fmt;
use std::str::FromStr;

use crate::pattern;

/// A rule failed to parse. `offset` is the byte offset in the rule text where the problem is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RuleError {
    pub message: String,
    pub hint: Option<String>,
    pub offset: usize,
}

/// tend's built-in tools, as rules and calls name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tool {
    Read,
    Write,
    Edit,
    Glob,
    Grep,
    Bash,
}

impl Tool {
    pub const ALL: [Tool; 6] = [
        Tool::Read,
        Tool::Write,
        Tool::Edit,
        Tool::Glob,
        Tool::Grep,
        Tool::Bash,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Tool::Read => "read",
            Tool::Write => "write",
            Tool::Edit => "edit",
            Tool::Glob => "glob",
            Tool::Grep => "grep",
            Tool::Bash => "bash",
        }
    }

    pub fn from_name(name: &str) -> Option<Tool> {
        Tool::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The field of the tool's JSON input that rules match: the shell command for `bash`, the
    /// path for the others (`glob` and `grep` search in `path`, the workspace root when absent).
    pub fn argument_field(self) -> &'static str {
        match self {
            Tool::Bash => "command",
            Tool::Read | Tool::Write | Tool::Edit | Tool::Glob | Tool::Grep => "path",
        }
    }

    /// Whether a rule naming `self` applies to a call of `call`. A `read` rule covers every tool
    /// that reads files (`read`, `glob`, `grep`) and an `edit` rule every tool that changes them
    /// (`edit`, `write`), so that `read(~/.ssh/**)` in a deny list cannot be sidestepped by
    /// grepping, and `edit(src/**)` in an allow list also lets the agent create files there.
    pub fn covers(self, call: Tool) -> bool {
        match self {
            Tool::Read => matches!(call, Tool::Read | Tool::Glob | Tool::Grep),
            Tool::Edit => matches!(call, Tool::Edit | Tool::Write),
            Tool::Write | Tool::Glob | Tool::Grep | Tool::Bash => self == call,
        }
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which tool a rule is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ToolSelector {
    /// One of tend's built-in tools.
    Builtin(Tool),
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

/// The three rule lists of a task's `[permissions]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleList {
    Allow,
    Ask,
    Deny,
}

impl RuleList {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleList::Allow => "allow",
            RuleList::Ask => "ask",
            RuleList::Deny => "deny",
        }
    }
}

impl fmt::Display for RuleList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.tool {
            ToolSelector::Builtin(tool) => f.write_str(tool.name())?,
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
        let lead = text.len() - text.trim_start().len();
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
                        lead + open,
                    ));
                }
                (&trimmed[..open], Some((inner.to_owned(), lead + open + 1)))
            }
            None => (trimmed, None),
        };
        let tool = if let Some(rest) = head.strip_prefix("mcp__") {
            let Some((server, tool)) = rest.split_once("__") else {
                return Err(err(
                    format!("MCP rule `{head}` names no tool"),
                    "write `mcp__<server>__<tool>` or `mcp__<server>__*`",
                    lead,
                ));
            };
            if !is_ident(server) || !(tool == "*" || is_ident(tool)) {
                return Err(err(
                    format!("MCP rule `{head}` has an invalid server or tool name"),
                    "names are letters, digits, `_`, `-` and `.`; the tool may be `*`",
                    lead,
                ));
            }
            ToolSelector::Mcp {
                server: server.to_owned(),
                tool: tool.to_owned(),
            }
        } else {
            let Some(tool) = Tool::from_name(head) else {
                return Err(err(
                    format!("unknown tool `{head}` in rule `{trimmed}`"),
                    "rules name one of read, write, edit, glob, grep, bash, or mcp__<server>__<tool>",
                    lead,
                ));
            };
            ToolSelector::Builtin(tool)
        };
        if let Some((p, at)) = &pattern {
            pattern::validate(&tool, p).map_err(|problem| {
                err(
                    format!("rule `{trimmed}` has an invalid pattern: {problem}"),
                    match tool {
                        ToolSelector::Builtin(Tool::Bash) => {
                            "close every quote; `*` matches any text, `\\*` a literal star"
                        }
                        _ => "use `*` within a directory, `**` across directories, `~/` for home",
                    },
                    *at,
                )
            })?;
        }
        Ok(Rule {
            tool,
            pattern: pattern.map(|(p, _)| p),
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
                tool: ToolSelector::Builtin(Tool::Bash),
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
        let with_args: Rule = r#"mcp__linear__create_issue(*"team":"ENG"*)"#.parse().unwrap();
        assert_eq!(with_args.pattern.as_deref(), Some(r#"*"team":"ENG"*"#));
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
            "bash(echo 'unclosed)",
            "edit(src/[a)",
        ] {
            let e = bad.parse::<Rule>().unwrap_err();
            assert!(e.hint.is_some(), "{bad}: {e:?}");
        }
    }

    #[test]
    fn pattern_error_points_into_the_pattern() {
        let e = "  edit(src/[a)".parse::<Rule>().unwrap_err();
        assert_eq!(e.offset, 7);
    }

    #[test]
    fn read_and_edit_rules_cover_their_families() {
        assert!(Tool::Read.covers(Tool::Grep));
        assert!(Tool::Read.covers(Tool::Glob));
        assert!(Tool::Edit.covers(Tool::Write));
        assert!(!Tool::Write.covers(Tool::Edit));
        assert!(!Tool::Grep.covers(Tool::Read));
        assert!(!Tool::Bash.covers(Tool::Read));
    }
}

//! tend's permission rules in Claude Code's syntax (`--allowedTools`, `--disallowedTools`).
//!
//! An external engine cannot park a run on a human's answer, so `ask` rules become denials.
//! Where Claude Code cannot say what a rule says, the translation errs on the safe side: an
//! allow rule that cannot be expressed exactly is left out (the call is then denied), a deny
//! rule is widened (a `glob`/`grep` path becomes a `Read` path, an MCP input pattern denies the
//! whole tool).

use tend_config::Permissions;
use tend_policy::{Mode, Rule, Tool, ToolSelector};

/// Claude Code's view of a task's policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ClaudeRules {
    pub allowed: Vec<String>,
    pub disallowed: Vec<String>,
    /// What could not be carried over exactly, for the run's report.
    pub notes: Vec<String>,
}

/// The permission mode for tend's mode. Read-only runs plan (no edits, no commands);
/// `propose` and `auto` accept file edits inside the working folder, and any other call that
/// would need a prompt is denied (`--permission-prompts none`) unless an allow rule names it.
/// `bypassPermissions` is never used: Claude Code does not run inside tend's sandbox.
pub(crate) fn permission_mode(mode: Mode) -> &'static str {
    match mode {
        Mode::ReadOnly => "plan",
        Mode::Propose | Mode::Auto => "acceptEdits",
    }
}

pub(crate) fn claude_rules(permissions: &Permissions, mode: Mode) -> ClaudeRules {
    let mut out = ClaudeRules::default();
    if mode == Mode::ReadOnly {
        // Belt and braces behind plan mode.
        out.disallowed
            .extend(["Edit", "Write", "NotebookEdit"].map(str::to_owned));
    }
    for rule in &permissions.deny {
        out.disallowed.push(deny_form(rule));
    }
    for rule in &permissions.ask {
        out.disallowed.push(deny_form(rule));
        out.notes.push(format!(
            "ask rule `{rule}` denies in a claude run (an external engine cannot wait for a human)"
        ));
    }
    for rule in &permissions.allow {
        match allow_form(rule, mode) {
            Some(form) => out.allowed.push(form),
            None => out.notes.push(format!(
                "allow rule `{rule}` has no exact Claude Code form and was left out"
            )),
        }
    }
    out.allowed.dedup();
    out.disallowed.dedup();
    out
}

/// A path pattern as Claude Code reads it: `//abs` for absolute paths (a single `/` would be
/// relative to the project), `~/…` and relative ones as they are.
fn path(pattern: &str) -> String {
    if pattern.starts_with('/') {
        format!("/{pattern}")
    } else {
        pattern.to_owned()
    }
}

fn with_pattern(tool: &str, pattern: Option<&str>, paths: bool) -> String {
    match pattern {
        None => tool.to_owned(),
        Some(p) if paths => format!("{tool}({})", path(p)),
        Some(p) => format!("{tool}({p})"),
    }
}

fn deny_form(rule: &Rule) -> String {
    let pattern = rule.pattern.as_deref();
    match &rule.tool {
        ToolSelector::Builtin(tool) => match tool {
            Tool::Bash => with_pattern("Bash", pattern, false),
            Tool::Read => with_pattern("Read", pattern, true),
            Tool::Write => with_pattern("Write", pattern, true),
            Tool::Edit => with_pattern("Edit", pattern, true),
            // Claude Code's Read rules cover its search tools; a searched folder is read.
            Tool::Glob | Tool::Grep => match pattern {
                Some(_) => with_pattern("Read", pattern, true),
                None => with_pattern(claude_name(*tool), None, false),
            },
        },
        ToolSelector::Mcp { server, tool } => mcp_name(server, tool),
    }
}

fn allow_form(rule: &Rule, mode: Mode) -> Option<String> {
    let pattern = rule.pattern.as_deref();
    match &rule.tool {
        ToolSelector::Builtin(tool) => match (tool, mode) {
            // The mode caps allow rules: nothing changes files in a read-only run.
            (Tool::Write | Tool::Edit, Mode::ReadOnly) => None,
            (Tool::Bash, _) => Some(with_pattern("Bash", pattern, false)),
            (Tool::Read | Tool::Write | Tool::Edit, _) => {
                Some(with_pattern(claude_name(*tool), pattern, true))
            }
            (Tool::Glob | Tool::Grep, _) => match pattern {
                None => Some(claude_name(*tool).to_owned()),
                Some(_) => None,
            },
        },
        ToolSelector::Mcp { server, tool } => match pattern {
            None => Some(mcp_name(server, tool)),
            Some(_) => None,
        },
    }
}

fn claude_name(tool: Tool) -> &'static str {
    match tool {
        Tool::Read => "Read",
        Tool::Write => "Write",
        Tool::Edit => "Edit",
        Tool::Glob => "Glob",
        Tool::Grep => "Grep",
        Tool::Bash => "Bash",
    }
}

/// `mcp__server__tool`; a whole server is `mcp__server` in Claude Code's rules.
fn mcp_name(server: &str, tool: &str) -> String {
    if tool == "*" {
        format!("mcp__{server}")
    } else {
        format!("mcp__{server}__{tool}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn rules(list: &[&str]) -> Vec<Rule> {
        list.iter().map(|r| r.parse().unwrap()).collect()
    }

    #[test]
    fn every_kind_of_rule_translates() {
        let permissions = Permissions {
            allow: rules(&[
                "bash(cargo test *)",
                "edit(src/**)",
                "read(/srv/data/**)",
                "mcp__linear__create_issue",
                "mcp__docs__*",
                "grep",
                "glob(docs/**)",
                "mcp__linear__update_issue(*\"team\":\"ENG\"*)",
            ]),
            ask: rules(&["bash(git push *)"]),
            deny: rules(&[
                "bash(rm -rf *)",
                "read(~/.ssh/**)",
                "grep(secrets/**)",
                "mcp__linear__delete_issue(*x*)",
                "write(*.pem)",
            ]),
        };
        assert_eq!(
            claude_rules(&permissions, Mode::Propose),
            ClaudeRules {
                allowed: vec![
                    "Bash(cargo test *)".into(),
                    "Edit(src/**)".into(),
                    "Read(//srv/data/**)".into(),
                    "mcp__linear__create_issue".into(),
                    "mcp__docs".into(),
                    "Grep".into(),
                ],
                disallowed: vec![
                    "Bash(rm -rf *)".into(),
                    "Read(~/.ssh/**)".into(),
                    "Read(secrets/**)".into(),
                    "mcp__linear__delete_issue".into(),
                    "Write(*.pem)".into(),
                    "Bash(git push *)".into(),
                ],
                notes: vec![
                    "ask rule `bash(git push *)` denies in a claude run (an external engine \
                     cannot wait for a human)"
                        .into(),
                    "allow rule `glob(docs/**)` has no exact Claude Code form and was left out"
                        .into(),
                    "allow rule `mcp__linear__update_issue(*\"team\":\"ENG\"*)` has no exact \
                     Claude Code form and was left out"
                        .into(),
                ],
            }
        );
    }

    #[test]
    fn read_only_runs_deny_edits_whatever_the_rules() {
        let permissions = Permissions {
            allow: rules(&["edit(src/**)", "bash(ls *)"]),
            ask: Vec::new(),
            deny: Vec::new(),
        };
        let out = claude_rules(&permissions, Mode::ReadOnly);
        assert_eq!(out.allowed, vec!["Bash(ls *)".to_owned()]);
        assert_eq!(
            out.disallowed,
            vec!["Edit".to_owned(), "Write".into(), "NotebookEdit".into()]
        );
        assert_eq!(permission_mode(Mode::ReadOnly), "plan");
        assert_eq!(permission_mode(Mode::Auto), "acceptEdits");
    }
}

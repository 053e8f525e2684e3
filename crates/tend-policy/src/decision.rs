//! What the policy says about a call, and why: recorded in the transcript and the audit trail.

use std::fmt;

use serde::Serialize;

use crate::{Mode, RuleList};

/// The answer for one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    // Ordered from the most to the least restrictive, so the minimum of parts is the whole.
    Deny,
    Ask,
    Allow,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Deny => "deny",
            Verdict::Ask => "ask",
            Verdict::Allow => "allow",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of action a call (or one command of a compound shell command) is; the modes'
/// defaults are stated per class (see the crate docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// `read`, `glob`, `grep`.
    ReadTool,
    /// `write`, `edit`.
    WriteTool,
    /// A shell command known to only read.
    ReadOnlyCommand,
    /// Any other shell command (it runs in the sandbox).
    Command,
    /// A shell command that pushes, publishes or sends data elsewhere (`git push`, …).
    PublishingCommand,
    /// A shell command run with other privileges (`sudo`, `doas`, `su`, `pkexec`, `run0`) or
    /// outside the run (`systemd-run`, `at`, `batch`, `crontab`).
    PrivilegedCommand,
    /// A shell command whose effect cannot be told from its text.
    UnknownCommand,
    /// A shell command string that runs nothing (empty, or only comments).
    NoCommand,
    /// A tool of an MCP server.
    McpTool,
}

impl Class {
    fn describe(self) -> &'static str {
        match self {
            Class::ReadTool => "reading files",
            Class::WriteTool => "changing files",
            Class::ReadOnlyCommand => "a read-only command",
            Class::Command => "a command that is not known to be read-only",
            Class::PublishingCommand => "a command that publishes or sends data elsewhere",
            Class::PrivilegedCommand => "a command run with other privileges or outside the run",
            Class::UnknownCommand => "a command that cannot be analysed",
            Class::NoCommand => "an empty command",
            Class::McpTool => "an MCP tool",
        }
    }
}

/// Why a verdict was reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Reason {
    /// A rule matched. `subject` is what it matched: the shell command (or the form of it the
    /// rule saw, such as the command under `timeout`), the path, or the MCP tool.
    Rule {
        list: RuleList,
        rule: String,
        subject: Option<String>,
    },
    /// No rule matched: the mode's default for the class.
    Default {
        mode: Mode,
        class: Class,
        subject: Option<String>,
    },
    /// An allow rule matched, but the mode lets this class go no further than `verdict`
    /// (a `propose` run always asks before publishing; a `read-only` run never writes).
    Limit {
        mode: Mode,
        class: Class,
        rule: String,
        subject: Option<String>,
    },
    /// A deny or ask rule would match for some value of what is only known at run time (a word
    /// fed by `xargs`, a variable): asked, never allowed without a human.
    MayMatch {
        list: RuleList,
        rule: String,
        subject: Option<String>,
    },
    /// The command cannot be analysed, so it is never allowed without a human.
    Unanalysable {
        problem: String,
        subject: Option<String>,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let on = |subject: &Option<String>| {
            subject
                .as_ref()
                .map(|s| format!(" (`{s}`)"))
                .unwrap_or_default()
        };
        match self {
            Reason::Rule {
                list,
                rule,
                subject,
            } => write!(f, "rule `{rule}` in the {list} list matches{}", on(subject)),
            Reason::Default {
                mode,
                class,
                subject,
            } => write!(
                f,
                "default of a {mode} run for {}{}",
                class.describe(),
                on(subject)
            ),
            Reason::Limit {
                mode,
                class,
                rule,
                subject,
            } => write!(
                f,
                "rule `{rule}` allows it, but a {mode} run does not allow {} without a human{}",
                class.describe(),
                on(subject)
            ),
            Reason::MayMatch {
                list,
                rule,
                subject,
            } => write!(
                f,
                "rule `{rule}` in the {list} list may match once the parts only known when it runs are filled in{}",
                on(subject)
            ),
            Reason::Unanalysable { problem, subject } => {
                write!(
                    f,
                    "the command cannot be analysed: {problem}{}",
                    on(subject)
                )
            }
        }
    }
}

/// The verdict for one command of a shell command string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartDecision {
    /// The command as written.
    pub command: String,
    pub class: Class,
    pub verdict: Verdict,
    pub reason: Reason,
}

/// The policy's answer for one call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub verdict: Verdict,
    /// For a shell command string, the reason of the first command with the overall verdict.
    pub reason: Reason,
    /// For a shell command string, every command it would run, each with its own verdict.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<PartDecision>,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.verdict, self.reason)
    }
}

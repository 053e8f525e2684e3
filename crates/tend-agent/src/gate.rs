//! The gate in front of every tool call. The run's mode decides which tools are offered at all;
//! a [`Gate`] decides each call: allow, deny (the model is told why), or ask a human (the run
//! parks until someone answers).

use serde::{Deserialize, Serialize};
use tend_policy::Mode;
use tend_tools::ToolCall;

/// What the gate says about one tool call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Allow,
    Deny,
    Ask,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Deny => "deny",
            Verdict::Ask => "ask",
        }
    }
}

/// A verdict and why: the rule that matched, or the mode's default. Goes into the transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub verdict: Verdict,
    /// For a human and for the model: `rule bash(git push *) in [permissions] ask`.
    pub because: String,
    /// The rule to add to `allow` when a human approves with `--always`.
    pub allow_rule: Option<String>,
}

/// Decides tool calls. Implementations are pure and cheap: they run before every call.
pub trait Gate: Send + Sync {
    fn decide(&self, call: &ToolCall) -> Decision;
}

/// Tools a run in each mode may use. Tools not offered are not even described to the model,
/// which keeps requests small and the model from trying.
pub fn tools_for(mode: Mode) -> &'static [&'static str] {
    match mode {
        // Shell commands too: the policy lets only read-only ones through.
        Mode::ReadOnly => &["read", "glob", "grep", "bash"],
        Mode::Propose | Mode::Auto => &["read", "write", "edit", "glob", "grep", "bash"],
    }
}

/// The gate of a run with no rules: the mode alone decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModeGate(pub Mode);

impl Gate for ModeGate {
    fn decide(&self, call: &ToolCall) -> Decision {
        let mode = self.0;
        let tool = call.name.as_str();
        let (verdict, because) = if mode == Mode::ReadOnly && tool == "bash" {
            // Telling read-only commands apart takes the policy engine (PolicyGate).
            (
                Verdict::Deny,
                "shell commands need a policy in a read-only run".to_owned(),
            )
        } else if tools_for(mode).contains(&tool) {
            (Verdict::Allow, format!("{mode} mode"))
        } else if ["read", "write", "edit", "glob", "grep", "bash"].contains(&tool) {
            (
                Verdict::Deny,
                format!("`{tool}` is not available in a {mode} run"),
            )
        } else {
            (Verdict::Deny, format!("there is no tool named `{tool}`"))
        };
        Decision {
            verdict,
            because,
            allow_rule: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn call(name: &str) -> ToolCall {
        ToolCall {
            id: "t".into(),
            name: name.into(),
            input: serde_json::json!({}),
        }
    }

    #[test]
    fn modes_gate_tools() {
        assert_eq!(
            ModeGate(Mode::Propose).decide(&call("bash")).verdict,
            Verdict::Allow
        );
        assert_eq!(
            ModeGate(Mode::ReadOnly).decide(&call("edit")),
            Decision {
                verdict: Verdict::Deny,
                because: "`edit` is not available in a read-only run".into(),
                allow_rule: None
            }
        );
        assert_eq!(
            ModeGate(Mode::Auto).decide(&call("rm")).because,
            "there is no tool named `rm`"
        );
    }
}

//! The gate in front of every tool call: the run's mode decides which tools exist at all, and
//! (later) the task's rules decide each call.

use tend_policy::Mode;

/// What the gate says about one tool call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Refused; the reason goes back to the model as the tool's error.
    Deny(String),
}

/// Tools a run in each mode may use. Tools not offered are not even described to the model,
/// which keeps requests small and the model from trying.
pub fn tools_for(mode: Mode) -> &'static [&'static str] {
    match mode {
        Mode::ReadOnly => &["read", "glob", "grep"],
        Mode::Propose | Mode::Auto => &["read", "write", "edit", "glob", "grep", "bash"],
    }
}

/// Decides a call by the run's mode.
pub fn check(mode: Mode, tool: &str) -> Verdict {
    if tools_for(mode).contains(&tool) {
        Verdict::Allow
    } else if ["read", "write", "edit", "glob", "grep", "bash"].contains(&tool) {
        Verdict::Deny(format!("`{tool}` is not available in a {mode} run"))
    } else {
        Verdict::Deny(format!("there is no tool named `{tool}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn modes_gate_tools() {
        assert_eq!(check(Mode::Propose, "bash"), Verdict::Allow);
        assert_eq!(
            check(Mode::ReadOnly, "edit"),
            Verdict::Deny("`edit` is not available in a read-only run".into())
        );
        assert_eq!(
            check(Mode::Auto, "rm"),
            Verdict::Deny("there is no tool named `rm`".into())
        );
    }
}

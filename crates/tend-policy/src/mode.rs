//! The run's mode: what a background run may do without asking.

use std::fmt;
use std::str::FromStr;

use crate::RuleError;

/// What a background run may do without asking. See the crate docs for each mode's defaults.
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

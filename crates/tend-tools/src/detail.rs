use serde::{Deserialize, Serialize};
use tend_sandbox::{ProxyDecision, SandboxDenial};

/// What a tool call did, for the transcript and audit. Paths are relative to the workspace root
/// (`.` for the root itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ToolDetail {
    /// `lines` is how many lines were returned; `truncated` when the file has more.
    Read {
        path: String,
        lines: usize,
        truncated: bool,
    },
    /// `read` of a directory.
    List {
        path: String,
        entries: usize,
        truncated: bool,
    },
    Write {
        path: String,
        bytes: u64,
        created: bool,
    },
    Edit {
        path: String,
        replacements: usize,
    },
    /// `matches` counts all matching files, also those beyond the cap.
    Glob {
        pattern: String,
        matches: usize,
        truncated: bool,
    },
    /// `matches` counts matching lines, `files` matching files, also beyond the cap.
    Grep {
        pattern: String,
        matches: u64,
        files: u64,
        truncated: bool,
    },
    /// `exit_code` is `None` when the shell was killed by `signal`.
    Bash {
        command: String,
        exit_code: Option<i32>,
        signal: Option<i32>,
        timed_out: bool,
        duration_ms: u64,
        stdout_bytes: u64,
        stderr_bytes: u64,
        truncated: bool,
        /// The sandbox that confined the command (`bubblewrap`, `landlock`, `sandbox-exec`);
        /// absent when it ran unconfined.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sandbox: Option<String>,
        /// What the sandbox refused the command, as far as tend can tell (audit trail).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        denials: Vec<SandboxDenial>,
        /// Every decision of tend's network proxy during the command (audit trail).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        proxy: Vec<ProxyDecision>,
    },
    /// An MCP tool's result. `content_kinds`: `text`, `image`, `audio`, `resource`,
    /// `resource_link`, `structured`, in order of first appearance; `bytes`: text and decoded
    /// binary content received.
    Mcp {
        server: String,
        tool: String,
        content_kinds: Vec<String>,
        bytes: u64,
        duration_ms: u64,
    },
    /// A tool of another engine (Claude Code's `Write`, Codex's command execution, …), as
    /// far as its output tells: `tool` is the engine's own name for it, `summary` a short
    /// account (the path written, the command and its exit code).
    External {
        tool: String,
        summary: String,
    },
    /// Confinement said no (outside the workspace, inside `.git`, a hidden path, or a shell
    /// command where no sandbox works: fail closed); nothing was touched.
    Refused {
        reason: String,
    },
    /// Bad input or a failure (no such file, `old_string` not unique…); nothing changed.
    Failed {
        reason: String,
    },
}

//! The agent's built-in tools: `read`, `write`, `edit`, `glob`, `grep` and `bash`, and MCP
//! servers' tools ([`mcp`]).
//!
//! [`builtin_specs`] describes them to a model; [`run_tool`] executes one call inside a
//! [`Workspace`] and always answers with a [`ToolOutput`] (bad input and refusals become error
//! outputs that the model can act on, never panics); `mcp__<server>__<tool>` calls go to the
//! [`mcp::McpHub`] attached with [`Workspace::with_mcp`]. Every path goes through the
//! confinement in [`Workspace::resolve`]; shell commands go through `tend-sandbox`'s seam.
//!
//! This crate knows nothing of model providers: `tend-agent` converts [`ToolSpec`]s and
//! [`ToolOutput`]s to and from the wire types. Policy (allow/ask/deny) is applied before a call
//! reaches [`run_tool`].
//!
//! Behaviour worth knowing:
//! - Paths are relative to the root (absolute ones only inside it); `..` and symbolic links are
//!   resolved, and anything that ends outside the root or inside a `.git` is refused.
//! - `read` numbers lines as `{n:>5}\t{line}`, at most [`Limits::read_max_lines`] lines and
//!   [`Limits::output_cap`] bytes, and says how to go on (`offset=`); a directory lists entries.
//! - `glob` and `grep` walk like ripgrep (`.gitignore`, `.ignore`, git excludes; never `.git`;
//!   no symlink following) but include hidden files. `glob` lists files newest first; `grep`
//!   prints `path:line:text` sorted by path (`content` is the default mode).
//! - `bash` runs `bash -c` (or `/bin/sh`) in the root, in its own process group, with no stdin,
//!   an allowlisted environment and `TMPDIR` set to the workspace's private tmp. The whole group
//!   is killed on timeout (SIGTERM, then SIGKILL after [`Limits::kill_grace`]), after the shell
//!   exits, and when the call's future is dropped.
//! - With a disk budget ([`Workspace::with_disk_budget`]) a shell command may make no file
//!   larger than what is left (`ulimit -f`), and its group is killed once the private tmp plus
//!   the root's growth reach the budget; `write` and `edit` refuse what would pass it.

#[cfg(unix)]
mod bash;
#[cfg(not(unix))]
mod bash {
    use crate::output::Failure;
    use crate::{Limits, ToolOutput, Workspace};

    pub(crate) async fn run(
        _: &Workspace,
        _: &serde_json::Value,
        _: &Limits,
    ) -> Result<ToolOutput, Failure> {
        Err(Failure::failed(
            "bash is not supported on this platform yet",
        ))
    }
}
mod confine;
mod detail;
mod disk;
mod edit;
mod error;
mod fsops;
mod glob;
mod grep;
mod limits;
pub mod mcp;
mod output;
mod read;
mod spec;
mod text;
mod walk;
mod workspace;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

pub use confine::ResolvedPath;
pub use detail::ToolDetail;
pub use disk::{DiskBudget, DiskScope, usage as disk_usage};
pub use error::ToolError;
pub use limits::Limits;
pub use spec::{Builtin, ToolSpec, builtin_specs};
pub use tend_sandbox::{DenialKind, ProxyDecision, Sandbox, SandboxDenial, Verdict};
pub use workspace::Workspace;

use output::Failure;

/// The environment a shell command gets (an allowlist of this process's variables, never
/// secrets, plus fixed ones and `TMPDIR = tmp`). For commands tend runs itself outside a tool
/// call: a task's `command` inputs and its `[when] check`.
#[cfg(unix)]
pub fn scrubbed_env(tmp: &std::path::Path) -> Vec<(std::ffi::OsString, std::ffi::OsString)> {
    let parent: Vec<(std::ffi::OsString, std::ffi::OsString)> = std::env::vars_os().collect();
    bash::env::child_env(&parent, tmp)
}

/// One tool call as the model made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub input: serde_json::Value,
}

/// The answer to a tool call: `content` goes back to the model, `detail` to the transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolOutput {
    pub content: String,
    pub is_error: bool,
    pub detail: ToolDetail,
}

/// Runs one tool call. Never panics: unknown tools, bad input, refused paths and failures all
/// come back as `is_error` outputs with a message written for the model.
///
/// Cancel-safe: dropping the future kills a running shell command's whole process group and
/// tells a running search to stop.
pub async fn run_tool(ws: &Workspace, call: &ToolCall, limits: &Limits) -> ToolOutput {
    if mcp::is_mcp_name(&call.name) {
        return match ws.mcp() {
            Some(hub) => hub.call(call, limits.output_cap).await,
            None => Failure::failed(format!(
                "there is no tool named {:?}: this run has no MCP servers",
                call.name
            ))
            .into_output(),
        };
    }
    let Some(tool) = Builtin::from_name(&call.name) else {
        let names: Vec<&str> = Builtin::ALL.iter().map(|b| b.name()).collect();
        return Failure::failed(format!(
            "unknown tool {:?}; the built-in tools are {}",
            call.name,
            names.join(", ")
        ))
        .into_output();
    };
    let result = match tool {
        Builtin::Bash => bash::run(ws, &call.input, limits).await,
        Builtin::Read | Builtin::Write | Builtin::Edit | Builtin::Glob | Builtin::Grep => {
            run_blocking(tool, ws, &call.input, limits).await
        }
    };
    result.unwrap_or_else(Failure::into_output)
}

/// File tools do blocking IO, so they run on tokio's blocking pool. A search checks `cancel` so
/// that it stops soon after the caller gives up on it.
async fn run_blocking(
    tool: Builtin,
    ws: &Workspace,
    input: &serde_json::Value,
    limits: &Limits,
) -> Result<ToolOutput, Failure> {
    let ws = ws.clone();
    let input = input.clone();
    let limits = limits.clone();
    let cancel = Cancel::default();
    let _guard = cancel.guard();
    let task_cancel = cancel.clone();
    let task = tokio::task::spawn_blocking(move || match tool {
        Builtin::Read => read::run(&ws, &input, &limits),
        Builtin::Write => fsops::write(&ws, &input),
        Builtin::Edit => edit::run(&ws, &input, &limits),
        Builtin::Glob => glob::run(&ws, &input, &limits, &task_cancel),
        Builtin::Grep => grep::run(&ws, &input, &limits, &task_cancel),
        Builtin::Bash => Err(Failure::failed("bash does not run on the blocking pool")),
    });
    match task.await {
        Ok(result) => result,
        Err(err) => Err(Failure::failed(format!(
            "internal error in the {} tool: {err}",
            tool.name()
        ))),
    }
}

/// A stop request shared with a blocking search.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub(crate) fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn guard(&self) -> CancelOnDrop {
        CancelOnDrop(self.clone())
    }
}

/// Sets the flag when the awaiting future goes away, finished or dropped.
struct CancelOnDrop(Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.0.store(true, Ordering::Relaxed);
    }
}

//! The run's MCP servers: the task's `[mcp.servers]` and the config's, started together before
//! the session (each within its startup timeout) and stopped after it, whatever happened.

use std::path::Path;
use std::sync::Arc;

use tend_config::ResolvedTask;
use tend_tools::mcp::{HubOptions, McpHub};

/// Starts the task's servers, if it has any. Stdio servers start in the workspace's root;
/// images and other files from tool results go to the run's folder (`mcp/`).
pub(crate) async fn start(
    task: &ResolvedTask,
    workspace: &tend_tools::Workspace,
    run_dir: &Path,
) -> Option<Arc<McpHub>> {
    if task.mcp.is_empty() {
        return None;
    }
    let options = HubOptions::new(workspace.root().to_path_buf(), run_dir.join("mcp"));
    Some(Arc::new(McpHub::start(&task.mcp, &options).await))
}

/// Stops every server (stdio: the whole process group).
pub(crate) async fn stop(hub: Option<&Arc<McpHub>>) {
    if let Some(hub) = hub {
        hub.shutdown().await;
    }
}

//! MCP tools in a session: offered next to the built-in ones (from the hub attached to the
//! workspace), and each server's start reported as an event, so that a server that failed is
//! in the transcript and the run goes on without its tools.

use tend_model::ToolSpec;
use tend_tools::Workspace;
use tend_tools::mcp::ServerState;

use crate::event::AgentEvent;

/// The tools of the run's MCP servers, as the model gets them.
pub(crate) fn specs(workspace: &Workspace) -> Vec<ToolSpec> {
    let Some(hub) = workspace.mcp() else {
        return Vec::new();
    };
    hub.specs()
        .iter()
        .map(|s| ToolSpec {
            name: s.name.clone(),
            description: s.description.clone(),
            input_schema: s.input_schema.clone(),
        })
        .collect()
}

/// One event per configured server: ready (with its tool count), failed (why) or disabled.
pub(crate) fn status_events(workspace: &Workspace) -> Vec<AgentEvent> {
    let Some(hub) = workspace.mcp() else {
        return Vec::new();
    };
    hub.statuses()
        .iter()
        .map(|s| {
            let (status, tools, reason) = match &s.state {
                ServerState::Ready { tools, .. } => ("ready", tools.len(), None),
                ServerState::Failed { reason } => ("failed", 0, Some(reason.clone())),
                ServerState::Disabled => ("disabled", 0, None),
            };
            AgentEvent::McpServer {
                server: s.name.clone(),
                status: status.to_owned(),
                tools,
                reason,
                startup_ms: s.startup_ms,
            }
        })
        .collect()
}

//! MCP client: tools from the outside world (Slack, Linear, databases…) through the Model
//! Context Protocol, on the official Rust SDK (`rmcp`).
//!
//! - [`McpHub::start`] starts a run's servers (`[mcp.servers.NAME]`): stdio servers as child
//!   processes in their own process group, streamable HTTP servers with their headers and a
//!   bearer token from the environment. All start at once, each within its startup timeout.
//! - Their tools are offered as `mcp__<server>__<tool>` ([`McpHub::specs`]), with the
//!   server's descriptions (capped) and input schemas.
//! - [`McpHub::call`] routes a call within the server's call timeout and turns the result
//!   into a [`ToolOutput`](crate::ToolOutput): text, structured content as compact JSON,
//!   images/audio/blobs saved under the run's folder and referenced by path.
//! - Secrets (`bearer_token_env`, `${VAR}` values) never appear in outputs, statuses or
//!   error messages: they are blanked out wherever a server might echo them.
//!
//! Permission checks are not made here: the agent's gate decides before a call arrives.

mod connect;
mod hub;
mod launch;
mod names;
mod result;
mod secrets;
mod stdio;

pub use connect::{client_info, install_tls_provider};
pub use hub::{HubOptions, McpHub, McpToolSpec, ServerState, ServerStatus, ToolInfo};
pub use launch::{DEFAULT_CALL_TIMEOUT, DEFAULT_STARTUP_TIMEOUT};
pub use names::{
    MAX_DESCRIPTION_CHARS, MAX_NAME_LEN, PREFIX, exposed_name, is_mcp_name, server_of,
};
pub use secrets::{ExpandError, Redactor, Vars};

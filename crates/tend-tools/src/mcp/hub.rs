//! [`McpHub`]: the MCP servers of one run, started together, called by tool name, stopped
//! together.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rmcp::model::{CallToolRequestParams, ClientRequest};
use rmcp::service::ServiceError;
use serde::Serialize;
use tend_config::{McpServer, McpTransport};

use super::connect::{self, Connection, append_stderr, error_chain, seconds};
use super::launch::{self, Launch};
use super::names;
use super::result::{self, Artifacts};
use super::secrets::{Redactor, Vars};
use super::stdio::describe_exit;
use crate::output::Failure;
use crate::{ToolCall, ToolOutput};

/// After a call timed out, how long the server gets to answer a ping before it counts as hung.
const PING_TIMEOUT: Duration = Duration::from_secs(5);
/// At shutdown, how long a stdio server gets to exit after stdin closes (and again after
/// SIGTERM), and an HTTP session to close.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// Where a hub's servers start and what they may see.
#[derive(Debug, Clone)]
pub struct HubOptions {
    /// Where stdio servers start (a server's relative `cwd` is taken from here).
    pub cwd: PathBuf,
    /// Where images, audio and binary resources from tool results are saved.
    pub artifacts: PathBuf,
    /// tend's environment: `${VAR}` references and `bearer_token_env` are looked up here, and
    /// stdio servers get its allowlisted part (never secrets unless their `env` names them).
    pub env: Vec<(OsString, OsString)>,
}

impl HubOptions {
    /// Options with this process's environment.
    pub fn new(cwd: PathBuf, artifacts: PathBuf) -> HubOptions {
        HubOptions {
            cwd,
            artifacts,
            env: std::env::vars_os().collect(),
        }
    }
}

/// One configured server, as started (or not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerStatus {
    pub name: String,
    /// `stdio` or `http`.
    pub transport: &'static str,
    /// The command line or URL, as configured (before `${VAR}` expansion: no secrets).
    pub target: String,
    #[serde(flatten)]
    pub state: ServerState,
    /// How long starting (or failing to) took.
    pub startup_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ServerState {
    Ready {
        /// `name version` as the server says.
        server_info: Option<String>,
        protocol_version: String,
        tools: Vec<ToolInfo>,
        /// Tools that could not be offered (a name no model API accepts, a duplicate).
        skipped: Vec<String>,
    },
    Failed {
        reason: String,
    },
    /// `enabled = false`: not started.
    Disabled,
}

/// One tool of a server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ToolInfo {
    /// As the model and permission rules see it: `mcp__<server>__<tool>`.
    pub name: String,
    /// As the server calls it.
    pub tool: String,
    pub description: String,
    /// The server's `readOnlyHint`, if it gave one (a hint, not a guarantee).
    pub read_only_hint: Option<bool>,
}

/// An MCP tool as described to a model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct McpToolSpec {
    pub name: String,
    pub description: String,
    pub input_schema: serde_json::Value,
}

struct Server {
    name: String,
    call_timeout: Duration,
    connection: Connection,
    /// Why the server is unusable for the rest of the run, once it is.
    dead: Mutex<Option<String>>,
}

/// The MCP servers of one run.
///
/// [`McpHub::start`] starts every enabled server at once, each within its startup timeout;
/// one that fails is reported in [`McpHub::statuses`] and its tools are simply absent.
/// [`McpHub::call`] routes `mcp__<server>__<tool>` calls, each within the server's call
/// timeout, and always answers with a [`ToolOutput`]: a server that crashed or hangs gives an
/// error output and the run goes on. A dead server is not restarted within the run (its
/// tools answer with the reason it died): a restart could repeat side effects of the call
/// that killed it, and a run is short. [`McpHub::shutdown`] stops everything; dropping the
/// hub kills what is left (stdio servers as whole process groups).
pub struct McpHub {
    servers: Vec<Server>,
    statuses: Vec<ServerStatus>,
    specs: Vec<McpToolSpec>,
    /// Exposed name → (server index, the tool's own name).
    routes: HashMap<String, (usize, String)>,
    artifacts: Artifacts,
    redactor: Redactor,
}

impl std::fmt::Debug for McpHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpHub")
            .field("statuses", &self.statuses)
            .finish_non_exhaustive()
    }
}

impl McpHub {
    /// A hub without servers.
    pub fn empty() -> McpHub {
        McpHub {
            servers: Vec::new(),
            statuses: Vec::new(),
            specs: Vec::new(),
            routes: HashMap::new(),
            artifacts: Artifacts::new(PathBuf::new()),
            redactor: Redactor::default(),
        }
    }

    /// Starts every enabled server in `servers`, all at once.
    pub async fn start(servers: &BTreeMap<String, McpServer>, options: &HubOptions) -> McpHub {
        let vars = Vars::new(&options.env);
        let mut redactor = Redactor::default();
        let mut set = tokio::task::JoinSet::new();
        let mut statuses: Vec<Option<ServerStatus>> = vec![None; servers.len()];
        for (i, (name, server)) in servers.iter().enumerate() {
            let status = |state| ServerStatus {
                name: name.clone(),
                transport: transport_name(server),
                target: Launch::describe(server),
                state,
                startup_ms: 0,
            };
            if !server.enabled {
                statuses[i] = Some(status(ServerState::Disabled));
                continue;
            }
            let plan = match launch::plan(server, &vars, &options.cwd) {
                Ok(plan) => plan,
                Err(reason) => {
                    statuses[i] = Some(status(ServerState::Failed { reason }));
                    continue;
                }
            };
            redactor.extend(plan.secrets.iter().cloned());
            set.spawn(async move {
                let started = Instant::now();
                let result = connect::connect(&plan.launch, plan.startup_timeout).await;
                (i, plan.call_timeout, result, started.elapsed())
            });
        }
        let mut connected = Vec::new();
        while let Some(joined) = set.join_next().await {
            let Ok((i, call_timeout, result, took)) = joined else {
                continue;
            };
            connected.push((i, call_timeout, result, took));
        }
        // Keep the configuration's order, whatever order servers came up in.
        connected.sort_by_key(|(i, ..)| *i);
        let names: Vec<(&String, &McpServer)> = servers.iter().collect();
        let mut hub = McpHub::empty();
        hub.artifacts = Artifacts::new(options.artifacts.clone());
        for (i, call_timeout, result, took) in connected {
            let (name, server) = names[i];
            let state = match result {
                Ok(connection) => {
                    let (tools, skipped) = hub.register(name, &connection);
                    let state = ServerState::Ready {
                        server_info: connection.server_info.clone(),
                        protocol_version: connection.protocol_version.clone(),
                        tools,
                        skipped,
                    };
                    hub.servers.push(Server {
                        name: name.clone(),
                        call_timeout,
                        connection,
                        dead: Mutex::new(None),
                    });
                    state
                }
                Err(reason) => ServerState::Failed {
                    reason: redactor.redact(&reason),
                },
            };
            statuses[i] = Some(ServerStatus {
                name: name.clone(),
                transport: transport_name(server),
                target: Launch::describe(server),
                state,
                startup_ms: u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
            });
        }
        // Statuses of servers whose task panicked (never expected) stay out rather than lie.
        hub.statuses = statuses.into_iter().flatten().collect();
        hub.redactor = redactor;
        hub
    }

    /// Adds a connected server's tools to the routes and specs.
    fn register(&mut self, server: &str, connection: &Connection) -> (Vec<ToolInfo>, Vec<String>) {
        let index = self.servers.len();
        let mut tools = Vec::new();
        let mut skipped = Vec::new();
        for tool in &connection.tools {
            let Some(exposed) = names::exposed_name(server, &tool.name) else {
                skipped.push(format!(
                    "`{}`: its name would be longer than {} characters as `mcp__{server}__…`",
                    tool.name,
                    names::MAX_NAME_LEN
                ));
                continue;
            };
            if self.routes.contains_key(&exposed) {
                skipped.push(format!(
                    "`{}`: another tool of the server has the same name as `{exposed}`",
                    tool.name
                ));
                continue;
            }
            let description = names::capped_description(tool.description.as_deref().unwrap_or(""));
            self.routes
                .insert(exposed.clone(), (index, tool.name.to_string()));
            self.specs.push(McpToolSpec {
                name: exposed.clone(),
                description: description.clone(),
                input_schema: names::model_schema(&tool.input_schema),
            });
            tools.push(ToolInfo {
                name: exposed,
                tool: tool.name.to_string(),
                description,
                read_only_hint: tool.annotations.as_ref().and_then(|a| a.read_only_hint),
            });
        }
        (tools, skipped)
    }

    /// Every configured server, in the configuration's order.
    pub fn statuses(&self) -> &[ServerStatus] {
        &self.statuses
    }

    /// The tools to offer the model, server by server in the configuration's order.
    pub fn specs(&self) -> &[McpToolSpec] {
        &self.specs
    }

    /// Whether `name` is one of this hub's tools.
    pub fn has_tool(&self, name: &str) -> bool {
        self.routes.contains_key(name)
    }

    /// Calls one tool. Never panics, never fails: every problem is an error output.
    /// `output_cap` bounds the content returned.
    ///
    /// Cancel-safe: dropping the future cancels the request (the SDK tells the server).
    pub async fn call(&self, call: &ToolCall, output_cap: usize) -> ToolOutput {
        let Some((index, tool)) = self.routes.get(&call.name) else {
            return Failure::failed(format!("there is no MCP tool named `{}`", call.name))
                .into_output();
        };
        let Some(server) = self.servers.get(*index) else {
            return Failure::failed(format!("there is no MCP tool named `{}`", call.name))
                .into_output();
        };
        if let Some(reason) = server.dead_reason() {
            return Failure::failed(reason).into_output();
        }
        let arguments = match &call.input {
            serde_json::Value::Object(map) => Some(map.clone()),
            serde_json::Value::Null => None,
            other => {
                return Failure::failed(format!(
                    "the input of `{}` must be a JSON object, not {other}",
                    call.name
                ))
                .into_output();
            }
        };
        let mut params = CallToolRequestParams::new(tool.clone());
        params.arguments = arguments;
        let started = Instant::now();
        let answer = tokio::time::timeout(
            server.call_timeout,
            server.connection.peer.call_tool(params),
        )
        .await;
        let duration = started.elapsed();
        match answer {
            Ok(Ok(result)) => result::convert(
                &result::Call {
                    server: &server.name,
                    tool,
                    duration,
                    output_cap,
                },
                &result,
                &self.artifacts,
                &self.redactor,
            ),
            Ok(Err(ServiceError::McpError(error))) => {
                Failure::failed(self.redactor.redact(&format!(
                    "MCP server `{}` refused the call of `{tool}`: {} (error {})",
                    server.name, error.message, error.code.0
                )))
                .into_output()
            }
            Ok(Err(error @ (ServiceError::TransportClosed | ServiceError::TransportSend(_)))) => {
                let reason = server.died(&error).await;
                Failure::failed(self.redactor.redact(&reason)).into_output()
            }
            Ok(Err(error)) => Failure::failed(self.redactor.redact(&format!(
                "the call of `{tool}` on MCP server `{}` failed: {}",
                server.name,
                error_chain(&error)
            )))
            .into_output(),
            Err(_elapsed) => {
                let mut text = format!(
                    "MCP server `{}` did not answer `{tool}` within {} (its call_timeout); the \
                     call was cancelled",
                    server.name,
                    seconds(server.call_timeout)
                );
                if !server.answers_ping().await {
                    let reason = format!(
                        "MCP server `{}` stopped answering (a call timed out and it did not \
                         answer a ping); it was stopped, and its tools are unavailable for the \
                         rest of this run",
                        server.name
                    );
                    server.kill(reason);
                    text.push_str(". The server does not answer pings either: it was stopped, and its tools are unavailable for the rest of this run");
                }
                Failure::failed(self.redactor.redact(&text)).into_output()
            }
        }
    }

    /// Stops every server: closes the sessions, then (stdio) stdin, SIGTERM and SIGKILL to
    /// each process group. Calls after this fail.
    pub async fn shutdown(&self) {
        let mut set = Vec::new();
        for server in &self.servers {
            set.push(server.shutdown());
        }
        for s in set {
            s.await;
        }
    }
}

impl Server {
    fn dead_reason(&self) -> Option<String> {
        match self.dead.lock() {
            Ok(d) => d.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn mark_dead(&self, reason: &str) {
        let mut dead = match self.dead.lock() {
            Ok(d) => d,
            Err(poisoned) => poisoned.into_inner(),
        };
        if dead.is_none() {
            *dead = Some(reason.to_owned());
        }
    }

    /// The connection broke: says why, as well as can be known, and marks the server dead.
    async fn died(&self, error: &ServiceError) -> String {
        let mut reason = match &self.connection.process {
            Some(process) => {
                let how = match process.exit_status(Duration::from_millis(500)).await {
                    Some(status) => format!("exited ({})", describe_exit(status)),
                    None => "closed its connection".to_owned(),
                };
                process.kill();
                let mut text = format!(
                    "MCP server `{}` {how}; its tools are unavailable for the rest of this run",
                    self.name
                );
                append_stderr(&mut text, &process.stderr_tail());
                text
            }
            None => format!(
                "the connection to MCP server `{}` broke ({}); its tools are unavailable for \
                 the rest of this run",
                self.name,
                error_chain(error)
            ),
        };
        if let Some(earlier) = self.dead_reason() {
            reason = earlier;
        }
        self.mark_dead(&reason);
        reason
    }

    async fn answers_ping(&self) -> bool {
        let ping = ClientRequest::PingRequest(rmcp::model::PingRequest::default());
        matches!(
            tokio::time::timeout(PING_TIMEOUT, self.connection.peer.send_request(ping)).await,
            Ok(Ok(_))
        )
    }

    fn kill(&self, reason: String) {
        self.mark_dead(&reason);
        if let Some(process) = &self.connection.process {
            process.kill();
        }
    }

    async fn shutdown(&self) {
        self.mark_dead(&format!(
            "MCP server `{}` was stopped: the run is ending",
            self.name
        ));
        let service = self.connection.service.lock().await.take();
        if let Some(mut service) = service {
            let _ = service.close_with_timeout(SHUTDOWN_GRACE).await;
        }
        if let Some(process) = &self.connection.process {
            process.shutdown(SHUTDOWN_GRACE).await;
        }
    }
}

fn transport_name(server: &McpServer) -> &'static str {
    match server.transport {
        McpTransport::Stdio { .. } => "stdio",
        McpTransport::Http { .. } => "http",
    }
}

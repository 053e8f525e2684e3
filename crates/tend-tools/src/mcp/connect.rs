//! Connecting to one server: start or reach it, the MCP handshake, `tools/list`, all within
//! the startup timeout; on failure a reason written for the user (with the end of a stdio
//! server's stderr), and nothing left running.

use std::collections::HashMap;
use std::time::Duration;

use rmcp::model::{
    ClientCapabilities, ClientConfig, Implementation, ProtocolVersion, Tool as McpTool,
};
use rmcp::service::{Peer, RoleClient, RunningService, ServiceExt};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;

use super::launch::Launch;
use super::stdio::{self, StdioProcess};

/// One live connection.
pub(crate) struct Connection {
    pub service: tokio::sync::Mutex<Option<RunningService<RoleClient, ClientConfig>>>,
    pub peer: Peer<RoleClient>,
    /// The child process of a stdio server.
    pub process: Option<StdioProcess>,
    pub tools: Vec<McpTool>,
    /// `name version` as the server says.
    pub server_info: Option<String>,
    pub protocol_version: String,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("server_info", &self.server_info)
            .field("tools", &self.tools.len())
            .finish_non_exhaustive()
    }
}

/// What tend says about itself in the handshake. The protocol version is the newest one
/// that still has an `initialize` handshake, which every server in use today understands.
pub fn client_info() -> ClientConfig {
    ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("tend", env!("CARGO_PKG_VERSION")),
    )
    .with_protocol_version(ProtocolVersion::V_2025_11_25)
}

/// Installs rustls' ring provider as the process default, once. reqwest is built without a
/// provider of its own (`rustls-no-provider`) so that aws-lc-rs is never compiled; this does
/// what `tend_model::install_tls_provider` does, without tend-tools depending on tend-model.
pub fn install_tls_provider() {
    // An error means a provider is installed already, which serves just as well.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub(crate) async fn connect(launch: &Launch, timeout: Duration) -> Result<Connection, String> {
    match launch {
        Launch::Stdio {
            program,
            args,
            env,
            cwd,
        } => {
            let (process, stdout, stdin) =
                stdio::spawn(program, args, env, cwd).map_err(|e| spawn_error(program, cwd, &e))?;
            let started = tokio::time::timeout(timeout, handshake((stdout, stdin))).await;
            match started {
                Ok(Ok((service, tools))) => Ok(connection(service, tools, Some(process))),
                Ok(Err(reason)) => {
                    let exit = process.exit_status(Duration::from_millis(500)).await;
                    process.kill();
                    let mut text = match exit {
                        Some(status) => format!(
                            "the server ended ({}) before it was ready",
                            stdio::describe_exit(status)
                        ),
                        None => format!("the handshake failed: {reason}"),
                    };
                    append_stderr(&mut text, &process.stderr_tail());
                    Err(text)
                }
                Err(_elapsed) => {
                    process.kill();
                    let mut text = format!(
                        "the server did not complete the MCP handshake within {}",
                        seconds(timeout)
                    );
                    append_stderr(&mut text, &process.stderr_tail());
                    Err(text)
                }
            }
        }
        Launch::Http {
            url,
            headers,
            bearer,
        } => {
            install_tls_provider();
            let mut builder = reqwest::Client::builder()
                .user_agent(concat!("tend/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(timeout)
                // As the SDK's own client: idle pooled connections stall on delayed ACKs.
                .pool_max_idle_per_host(0)
                // A redirect would carry the headers (and the token) somewhere else.
                .redirect(reqwest::redirect::Policy::none());
            if is_loopback_url(url) {
                builder = builder.no_proxy();
            }
            let client = builder
                .build()
                .map_err(|e| format!("cannot set up HTTP: {}", error_chain(&e)))?;
            let mut custom = HashMap::new();
            for (name, value, secret) in headers {
                let header = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| format!("`{name}` is not a valid HTTP header name"))?;
                let mut value = reqwest::header::HeaderValue::from_str(value)
                    .map_err(|_| format!("header `{name}` has a value HTTP cannot carry"))?;
                value.set_sensitive(*secret);
                custom.insert(header, value);
            }
            let mut config =
                StreamableHttpClientTransportConfig::with_uri(url.as_str()).custom_headers(custom);
            if let Some(token) = bearer {
                config = config.auth_header(token.clone());
            }
            let transport = StreamableHttpClientTransport::with_client(client, config);
            match tokio::time::timeout(timeout, handshake(transport)).await {
                Ok(Ok((service, tools))) => Ok(connection(service, tools, None)),
                Ok(Err(reason)) => Err(format!("cannot connect to {url}: {reason}")),
                Err(_elapsed) => Err(format!(
                    "{url} did not complete the MCP handshake within {}",
                    seconds(timeout)
                )),
            }
        }
    }
}

async fn handshake<T, E, A>(
    transport: T,
) -> Result<(RunningService<RoleClient, ClientConfig>, Vec<McpTool>), String>
where
    T: rmcp::transport::IntoTransport<RoleClient, E, A>,
    E: std::error::Error + Send + Sync + 'static,
{
    let service = client_info()
        .serve(transport)
        .await
        .map_err(|e| error_chain(&e))?;
    let tools = service
        .peer()
        .list_all_tools()
        .await
        .map_err(|e| format!("tools/list failed: {}", error_chain(&e)))?;
    Ok((service, tools))
}

fn connection(
    service: RunningService<RoleClient, ClientConfig>,
    tools: Vec<McpTool>,
    process: Option<StdioProcess>,
) -> Connection {
    let peer = service.peer().clone();
    let info = peer.peer_info();
    let server_info = info
        .as_ref()
        .and_then(|i| i.server_info.as_ref())
        .map(|s| format!("{} {}", s.name, s.version));
    let protocol_version = info
        .as_ref()
        .map(|i| i.protocol_version.to_string())
        .unwrap_or_default();
    Connection {
        service: tokio::sync::Mutex::new(Some(service)),
        peer,
        process,
        tools,
        server_info,
        protocol_version,
    }
}

fn spawn_error(program: &str, cwd: &std::path::Path, e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound if !cwd.is_dir() => {
            format!(
                "cannot start `{program}`: its folder {} does not exist",
                cwd.display()
            )
        }
        std::io::ErrorKind::NotFound => {
            format!("cannot start `{program}`: no such program (is it installed and on PATH?)")
        }
        std::io::ErrorKind::PermissionDenied => {
            format!("cannot start `{program}`: permission denied")
        }
        _ => format!("cannot start `{program}`: {e}"),
    }
}

pub(crate) fn append_stderr(text: &mut String, stderr: &str) {
    if !stderr.is_empty() {
        text.push_str("; its stderr ends with:\n");
        text.push_str(stderr);
    }
}

/// An error and its sources, each said once.
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}

pub(crate) fn seconds(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

fn is_loopback_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or(url);
    let host = rest.split(['/', '?']).next().unwrap_or("");
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.split(']').next().map_or(host, |h| &h[1..])
    } else {
        host.split(':').next().unwrap_or(host)
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls() {
        for url in [
            "http://127.0.0.1:3001/mcp",
            "http://localhost/mcp",
            "http://[::1]:80/mcp",
        ] {
            assert!(is_loopback_url(url), "{url}");
        }
        for url in ["https://mcp.linear.app/mcp", "http://10.0.0.1/mcp"] {
            assert!(!is_loopback_url(url), "{url}");
        }
    }

    #[test]
    fn durations_in_words() {
        assert_eq!(seconds(Duration::from_secs(30)), "30s");
        assert_eq!(seconds(Duration::from_millis(1500)), "1.5s");
    }
}

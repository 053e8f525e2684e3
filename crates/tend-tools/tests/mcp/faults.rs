//! Servers that crash, hang, never finish the handshake, leave processes behind, or refuse
//! the token: the run always gets an answer, and nothing is left running.

use std::collections::BTreeMap;
use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::json;
use tend_config::McpTransport;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::*;

fn fake(mode: &str, extra: &[&str]) -> tend_config::McpServer {
    let js = fake_js();
    let mut args = vec![js.as_str(), mode];
    args.extend_from_slice(extra);
    stdio(&node(), &args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_exits_mid_call_gives_a_tool_error_and_stays_down() {
    let fx = Fx::new();
    let hub = fx.start(&[("flaky", fake("crash", &[]))]).await;
    let out = call(&hub, "mcp__flaky__boom", json!({})).await;
    assert!(out.is_error);
    assert_eq!(
        out.content,
        "MCP server `flaky` exited (exit code 3); its tools are unavailable for the rest of \
         this run; its stderr ends with:\nfake server: giving up in the middle of boom"
    );
    // No restart: the next call says the same at once.
    let again = call(&hub, "mcp__flaky__boom", json!({})).await;
    assert_eq!(again.content, out.content);
    hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_times_out_and_is_stopped() {
    let fx = Fx::new();
    let mut server = fake("hang", &[]);
    server.call_timeout = Some(Duration::from_millis(300));
    let hub = fx.start(&[("stuck", server)]).await;
    let out = call(&hub, "mcp__stuck__wait", json!({})).await;
    assert_eq!(
        (out.content.as_str(), out.is_error),
        (
            "MCP server `stuck` did not answer `wait` within 0.3s (its call_timeout); the call \
             was cancelled. The server does not answer pings either: it was stopped, and its \
             tools are unavailable for the rest of this run",
            true
        )
    );
    let again = call(&hub, "mcp__stuck__wait", json!({})).await;
    assert_eq!(
        again.content,
        "MCP server `stuck` stopped answering (a call timed out and it did not answer a ping); \
         it was stopped, and its tools are unavailable for the rest of this run"
    );
    hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_call_times_out_but_a_server_that_answers_pings_stays() {
    let fx = Fx::new();
    let mut server = fake("slow", &[]);
    server.call_timeout = Some(Duration::from_millis(200));
    let hub = fx.start(&[("slowpoke", server)]).await;
    let out = call(&hub, "mcp__slowpoke__slow", json!({})).await;
    assert_eq!(
        out.content,
        "MCP server `slowpoke` did not answer `slow` within 0.2s (its call_timeout); the call \
         was cancelled"
    );
    let status_ok = hub
        .statuses()
        .iter()
        .all(|s| matches!(s.state, tend_tools::mcp::ServerState::Ready { .. }));
    assert!(status_ok);
    // Still routed to the server (which times out again), not refused as dead.
    let again = call(&hub, "mcp__slowpoke__slow", json!({})).await;
    assert!(
        again
            .content
            .starts_with("MCP server `slowpoke` did not answer"),
        "{}",
        again.content
    );
    hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_says_hello_fails_its_startup_timeout() {
    let fx = Fx::new();
    let mut server = fake("nohello", &[]);
    server.startup_timeout = Some(Duration::from_millis(500));
    let hub = fx.start(&[("mute", server)]).await;
    assert_eq!(
        failure(&hub, "mute"),
        "the server did not complete the MCP handshake within 0.5s"
    );
    assert!(hub.specs().is_empty());
}

fn spawned_pid(fx: &Fx) -> u32 {
    std::fs::read_to_string(fx.base.join("pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_leaves_no_process_of_the_server_behind() {
    let fx = Fx::new();
    let pidfile = fx.base.join("pid").display().to_string();
    let hub = fx.start(&[("kids", fake("spawn", &[&pidfile]))]).await;
    let out = call(&hub, "mcp__kids__echo", json!({"message": "hi"})).await;
    assert_eq!(out.content, "hi");
    let grandchild = spawned_pid(&fx);
    assert!(!is_gone(grandchild), "the server's child should be running");
    // The server exits when stdin closes, but its `sleep` child would outlive it.
    hub.shutdown().await;
    assert!(
        wait_gone(grandchild).await,
        "pid {grandchild} outlived shutdown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_hub_kills_the_process_groups_too() {
    let fx = Fx::new();
    let pidfile = fx.base.join("pid").display().to_string();
    let hub = fx.start(&[("kids", fake("spawn", &[&pidfile]))]).await;
    let grandchild = spawned_pid(&fx);
    assert!(!is_gone(grandchild));
    drop(hub);
    assert!(
        wait_gone(grandchild).await,
        "pid {grandchild} outlived the hub"
    );
}

/// A one-shot HTTP endpoint that records the first request's head and answers 401.
async fn recording_401() -> (String, tokio::task::JoinHandle<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        let body = "{\"error\":\"bad token\"}";
        let reply = format!(
            "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        socket.write_all(reply.as_bytes()).await.unwrap();
        String::from_utf8_lossy(&head).to_lowercase()
    });
    (url, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_servers_get_headers_and_the_bearer_token_which_never_shows() {
    let (url, recorded) = recording_401().await;
    let mut fx = Fx::new();
    fx.env
        .push(("REMOTE_TOKEN".into(), "tok-do-not-leak-42".into()));
    fx.env.push(("TEAM".into(), "core-team".into()));
    let mut config = http(&url);
    if let McpTransport::Http {
        headers,
        bearer_token_env,
        ..
    } = &mut config.transport
    {
        *headers = BTreeMap::from([("X-Team".to_owned(), "${TEAM}".to_owned())]);
        *bearer_token_env = Some("REMOTE_TOKEN".to_owned());
    }
    let hub = fx.start(&[("remote", config)]).await;
    let head = recorded.await.unwrap();
    assert!(
        head.contains("authorization: bearer tok-do-not-leak-42\r\n"),
        "{head}"
    );
    assert!(head.contains("x-team: core-team\r\n"), "{head}");
    let reason = failure(&hub, "remote");
    assert!(
        reason.starts_with(&format!("cannot connect to {url}: ")),
        "{reason}"
    );
    let everything = format!(
        "{reason} {:?} {}",
        hub,
        serde_json::to_string(hub.statuses()).unwrap()
    );
    assert!(!everything.contains("do-not-leak"), "{everything}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_token_variable_is_a_startup_failure_naming_it() {
    let fx = Fx::new();
    let mut config = http("http://127.0.0.1:9/mcp");
    if let McpTransport::Http {
        bearer_token_env, ..
    } = &mut config.transport
    {
        *bearer_token_env = Some("NOT_SET_ANYWHERE".to_owned());
    }
    let hub = fx.start(&[("remote", config)]).await;
    assert_eq!(
        failure(&hub, "remote"),
        "`bearer_token_env = \"NOT_SET_ANYWHERE\"` but NOT_SET_ANYWHERE is not set (or empty); \
         export it before tend starts"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_tool_routes_mcp_calls_to_the_workspace_hub() {
    let fx = Fx::new();
    let pidfile = fx.base.join("pid").display().to_string();
    let hub = std::sync::Arc::new(fx.start(&[("kids", fake("spawn", &[&pidfile]))]).await);
    let root = fx.base.join("ws");
    std::fs::create_dir_all(&root).unwrap();
    let plain = tend_tools::Workspace::new(&root, &fx.base.join("tmp")).unwrap();
    let call = tend_tools::ToolCall {
        id: "c".into(),
        name: "mcp__kids__echo".into(),
        input: json!({"message": "routed"}),
    };
    let limits = tend_tools::Limits::default();
    let without = tend_tools::run_tool(&plain, &call, &limits).await;
    assert_eq!(
        (without.content.as_str(), without.is_error),
        (
            "there is no tool named \"mcp__kids__echo\": this run has no MCP servers",
            true
        )
    );
    let ws = plain.with_mcp(std::sync::Arc::clone(&hub));
    let with = tend_tools::run_tool(&ws, &call, &limits).await;
    assert_eq!((with.content.as_str(), with.is_error), ("routed", false));
    hub.shutdown().await;
}

//! `@modelcontextprotocol/server-everything` over stdio and over streamable HTTP.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::json;
use tend_config::McpTransport;
use tend_tools::ToolDetail;
use tend_tools::mcp::ServerState;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::common::*;

fn everything_stdio() -> tend_config::McpServer {
    stdio(&node(), &[&everything_js(), "stdio"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_server_lists_tools_and_answers_calls() {
    let fx = Fx::new();
    let hub = fx.start(&[("everything", everything_stdio())]).await;
    let names = tool_names(&hub, "everything");
    for expected in [
        "mcp__everything__echo",
        "mcp__everything__get-sum",
        "mcp__everything__get-tiny-image",
        "mcp__everything__get-structured-content",
    ] {
        assert!(
            names.contains(&expected.to_owned()),
            "{expected} in {names:?}"
        );
    }
    let status = &hub.statuses()[0];
    assert_eq!(
        (status.transport, status.name.as_str()),
        ("stdio", "everything")
    );
    let ServerState::Ready {
        protocol_version,
        server_info,
        ..
    } = &status.state
    else {
        panic!("not ready")
    };
    assert_eq!(protocol_version, "2025-11-25");
    assert!(server_info.as_deref().unwrap_or("").contains("everything"));

    let echo = hub
        .specs()
        .iter()
        .find(|s| s.name == "mcp__everything__echo")
        .unwrap();
    assert_eq!(echo.description, "Echoes back the input string");
    assert_eq!(
        echo.input_schema,
        json!({
            "type": "object",
            "properties": {"message": {"type": "string", "description": "Message to echo"}},
            "required": ["message"]
        })
    );

    let out = call(&hub, "mcp__everything__echo", json!({"message": "hello"})).await;
    assert_eq!((out.content.as_str(), out.is_error), ("Echo: hello", false));
    let ToolDetail::Mcp {
        server,
        tool,
        content_kinds,
        bytes,
        ..
    } = &out.detail
    else {
        panic!("{:?}", out.detail)
    };
    assert_eq!(
        (
            server.as_str(),
            tool.as_str(),
            content_kinds.clone(),
            *bytes
        ),
        ("everything", "echo", vec!["text".to_owned()], 11)
    );

    let sum = call(&hub, "mcp__everything__get-sum", json!({"a": 2, "b": 3})).await;
    assert_eq!(sum.content, "The sum of 2 and 3 is 5.");

    // Structured content that the server also sends as text is said once.
    let weather = call(
        &hub,
        "mcp__everything__get-structured-content",
        json!({"location": "Chicago"}),
    )
    .await;
    let value: serde_json::Value = serde_json::from_str(&weather.content).unwrap();
    assert!(value.get("temperature").is_some(), "{}", weather.content);

    // Images are saved under the artifacts folder, never inlined.
    let image = call(&hub, "mcp__everything__get-tiny-image", json!({})).await;
    let saved = fx.base.join("artifacts/001-everything-get-tiny-image.png");
    assert!(
        image.content.contains(&format!(
            "[image 1: image/png, {} KB, saved to {}]",
            std::fs::metadata(&saved).unwrap().len().div_ceil(1024),
            saved.display()
        )),
        "{}",
        image.content
    );
    assert!(std::fs::read(&saved).unwrap().starts_with(b"\x89PNG"));
    assert!(
        !image.content.contains("iVBOR"),
        "base64 leaked into the content"
    );

    // The server's own validation error comes back as an error output; the server lives on.
    let bad = call(&hub, "mcp__everything__get-sum", json!({"a": "x"})).await;
    assert!(bad.is_error, "{}", bad.content);
    let again = call(
        &hub,
        "mcp__everything__echo",
        json!({"message": "still here"}),
    )
    .await;
    assert_eq!(again.content, "Echo: still here");

    let unknown = call(&hub, "mcp__everything__nope", json!({})).await;
    assert_eq!(
        (unknown.content.as_str(), unknown.is_error),
        ("there is no MCP tool named `mcp__everything__nope`", true)
    );
    hub.shutdown().await;
    let after = call(&hub, "mcp__everything__echo", json!({"message": "x"})).await;
    assert_eq!(
        (after.content.as_str(), after.is_error),
        (
            "MCP server `everything` was stopped: the run is ending",
            true
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_servers_see_no_secrets_but_those_named_and_never_show_them() {
    let mut fx = Fx::new();
    fx.env
        .push(("ANTHROPIC_API_KEY".into(), "sk-ant-do-not-leak-1".into()));
    fx.env
        .push(("DEPLOY_TOKEN".into(), "tok-do-not-leak-2".into()));
    let mut server = everything_stdio();
    if let McpTransport::Stdio { env, .. } = &mut server.transport {
        *env = BTreeMap::from([("SERVICE_TOKEN".to_owned(), "${DEPLOY_TOKEN}".to_owned())]);
    }
    let hub = fx.start(&[("everything", server)]).await;
    if !tool_names(&hub, "everything").contains(&"mcp__everything__get-env".to_owned()) {
        panic!("server-everything no longer has get-env; pick another way to see its environment");
    }
    let out = call(&hub, "mcp__everything__get-env", json!({})).await;
    let env: serde_json::Value = serde_json::from_str(&out.content).unwrap();
    // Named secrets reach the server (blanked in what comes back), others do not at all.
    assert_eq!(env["SERVICE_TOKEN"], "[redacted]");
    assert_eq!(env.get("ANTHROPIC_API_KEY"), None);
    assert!(!out.content.contains("do-not-leak"), "{}", out.content);
    hub.shutdown().await;
}

/// server-everything's streamable HTTP mode on a free port of 127.0.0.1; killed on drop.
struct HttpServer {
    child: tokio::process::Child,
    url: String,
}

impl HttpServer {
    async fn start() -> HttpServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = tokio::process::Command::new(node())
            .args([&everything_js(), "streamableHttp"])
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let ready = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains("listening on port") {
                    return true;
                }
            }
            false
        })
        .await;
        assert_eq!(ready, Ok(true), "server-everything did not start listening");
        HttpServer {
            child,
            url: format!("http://127.0.0.1:{port}/mcp"),
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamable_http_server_lists_tools_and_answers_calls() {
    let server = HttpServer::start().await;
    let mut fx = Fx::new();
    fx.env
        .push(("EVERYTHING_TOKEN".into(), "bearer-do-not-leak".into()));
    let mut config = http(&server.url);
    if let McpTransport::Http {
        headers,
        bearer_token_env,
        ..
    } = &mut config.transport
    {
        *headers = BTreeMap::from([("X-Team".to_owned(), "core".to_owned())]);
        *bearer_token_env = Some("EVERYTHING_TOKEN".to_owned());
    }
    let hub = fx.start(&[("remote", config)]).await;
    assert_eq!(hub.statuses()[0].transport, "http");
    assert!(tool_names(&hub, "remote").contains(&"mcp__remote__get-sum".to_owned()));
    let sum = call(&hub, "mcp__remote__get-sum", json!({"a": 40, "b": 2})).await;
    assert_eq!(
        (sum.content.as_str(), sum.is_error),
        ("The sum of 40 and 2 is 42.", false)
    );
    let echo = call(&hub, "mcp__remote__echo", json!({"message": "over http"})).await;
    assert_eq!(echo.content, "Echo: over http");
    assert!(!format!("{hub:?}").contains("do-not-leak"));
    hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_start_together_and_one_that_fails_leaves_the_others() {
    let fx = Fx::new();
    let mut disabled = everything_stdio();
    disabled.enabled = false;
    let hub = fx
        .start(&[
            ("good", everything_stdio()),
            ("missing", stdio("tend-no-such-mcp-server", &[])),
            ("refused", http("http://127.0.0.1:9/mcp")),
            ("off", disabled),
        ])
        .await;
    assert!(tool_names(&hub, "good").contains(&"mcp__good__echo".to_owned()));
    assert_eq!(
        failure(&hub, "missing"),
        "cannot start `tend-no-such-mcp-server`: no such program (is it installed and on PATH?)"
    );
    assert!(
        failure(&hub, "refused").starts_with("cannot connect to http://127.0.0.1:9/mcp: "),
        "{}",
        failure(&hub, "refused")
    );
    let states: Vec<(&str, bool)> = hub
        .statuses()
        .iter()
        .map(|s| (s.name.as_str(), matches!(s.state, ServerState::Disabled)))
        .collect();
    assert_eq!(
        states,
        vec![
            ("good", false),
            ("missing", false),
            ("off", true),
            ("refused", false)
        ]
    );
    assert!(
        hub.specs()
            .iter()
            .all(|s| s.name.starts_with("mcp__good__"))
    );
    hub.shutdown().await;
}

//! The client under test for `@modelcontextprotocol/conformance`'s client scenarios: the suite
//! starts a test server per scenario and runs this with its URL (and the scenario's name in
//! `MCP_CONFORMANCE_SCENARIO`). It does what a run does: connect, list the tools, call them
//! (each with arguments made from its schema), disconnect.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Value, json};
use tend_config::{McpServer, McpTransport};
use tend_tools::ToolCall;
use tend_tools::mcp::ServerState;

use super::ConformanceArgs;
use super::list::connect;
use crate::context::Context;
use crate::exit::FAILURE;

pub fn run(ctx: &Context, args: &ConformanceArgs) -> anyhow::Result<ExitCode> {
    let server = McpServer {
        transport: McpTransport::Http {
            url: args.url.clone(),
            headers: BTreeMap::new(),
            bearer_token_env: None,
        },
        startup_timeout: Some(Duration::from_secs(20)),
        call_timeout: Some(Duration::from_secs(20)),
        enabled: true,
    };
    let hub = connect(ctx, &BTreeMap::from([("conformance".to_owned(), server)]));
    if let Some(ServerState::Failed { reason }) = hub.statuses().first().map(|s| &s.state) {
        eprintln!("cannot connect: {reason}");
        return Ok(ExitCode::from(FAILURE));
    }
    let specs = hub.specs().to_vec();
    for spec in specs {
        let call = ToolCall {
            id: spec.name.clone(),
            name: spec.name.clone(),
            input: arguments_for(&spec.input_schema),
        };
        let output = ctx.block_on(hub.call(&call, 30_000));
        println!(
            "{} {}: {}",
            if output.is_error { "✗" } else { "✓" },
            spec.name,
            output.content
        );
    }
    ctx.block_on(hub.shutdown());
    Ok(ExitCode::SUCCESS)
}

/// Plausible arguments: every required property, from its default, its first enum value, or
/// a value of its type.
fn arguments_for(schema: &Value) -> Value {
    let mut args = serde_json::Map::new();
    let properties = schema.get("properties").and_then(Value::as_object);
    let required = schema.get("required").and_then(Value::as_array);
    if let (Some(properties), Some(required)) = (properties, required) {
        for name in required.iter().filter_map(Value::as_str) {
            let property = properties.get(name).cloned().unwrap_or(json!({}));
            args.insert(name.to_owned(), example(&property));
        }
    }
    Value::Object(args)
}

fn example(property: &Value) -> Value {
    if let Some(default) = property.get("default") {
        return default.clone();
    }
    if let Some(first) = property
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    match property.get("type").and_then(Value::as_str) {
        Some("number" | "integer") => json!(1),
        Some("boolean") => json!(true),
        Some("array") => json!([]),
        Some("object") => json!({}),
        _ => json!("tend"),
    }
}

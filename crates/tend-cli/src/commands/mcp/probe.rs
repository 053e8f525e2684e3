//! `tend mcp probe`: one server, by hand: connect, list its tools, maybe call one.

use std::collections::BTreeMap;
use std::process::ExitCode;

use tend_config::{McpServer, McpTransport};
use tend_tools::ToolCall;
use tend_tools::mcp::{ServerState, exposed_name};

use super::ProbeArgs;
use super::list::{connect, print_statuses};
use crate::context::Context;
use crate::exit::{FAILURE, invalid};
use crate::output::{print_json, say};

/// The name the probed server gets in tool names (`mcp__probe__<tool>`).
const NAME: &str = "probe";

pub fn run(ctx: &Context, args: &ProbeArgs) -> anyhow::Result<ExitCode> {
    let server = server_from_args(args)?;
    let arguments = match &args.args {
        Some(text) => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(v @ serde_json::Value::Object(_)) => v,
            Ok(_) | Err(_) => {
                return Err(invalid(
                    format!("--args {text}: not a JSON object"),
                    Some("write the arguments as an object: --args '{\"a\": 1, \"b\": 2}'"),
                ));
            }
        },
        None => serde_json::json!({}),
    };
    let hub = connect(ctx, &BTreeMap::from([(NAME.to_owned(), server)]));
    let ready = hub
        .statuses()
        .iter()
        .all(|s| matches!(s.state, ServerState::Ready { .. }));
    let mut code = if ready {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(FAILURE)
    };
    let mut result = None;
    if let (true, Some(tool)) = (ready, &args.call) {
        let name = exposed_name(NAME, tool).unwrap_or_default();
        if !hub.has_tool(&name) {
            ctx.block_on(hub.shutdown());
            return Err(invalid(
                format!("the server has no tool `{tool}`"),
                Some("run the probe without --call to see its tools"),
            ));
        }
        let call = ToolCall {
            id: "probe".into(),
            name,
            input: arguments,
        };
        let output = ctx.block_on(hub.call(&call, usize::MAX));
        if output.is_error {
            code = ExitCode::from(FAILURE);
        }
        result = Some(output);
    }
    if args.json {
        print_json(&serde_json::json!({
            "server": hub.statuses().first(),
            "call": result,
        }))?;
    } else {
        print_statuses(hub.statuses())?;
        if let (Some(output), Some(tool)) = (&result, &args.call) {
            say!("");
            let mark = if output.is_error { "✗" } else { "✓" };
            say!("{mark} {tool}");
            say!("{}", output.content);
        }
    }
    ctx.block_on(hub.shutdown());
    Ok(code)
}

fn server_from_args(args: &ProbeArgs) -> anyhow::Result<McpServer> {
    let timeout = tend_schedule::parse_duration(&args.timeout)
        .map_err(|e| invalid(format!("--timeout {}: {e}", args.timeout), None))?;
    let Some((first, rest)) = args.target.split_first() else {
        return Err(invalid("name a URL or a command to probe", None));
    };
    let is_url = first.starts_with("http://") || first.starts_with("https://");
    let transport = if is_url {
        if !rest.is_empty() || !args.env.is_empty() {
            return Err(invalid(
                "a URL takes no arguments or --env",
                Some("--header and --bearer-env go with a URL; arguments and --env with a command"),
            ));
        }
        McpTransport::Http {
            url: first.clone(),
            headers: pairs(&args.header, "--header")?,
            bearer_token_env: args.bearer_env.clone(),
        }
    } else {
        if !args.header.is_empty() || args.bearer_env.is_some() {
            return Err(invalid(
                "--header and --bearer-env go with a URL, not a command",
                None,
            ));
        }
        McpTransport::Stdio {
            command: first.clone(),
            args: rest.to_vec(),
            env: pairs(&args.env, "--env")?,
            cwd: None,
        }
    };
    Ok(McpServer {
        transport,
        startup_timeout: Some(timeout),
        call_timeout: Some(timeout),
        enabled: true,
    })
}

fn pairs(items: &[String], flag: &str) -> anyhow::Result<BTreeMap<String, String>> {
    items
        .iter()
        .map(|item| match item.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
            _ => Err(invalid(format!("{flag} {item}: expected NAME=value"), None)),
        })
        .collect()
}

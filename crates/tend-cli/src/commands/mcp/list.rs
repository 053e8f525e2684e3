//! `tend mcp list`: connect to each configured server, say how it went and what it offers.

use std::collections::BTreeMap;
use std::process::ExitCode;

use tend_config::McpServer;
use tend_tools::mcp::{McpHub, ServerState, ServerStatus};

use super::{ListArgs, hub_options};
use crate::catalog::{Catalog, Reach, registered_roots};
use crate::context::Context;
use crate::exit::{FAILURE, InvalidInput};
use crate::output::{print_json, say};

pub fn run(ctx: &Context, args: &ListArgs) -> anyhow::Result<ExitCode> {
    let (servers, whose) = match &args.task {
        Some(name) => {
            let store = ctx.store()?;
            let catalog = Catalog::load(ctx, Reach::Everywhere(registered_roots(ctx, &store)?))?;
            ctx.block_on(store.close());
            let entry = catalog.find(ctx, name)?;
            match &entry.resolved {
                Ok(task) => (task.mcp.clone(), format!("task {}", entry.qualified())),
                Err(errors) => {
                    return Err(anyhow::Error::new(InvalidInput(
                        tend_config::render_errors(errors),
                    )));
                }
            }
        }
        None => {
            let user = ctx.user_config()?;
            let config = match &ctx.project {
                Some(p) => ctx.project_config(&user, &p.root)?,
                None => user,
            };
            (config.mcp, "the config".to_owned())
        }
    };
    let hub = connect(ctx, &servers);
    let failed = hub
        .statuses()
        .iter()
        .any(|s| matches!(s.state, ServerState::Failed { .. }));
    if args.json {
        print_json(&hub.statuses())?;
    } else if hub.statuses().is_empty() {
        say!(
            "no MCP servers in {whose}; add `[mcp.servers.NAME]` to a config or task file, or run `tend mcp import`"
        );
    } else {
        print_statuses(hub.statuses())?;
    }
    ctx.block_on(hub.shutdown());
    Ok(if failed {
        ExitCode::from(FAILURE)
    } else {
        ExitCode::SUCCESS
    })
}

pub(super) fn connect(ctx: &Context, servers: &BTreeMap<String, McpServer>) -> McpHub {
    let options = hub_options(ctx);
    ctx.block_on(McpHub::start(servers, &options))
}

pub(super) fn print_statuses(statuses: &[ServerStatus]) -> anyhow::Result<()> {
    for (i, status) in statuses.iter().enumerate() {
        if i > 0 {
            say!("");
        }
        let took = format!("{:.1}s", status.startup_ms as f64 / 1000.0);
        match &status.state {
            ServerState::Ready {
                server_info,
                tools,
                skipped,
                ..
            } => {
                let who = server_info
                    .as_deref()
                    .map(|s| format!("{s}, "))
                    .unwrap_or_default();
                say!(
                    "{}  {}  {}  ok ({who}{} tools, {took})",
                    status.name,
                    status.transport,
                    status.target,
                    tools.len()
                );
                let width = tools.iter().map(|t| t.name.len()).max().unwrap_or(0);
                for tool in tools {
                    let first = tool.description.lines().next().unwrap_or("");
                    say!("  {:width$}  {}", tool.name, shorten(first, 90));
                }
                for s in skipped {
                    say!("  ! not offered: {s}");
                }
            }
            ServerState::Failed { reason } => {
                say!(
                    "{}  {}  {}  failed ({took})",
                    status.name,
                    status.transport,
                    status.target
                );
                for line in reason.lines() {
                    say!("  {line}");
                }
            }
            ServerState::Disabled => {
                say!(
                    "{}  {}  {}  disabled (enabled = false)",
                    status.name,
                    status.transport,
                    status.target
                );
            }
        }
    }
    Ok(())
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

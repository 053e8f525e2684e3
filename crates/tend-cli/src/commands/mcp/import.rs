//! `tend mcp import [PATH]`: servers from Claude Code's config into tend's `config.toml`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tend_config::{McpAdded, OnExisting, ProjectPaths};

use super::ImportArgs;
use super::claude::{self, Imported};
use crate::cli::ScopeArg;
use crate::context::Context;
use crate::exit::invalid;
use crate::output::say;

pub fn run(ctx: &Context, args: &ImportArgs) -> anyhow::Result<ExitCode> {
    let project_root = ctx.project.as_ref().map(|p| p.root.clone());
    let sources: Vec<PathBuf> = match &args.path {
        Some(path) => {
            let path = ctx.cwd.join(path);
            if !path.is_file() {
                return Err(invalid(format!("{}: no such file", path.display()), None));
            }
            vec![path]
        }
        None => {
            let mut found = Vec::new();
            if let Some(root) = &project_root {
                found.push(root.join(".mcp.json"));
            }
            if let Some(home) = std::env::var_os("HOME") {
                found.push(PathBuf::from(home).join(".claude.json"));
            }
            found.retain(|p| p.is_file());
            if found.is_empty() {
                return Err(invalid(
                    "found neither this project's .mcp.json nor ~/.claude.json",
                    Some("name the file: tend mcp import path/to/.mcp.json"),
                ));
            }
            found
        }
    };
    let project_key = project_root.as_deref().unwrap_or(&ctx.cwd);
    let mut imported: Vec<Imported> = Vec::new();
    for source in &sources {
        let text = std::fs::read_to_string(source)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", source.display()))?;
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| invalid(format!("{}: not JSON: {e}", ctx.display_path(source)), None))?;
        let (servers, skipped) = claude::servers_of(&json, Some(project_key));
        for s in skipped {
            say!(
                "skipped {} from {}: {}",
                s.name,
                ctx.display_path(source),
                s.reason
            );
        }
        for server in servers {
            imported.retain(|i| i.name != server.name);
            imported.push(server);
        }
    }
    if imported.is_empty() {
        say!("no MCP servers to import");
        return Ok(ExitCode::SUCCESS);
    }
    let target = match args.scope {
        ScopeArg::User => ctx.paths.config_file.clone(),
        ScopeArg::Project => match &project_root {
            Some(root) => ProjectPaths::new(root).config_file,
            None => {
                return Err(invalid(
                    "--scope project needs a project (a folder with .tend/ or a git repository)",
                    None,
                ));
            }
        },
    };
    let on_existing = if args.force {
        OnExisting::Replace
    } else {
        OnExisting::Keep
    };
    let servers: Vec<(String, tend_config::McpServer)> = imported
        .iter()
        .map(|i| (i.name.clone(), i.server.clone()))
        .collect();
    let outcome = if args.dry_run {
        let text = std::fs::read_to_string(&target).unwrap_or_default();
        tend_config::add_mcp_servers_to_text(&target, &text, &servers, on_existing)?.1
    } else {
        tend_config::add_mcp_servers(&target, &servers, on_existing)?
    };
    report(ctx, &target, &imported, &outcome, args.dry_run)?;
    Ok(ExitCode::SUCCESS)
}

fn report(
    ctx: &Context,
    target: &Path,
    imported: &[Imported],
    outcome: &[(String, McpAdded)],
    dry_run: bool,
) -> anyhow::Result<()> {
    let shown = ctx.display_path(target);
    for (server, (_, added)) in imported.iter().zip(outcome) {
        let what = match (added, dry_run) {
            (McpAdded::Added, false) => format!("added {} to {shown}", server.name),
            (McpAdded::Added, true) => format!("would add {} to {shown}", server.name),
            (McpAdded::Replaced, false) => format!("replaced {} in {shown}", server.name),
            (McpAdded::Replaced, true) => format!("would replace {} in {shown}", server.name),
            (McpAdded::Kept, _) => format!(
                "kept {}: {shown} has a server of that name (--force replaces it)",
                server.name
            ),
        };
        say!("{what}");
        if *added != McpAdded::Kept {
            for warning in &server.warnings {
                say!("  ! {warning}");
            }
        }
    }
    Ok(())
}

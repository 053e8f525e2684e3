//! `tend mcp`: the MCP servers tasks can use. `list` connects to each and shows its tools,
//! `import` copies servers from Claude Code's config, `probe` tries one server by hand.

mod claude;
mod conformance;
mod import;
mod list;
mod probe;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::cli::ScopeArg;
use crate::context::Context;

#[derive(Debug, Args)]
pub struct McpArgs {
    #[command(subcommand)]
    pub command: McpCommand,
}

#[derive(Debug, Subcommand)]
pub enum McpCommand {
    /// Connect to every configured MCP server: its status and its tools (exit 1 if one fails).
    List(ListArgs),
    /// Copy MCP servers from Claude Code's `.mcp.json` or `~/.claude.json` into tend's config.
    Import(ImportArgs),
    /// Connect to one server (a URL, or a command and its arguments), list its tools, and
    /// call one if asked.
    Probe(ProbeArgs),
    /// A client for the MCP conformance suite's client scenarios (it passes the server URL).
    #[command(hide = true)]
    ConformanceClient(ConformanceArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The servers a run of this task starts (the config's and the task's own).
    #[arg(long)]
    pub task: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A `.mcp.json` or `.claude.json` file (default: this project's `.mcp.json` and
    /// `~/.claude.json`, its global servers and this project's).
    pub path: Option<PathBuf>,
    /// Which config to write: your user config (default) or this project's `.tend/config.toml`.
    #[arg(long, value_enum, default_value_t = ScopeArg::User)]
    pub scope: ScopeArg,
    /// Replace servers the config already has under the same name.
    #[arg(long)]
    pub force: bool,
    /// Say what would be imported, write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// An `http(s)://` URL, or a command and its arguments (put options before it).
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "URL|COMMAND"
    )]
    pub target: Vec<String>,
    /// Call this tool (its name as the server gives it).
    #[arg(long, value_name = "TOOL")]
    pub call: Option<String>,
    /// The call's arguments, a JSON object.
    #[arg(long, value_name = "JSON", requires = "call")]
    pub args: Option<String>,
    /// An HTTP header, `Name=value` (`${VAR}` is taken from the environment); repeatable.
    #[arg(long, value_name = "K=V")]
    pub header: Vec<String>,
    /// The environment variable holding a bearer token for an HTTP server.
    #[arg(long, value_name = "VAR")]
    pub bearer_env: Option<String>,
    /// An environment variable for a command, `NAME=value` (`${VAR}` is expanded); repeatable.
    #[arg(long, value_name = "K=V")]
    pub env: Vec<String>,
    /// How long the server may take to start, and a call to answer.
    #[arg(long, default_value = "30s")]
    pub timeout: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ConformanceArgs {
    /// The test server's URL.
    pub url: String,
}

pub fn run(ctx: &Context, args: &McpArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        McpCommand::List(a) => list::run(ctx, a),
        McpCommand::Import(a) => import::run(ctx, a),
        McpCommand::Probe(a) => probe::run(ctx, a),
        McpCommand::ConformanceClient(a) => conformance::run(ctx, a),
    }
}

/// Where MCP servers started by these commands run, and where their files go.
fn hub_options(ctx: &Context) -> tend_tools::mcp::HubOptions {
    let cwd = ctx
        .project
        .as_ref()
        .map_or_else(|| ctx.cwd.clone(), |p| p.root.clone());
    tend_tools::mcp::HubOptions::new(cwd, ctx.paths.state_dir.join("mcp-probe"))
}

//! The command line: every subcommand and flag, as clap types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// tend: recurring, unattended, sandboxed work for your coding agent.
///
/// Tasks live in `.tend/tasks/<name>.md` (project) or `~/.config/tend/tasks/` (user): a prompt
/// with TOML front matter that says when it runs and what it may do.
#[derive(Debug, Parser)]
#[command(
    name = "tend",
    version,
    about,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Work on the project at this folder instead of the one around the current directory.
    #[arg(long, short = 'C', global = true, value_name = "DIR")]
    pub project: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create `.tend/` in this repository with an example task.
    Init(InitArgs),
    /// Write a new task file from flags.
    Add(Box<AddArgs>),
    /// List every task: schedule, next slot, state.
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// Show one task's resolved settings and its next slots.
    Show(ShowArgs),
    /// Pause a task: its slots are recorded as skipped until it is resumed.
    Pause(TaskArg),
    /// Resume a paused task.
    Resume(TaskArg),
    /// Check task files (all known ones, or the given files and folders).
    Validate(ValidateArgs),
    /// Print the next fire times of a schedule expression.
    Next(NextArgs),
    /// Run a task now, in the foreground, streaming its progress.
    Run(RunArgs),
    /// Repeat a check in the foreground until it says stop: `tend loop 5m "check PR 123's CI"`.
    Loop(Box<LoopArgs>),
    /// List recent runs.
    Runs(RunsArgs),
    /// Show a run's transcript (`-f` follows a live run).
    Logs(LogsArgs),
    /// List proposals waiting for review, or show one run's report and diff.
    Review(ReviewArgs),
    /// Apply a run's proposal to your working tree (uncommitted) and drop its branch.
    Apply(ApplyArgs),
    /// Drop a run's proposal and its branch.
    Discard(RunArg),
    /// List the tool calls waiting for a human's approval.
    Approvals(ApprovalsArgs),
    /// Let a waiting call run and resume its run (`--always`: also add an allow rule).
    Approve(ApproveArgs),
    /// Refuse a waiting call; the run resumes and the agent is told why.
    Deny(DenyArgs),
    /// MCP servers: list them with their tools, import Claude Code's, probe one.
    Mcp(crate::commands::mcp::McpArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Install the daemon as a user service (systemd, launchd, Task Scheduler).
    Service(crate::commands::service::ServiceArgs),
    /// Register each task with the OS scheduler instead of the daemon (`--native`).
    Sync(crate::commands::sync::SyncArgs),
    /// Run the scheduler in the foreground: every enabled task at its slots.
    Daemon,
    /// Whether the daemon runs, what it schedules, what runs.
    Status(JsonArg),
    /// Runs in progress and waiting.
    Ps(JsonArg),
    /// Cancel a run, queued or running.
    Cancel(CancelArgs),
    /// Check this machine: which sandbox confines shell commands, and what each probe found.
    Doctor(JsonArg),
    /// Open the dashboard the daemon serves (its link carries this install's key).
    Ui(UiArgs),
}

#[derive(Debug, Args)]
pub struct UiArgs {
    /// Print the link instead of opening a browser.
    #[arg(long)]
    pub print: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Scope of the example task: this project (default) or your user folder.
    #[arg(long, value_enum, default_value_t = ScopeArg::Project)]
    pub scope: ScopeArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScopeArg {
    /// `.tend/tasks/` of the current project.
    Project,
    /// The user task folder (`$XDG_CONFIG_HOME/tend/tasks`).
    User,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The task's name: lowercase letters, digits, `-` and `_`.
    pub name: String,

    #[command(flatten)]
    pub schedule: ScheduleArgs,

    /// The prompt: what the agent should do each run.
    #[arg(long, short = 'p', conflicts_with = "prompt_file")]
    pub prompt: Option<String>,
    /// Read the prompt from a file (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    pub prompt_file: Option<PathBuf>,

    /// One line saying what the task is for.
    #[arg(long, short = 'd')]
    pub description: Option<String>,
    /// read-only, propose or auto.
    #[arg(long)]
    pub mode: Option<String>,
    /// builtin, claude, codex, goose or command.
    #[arg(long)]
    pub engine: Option<String>,
    /// The shell command, for `--engine command`.
    #[arg(long, value_name = "SHELL")]
    pub command: Option<String>,
    /// `provider:model`, e.g. `anthropic:claude-sonnet-4-5`.
    #[arg(long)]
    pub model: Option<String>,
    /// IANA time zone, e.g. `Europe/Berlin` (default: the machine's).
    #[arg(long, visible_alias = "tz")]
    pub timezone: Option<String>,
    /// Longest a run may take, e.g. `20m`.
    #[arg(long)]
    pub timeout: Option<String>,
    /// Most model turns a run may take.
    #[arg(long)]
    pub max_turns: Option<u32>,
    /// Most a run may spend, in US dollars, e.g. `1.50`.
    #[arg(long, value_name = "USD")]
    pub budget: Option<String>,
    /// none, latest or all: what to do with slots missed while the machine was off.
    #[arg(long)]
    pub catch_up: Option<String>,
    /// skip, queue or replace: what to do when a slot comes while a run is still going.
    #[arg(long)]
    pub overlap: Option<String>,
    /// A deterministic delay in [0, JITTER) to spread tasks out, e.g. `5m`.
    #[arg(long)]
    pub jitter: Option<String>,
    /// Allow rule, e.g. `bash(cargo test *)` (repeatable).
    #[arg(long, value_name = "RULE")]
    pub allow: Vec<String>,
    /// Ask rule: the run parks until a human decides (repeatable).
    #[arg(long, value_name = "RULE")]
    pub ask: Vec<String>,
    /// Deny rule (repeatable).
    #[arg(long, value_name = "RULE")]
    pub deny: Vec<String>,
    /// Write a user task instead of a project task.
    #[arg(long, value_enum, default_value_t = ScopeArg::Project)]
    pub scope: ScopeArg,
    /// Replace an existing task file of that name.
    #[arg(long)]
    pub force: bool,
}

/// Exactly one way to say when a task runs.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct ScheduleArgs {
    /// A cron expression: `0 9 * * 1-5`, `*/15 * * * *`, `@daily`, 6 fields for seconds.
    #[arg(long)]
    pub cron: Option<String>,
    /// A fixed period from now: `30m`, `4h`, `1d`.
    #[arg(long)]
    pub every: Option<String>,
    /// Once, at a local date and time: `2026-12-01 09:00`, or `17:30` (next occurrence).
    #[arg(long)]
    pub at: Option<String>,
    /// Only when run by hand.
    #[arg(long)]
    pub manual: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Task name, or `project/name` when two projects share a name.
    pub task: String,
    /// How many upcoming slots to print.
    #[arg(short = 'n', long, default_value_t = 5)]
    pub count: usize,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TaskArg {
    /// Task name, or `project/name` when two projects share a name.
    pub task: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Task files or folders of task files (default: every task tend knows here).
    pub paths: Vec<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct NextArgs {
    /// A schedule: cron (`0 9 * * 1-5`), `every 30m`, `at 2026-12-01 09:00`, `@daily`.
    pub expr: String,
    /// IANA time zone to compute in (default: the machine's).
    #[arg(long, visible_alias = "timezone")]
    pub tz: Option<String>,
    /// Start after this instant (RFC 3339, or a local `YYYY-MM-DD HH:MM[:SS]` in --tz);
    /// also the anchor of `every`. Default: now.
    #[arg(long, value_name = "TIME")]
    pub after: Option<String>,
    /// How many fire times to print.
    #[arg(short = 'n', long, default_value_t = 5)]
    pub count: usize,
    /// Deterministic jitter to apply, with the task name it is derived from: `5m:NAME`.
    #[arg(long, value_name = "MAX:NAME")]
    pub jitter: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell.
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Task name, or `project/name` when two projects share a name.
    pub task: String,
    /// Record the model's responses to this file, for `model = "replay:FILE"`.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Print only the outcome, not each step.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Run this slot of the task's schedule, claimed exactly once: `latest` (the newest due;
    /// what OS timers call) or an RFC 3339 instant.
    #[arg(long, value_name = "INSTANT|latest")]
    pub slot: Option<String>,
    /// Run in this process even when a daemon runs (which would otherwise execute it).
    #[arg(long)]
    pub local: bool,
    /// Run even when the task's `[when]` gate says there is nothing to do.
    #[arg(long)]
    pub force: bool,
}

/// `tend loop [INTERVAL] PROMPT`.
#[derive(Debug, Args)]
#[command(after_help = "\
The loop runs in this terminal and ends on Ctrl-C, when the terminal closes, at --expire, after \
--max checks, or when the agent says the --until condition is met. Each check is a run (trigger \
`loop`, its transcript in `tend logs`); the checks share one conversation unless --fresh. \
`tend ps` lists the loop while it lives.

Mode: read-only by default: the agent reads, searches and runs read-only commands in this \
folder (enough to watch CI or logs). --mode propose lets it change files in a worktree of this \
repository, on a branch per check, as a task would.

Examples:
  tend loop 5m \"check PR 123's CI\" --until \"all checks are green\"
  tend loop \"watch the deploy; stop when it is done\" --max 20")]
pub struct LoopArgs {
    /// `[INTERVAL] PROMPT`: how often (`30s`, `5m`, `1h`), then what to check. Without an
    /// interval the agent picks each delay (60 s to 1 h).
    #[arg(required = true, num_args = 1..=2, value_names = ["INTERVAL", "PROMPT"])]
    pub words: Vec<String>,
    /// Stop when this is true; the agent says so.
    #[arg(long, value_name = "TEXT")]
    pub until: Option<String>,
    /// Stop after this many checks.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max: Option<u32>,
    /// Stop after this long.
    #[arg(long, value_name = "DURATION", default_value = "7d")]
    pub expire: String,
    /// Start each check with a new conversation (default: the checks share one).
    #[arg(long)]
    pub fresh: bool,
    /// read-only (default), propose or auto.
    #[arg(long, default_value = "read-only")]
    pub mode: String,
    /// `provider:model` (default: the config's `[defaults] model`).
    #[arg(long)]
    pub model: Option<String>,
    /// Longest one check may take, e.g. `10m` (default: 20m).
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Print only each check's outcome, not its steps.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct RunsArgs {
    /// Only the runs of this task.
    #[arg(long)]
    pub task: Option<String>,
    /// Only runs in this state (e.g. `failed`, `waiting_approval`).
    #[arg(long)]
    pub state: Option<String>,
    /// How many runs to list, newest first.
    #[arg(short = 'n', long = "limit", default_value_t = 20)]
    pub limit: u32,
    /// List slots instead: every due instant with its outcome (ran, skipped, missed,
    /// queued), reason and lateness.
    #[arg(long)]
    pub slots: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// A run id, or a unique part of one.
    pub run: String,
    /// Keep printing as the run goes, until it ends.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// Print the raw transcript (JSON lines).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// A run id, or a unique part of one; without it, list the proposals waiting for review.
    pub run: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A run id, or a unique part of one.
    pub run: String,
    /// Apply it even if it changes sensitive paths (tend's tasks and config, CI, git hooks and
    /// config, symlinks out of the repository): `tend review RUN` lists them.
    #[arg(long)]
    pub allow_sensitive: bool,
}

#[derive(Debug, Args)]
pub struct RunArg {
    /// A run id, or a unique part of one.
    pub run: String,
}

#[derive(Debug, Args)]
pub struct JsonArg {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CancelArgs {
    /// A run id, or a unique part of one.
    pub run: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ApprovalsArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The approval's id (`tend approvals` lists them).
    pub id: i64,
    /// Also add an allow rule to the task file, so this kind of call runs without asking.
    #[arg(long)]
    pub always: bool,
    /// Print only the outcome of the resumed run, not each step.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct DenyArgs {
    /// The approval's id (`tend approvals` lists them).
    pub id: i64,
    /// Why: the agent reads it and goes on without the call.
    #[arg(long)]
    pub reason: String,
    /// Print only the outcome of the resumed run, not each step.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

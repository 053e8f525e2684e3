//! The typed contents of a task file's front matter.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use tend_policy::{Mode, Rule};

use crate::keyword::{Keyword, keyword_enum};
use crate::names::{Domain, OutputTemplate};
use crate::read::Problem;
use crate::units::{Money, Size};
use crate::zone::ZoneName;

pub use tend_schedule::Schedule;

/// Default for `timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20 * 60);
/// Default for `max_turns`.
pub const DEFAULT_MAX_TURNS: u32 = 60;
/// Default for `catch_up_window`.
pub const DEFAULT_CATCH_UP_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);
/// Default for `approval_timeout`.
pub const DEFAULT_APPROVAL_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
/// Default for an input's `max_bytes`.
pub const DEFAULT_INPUT_MAX_BYTES: Size = Size(200_000);
/// Default for `[sandbox] max_disk`: what a run may add to its private tmp and its worktree.
pub const DEFAULT_MAX_DISK: Size = Size(1_000_000_000);

/// Everything a task file's front matter says, validated.
///
/// Keys that `[defaults]` in a config file can supply are `Option`s here (`None`: the file does
/// not say); [`crate::ResolvedTask`] holds the values with the defaults applied. Keys with no
/// config default hold their default value directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDef {
    pub description: Option<String>,
    pub schedule: Schedule,
    pub timezone: Option<ZoneName>,
    pub anchor: Option<Anchor>,
    pub jitter: Option<Duration>,
    pub engine: Engine,
    /// The shell command, for `engine = "command"` (and only then).
    pub command: Option<String>,
    pub model: Option<ModelRef>,
    pub mode: Option<Mode>,
    pub timeout: Option<Duration>,
    pub max_turns: Option<u32>,
    pub budget_usd: Option<Money>,
    pub catch_up: Option<CatchUp>,
    pub catch_up_window: Duration,
    pub overlap: Option<Overlap>,
    pub retry_interrupted: bool,
    pub approval_timeout: Option<Duration>,
    pub output: Option<OutputTemplate>,
    pub open_pr: bool,
    pub enabled: bool,
    pub inputs: Vec<Input>,
    pub when: When,
    pub permissions: Permissions,
    pub sandbox: Sandbox,
    pub mcp: BTreeMap<String, McpServer>,
    pub notify: Notify,
}

impl TaskDef {
    /// A definition with only a schedule: every other key at its default.
    pub fn new(schedule: Schedule) -> Self {
        TaskDef {
            description: None,
            schedule,
            timezone: None,
            anchor: None,
            jitter: None,
            engine: Engine::Builtin,
            command: None,
            model: None,
            mode: None,
            timeout: None,
            max_turns: None,
            budget_usd: None,
            catch_up: None,
            catch_up_window: DEFAULT_CATCH_UP_WINDOW,
            overlap: None,
            retry_interrupted: false,
            approval_timeout: None,
            output: None,
            open_pr: false,
            enabled: true,
            inputs: Vec::new(),
            when: When::default(),
            permissions: Permissions::default(),
            sandbox: Sandbox::default(),
            mcp: BTreeMap::new(),
            notify: Notify::default(),
        }
    }
}

keyword_enum! {
    /// Who does the thinking in a run.
    pub enum Engine ("engine") {
        /// tend's own agent loop over a model provider.
        Builtin = "builtin",
        Claude = "claude",
        Codex = "codex",
        Goose = "goose",
        /// A plain shell command, no model.
        Command = "command",
    }
}

keyword_enum! {
    /// Who serves a model.
    pub enum Provider ("provider") {
        Anthropic = "anthropic",
        /// Chat Completions: OpenAI, and compatible local servers.
        OpenAi = "openai",
        /// A recorded session played back.
        Replay = "replay",
    }
}

keyword_enum! {
    /// What happens to slots that were due while tend was not running.
    pub enum CatchUp ("catch-up policy") {
        None = "none",
        Latest = "latest",
        All = "all",
    }
}

keyword_enum! {
    /// What happens when a slot comes due while the task's previous run is still active.
    pub enum Overlap ("overlap policy") {
        Skip = "skip",
        Queue = "queue",
        Replace = "replace",
    }
}

keyword_enum! {
    /// The events a task notifies about.
    pub enum NotifyOn ("notification event") {
        Proposal = "proposal",
        Approval = "approval",
        Failure = "failure",
        Success = "success",
    }
}

keyword_enum! {
    /// Whether shell commands run in a sandbox.
    pub enum SandboxMode ("sandbox mode") {
        /// The best sandbox that works here; refuse shell commands if none does.
        Auto = "auto",
        /// No sandbox at all (the task says so explicitly).
        Off = "off",
    }
}

impl Keyword for Mode {
    const ALL: &'static [Self] = &Mode::ALL;
    const WHAT: &'static str = "mode";

    fn as_str(self) -> &'static str {
        Mode::as_str(self)
    }
}

/// A model, as `provider:model`: `anthropic:claude-sonnet-4-5`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelRef {
    pub provider: Provider,
    pub model: String,
}

impl ModelRef {
    pub(crate) fn parse_problem(text: &str) -> Result<ModelRef, Problem> {
        let hint = "name models as `provider:model`, like `anthropic:claude-sonnet-4-5`; providers are anthropic, openai, replay";
        let Some((provider, model)) = text.split_once(':') else {
            return Err(
                Problem::new(format!("model `{text}` does not name its provider")).hint(hint),
            );
        };
        let provider = Provider::parse(provider)?;
        if model.trim().is_empty() || model.chars().any(char::is_whitespace) {
            return Err(
                Problem::new(format!("model `{text}` has no valid model name"))
                    .hint(hint)
                    .at(text.len() - model.len()),
            );
        }
        Ok(ModelRef {
            provider,
            model: model.to_owned(),
        })
    }
}

impl fmt::Display for ModelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.provider, self.model)
    }
}

impl std::str::FromStr for ModelRef {
    type Err = crate::units::ValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ModelRef::parse_problem(s).map_err(Into::into)
    }
}

impl serde::Serialize for ModelRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The phase of an `every` schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchor {
    /// A wall-clock time in the task's zone: `2026-01-01 09:00`.
    Local(jiff::civil::DateTime),
    /// An exact instant: `2026-01-01T09:00:00+01:00`.
    Instant(jiff::Timestamp),
}

impl Anchor {
    pub(crate) fn parse_problem(text: &str) -> Result<Anchor, Problem> {
        if let Ok(ts) = text.parse::<jiff::Timestamp>() {
            return Ok(Anchor::Instant(ts));
        }
        match text.parse::<jiff::civil::DateTime>() {
            Ok(dt) => Ok(Anchor::Local(dt)),
            Err(_) => Err(Problem::new(format!("`{text}` is not a date and time"))
                .hint("write a local time like `2026-01-01 09:00` or an instant like `2026-01-01T09:00:00Z`")),
        }
    }

    /// The instant, reading a local anchor in `tz` (the earlier one if the time is ambiguous).
    pub fn to_timestamp(&self, tz: &jiff::tz::TimeZone) -> Result<jiff::Timestamp, jiff::Error> {
        match self {
            Anchor::Instant(ts) => Ok(*ts),
            Anchor::Local(dt) => tz.to_ambiguous_timestamp(*dt).compatible(),
        }
    }
}

impl fmt::Display for Anchor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Anchor::Local(dt) => write!(f, "{}", dt.strftime("%Y-%m-%d %H:%M:%S")),
            Anchor::Instant(ts) => write!(f, "{ts}"),
        }
    }
}

/// Something fed to the agent at the start of a run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Input {
    pub name: Option<String>,
    #[serde(flatten)]
    pub source: InputSource,
    pub max_bytes: Size,
}

/// Where an input comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InputSource {
    /// New lines of the files matching a glob since the last successful run.
    Log { glob: String },
    /// The output of a shell command.
    Command {
        command: String,
        #[serde(serialize_with = "crate::ser::opt_duration")]
        timeout: Option<Duration>,
    },
    /// A file's contents.
    File { path: PathBuf },
}

/// A gate checked before the model is called.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct When {
    /// Skip the slot when no input has anything new.
    pub inputs_changed: bool,
    /// A shell command; the run goes ahead only if it exits 0.
    pub check: Option<String>,
}

/// `[permissions]`: rules added to the mode.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Permissions {
    #[serde(serialize_with = "crate::ser::rules")]
    pub allow: Vec<Rule>,
    #[serde(serialize_with = "crate::ser::rules")]
    pub ask: Vec<Rule>,
    #[serde(serialize_with = "crate::ser::rules")]
    pub deny: Vec<Rule>,
}

/// `sandbox = "off"` or `[sandbox]`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Sandbox {
    pub mode: SandboxMode,
    /// Domains reachable through the allowlist proxy; empty: no network.
    pub network: Vec<Domain>,
    /// Paths hidden from commands, on top of the defaults.
    pub deny_read: Vec<PathBuf>,
    /// Paths writable besides the worktree and the private tmp.
    pub allow_write: Vec<PathBuf>,
    /// Disk a run may use: its private tmp plus what its worktree grows by (`max_disk`).
    pub max_disk: Size,
}

impl Default for Sandbox {
    fn default() -> Self {
        Sandbox {
            mode: SandboxMode::Auto,
            network: Vec::new(),
            deny_read: Vec::new(),
            allow_write: Vec::new(),
            max_disk: DEFAULT_MAX_DISK,
        }
    }
}

/// One MCP server a task may use.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct McpServer {
    #[serde(flatten)]
    pub transport: McpTransport,
    #[serde(serialize_with = "crate::ser::opt_duration")]
    pub startup_timeout: Option<Duration>,
    #[serde(serialize_with = "crate::ser::opt_duration")]
    pub call_timeout: Option<Duration>,
    pub enabled: bool,
}

/// How tend talks to an MCP server.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "transport", rename_all = "snake_case")]
pub enum McpTransport {
    /// A child process speaking JSON-RPC on stdin/stdout.
    Stdio {
        command: String,
        args: Vec<String>,
        env: BTreeMap<String, String>,
        cwd: Option<PathBuf>,
    },
    /// Streamable HTTP.
    Http {
        url: String,
        headers: BTreeMap<String, String>,
        /// The environment variable holding the bearer token.
        bearer_token_env: Option<String>,
    },
}

/// `[notify]`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Notify {
    pub on: Vec<NotifyOn>,
    /// Channel names from the config; empty: every configured channel.
    pub channels: Vec<String>,
}

impl Notify {
    /// What a task notifies about when it does not say.
    pub const DEFAULT_ON: [NotifyOn; 3] =
        [NotifyOn::Proposal, NotifyOn::Approval, NotifyOn::Failure];
}

impl Default for Notify {
    fn default() -> Self {
        Notify {
            on: Notify::DEFAULT_ON.to_vec(),
            channels: Vec::new(),
        }
    }
}

//! Task files, config files and tend's folders, each validated once at load into typed values.
//!
//! Everything a user writes is checked here, with `file:line:col` errors and hints, so that the
//! rest of tend works with typed values and never re-parses strings.
//!
//! - Task files: [`TaskFile::load`] / [`TaskFile::parse`] and [`discover`] give a [`TaskDef`]
//!   and the prompt, or every problem as a [`TaskFileError`].
//! - Config files: [`Config::load`], layered with [`Config::layered`] (project over user).
//! - [`ResolvedTask::resolve`] applies a config's defaults and the machine's zone
//!   ([`MachineZone`]); it serializes with human values for `tend show`.
//! - Writing: [`render_task_file`] / [`create_task_file`] (`tend add`), [`add_allow_rule`]
//!   (`tend approve --always`), [`add_mcp_servers`] (`tend mcp import`).
//! - Folders: [`Paths`], [`find_project`], [`ProjectPaths`]; time: [`Clock`], [`clock_from_env`].

mod clock;
mod config;
mod error;
mod keyword;
mod names;
mod paths;
mod read;
mod resolve;
pub mod sensitive;
mod ser;
mod task;
mod units;
mod write;
mod write_mcp;
mod zone;

pub use clock::{Clock, ClockError, FixedClock, SystemClock, clock_from_env, clock_from_value};
pub use config::{
    Channel, ChannelKind, Config, DEFAULT_MAX_CONCURRENT_RUNS, Defaults, Price, ProviderConfig,
    UiConfig,
};
pub use error::{ConfigError, TaskFileError, render_errors};
pub use keyword::{Keyword, UnknownWord};
pub use names::{Domain, OutputTemplate, OutputVars};
pub use paths::{
    PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, Paths, PathsError, Privacy, ProjectPaths,
    create_private_dir, find_project,
};
pub use resolve::ResolvedTask;
pub use task::{
    Anchor, CatchUp, DEFAULT_APPROVAL_TIMEOUT, DEFAULT_CATCH_UP_WINDOW, DEFAULT_INPUT_MAX_BYTES,
    DEFAULT_MAX_DISK, DEFAULT_MAX_TURNS, DEFAULT_TIMEOUT, Engine, Input, InputSource, McpServer,
    McpTransport, ModelRef, Notify, NotifyOn, Overlap, Permissions, Provider, Sandbox, SandboxMode,
    Schedule, Scope, TaskDef, TaskFile, When, check_task_name, discover,
};
pub use units::{Money, Size, ValueError};
pub use write::{
    AddRuleOutcome, EditError, Existing, NewTask, add_allow_rule, add_allow_rule_to_text,
    create_task_file, render_task_file,
};
pub use write_mcp::{McpAdded, OnExisting, add_mcp_servers, add_mcp_servers_to_text};
pub use zone::{MachineZone, ZoneName};

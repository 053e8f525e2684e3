//! The daemon's log: to stderr (for a terminal or the service manager's journal) and to a file
//! in `<state>/logs/`, a new one each day, the last 7 kept. `TEND_LOG=debug` (or `trace`,
//! `warn`, ...) sets the level; the default is `info`.

use std::io::IsTerminal;
use std::path::Path;

use tracing_appender::rolling::{Builder, Rotation};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Days of log files kept.
const KEEP_FILES: usize = 7;

/// The level `TEND_LOG` asks for, `info` when unset or unreadable.
pub fn level_from_env() -> LevelFilter {
    std::env::var("TEND_LOG")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(LevelFilter::INFO)
}

/// Installs the global logger. Fails when the log folder cannot be written.
pub fn init(logs_dir: &Path, level: LevelFilter) -> Result<(), std::io::Error> {
    std::fs::create_dir_all(logs_dir)?;
    let file = Builder::new()
        .rotation(Rotation::DAILY)
        .filename_prefix("daemon")
        .filename_suffix("log")
        .max_log_files(KEEP_FILES)
        .build(logs_dir)
        .map_err(std::io::Error::other)?;
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    let file = tracing_subscriber::fmt::layer()
        .with_writer(file)
        .with_ansi(false)
        .with_target(false);
    // A second init (tests starting two daemons in one process) keeps the first logger.
    let _ = tracing_subscriber::registry()
        .with(level)
        .with(stderr)
        .with(file)
        .try_init();
    Ok(())
}

//! What every command needs: tend's folders, the clock, the project around the current
//! directory, and a way to run the store's async calls.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use jiff::Timestamp;
use tend_config::{Clock, Config, MachineZone, Paths, ProjectPaths, TaskFileError, find_project};
use tend_store::Store;

use crate::exit::invalid;

pub struct Context {
    pub paths: Paths,
    pub clock: Arc<dyn Clock>,
    /// The project around the current directory (or `-C DIR`), if any.
    pub project: Option<ProjectPaths>,
    /// Where the command was started: relative paths in arguments and messages are from here.
    pub cwd: PathBuf,
    /// One current-thread runtime per command, for the store's async calls: the CLI does one
    /// thing at a time, and a multi-threaded runtime would cost start-up time for nothing.
    runtime: tokio::runtime::Runtime,
}

impl Context {
    pub fn new(project_flag: Option<&Path>) -> anyhow::Result<Context> {
        let paths = Paths::from_env().map_err(|e| invalid(e, None))?;
        let clock = tend_config::clock_from_env().map_err(|e| {
            invalid(
                e,
                Some("TEND_NOW fixes tend's clock for tests: an RFC 3339 instant such as 2026-03-08T06:00:00Z"),
            )
        })?;
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        let start = match project_flag {
            Some(dir) => {
                let dir = cwd.join(dir);
                if !dir.is_dir() {
                    return Err(invalid(
                        format!("-C {}: no such folder", dir.display()),
                        None,
                    ));
                }
                dir
            }
            None => cwd.clone(),
        };
        let project = find_project(&start).map(|root| ProjectPaths::new(&root));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        Ok(Context {
            paths,
            clock,
            project,
            cwd,
            runtime,
        })
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The user's config (`config.toml` in the config folder), or the defaults when it does
    /// not exist.
    pub fn user_config(&self) -> anyhow::Result<Config> {
        load_config(&self.paths.config_file)
    }

    /// The config that applies to tasks of the project at `root`: its `.tend/config.toml`
    /// over the user's.
    pub fn project_config(&self, user: &Config, root: &Path) -> anyhow::Result<Config> {
        let project = load_config(&ProjectPaths::new(root).config_file)?;
        Ok(user.layered(&project))
    }

    pub fn machine_zone(&self) -> MachineZone {
        MachineZone::detect()
    }

    /// Runs one of the store's async calls to completion.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Opens (creating if needed) the store.
    pub fn store(&self) -> anyhow::Result<Store> {
        Ok(self.block_on(Store::open(&self.paths.db_path))?)
    }

    /// A path as the user would like to read it: relative to where they are when it is inside.
    pub fn display_path(&self, path: &Path) -> String {
        match path.strip_prefix(&self.cwd) {
            Ok(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
            _ => path.display().to_string(),
        }
    }

    /// A task file error with its path as [`Context::display_path`] shows it.
    pub fn display_error(&self, error: &TaskFileError) -> TaskFileError {
        TaskFileError {
            path: PathBuf::from(self.display_path(&error.path)),
            ..error.clone()
        }
    }
}

fn load_config(path: &Path) -> anyhow::Result<Config> {
    if !path.exists() {
        return Ok(Config::default());
    }
    Config::load(path).map_err(|errors| {
        anyhow::Error::new(crate::exit::InvalidInput(tend_config::render_errors(
            &errors,
        )))
    })
}

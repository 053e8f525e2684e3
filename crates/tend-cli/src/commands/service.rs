//! `tend service install|uninstall|status`: the daemon as a systemd `--user` service, a
//! launchd agent or a Task Scheduler task, started with the user's session and restarted
//! when it fails.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde::Serialize;
use tend_native::{Backend, Invocation, launchd, schtasks, systemd};

use crate::commands::native::{self, BackendArg, path_text, tilde};
use crate::context::Context;
use crate::exit::invalid;
use crate::output::{print_json, say};

#[derive(Debug, Args)]
pub struct ServiceArgs {
    #[command(subcommand)]
    pub action: ServiceAction,
}

#[derive(Debug, Subcommand)]
pub enum ServiceAction {
    /// Install the daemon as a service and start it.
    Install(ServiceOpts),
    /// Stop the service and remove it.
    Uninstall(ServiceOpts),
    /// Show whether the service is installed and running, and what `tend sync --native`
    /// registered.
    Status(StatusOpts),
}

#[derive(Debug, Args)]
pub struct ServiceOpts {
    /// systemd, launchd or schtasks (default: this OS's).
    #[arg(long, value_enum)]
    pub backend: Option<BackendArg>,
    /// Print what would be written and run; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct StatusOpts {
    /// systemd, launchd or schtasks (default: this OS's).
    #[arg(long, value_enum)]
    pub backend: Option<BackendArg>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, args: &ServiceArgs) -> anyhow::Result<()> {
    match &args.action {
        ServiceAction::Install(opts) => install(ctx, opts),
        ServiceAction::Uninstall(opts) => uninstall(opts),
        ServiceAction::Status(opts) => status(ctx, opts),
    }
}

/// The service's backend: cron cannot keep a daemon running.
fn backend(arg: Option<BackendArg>) -> anyhow::Result<Backend> {
    let backend = match arg {
        Some(arg) => Backend::from(arg),
        None if cfg!(target_os = "macos") => Backend::Launchd,
        None if cfg!(windows) => Backend::Schtasks,
        None => Backend::Systemd,
    };
    if backend == Backend::Cron {
        return Err(invalid(
            "cron cannot run the daemon as a service",
            Some(
                "use `--backend systemd`, or register the tasks themselves with `tend sync --native --backend cron`",
            ),
        ));
    }
    Ok(backend)
}

/// The service definition: where it goes and what it says.
struct ServiceFile {
    path: PathBuf,
    contents: String,
}

fn service_file(ctx: &Context, backend: Backend) -> anyhow::Result<ServiceFile> {
    let daemon = Invocation {
        program: native::tend_program()?,
        args: vec!["daemon".to_owned()],
        env: native::passed_env(),
        working_dir: None,
        log_file: path_text(&ctx.paths.logs_dir.join("daemon.log"))?,
    };
    Ok(match backend {
        Backend::Systemd => {
            let unit = systemd::daemon_unit(&daemon);
            ServiceFile {
                path: native::systemd_user_dir()?.join(unit.name),
                contents: unit.contents,
            }
        }
        Backend::Launchd => {
            let plist = launchd::daemon_plist(&daemon);
            ServiceFile {
                path: native::launch_agents_dir()?.join(format!("{}.plist", plist.label)),
                contents: plist.contents,
            }
        }
        Backend::Schtasks | Backend::Cron => ServiceFile {
            path: ctx.paths.state_dir.join("native/daemon.xml"),
            contents: schtasks::daemon_xml(&daemon),
        },
    })
}

fn install(ctx: &Context, opts: &ServiceOpts) -> anyhow::Result<()> {
    let backend = backend(opts.backend)?;
    let file = service_file(ctx, backend)?;
    if opts.dry_run {
        say!("--- would write {}", tilde(&file.path));
        say!("{}", file.contents.trim_end());
        say!("--- would run");
        for line in activation(backend, &file)? {
            say!("{line}");
        }
        return Ok(());
    }
    native::require_os(backend)?;
    if let Some(existing) = read(&file.path, backend)
        && !is_managed(backend, &existing)
    {
        return Err(invalid(
            format!("{} exists and was not written by tend", file.path.display()),
            Some("move it away, then run `tend service install` again"),
        ));
    }
    std::fs::create_dir_all(ctx.paths.logs_dir.as_path())?;
    match backend {
        Backend::Schtasks => {
            if let Some(dir) = file.path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            native::write_utf16(&file.path, &file.contents)?;
        }
        Backend::Systemd | Backend::Launchd | Backend::Cron => {
            native::write_file(&file.path, &file.contents)?;
        }
    }
    say!("wrote {}", tilde(&file.path));
    match backend {
        Backend::Systemd => {
            native::systemctl(&["daemon-reload"])?;
            native::systemctl(&["enable", "--now", systemd::DAEMON_UNIT])?;
            // A daemon already running keeps its old binary and settings until restarted.
            native::systemctl(&["restart", systemd::DAEMON_UNIT])?;
            say!(
                "enabled and started {} (`systemctl --user status tend`, `journalctl --user -u tend`)",
                systemd::DAEMON_UNIT
            );
        }
        Backend::Launchd => {
            let uid = native::user_id()?;
            let domain = format!("gui/{uid}");
            let _ = native::run_tool(
                "launchctl",
                &["bootout", &format!("{domain}/{}", launchd::DAEMON_LABEL)],
                None,
            );
            native::must_run(
                "launchctl",
                &["bootstrap", &domain, &path_text(&file.path)?],
                None,
            )?;
            say!("loaded {} into {domain}", launchd::DAEMON_LABEL);
        }
        Backend::Schtasks | Backend::Cron => {
            let xml = path_text(&file.path)?;
            native::must_run(
                "schtasks",
                &["/Create", "/TN", schtasks::DAEMON_TASK, "/XML", &xml, "/F"],
                None,
            )?;
            native::must_run("schtasks", &["/Run", "/TN", schtasks::DAEMON_TASK], None)?;
            say!("created and started {}", schtasks::DAEMON_TASK);
        }
    }
    Ok(())
}

/// The commands `install` runs after writing the file, for `--dry-run`.
fn activation(backend: Backend, file: &ServiceFile) -> anyhow::Result<Vec<String>> {
    Ok(match backend {
        Backend::Systemd => vec![
            "systemctl --user daemon-reload".to_owned(),
            format!("systemctl --user enable --now {}", systemd::DAEMON_UNIT),
            format!("systemctl --user restart {}", systemd::DAEMON_UNIT),
        ],
        Backend::Launchd => vec![format!(
            "launchctl bootstrap gui/$(id -u) {}",
            path_text(&file.path)?
        )],
        Backend::Schtasks | Backend::Cron => vec![
            format!(
                "schtasks /Create /TN {} /XML {} /F",
                schtasks::DAEMON_TASK,
                path_text(&file.path)?
            ),
            format!("schtasks /Run /TN {}", schtasks::DAEMON_TASK),
        ],
    })
}

fn uninstall(opts: &ServiceOpts) -> anyhow::Result<()> {
    let backend = backend(opts.backend)?;
    let path = match backend {
        Backend::Systemd => native::systemd_user_dir()?.join(systemd::DAEMON_UNIT),
        Backend::Launchd => {
            native::launch_agents_dir()?.join(format!("{}.plist", launchd::DAEMON_LABEL))
        }
        Backend::Schtasks | Backend::Cron => PathBuf::new(),
    };
    if opts.dry_run {
        say!("--- would stop the service and remove {}", tilde(&path));
        return Ok(());
    }
    native::require_os(backend)?;
    match backend {
        Backend::Systemd | Backend::Launchd => {
            let Some(existing) = read(&path, backend) else {
                say!("not installed: {} does not exist", tilde(&path));
                return Ok(());
            };
            if !is_managed(backend, &existing) {
                return Err(invalid(
                    format!(
                        "{} was not written by tend; leaving it alone",
                        path.display()
                    ),
                    None,
                ));
            }
            if backend == Backend::Systemd {
                native::systemctl(&["disable", "--now", systemd::DAEMON_UNIT])?;
            } else {
                let uid = native::user_id()?;
                let _ = native::run_tool(
                    "launchctl",
                    &["bootout", &format!("gui/{uid}/{}", launchd::DAEMON_LABEL)],
                    None,
                );
            }
            std::fs::remove_file(&path)?;
            if backend == Backend::Systemd {
                native::systemctl(&["daemon-reload"])?;
            }
            say!("stopped the daemon and removed {}", tilde(&path));
        }
        Backend::Schtasks | Backend::Cron => {
            let _ = native::run_tool("schtasks", &["/End", "/TN", schtasks::DAEMON_TASK], None);
            native::must_run(
                "schtasks",
                &["/Delete", "/TN", schtasks::DAEMON_TASK, "/F"],
                None,
            )?;
            say!("stopped and deleted {}", schtasks::DAEMON_TASK);
        }
    }
    Ok(())
}

fn read(path: &std::path::Path, backend: Backend) -> Option<String> {
    match backend {
        Backend::Schtasks => None,
        Backend::Systemd | Backend::Launchd | Backend::Cron => std::fs::read_to_string(path).ok(),
    }
}

fn is_managed(backend: Backend, contents: &str) -> bool {
    match backend {
        Backend::Systemd => systemd::is_managed(contents),
        Backend::Launchd => launchd::is_managed(contents),
        Backend::Schtasks | Backend::Cron => contents.contains(schtasks::MARKER),
    }
}

#[derive(Debug, Serialize)]
struct Status {
    backend: String,
    file: String,
    /// `missing`, `current` (as `install` would write it now), `outdated` (another binary
    /// or settings: run `tend service install` again), or `foreign` (not written by tend).
    state: &'static str,
    /// What the service manager says (`enabled`, `active`, …), when it answers.
    manager: Option<String>,
    /// Per-task registrations found (`tend sync --native`).
    timers: Vec<String>,
}

fn status(ctx: &Context, opts: &StatusOpts) -> anyhow::Result<()> {
    let backend = backend(opts.backend)?;
    let wanted = service_file(ctx, backend)?;
    let state = match read(&wanted.path, backend) {
        None => "missing",
        Some(text) if !is_managed(backend, &text) => "foreign",
        Some(text) if text == wanted.contents => "current",
        Some(_) => "outdated",
    };
    let manager = match backend {
        Backend::Systemd => {
            let ask = |verb: &str| {
                native::run_tool("systemctl", &["--user", verb, systemd::DAEMON_UNIT], None)
                    .ok()
                    .map(|o| o.stdout.trim().to_owned())
                    .filter(|s| !s.is_empty())
            };
            match (ask("is-enabled"), ask("is-active")) {
                (Some(enabled), Some(active)) => Some(format!("{enabled}, {active}")),
                (Some(one), None) | (None, Some(one)) => Some(one),
                (None, None) => None,
            }
        }
        Backend::Launchd | Backend::Schtasks | Backend::Cron => None,
    };
    let timers = match backend {
        Backend::Systemd => list_dir(
            &native::systemd_user_dir()?,
            systemd::TASK_PREFIX,
            ".timer",
            systemd::is_managed,
        ),
        Backend::Launchd => list_dir(
            &native::launch_agents_dir()?,
            launchd::TASK_PREFIX,
            ".plist",
            launchd::is_managed,
        ),
        Backend::Schtasks | Backend::Cron => Vec::new(),
    };
    let report = Status {
        backend: backend.to_string(),
        file: tilde(&wanted.path),
        state,
        manager,
        timers,
    };
    if opts.json {
        return print_json(&report);
    }
    let what = match report.state {
        "missing" => "not installed (`tend service install`)",
        "current" => "installed",
        "outdated" => {
            "installed, but written for another tend binary or settings (run `tend service install` again)"
        }
        _ => "exists but was not written by tend",
    };
    say!("service  {} ({what})", report.file);
    say!(
        "manager  {}",
        report
            .manager
            .as_deref()
            .unwrap_or("no answer (is a user service manager running?)")
    );
    if report.timers.is_empty() {
        say!("timers   none (`tend sync --native` registers each task)");
    } else {
        say!(
            "timers   {} from `tend sync --native`:",
            report.timers.len()
        );
        for t in &report.timers {
            say!("  {t}");
        }
    }
    Ok(())
}

/// tend's per-task files in a folder.
fn list_dir(
    dir: &std::path::Path,
    prefix: &str,
    suffix: &str,
    managed: fn(&str) -> bool,
) -> Vec<String> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<String> = read
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name.starts_with(prefix) && name.ends_with(suffix))
                .then(|| std::fs::read_to_string(e.path()).ok())
                .flatten()
                .filter(|text| managed(text))
                .map(|_| name)
        })
        .collect();
    out.sort();
    out
}

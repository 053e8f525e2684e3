//! What `tend service` and `tend sync --native` share: which OS scheduler to use, how it
//! starts tend, where its files go, and running its tools (`systemctl`, `crontab`,
//! `launchctl`, `schtasks`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context as _;
use clap::ValueEnum;
use tend_native::Backend;

use crate::context::Context;
use crate::exit::invalid;

/// `--backend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// systemd `--user` timers (Linux).
    Systemd,
    /// Your crontab (any Unix with cron).
    Cron,
    /// launchd agents (macOS).
    Launchd,
    /// The Windows Task Scheduler.
    Schtasks,
}

impl From<BackendArg> for Backend {
    fn from(arg: BackendArg) -> Backend {
        match arg {
            BackendArg::Systemd => Backend::Systemd,
            BackendArg::Cron => Backend::Cron,
            BackendArg::Launchd => Backend::Launchd,
            BackendArg::Schtasks => Backend::Schtasks,
        }
    }
}

/// The OS's own scheduler: launchd on macOS, the Task Scheduler on Windows, and elsewhere
/// systemd when a `--user` manager answers, else cron.
pub fn default_backend() -> Backend {
    if cfg!(target_os = "macos") {
        return Backend::Launchd;
    }
    if cfg!(windows) {
        return Backend::Schtasks;
    }
    match run_tool("systemctl", &["--user", "show-environment"], None) {
        Ok(out) if out.success => Backend::Systemd,
        Ok(_) | Err(_) => Backend::Cron,
    }
}

/// Refuses to install with a backend this OS does not have; `--dry-run` works everywhere.
pub fn require_os(backend: Backend) -> anyhow::Result<()> {
    let (ok, os) = match backend {
        Backend::Systemd => (cfg!(target_os = "linux"), "Linux"),
        Backend::Cron => (cfg!(unix), "Unix systems"),
        Backend::Launchd => (cfg!(target_os = "macos"), "macOS"),
        Backend::Schtasks => (cfg!(windows), "Windows"),
    };
    if ok {
        return Ok(());
    }
    Err(invalid(
        format!(
            "{backend} exists only on {os}; this is {}",
            std::env::consts::OS
        ),
        Some("`--dry-run` prints what would be installed"),
    ))
}

/// The absolute path of this tend binary: what the OS scheduler starts.
pub fn tend_program() -> anyhow::Result<String> {
    let exe = std::env::current_exe().context("cannot tell where the tend binary is")?;
    let exe = exe.canonicalize().unwrap_or(exe);
    path_text(&exe)
}

pub fn path_text(path: &Path) -> anyhow::Result<String> {
    path.to_str().map(str::to_owned).ok_or_else(|| {
        anyhow::anyhow!(
            "{} is not valid UTF-8; OS scheduler files need text paths",
            path.display()
        )
    })
}

/// The variables a scheduled tend needs to find the same files, zone and tools as this one:
/// cron and launchd start jobs with an almost empty environment. Never secrets: provider
/// keys must reach the scheduler's environment another way.
pub fn passed_env() -> Vec<(String, String)> {
    [
        "TEND_HOME",
        "XDG_CONFIG_HOME",
        "XDG_STATE_HOME",
        "TZ",
        "PATH",
    ]
    .into_iter()
    .filter_map(|name| {
        let value = std::env::var(name).ok().filter(|v| !v.is_empty())?;
        Some((name.to_owned(), value))
    })
    .collect()
}

/// The machine's zone as cron, launchd and the Task Scheduler read times.
pub fn machine_zone(ctx: &Context) -> tend_native::MachineZone {
    let machine = ctx.machine_zone();
    tend_native::MachineZone {
        name: machine.zone.name().to_owned(),
        tz: machine.zone.tz().clone(),
    }
}

/// `$XDG_CONFIG_HOME/systemd/user`, else `~/.config/systemd/user`: where systemd looks for a
/// user's own units.
pub fn systemd_user_dir() -> anyhow::Result<PathBuf> {
    if let Some(config) = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
    {
        return Ok(config.join("systemd/user"));
    }
    Ok(home()?.join(".config/systemd/user"))
}

/// `~/Library/LaunchAgents`.
pub fn launch_agents_dir() -> anyhow::Result<PathBuf> {
    Ok(home()?.join("Library/LaunchAgents"))
}

fn home() -> anyhow::Result<PathBuf> {
    std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .ok_or_else(|| {
            anyhow::anyhow!("HOME is not set: cannot tell where the OS scheduler's files go")
        })
}

/// What a tool printed and whether it succeeded.
pub struct ToolOutput {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `program args`, feeding `stdin` when given.
pub fn run_tool(program: &str, args: &[&str], stdin: Option<&str>) -> anyhow::Result<ToolOutput> {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            anyhow::anyhow!("`{program}` was not found on PATH")
        }
        _ => anyhow::anyhow!("cannot run `{program}`: {e}"),
    })?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        use std::io::Write as _;
        pipe.write_all(text.as_bytes())
            .with_context(|| format!("cannot write to `{program}`"))?;
    }
    let out = child
        .wait_with_output()
        .with_context(|| format!("`{program}` did not finish"))?;
    Ok(ToolOutput {
        success: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// Runs a tool that must succeed; its error output becomes the error.
pub fn must_run(program: &str, args: &[&str], stdin: Option<&str>) -> anyhow::Result<String> {
    let out = run_tool(program, args, stdin)?;
    if out.success {
        return Ok(out.stdout);
    }
    let detail = out.stderr.trim();
    Err(anyhow::anyhow!(
        "`{program} {}` failed{}{detail}",
        args.join(" "),
        if detail.is_empty() { "" } else { ": " }
    ))
}

/// `systemctl --user ARGS`, which must succeed.
pub fn systemctl(args: &[&str]) -> anyhow::Result<String> {
    let mut all = vec!["--user"];
    all.extend_from_slice(args);
    must_run("systemctl", &all, None).map_err(|e| {
        e.context("systemd's user manager did not answer; in a session without one (a container, SSH without lingering: `loginctl enable-linger`), use `--backend cron` or run `tend daemon` yourself")
    })
}

/// The user id, for launchd's `gui/<uid>` domain.
pub fn user_id() -> anyhow::Result<String> {
    Ok(must_run("id", &["-u"], None)?.trim().to_owned())
}

/// The Task Scheduler reads task XML as UTF-16 with a byte-order mark.
pub fn write_utf16(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut bytes = vec![0xff, 0xfe];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Writes `contents` unless the file already holds exactly that; creates the folder.
pub fn write_file(path: &Path, contents: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, contents).with_context(|| format!("cannot write {}", path.display()))
}

/// A path with the home folder shown as `~`.
pub fn tilde(path: &Path) -> String {
    match home()
        .ok()
        .and_then(|h| path.strip_prefix(h).ok().map(Path::to_path_buf))
    {
        Some(rest) => format!("~/{}", rest.display()),
        None => path.display().to_string(),
    }
}

//! The sandbox's entry point: a small program (`tend __sandbox-exec …`, or the
//! `tend-sandbox-exec` binary of this crate) that restricts itself with safe system-call
//! wrappers and then runs the command. `unsafe` is forbidden in the workspace, so nothing can
//! run between `fork` and `exec` in tend itself; whatever must hold inside the command's
//! processes is done here, by the first of them.

mod args;
#[cfg(unix)]
mod bridge;
#[cfg(target_os = "linux")]
mod privileges;

use std::ffi::OsString;
use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

pub use args::{
    ArgsError, BRIDGE_PORT, HELPER_SUBCOMMAND, HelperArgs, LandlockArgs, NprocScope, Privileges,
    Rlimit, SeccompArgs, SessionRule, SocketRule,
};

/// The exit status of the helper when it could not set the sandbox up (the command never ran),
/// as `env` and `timeout` use it.
pub const SETUP_FAILED: u8 = 125;

/// Messages of the helper start with this, so that tend can tell them from the command's.
pub const MESSAGE_PREFIX: &str = "tend sandbox:";

#[derive(Debug, thiserror::Error)]
pub enum HelperError {
    #[error(transparent)]
    Args(#[from] ArgsError),
    #[error("cannot join the cgroup {}: {source}", path.display())]
    Cgroup { path: PathBuf, source: io::Error },
    #[error("cannot set the {name} limit: {source}")]
    Rlimit {
        name: &'static str,
        source: io::Error,
    },
    #[cfg(target_os = "linux")]
    #[error(transparent)]
    Landlock(#[from] crate::linux::landlock::LandlockError),
    #[cfg(target_os = "linux")]
    #[error(transparent)]
    Seccomp(#[from] crate::linux::seccomp::SeccompError),
    #[cfg(target_os = "linux")]
    #[error(transparent)]
    Privileges(#[from] privileges::PrivilegeError),
    #[error("cannot make the bridge's process non-dumpable: {0}")]
    Protect(io::Error),
    #[error("cannot find the helper's own program to start its second stage: {0}")]
    SelfExe(io::Error),
    #[error("{0} is not available on this system")]
    Unsupported(&'static str),
    #[error("cannot start the proxy bridge on 127.0.0.1:{BRIDGE_PORT}: {0}")]
    Bridge(io::Error),
    #[error("cannot run {program:?}: {source}")]
    Exec {
        program: OsString,
        source: io::Error,
    },
}

/// Runs the helper with `args` (the process's arguments after its name). Returns only when the
/// set-up failed (exit status [`SETUP_FAILED`], the reason on stderr) or, when the helper had to
/// stay (the proxy bridge), with the command's status.
pub fn helper_main(args: &[OsString]) -> ExitCode {
    let result = HelperArgs::parse(args)
        .map_err(HelperError::from)
        .and_then(run);
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("{MESSAGE_PREFIX} {err}");
            ExitCode::from(SETUP_FAILED)
        }
    }
}

#[cfg(unix)]
fn run(args: HelperArgs) -> Result<ExitCode, HelperError> {
    use std::os::unix::process::{CommandExt, ExitStatusExt};

    if let Some(dir) = &args.join_cgroup {
        let procs = dir.join("cgroup.procs");
        let pid = rustix::process::getpid().as_raw_nonzero().get();
        std::fs::write(&procs, pid.to_string()).map_err(|source| HelperError::Cgroup {
            path: dir.clone(),
            source,
        })?;
    }
    set_rlimits(&args)?;
    if let Some(rules) = &args.landlock {
        restrict_landlock(rules)?;
    }
    match args.privileges {
        Privileges::Drop => drop_privileges()?,
        Privileges::Keep => {}
    }
    let exec_error = |source| HelperError::Exec {
        program: args.program.clone(),
        source,
    };
    let mut command = match &args.bridge {
        // The bridge connects to the proxy's Unix socket, which the command's filters forbid:
        // it stays in this process, and a second stage of the helper (this same program, with
        // everything already done left out) installs the filters and becomes the command.
        Some(socket) => {
            // This stage keeps Unix sockets (and no filters): the command, its child, must not
            // be able to write its memory (/proc/PID/mem) to use them.
            crate::protect_this_process().map_err(HelperError::Protect)?;
            bridge::start(socket).map_err(HelperError::Bridge)?;
            let second = HelperArgs {
                join_cgroup: None,
                rlimits: Vec::new(),
                nproc: args.nproc,
                privileges: Privileges::Drop,
                landlock: None,
                seccomp: args.seccomp,
                bridge: None,
                program: args.program.clone(),
                args: args.args.clone(),
            };
            let me = std::env::current_exe().map_err(HelperError::SelfExe)?;
            let mut command = std::process::Command::new(me);
            command.args(second.to_args());
            command
        }
        None => {
            if let Some(filters) = &args.seccomp {
                apply_seccomp(filters)?;
            }
            let mut command = std::process::Command::new(&args.program);
            command.args(&args.args);
            return Err(exec_error(command.exec()));
        }
    };
    let status = command.status().map_err(exec_error)?;
    let code = match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        (None, None) => 1,
    };
    Ok(ExitCode::from(u8::try_from(code & 0xff).unwrap_or(1)))
}

#[cfg(target_os = "linux")]
fn drop_privileges() -> Result<(), HelperError> {
    Ok(privileges::drop_all()?)
}

#[cfg(all(unix, not(target_os = "linux")))]
fn drop_privileges() -> Result<(), HelperError> {
    Ok(())
}

#[cfg(not(unix))]
fn run(_: HelperArgs) -> Result<ExitCode, HelperError> {
    Err(HelperError::Unsupported("the sandbox helper"))
}

#[cfg(unix)]
fn set_rlimits(args: &HelperArgs) -> Result<(), HelperError> {
    use rustix::process::{Resource, Rlimit as Limit, getrlimit, setrlimit};

    for &(limit, value) in &args.rlimits {
        let resource = match limit {
            Rlimit::Processes => Resource::Nproc,
            Rlimit::FileSize => Resource::Fsize,
            Rlimit::CpuSeconds => Resource::Cpu,
            Rlimit::OpenFiles => Resource::Nofile,
            Rlimit::CoreSize => Resource::Core,
        };
        let value = match (limit, args.nproc) {
            (Rlimit::Processes, NprocScope::AboveCurrent) => {
                value.saturating_add(tasks_of_this_user())
            }
            _ => value,
        };
        // Never above the hard limit already in force: lowering is always allowed.
        let value = match getrlimit(resource).maximum {
            Some(hard) => value.min(hard),
            None => value,
        };
        setrlimit(
            resource,
            Limit {
                current: Some(value),
                maximum: Some(value),
            },
        )
        .map_err(|e| HelperError::Rlimit {
            name: limit.name(),
            source: e.into(),
        })?;
    }
    Ok(())
}

/// Threads of every process of this real user: what `RLIMIT_NPROC` counts outside a user
/// namespace of its own.
#[cfg(unix)]
fn tasks_of_this_user() -> u64 {
    let uid = rustix::process::getuid().as_raw().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut total = 0;
    for entry in entries.filter_map(Result::ok) {
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|rest| rest.split_whitespace().collect::<Vec<_>>())
        };
        let mine = field("Uid:").is_some_and(|ids| ids.first() == Some(&uid.as_str()));
        if mine {
            total += field("Threads:")
                .and_then(|v| v.first().and_then(|n| n.parse::<u64>().ok()))
                .unwrap_or(1);
        }
    }
    total
}

#[cfg(target_os = "linux")]
fn restrict_landlock(rules: &LandlockArgs) -> Result<(), HelperError> {
    Ok(crate::linux::landlock::restrict_self(rules)?)
}

#[cfg(all(unix, not(target_os = "linux")))]
fn restrict_landlock(_: &LandlockArgs) -> Result<(), HelperError> {
    Err(HelperError::Unsupported("Landlock"))
}

#[cfg(target_os = "linux")]
fn apply_seccomp(filters: &SeccompArgs) -> Result<(), HelperError> {
    use crate::linux::seccomp::{Threads, apply};
    // Only this thread: the helper is single-threaded here and becomes the command.
    Ok(apply(filters, Threads::This)?)
}

#[cfg(all(unix, not(target_os = "linux")))]
fn apply_seccomp(_: &SeccompArgs) -> Result<(), HelperError> {
    Err(HelperError::Unsupported("seccomp"))
}

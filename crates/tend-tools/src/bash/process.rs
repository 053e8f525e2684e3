//! Spawning a shell command, and its process group.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use tend_sandbox::{CommandSession, SandboxError, ShellCommand};

use super::env::child_env;
use crate::Workspace;

/// The one place a shell command is built: the plain invocation, wrapped by the workspace's
/// sandbox, then spawned in its own process group with no stdin and captured output. The
/// session must be kept until the command has ended.
///
/// `file_cap` bounds every file the command writes (`RLIMIT_FSIZE`, set by the shell before
/// the script starts, hard and soft, so nothing it starts can raise it): the rest of the run's
/// disk budget, so that one file cannot overshoot it between two measurements.
pub(crate) fn command_for(
    ws: &Workspace,
    script: &str,
    file_cap: Option<u64>,
) -> Result<(tokio::process::Command, CommandSession), SandboxError> {
    let env = child_env(ws.parent_env(), ws.tmp());
    let program = shell(&env);
    let script = match file_cap {
        // On the script's first line, so that the shell's line numbers stay the script's.
        Some(bytes) => format!("ulimit -f {}; {script}", bytes / ulimit_unit(&program)),
        None => script.to_owned(),
    };
    let plain = ShellCommand {
        program,
        args: vec![OsString::from("-c"), OsString::from(script)],
        cwd: ws.root().to_path_buf(),
        env,
        writable: vec![ws.root().to_path_buf(), ws.tmp().to_path_buf()],
        tmp: ws.tmp().to_path_buf(),
    };
    let tend_sandbox::Wrapped {
        command: wrapped,
        session,
    } = ws.sandbox().wrap(plain)?;
    let mut cmd = tokio::process::Command::new(&wrapped.program);
    cmd.args(&wrapped.args)
        .current_dir(&wrapped.cwd)
        .env_clear()
        .envs(wrapped.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Kills the shell itself if the future is dropped; the group guard gets the rest.
        .kill_on_drop(true)
        // A new group whose id is the shell's pid: one signal reaches every process it starts.
        .process_group(0);
    Ok((cmd, session))
}

/// Bytes per unit of `ulimit -f`: bash counts KiB, POSIX shells (dash) 512-byte blocks.
fn ulimit_unit(shell: &Path) -> u64 {
    match shell.file_name().and_then(|n| n.to_str()) {
        Some("bash") => 1024,
        Some(_) | None => 512,
    }
}

/// bash where it is installed, else POSIX sh.
fn shell(env: &[(OsString, OsString)]) -> PathBuf {
    let path_dirs = env
        .iter()
        .find(|(name, _)| name == "PATH")
        .map(|(_, value)| std::env::split_paths(value).collect::<Vec<_>>())
        .unwrap_or_default();
    ["/bin", "/usr/bin", "/usr/local/bin"]
        .iter()
        .map(PathBuf::from)
        .chain(path_dirs)
        .map(|dir| dir.join("bash"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| Path::new("/bin/sh").to_path_buf())
}

/// Signals a process group; kills it when dropped, so a cancelled or finished command leaves
/// nothing running.
#[derive(Debug)]
pub(crate) struct GroupGuard {
    pgid: Option<rustix::process::Pid>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum GroupSignal {
    Term,
    Kill,
}

impl GroupGuard {
    /// `pid` is the group leader's, i.e. the group id (see `process_group(0)`).
    pub(crate) fn new(pid: Option<u32>) -> GroupGuard {
        GroupGuard {
            pgid: pid
                .and_then(|pid| i32::try_from(pid).ok())
                .and_then(rustix::process::Pid::from_raw),
        }
    }

    pub(crate) fn signal(&self, signal: GroupSignal) {
        let Some(pgid) = self.pgid else { return };
        let signal = match signal {
            GroupSignal::Term => rustix::process::Signal::TERM,
            GroupSignal::Kill => rustix::process::Signal::KILL,
        };
        // ESRCH (the group is gone already) is the common, harmless case. The group id cannot
        // be reused while any member lives; once all are gone, reuse of the number within this
        // window would need the pid space to wrap around.
        let _ = rustix::process::kill_process_group(pgid, signal);
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.signal(GroupSignal::Kill);
    }
}

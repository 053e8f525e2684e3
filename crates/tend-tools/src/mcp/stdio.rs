//! A stdio MCP server as a child process: started in its own process group (so that `npx`, a
//! shell wrapper and whatever they start all go together), stdin/stdout handed to the SDK,
//! the tail of stderr kept for error messages, and the whole group killed at the end, also
//! when this side is dropped without a clean shutdown.

use std::ffi::OsString;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::process::{Child, ChildStdin, ChildStdout};

#[cfg(unix)]
use crate::bash::process::{GroupGuard, GroupSignal};

/// Bytes of stderr kept (the end of it).
const STDERR_TAIL: usize = 4096;

pub(crate) struct StdioProcess {
    child: tokio::sync::Mutex<Child>,
    #[cfg(unix)]
    group: GroupGuard,
    stderr: Arc<Mutex<Vec<u8>>>,
    reader: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for StdioProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StdioProcess").finish_non_exhaustive()
    }
}

/// Starts `program` with exactly `env`, in `cwd`, in a new process group.
pub(crate) fn spawn(
    program: &str,
    args: &[String],
    env: &[(OsString, OsString)],
    cwd: &Path,
) -> std::io::Result<(StdioProcess, ChildStdout, ChildStdin)> {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .current_dir(cwd)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    cmd.process_group(0);
    let mut child = cmd.spawn()?;
    #[cfg(unix)]
    let group = GroupGuard::new(child.id());
    let (Some(stdout), Some(stdin)) = (child.stdout.take(), child.stdin.take()) else {
        return Err(std::io::Error::other("the server's pipes were not set up"));
    };
    let stderr = Arc::new(Mutex::new(Vec::new()));
    let reader = match child.stderr.take() {
        Some(mut pipe) => {
            let tail = Arc::clone(&stderr);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                loop {
                    match pipe.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => keep_tail(&tail, &buf[..n]),
                    }
                }
            })
        }
        None => tokio::spawn(async {}),
    };
    Ok((
        StdioProcess {
            child: tokio::sync::Mutex::new(child),
            #[cfg(unix)]
            group,
            stderr,
            reader,
        },
        stdout,
        stdin,
    ))
}

fn keep_tail(tail: &Mutex<Vec<u8>>, bytes: &[u8]) {
    let mut tail = match tail.lock() {
        Ok(t) => t,
        Err(poisoned) => poisoned.into_inner(),
    };
    tail.extend_from_slice(bytes);
    if tail.len() > STDERR_TAIL {
        let cut = tail.len() - STDERR_TAIL;
        tail.drain(..cut);
    }
}

impl StdioProcess {
    /// The last lines the server wrote to stderr, trimmed.
    pub(crate) fn stderr_tail(&self) -> String {
        let tail = match self.stderr.lock() {
            Ok(t) => t.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        let text = String::from_utf8_lossy(&tail);
        let text = text.trim();
        // Start at a line boundary when the buffer was cut.
        match (tail.len() >= STDERR_TAIL, text.find('\n')) {
            (true, Some(i)) => text[i + 1..].to_owned(),
            _ => text.to_owned(),
        }
    }

    /// The exit status, waiting at most `wait` for the process to end.
    pub(crate) async fn exit_status(&self, wait: Duration) -> Option<ExitStatus> {
        let mut child = self.child.lock().await;
        match tokio::time::timeout(wait, child.wait()).await {
            Ok(Ok(status)) => Some(status),
            Ok(Err(_)) | Err(_) => None,
        }
    }

    /// Kills the whole group now.
    pub(crate) fn kill(&self) {
        #[cfg(unix)]
        self.group.signal(GroupSignal::Kill);
        #[cfg(not(unix))]
        if let Ok(mut child) = self.child.try_lock() {
            let _ = child.start_kill();
        }
    }

    /// After the SDK closed stdin: give the server `grace` to exit, then SIGTERM the group,
    /// then SIGKILL it (the MCP spec's stdio shutdown). Anything left in the group goes too.
    pub(crate) async fn shutdown(&self, grace: Duration) {
        if self.exit_status(grace).await.is_none() {
            #[cfg(unix)]
            self.group.signal(GroupSignal::Term);
            let _ = self.exit_status(grace).await;
        }
        self.kill();
        self.reader.abort();
    }
}

impl Drop for StdioProcess {
    fn drop(&mut self) {
        self.reader.abort();
        // The group guard kills the group as it drops.
    }
}

/// An exit status in words: `exit code 1`, `killed by signal 9`.
pub(crate) fn describe_exit(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit code {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("killed by signal {signal}");
        }
    }
    "ended".to_owned()
}

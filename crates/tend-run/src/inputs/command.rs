//! Commands tend runs for a task before its session: `command` inputs and the `[when] check`
//! gate. They are the task author's own commands (not the model's), so they run like a cron
//! job would: `bash -c` (or `sh -c`) in the project folder, but with the same scrubbed
//! environment as the agent's shell commands (no API keys), no stdin, in their own process
//! group, killed as a group at their timeout.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

/// How a command ended and what it printed (each stream cut at the cap).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ran {
    /// `None` when it was killed (timeout, signal) or could not start.
    pub exit_code: Option<i32>,
    pub timed_out: bool,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Bytes of stdout beyond the cap.
    pub stdout_cut: u64,
    /// Set when the command could not be started at all.
    pub error: Option<String>,
}

impl Ran {
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// `exited 3`, `timed out after 30s`, `was killed by a signal`, `could not start: …`.
    pub fn failure(&self) -> String {
        match (&self.error, self.timed_out, self.exit_code) {
            (Some(e), _, _) => format!("could not start: {e}"),
            (None, true, _) => "timed out".to_owned(),
            (None, false, Some(code)) => format!("exited {code}"),
            (None, false, None) => "was killed by a signal".to_owned(),
        }
    }
}

fn shell() -> &'static str {
    if Path::new("/bin/bash").is_file() {
        "/bin/bash"
    } else {
        "/bin/sh"
    }
}

/// Runs `script` in `cwd` with at most `timeout`, keeping the first `cap` bytes of each stream.
pub(crate) async fn run(script: &str, cwd: &Path, timeout: Duration, cap: usize) -> Ran {
    let tmp = std::env::temp_dir();
    let mut cmd = tokio::process::Command::new(shell());
    cmd.arg("-c")
        .arg(script)
        .current_dir(cwd)
        .env_clear()
        .envs(tend_tools::scrubbed_env(&tmp))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            return Ran {
                exit_code: None,
                timed_out: false,
                stdout: Vec::new(),
                stderr: Vec::new(),
                stdout_cut: 0,
                error: Some(e.to_string()),
            };
        }
    };
    let group = child
        .id()
        .and_then(|pid| i32::try_from(pid).ok())
        .and_then(rustix::process::Pid::from_raw);
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let work = async {
        let (out, err, status) =
            tokio::join!(capped(stdout, cap), capped(stderr, cap), child.wait());
        (out, err, status)
    };
    let result = tokio::time::timeout(timeout, work).await;
    // Whatever the shell started goes with it, finished or not.
    if let Some(pgid) = group {
        let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
    }
    match result {
        Ok(((stdout, stdout_cut), (stderr, _), status)) => Ran {
            exit_code: status.ok().and_then(|s| s.code()),
            timed_out: false,
            stdout,
            stderr,
            stdout_cut,
            error: None,
        },
        Err(_) => Ran {
            exit_code: None,
            timed_out: true,
            stdout: Vec::new(),
            stderr: Vec::new(),
            stdout_cut: 0,
            error: None,
        },
    }
}

/// Reads a pipe to its end, keeping the first `cap` bytes; returns them and how many more
/// there were.
async fn capped<R: AsyncRead + Unpin>(pipe: Option<R>, cap: usize) -> (Vec<u8>, u64) {
    let Some(mut pipe) = pipe else {
        return (Vec::new(), 0);
    };
    let mut kept = Vec::new();
    let mut more = 0u64;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = cap.saturating_sub(kept.len()).min(n);
                kept.extend_from_slice(&buf[..room]);
                more += (n - room) as u64;
            }
        }
    }
    (kept, more)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[tokio::test]
    async fn captures_output_and_exit_codes_with_a_scrubbed_environment() {
        let dir = tempfile::tempdir().unwrap();
        let ran = run(
            "pwd; echo \"term=$TERM\"; echo oops >&2; exit 3",
            dir.path(),
            Duration::from_secs(10),
            1000,
        )
        .await;
        let cwd = dir.path().canonicalize().unwrap();
        assert_eq!(
            (
                String::from_utf8(ran.stdout.clone()).unwrap(),
                String::from_utf8(ran.stderr.clone()).unwrap(),
                ran.exit_code
            ),
            (
                format!("{}\nterm=dumb\n", cwd.display()),
                "oops\n".into(),
                Some(3)
            )
        );
        assert_eq!(ran.failure(), "exited 3");
    }

    #[tokio::test]
    async fn output_is_capped_and_a_hung_command_is_killed_at_its_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let ran = run("printf 0123456789", dir.path(), Duration::from_secs(10), 4).await;
        assert_eq!((ran.stdout.as_slice(), ran.stdout_cut), (&b"0123"[..], 6));
        let started = std::time::Instant::now();
        let hung = run(
            "sleep 30 & wait",
            dir.path(),
            Duration::from_millis(200),
            10,
        )
        .await;
        assert!(hung.timed_out);
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(hung.failure(), "timed out");
    }
}

//! Running a notifier's process: stdin written, output captured, and at its timeout the
//! whole process group killed (a script's children included).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt as _;
use tokio::process::Command;

use crate::deliver::DeliveryError;
use crate::message::cut;

pub(crate) async fn run(
    program: &Path,
    args: &[String],
    env: &[(&str, String)],
    stdin: Option<Vec<u8>>,
    timeout: Duration,
) -> Result<(), DeliveryError> {
    let shown = program.display().to_string();
    let mut cmd = Command::new(program);
    cmd.args(args)
        .envs(env.iter().map(|(k, v)| (*k, v)))
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    cmd.process_group(0);
    let mut child = cmd.spawn().map_err(|e| DeliveryError::Spawn {
        program: shown.clone(),
        reason: e.to_string(),
    })?;
    let pid = child.id();
    let input = child.stdin.take();
    let feed = async move {
        if let (Some(mut pipe), Some(bytes)) = (input, stdin) {
            // A command that does not read its stdin is fine: a closed pipe is no error.
            let _ = pipe.write_all(&bytes).await;
            let _ = pipe.shutdown().await;
        }
    };
    let finished = tokio::time::timeout(timeout, async {
        let ((), output) = tokio::join!(feed, child.wait_with_output());
        output
    })
    .await;
    let output = match finished {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => {
            return Err(DeliveryError::Spawn {
                program: shown,
                reason: e.to_string(),
            });
        }
        Err(_) => {
            kill_group(pid);
            return Err(DeliveryError::CommandTimeout {
                program: shown,
                after: human(timeout),
            });
        }
    };
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(DeliveryError::Exited {
        program: shown,
        status: match output.status.code() {
            Some(code) => format!("exit code {code}"),
            None => "a signal".to_owned(),
        },
        stderr: cut(stderr.trim(), 300),
    })
}

#[cfg(unix)]
fn kill_group(pid: Option<u32>) {
    let group = pid
        .and_then(|p| i32::try_from(p).ok())
        .and_then(rustix::process::Pid::from_raw);
    if let Some(group) = group {
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    }
}

#[cfg(not(unix))]
fn kill_group(_pid: Option<u32>) {}

/// `10s`, `1.5s`, `250ms`.
pub(crate) fn human(d: Duration) -> String {
    if d.as_millis() < 1_000 {
        format!("{}ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

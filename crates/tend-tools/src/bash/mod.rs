//! `bash`: a shell command in the workspace root, with a timeout, capped output and its whole
//! process group cleaned up afterwards.

mod budget;
mod capture;
pub(crate) mod env;
pub(crate) mod process;

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::{Instant, sleep_until};

use crate::output::{Failure, parse_input};
use crate::{Limits, ToolDetail, ToolOutput, Workspace};
use budget::Watch;
use capture::{HeadTail, budgets};
use process::{GroupGuard, GroupSignal, command_for};
use tend_sandbox::{CommandOutput, CommandSession};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    command: String,
    #[serde(default)]
    timeout_ms: Option<u64>,
    /// For the transcript and approvals only.
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
}

pub(crate) async fn run(
    ws: &Workspace,
    input: &serde_json::Value,
    limits: &Limits,
) -> Result<ToolOutput, Failure> {
    let input: Input = parse_input("bash", input)?;
    if input.command.trim().is_empty() {
        return Err(Failure::failed("command is empty"));
    }
    let timeout = match input.timeout_ms {
        None => limits.bash_timeout,
        Some(0) => return Err(Failure::failed("timeout_ms must be at least 1")),
        Some(ms) => Duration::from_millis(ms).min(limits.bash_timeout_max),
    };
    let mut watch = match ws.disk_budget() {
        Some(budget) => Some(Watch::start(budget, limits.disk_poll).await),
        None => None,
    };
    let file_cap = watch.as_ref().map(Watch::file_cap);
    let (mut cmd, session) = match command_for(ws, &input.command, file_cap) {
        Ok(built) => built,
        // Fail closed: no sandbox works here, or it cannot give this task what it asks.
        Err(e) if e.is_refusal() => return Err(Failure::refused(e.to_string())),
        Err(e) => {
            return Err(Failure::failed(format!(
                "cannot run the command in the sandbox: {e}"
            )));
        }
    };
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| Failure::failed(format!("cannot start the shell: {e}")))?;
    // Created before the first await: if this future is dropped from here on, the group dies.
    let group = GroupGuard::new(child.id());
    let run = supervise(&mut child, &group, timeout, limits, &mut watch).await;
    // Whatever the shell left behind in its group goes too.
    drop(group);
    let duration = started.elapsed();
    let disk_note = match watch {
        Some(watch) => {
            let (verdict, budget) = watch.finish().await;
            budget::note(&verdict, &budget)
        }
        None => None,
    };
    Ok(report(
        &input.command,
        &run,
        Ended {
            timeout,
            duration,
            disk_note,
        },
        limits,
        session,
    ))
}

/// How a command ended and what it printed.
struct Run {
    status: Option<io::Result<ExitStatus>>,
    timed_out: bool,
    /// The shell exited but something outside its process group kept the pipes open.
    abandoned_pipes: bool,
    stdout: HeadTail,
    stderr: HeadTail,
}

/// How long it ran, and what the disk budget says about it.
struct Ended {
    timeout: Duration,
    duration: Duration,
    /// Set when the command used the run's disk budget up (or found it used up).
    disk_note: Option<String>,
}

/// Reads both pipes while waiting for the shell, enforcing the timeout, the pipe grace and the
/// disk budget.
async fn supervise(
    child: &mut tokio::process::Child,
    group: &GroupGuard,
    timeout: Duration,
    limits: &Limits,
    watch: &mut Option<Watch>,
) -> Run {
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let mut run = Run {
        status: None,
        timed_out: false,
        abandoned_pipes: false,
        stdout: HeadTail::new(limits.output_cap),
        stderr: HeadTail::new(limits.output_cap),
    };
    let mut out_buf = vec![0u8; 32 * 1024];
    let mut err_buf = vec![0u8; 32 * 1024];
    let deadline = Instant::now() + timeout;
    // Pending escalations; `None` means not armed.
    let mut kill_at: Option<Instant> = None;
    let mut pipes_kill_at: Option<Instant> = None;
    let mut abandon_at: Option<Instant> = None;
    let far = || Instant::now() + Duration::from_secs(86_400);

    while run.status.is_none() || stdout.is_some() || stderr.is_some() {
        tokio::select! {
            read = read_some(&mut stdout, &mut out_buf), if stdout.is_some() => match read {
                Ok(0) | Err(_) => stdout = None,
                Ok(n) => run.stdout.push(&out_buf[..n]),
            },
            read = read_some(&mut stderr, &mut err_buf), if stderr.is_some() => match read {
                Ok(0) | Err(_) => stderr = None,
                Ok(n) => run.stderr.push(&err_buf[..n]),
            },
            status = child.wait(), if run.status.is_none() => {
                run.status = Some(status);
                kill_at = None;
                // Output a background process still holds gets a moment, then the group goes.
                pipes_kill_at = Some(Instant::now() + limits.pipe_grace);
            },
            () = sleep_until(deadline), if run.status.is_none() && !run.timed_out => {
                run.timed_out = true;
                group.signal(GroupSignal::Term);
                kill_at = Some(Instant::now() + limits.kill_grace);
            },
            () = sleep_until(kill_at.unwrap_or_else(far)), if kill_at.is_some() => {
                group.signal(GroupSignal::Kill);
                kill_at = None;
            },
            () = sleep_until(pipes_kill_at.unwrap_or_else(far)), if pipes_kill_at.is_some() => {
                group.signal(GroupSignal::Kill);
                pipes_kill_at = None;
                abandon_at = Some(Instant::now() + limits.pipe_grace);
            },
            used = reading(watch), if watch.as_ref().is_some_and(Watch::is_watching) => {
                if let (Some(used), Some(w)) = (used, watch.as_mut())
                    && w.passed(used)
                {
                    // No grace: every write it makes from here is over the budget.
                    group.signal(GroupSignal::Kill);
                    w.stopped(used);
                }
            },
            () = sleep_until(abandon_at.unwrap_or_else(far)), if abandon_at.is_some() => {
                // Only a process that left the group (setsid) can still hold the pipes.
                run.abandoned_pipes = true;
                break;
            },
        }
    }
    run
}

/// The watch's next measurement (never, without a watch).
async fn reading(watch: &mut Option<Watch>) -> Option<u64> {
    match watch {
        Some(w) => w.reading().await,
        None => std::future::pending().await,
    }
}

/// One read from a pipe that is still open.
async fn read_some<R: AsyncRead + Unpin>(
    pipe: &mut Option<R>,
    buf: &mut [u8],
) -> io::Result<usize> {
    match pipe {
        Some(pipe) => pipe.read(buf).await,
        None => Ok(0),
    }
}

fn report(
    command: &str,
    run: &Run,
    ended: Ended,
    limits: &Limits,
    session: CommandSession,
) -> ToolOutput {
    let Ended {
        timeout,
        duration,
        disk_note,
    } = ended;
    let (out_cap, err_cap) = budgets(limits.output_cap, run.stdout.total(), run.stderr.total());
    let (stdout, out_cut) = run.stdout.render(out_cap);
    let (stderr, err_cut) = run.stderr.render(err_cap);
    let mut content = stdout.clone();
    if !stderr.is_empty() {
        if !content.is_empty() && !content.ends_with('\n') {
            content.push('\n');
        }
        content.push_str("[stderr]\n");
        content.push_str(&stderr);
    }
    let mut notes = Vec::new();
    let (exit_code, signal) = match &run.status {
        Some(Ok(status)) => (status.code(), status.signal()),
        Some(Err(err)) => {
            notes.push(format!("[could not get the exit status: {err}]"));
            (None, None)
        }
        None => (None, None),
    };
    if run.timed_out {
        notes.push(format!(
            "[timed out after {}; the command and everything it started were killed]",
            human(timeout)
        ));
    } else if let Some(signal) = signal {
        notes.push(format!("[killed by signal {signal}]"));
    }
    match exit_code {
        Some(0) | None => {}
        Some(code) => notes.push(format!("[exit code {code}]")),
    }
    // Ends the command's sandbox session (anything it left in its cgroup is killed) and names
    // what the sandbox refused it.
    let sandbox = session.finish(&CommandOutput {
        stdout: &stdout,
        stderr: &stderr,
        exit_code,
        signal,
    });
    for denial in &sandbox.denials {
        notes.push(format!("[sandbox: {}]", denial.message));
    }
    let over_budget = disk_note.is_some();
    if let Some(note) = disk_note {
        notes.push(note);
    }
    if run.abandoned_pipes {
        notes.push(
            "[stopped reading: a process outside the command's process group kept its output \
             open]"
                .to_owned(),
        );
    }
    if content.is_empty() && notes.is_empty() {
        content.push_str("(no output)");
    }
    for note in notes {
        if !content.is_empty() && !content.ends_with('\n') {
            content.push('\n');
        }
        content.push_str(&note);
    }
    // A command whose effect the sandbox undid did not do what it said.
    let undone = sandbox
        .denials
        .iter()
        .any(|d| d.kind == tend_sandbox::DenialKind::Undone);
    ToolOutput {
        content,
        is_error: run.timed_out || exit_code != Some(0) || undone || over_budget,
        detail: ToolDetail::Bash {
            command: command.to_owned(),
            exit_code,
            signal,
            timed_out: run.timed_out,
            duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
            stdout_bytes: run.stdout.total(),
            stderr_bytes: run.stderr.total(),
            truncated: out_cut || err_cut,
            sandbox: sandbox.mechanism.map(str::to_owned),
            denials: sandbox.denials,
            proxy: sandbox.proxy,
        },
    }
}

/// `200 ms`, `2 s`, `1.5 s`, `10 min`.
fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(60_000) {
        format!("{} min", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

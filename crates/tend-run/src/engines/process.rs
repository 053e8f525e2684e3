//! Running an engine's program: in its own process group, no stdin, a scrubbed environment;
//! its standard output read line by line into events as they come; stopped (the whole group:
//! SIGTERM, then SIGKILL) at the run's timeout, when its reported cost passes the budget, or
//! when the run is stopped from outside.

use std::process::Stdio;
use std::time::Duration;

use tend_agent::{AgentEvent, EndReason, SessionOutcome};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, BufReader};
use tokio::time::Instant;

use super::status::parse_status;
use super::{Bounds, Invocation, Mapper};
use crate::so_far::SoFar;
use crate::stop::{StopReason, StopSignal};

/// Bytes of the program's standard error kept for the report (the end matters most).
const STDERR_TAIL: usize = 4096;

/// Why tend ended the program before it ended by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    Timeout,
    Budget,
    Stopped(StopReason),
}

/// Runs `invocation` to its end, mapping its output with `mapper` into `sink`. The events end
/// with the agent's report (from its `STATUS:` line) and `end`.
pub(crate) async fn drive(
    invocation: Invocation,
    mut mapper: Box<dyn Mapper>,
    bounds: &Bounds,
    sink: &mut (dyn FnMut(AgentEvent) + Send),
    mut stop: StopSignal,
) -> (SessionOutcome, Option<StopReason>) {
    let mut tally = SoFar::default();
    let mut emit = |event: AgentEvent, tally: &mut SoFar| {
        tally.note(&event);
        sink(event);
    };
    let name = invocation.program.file_name().map_or_else(
        || "the engine".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    );
    if let Some(reason) = stop.requested() {
        let outcome = tally.stopped_outcome(reason);
        emit(end_event(&outcome), &mut tally);
        return (outcome, Some(reason));
    }
    let mut command = tokio::process::Command::new(&invocation.program);
    command
        .args(&invocation.args)
        .current_dir(&invocation.cwd)
        .env_clear()
        .envs(invocation.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            let outcome = tally.outcome(
                EndReason::ModelError,
                Some(format!(
                    "cannot start {}: {e}",
                    invocation.program.display()
                )),
            );
            emit(end_event(&outcome), &mut tally);
            return (outcome, None);
        }
    };
    let group = Group::new(child.id());
    let stderr = child.stderr.take().map(|mut pipe| {
        tokio::spawn(async move {
            let mut tail: Vec<u8> = Vec::new();
            let mut buf = [0u8; 8192];
            while let Ok(n) = pipe.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                tail.extend_from_slice(&buf[..n]);
                let excess = tail.len().saturating_sub(STDERR_TAIL);
                tail.drain(..excess);
            }
            String::from_utf8_lossy(&tail).into_owned()
        })
    });
    let deadline = Instant::now() + bounds.timeout;
    let mut cut = None;
    if let Some(stdout) = child.stdout.take() {
        let mut lines = BufReader::new(stdout).lines();
        loop {
            tokio::select! {
                line = lines.next_line() => match line {
                    Ok(Some(line)) => {
                        for event in mapper.line(&line) {
                            emit(event, &mut tally);
                        }
                        if let (Some(budget), Some(spent)) =
                            (bounds.budget_micro_usd, tally.cost_micro_usd())
                            && spent > budget
                        {
                            cut = Some(Cut::Budget);
                            break;
                        }
                    }
                    Ok(None) | Err(_) => break,
                },
                () = tokio::time::sleep_until(deadline) => {
                    cut = Some(Cut::Timeout);
                    break;
                }
                reason = stop.stopped() => {
                    cut = Some(Cut::Stopped(reason));
                    break;
                }
            }
        }
    }
    // Output is over; the program may still be finishing (or hanging).
    let status = if cut.is_none() {
        tokio::select! {
            status = child.wait() => status.ok(),
            () = tokio::time::sleep_until(deadline) => {
                cut = Some(Cut::Timeout);
                None
            }
            reason = stop.stopped() => {
                cut = Some(Cut::Stopped(reason));
                None
            }
        }
    } else {
        None
    };
    if cut.is_some() {
        group.signal(Signal::Term);
        if tokio::time::timeout(bounds.kill_grace, child.wait())
            .await
            .is_err()
        {
            group.signal(Signal::Kill);
            let _ = child.wait().await;
        }
    }
    // Whatever the program left running in its group goes with it.
    group.signal(Signal::Kill);
    let stderr_tail = match stderr {
        Some(task) => tokio::time::timeout(Duration::from_secs(2), task)
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default(),
        None => String::new(),
    };
    let ending = mapper.ending();
    for event in ending.events {
        emit(event, &mut tally);
    }
    // An engine that stopped at the budget itself says so better than tend can.
    if cut == Some(Cut::Budget) && ending.end.is_some() {
        cut = None;
    }
    let (end, error, stopped) = match cut {
        Some(Cut::Stopped(reason)) => {
            let outcome = tally.stopped_outcome(reason);
            emit(end_event(&outcome), &mut tally);
            return (outcome, Some(reason));
        }
        Some(Cut::Timeout) => (
            EndReason::Timeout,
            Some(format!(
                "the run's timeout ({}) was reached; {name} was stopped",
                crate::human_duration(bounds.timeout)
            )),
            None,
        ),
        Some(Cut::Budget) => (
            EndReason::Budget,
            Some(format!(
                "{name} reported spending more than the budget; it was stopped"
            )),
            None,
        ),
        None => match (ending.end, status) {
            (Some(end), _) => (end, ending.error.clone(), None),
            (None, Some(s)) if s.success() => (EndReason::Finished, ending.error.clone(), None),
            (None, status) => {
                let how = status.map_or_else(|| "ended".to_owned(), |s| s.to_string());
                let tail = stderr_tail.trim();
                let error = if tail.is_empty() {
                    format!("{name} {how} without a result")
                } else {
                    format!("{name} {how} without a result: {tail}")
                };
                (EndReason::ModelError, Some(error), None)
            }
        },
    };
    let final_text = ending
        .result
        .clone()
        .or_else(|| tally.final_text().map(str::to_owned));
    if end == EndReason::Finished
        && let Some(report) = final_text.as_deref().and_then(parse_status)
    {
        emit(
            AgentEvent::Report {
                status: report.status,
                summary: report.summary,
            },
            &mut tally,
        );
    }
    let mut outcome = tally.outcome(end, error);
    if outcome.report.is_none() {
        outcome.final_text = final_text;
    }
    emit(end_event(&outcome), &mut tally);
    (outcome, stopped)
}

pub(crate) fn end_event(outcome: &SessionOutcome) -> AgentEvent {
    AgentEvent::End {
        reason: outcome.end,
        turns: outcome.turns,
        usage: outcome.usage,
        cost_micro_usd: outcome.cost_micro_usd,
    }
}

#[derive(Debug, Clone, Copy)]
enum Signal {
    Term,
    Kill,
}

/// The program's process group (its pid is the group's id, see `process_group(0)`); killed
/// when dropped, so nothing it started outlives the run.
struct Group {
    #[cfg(unix)]
    pgid: Option<rustix::process::Pid>,
}

impl Group {
    fn new(pid: Option<u32>) -> Group {
        #[cfg(unix)]
        {
            Group {
                pgid: pid
                    .and_then(|p| i32::try_from(p).ok())
                    .and_then(rustix::process::Pid::from_raw),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = pid;
            Group {}
        }
    }

    fn signal(&self, signal: Signal) {
        #[cfg(unix)]
        if let Some(pgid) = self.pgid {
            let signal = match signal {
                Signal::Term => rustix::process::Signal::TERM,
                Signal::Kill => rustix::process::Signal::KILL,
            };
            // ESRCH (the group is gone already) is the usual, harmless case.
            let _ = rustix::process::kill_process_group(pgid, signal);
        }
        #[cfg(not(unix))]
        let _ = signal;
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.signal(Signal::Kill);
    }
}

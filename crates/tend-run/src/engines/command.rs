//! The `command` engine: the task's `command` run once in the workspace, through the same
//! shell tool the agents use (the task's sandbox, a scrubbed environment, its process group
//! killed at the timeout or on a stop, capped output). No model, no cost: tend as a better
//! cron, with the same slots, catch-up, overlap, records and proposals.
//!
//! Exit 0 ends `changed` or `nothing-to-do` as the worktree says (or as a closing `STATUS:`
//! line of the output says); anything else ends `failed`. The output goes into the report.

use std::path::Path;

use serde_json::json;
use tend_agent::{AgentEvent, EndReason, SessionOutcome};
use tend_config::{Paths, ResolvedTask};
use tend_model::Usage;
use tend_tools::{ToolCall, ToolDetail, ToolOutput};

use super::Bounds;
use super::process::end_event;
use super::status::parse_status;
use crate::so_far::SoFar;
use crate::stop::{StopReason, StopSignal};
use crate::{RunError, Workspace};

/// Bytes of output the command returns (head and tail kept).
const OUTPUT_CAP: usize = 64 * 1024;
/// Bytes of output quoted in the report.
const REPORT_OUTPUT: usize = 4 * 1024;

pub(crate) async fn run(
    task: &ResolvedTask,
    paths: &Paths,
    ws: &Workspace,
    tmp: &Path,
    bounds: &Bounds,
    sink: &mut (dyn FnMut(AgentEvent) + Send),
    mut stop: StopSignal,
) -> Result<(SessionOutcome, Option<StopReason>), RunError> {
    let command = task.command.clone().ok_or_else(|| {
        RunError::Model(format!(
            "task `{}` has engine = \"command\" but no `command`",
            task.name
        ))
    })?;
    let tools = crate::sandbox::tools_workspace(task, paths, ws, tmp)?;
    let limits = tend_tools::Limits {
        bash_timeout: bounds.timeout,
        bash_timeout_max: bounds.timeout,
        kill_grace: bounds.kill_grace,
        output_cap: OUTPUT_CAP,
        ..tend_tools::Limits::default()
    };
    let mut tally = SoFar::default();
    let mut emit = |event: AgentEvent, tally: &mut SoFar| {
        tally.note(&event);
        sink(event);
    };
    emit(
        AgentEvent::Start {
            engine: "command".to_owned(),
            model: "none".to_owned(),
            fixed_prompt_bytes: 0,
        },
        &mut tally,
    );
    let call = ToolCall {
        id: "command".to_owned(),
        name: "bash".to_owned(),
        input: json!({ "command": command, "description": "the task's command" }),
    };
    emit(
        AgentEvent::ToolCall {
            turn: 1,
            id: call.id.clone(),
            name: call.name.clone(),
            input: call.input.clone(),
        },
        &mut tally,
    );
    let started = std::time::Instant::now();
    let output = match stop.requested() {
        Some(reason) => Err(reason),
        None => tokio::select! {
            // Dropping the call on a stop kills the command's process group.
            output = tend_tools::run_tool(&tools, &call, &limits) => Ok(output),
            reason = stop.stopped() => Err(reason),
        },
    };
    let output = match output {
        Ok(output) => output,
        Err(reason) => {
            let outcome = tally.stopped_outcome(reason);
            emit(end_event(&outcome), &mut tally);
            return Ok((outcome, Some(reason)));
        }
    };
    emit(
        AgentEvent::ToolResult {
            turn: 1,
            id: call.id.clone(),
            name: call.name.clone(),
            is_error: output.is_error,
            content: output.content.clone(),
            detail: output.detail.clone(),
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        },
        &mut tally,
    );
    let (end, error, report) = judge(&command, &output, bounds);
    if let Some(report) = &report {
        emit(
            AgentEvent::Report {
                status: report.status,
                summary: report.summary.clone(),
            },
            &mut tally,
        );
    }
    let mut outcome = tally.outcome(end, error);
    outcome.turns = 1;
    if outcome.report.is_none() {
        outcome.final_text = Some(summary(&command, &output));
    }
    outcome.usage = Usage::default();
    emit(end_event(&outcome), &mut tally);
    Ok((outcome, None))
}

/// How the run ends for the command's result: the end, a note, and the report when the
/// result decides it (a failure, or a `STATUS:` line the command printed last).
pub(crate) fn judge(
    command: &str,
    output: &ToolOutput,
    bounds: &Bounds,
) -> (EndReason, Option<String>, Option<tend_agent::Report>) {
    let text = summary(command, output);
    match &output.detail {
        ToolDetail::Bash {
            timed_out: true, ..
        } => (
            EndReason::Timeout,
            Some(format!(
                "the command ran past the task's timeout ({}) and was stopped",
                crate::human_duration(bounds.timeout)
            )),
            None,
        ),
        ToolDetail::Bash {
            exit_code: Some(0), ..
        } => {
            let printed = printed(&output.content);
            let report = parse_status(&printed).map(|r| tend_agent::Report {
                status: r.status,
                summary: text,
            });
            (EndReason::Finished, None, report)
        }
        _ => (
            EndReason::Finished,
            None,
            Some(tend_agent::Report {
                status: tend_agent::ReportStatus::Failed,
                summary: text,
            }),
        ),
    }
}

/// The command's own output, without the shell tool's bracketed notes.
fn printed(content: &str) -> String {
    content
        .lines()
        .filter(|l| !(l.starts_with("[exit code") || l.starts_with("[stderr]")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The report's text: what ran, how it ended, and the end of its output.
fn summary(command: &str, output: &ToolOutput) -> String {
    let how = match &output.detail {
        ToolDetail::Bash {
            exit_code,
            signal,
            timed_out,
            duration_ms,
            ..
        } => {
            let secs = *duration_ms as f64 / 1000.0;
            match (timed_out, exit_code, signal) {
                (true, _, _) => format!("timed out after {secs:.1}s"),
                (false, Some(code), _) => format!("exited with {code} after {secs:.1}s"),
                (false, None, Some(sig)) => format!("was killed by signal {sig} after {secs:.1}s"),
                (false, None, None) => format!("ended after {secs:.1}s"),
            }
        }
        ToolDetail::Refused { reason } | ToolDetail::Failed { reason } => {
            format!("could not run: {reason}")
        }
        ToolDetail::Read { .. }
        | ToolDetail::List { .. }
        | ToolDetail::Write { .. }
        | ToolDetail::Edit { .. }
        | ToolDetail::Glob { .. }
        | ToolDetail::Grep { .. }
        | ToolDetail::Mcp { .. }
        | ToolDetail::External { .. } => "ended".to_owned(),
    };
    let mut text = format!("`{}` {how}.", command.trim());
    let out = output.content.trim_end();
    if !out.is_empty() && !matches!(output.detail, ToolDetail::Refused { .. }) {
        let mut start = out.len().saturating_sub(REPORT_OUTPUT);
        while !out.is_char_boundary(start) {
            start += 1;
        }
        let cut = if start > 0 { "…\n" } else { "" };
        text.push_str(&format!("\n\n```\n{cut}{}\n```", &out[start..]));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use std::time::Duration;

    fn bash(exit: Option<i32>, timed_out: bool, content: &str) -> ToolOutput {
        ToolOutput {
            content: content.to_owned(),
            is_error: exit != Some(0),
            detail: ToolDetail::Bash {
                command: "./nightly.sh".into(),
                exit_code: exit,
                signal: None,
                timed_out,
                duration_ms: 1500,
                stdout_bytes: 0,
                stderr_bytes: 0,
                truncated: false,
                sandbox: None,
                denials: Vec::new(),
                proxy: Vec::new(),
            },
        }
    }

    fn bounds() -> Bounds {
        Bounds {
            timeout: Duration::from_secs(60),
            budget_micro_usd: None,
            kill_grace: Duration::from_secs(1),
        }
    }

    #[test]
    fn exit_codes_and_status_lines_decide() {
        assert_eq!(
            judge("./nightly.sh", &bash(Some(0), false, "ok\n"), &bounds()),
            (EndReason::Finished, None, None)
        );
        assert_eq!(
            judge(
                "./nightly.sh",
                &bash(Some(2), false, "boom\n[exit code 2]"),
                &bounds()
            ),
            (
                EndReason::Finished,
                None,
                Some(tend_agent::Report {
                    status: tend_agent::ReportStatus::Failed,
                    summary:
                        "`./nightly.sh` exited with 2 after 1.5s.\n\n```\nboom\n[exit code 2]\n```"
                            .into()
                })
            )
        );
        let (_, _, report) = judge(
            "./nightly.sh",
            &bash(Some(0), false, "3 stale branches\nSTATUS: needs-human\n"),
            &bounds(),
        );
        assert_eq!(
            report.map(|r| r.status),
            Some(tend_agent::ReportStatus::NeedsHuman)
        );
        assert_eq!(
            judge("./nightly.sh", &bash(None, true, ""), &bounds()),
            (
                EndReason::Timeout,
                Some("the command ran past the task's timeout (1m 0s) and was stopped".into()),
                None
            )
        );
    }
}

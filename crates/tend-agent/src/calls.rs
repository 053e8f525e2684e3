//! One turn's tool calls: each goes through the gate, then runs (or is refused, or parks the
//! session for a human), and the results go back to the model as one message.

use tend_model::{Content, Message, Role};
use tend_tools::{ToolCall, run_tool};
use tokio::time::{Instant, timeout_at};

use crate::checkpoint::{Checkpoint, Resolution};
use crate::event::{AgentEvent, EndReason};
use crate::gate::Verdict;
use crate::looping::{
    LOOP_DONE_TOOL, LoopSignal, NEXT_CHECK_TOOL, parse_loop_done, parse_next_check,
};
use crate::report::{REPORT_TOOL, parse_report};
use crate::session::{Session, Sink, State, cap, timeout_message};

/// A tool result's content in the transcript is cut here (the model saw it all).
const TRANSCRIPT_CONTENT_CAP: usize = 64 * 1024;

pub(crate) enum CallsOutcome {
    /// The results are in the conversation: ask the model again.
    Continue,
    Stop(EndReason, Option<String>),
}

/// Runs `calls[from..]` of `turn`, after `results` (those of `calls[..from]`).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run_calls(
    session: &Session<'_>,
    turn: u32,
    calls: &[ToolCall],
    mut results: Vec<Content>,
    from: usize,
    deadline: Instant,
    started: Instant,
    state: &mut State,
    sink: Sink<'_>,
) -> CallsOutcome {
    for (index, call) in calls.iter().enumerate().skip(from) {
        sink(AgentEvent::ToolCall {
            turn,
            id: call.id.clone(),
            name: call.name.clone(),
            input: call.input.clone(),
        });
        let (content, is_error) = if call.name == REPORT_TOOL {
            match parse_report(&call.input) {
                Ok(report) => {
                    sink(AgentEvent::Report {
                        status: report.status,
                        summary: report.summary.clone(),
                    });
                    state.report = Some(report);
                    ("Reported. The run ends here.".to_owned(), false)
                }
                Err(problem) => (problem, true),
            }
        } else if state.loop_tools && call.name == LOOP_DONE_TOOL {
            match parse_loop_done(&call.input) {
                Ok(reason) => {
                    state.check_over = true;
                    state.final_text = Some(reason);
                    ("The loop ends here.".to_owned(), false)
                }
                Err(problem) => (problem, true),
            }
        } else if state.loop_tools && call.name == NEXT_CHECK_TOOL {
            match parse_next_check(&call.input) {
                Ok(LoopSignal::NextCheck { seconds, why, .. }) => {
                    state.check_over = true;
                    if !why.is_empty() {
                        state.final_text = Some(why);
                    }
                    (
                        format!("The next check starts in {seconds} seconds."),
                        false,
                    )
                }
                Ok(LoopSignal::Done { .. }) => ("The loop ends here.".to_owned(), false),
                Err(problem) => (problem, true),
            }
        } else {
            let decision = session.gate.decide(call);
            sink(AgentEvent::Decision {
                turn,
                id: call.id.clone(),
                verdict: decision.verdict,
                because: decision.because.clone(),
            });
            match decision.verdict {
                Verdict::Allow => match execute(session, turn, call, deadline, sink).await {
                    Some(result) => result,
                    None => {
                        return CallsOutcome::Stop(
                            EndReason::Timeout,
                            Some(timeout_message(session.settings)),
                        );
                    }
                },
                Verdict::Deny => {
                    sink(AgentEvent::Refused {
                        turn,
                        id: call.id.clone(),
                        name: call.name.clone(),
                        reason: decision.because.clone(),
                    });
                    (format!("Refused: {}.", decision.because), true)
                }
                Verdict::Ask => {
                    let checkpoint =
                        state.checkpoint(turn, calls, results, index, &decision, started.elapsed());
                    sink(AgentEvent::Parked {
                        turn,
                        id: call.id.clone(),
                        name: call.name.clone(),
                        because: decision.because,
                    });
                    state.parked = Some(Box::new(checkpoint));
                    return CallsOutcome::Stop(EndReason::Parked, None);
                }
            }
        };
        results.push(Content::ToolResult {
            tool_use_id: call.id.clone(),
            content,
            is_error,
        });
    }
    state.push(Message {
        role: Role::User,
        content: results,
    });
    if state.report.is_some() || state.check_over {
        return CallsOutcome::Stop(EndReason::Finished, None);
    }
    CallsOutcome::Continue
}

/// Finishes the turn a session parked in: the waiting call runs (approved) or is refused with
/// the human's reason (denied; the model reads it and goes on), then the turn's other calls.
pub(crate) async fn resume_calls(
    session: &Session<'_>,
    checkpoint: Checkpoint,
    resolution: Resolution,
    deadline: Instant,
    started: Instant,
    state: &mut State,
    sink: Sink<'_>,
) -> CallsOutcome {
    let turn = checkpoint.turn;
    let mut results = checkpoint.results;
    let Some(call) = checkpoint.calls.get(checkpoint.pending) else {
        return CallsOutcome::Stop(
            EndReason::ModelError,
            Some("the checkpoint names no waiting call".to_owned()),
        );
    };
    let (content, is_error) = match &resolution {
        Resolution::Approve { .. } => match execute(session, turn, call, deadline, sink).await {
            Some(result) => result,
            None => {
                return CallsOutcome::Stop(
                    EndReason::Timeout,
                    Some(timeout_message(session.settings)),
                );
            }
        },
        Resolution::Deny { by, reason } => {
            let reason = format!("a human ({by}) denied this call: {reason}");
            sink(AgentEvent::Refused {
                turn,
                id: call.id.clone(),
                name: call.name.clone(),
                reason: reason.clone(),
            });
            (format!("Refused: {reason}. Go on without it."), true)
        }
    };
    results.push(Content::ToolResult {
        tool_use_id: call.id.clone(),
        content,
        is_error,
    });
    run_calls(
        session,
        turn,
        &checkpoint.calls,
        results,
        checkpoint.pending + 1,
        deadline,
        started,
        state,
        sink,
    )
    .await
}

/// Runs one allowed call within the deadline; `None` when the deadline passed.
async fn execute(
    session: &Session<'_>,
    turn: u32,
    call: &ToolCall,
    deadline: Instant,
    sink: Sink<'_>,
) -> Option<(String, bool)> {
    let started = Instant::now();
    let output = timeout_at(
        deadline,
        run_tool(session.workspace, call, &session.settings.tool_limits),
    )
    .await
    .ok()?;
    sink(AgentEvent::ToolResult {
        turn,
        id: call.id.clone(),
        name: call.name.clone(),
        is_error: output.is_error,
        content: cap(&output.content, TRANSCRIPT_CONTENT_CAP),
        detail: output.detail,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    });
    Some((output.content, output.is_error))
}

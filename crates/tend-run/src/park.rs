//! Parking a run on an approval, and what comes after: resuming it from its checkpoint in the
//! same worktree (in whatever process, after any restart), or closing it when the approval
//! expires or the run is cancelled, keeping the work done so far.

use std::path::Path;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tend_agent::{
    AgentEvent, Checkpoint, EndReason, ReportStatus, Resolution, SessionOutcome, Start,
};
use tend_config::ResolvedTask;
use tend_store::{NewApproval, RunId, RunState, TaskId};

use crate::conclude::{Concluding, conclude};
use crate::memory::TaskMemory;
use crate::stop::StopSignal;
use crate::transcript::Transcript;
use crate::workspace::{self, Workspace};
use crate::{Finished, Prepared, RunError, RunRequest, Runner, Writable, run_dir, session, write};

/// What a parked run leaves in `runs/<run-id>/parked.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ParkedRun {
    checkpoint: Checkpoint,
    workspace: Workspace,
    /// The task's notes as the run started with them, and what the workspace held before.
    memory_contents: String,
    memory_original: Option<Vec<u8>>,
    started: Timestamp,
}

const PARKED_FILE: &str = "parked.json";

/// Parks the run: checkpoint on disk, the run `waiting_approval` with its approval request (one
/// transaction), the worktree kept for the run. The run holds no worker while parked.
pub(crate) async fn park(
    runner: &Runner<'_>,
    request: &RunRequest,
    dir: &Path,
    prepared: Prepared,
    outcome: SessionOutcome,
) -> Result<Finished, RunError> {
    let task = &request.task;
    let checkpoint = outcome
        .parked
        .ok_or_else(|| RunError::Model("the session parked without a checkpoint".into()))?;
    let call = checkpoint
        .pending_call()
        .cloned()
        .ok_or_else(|| RunError::Model("the checkpoint names no waiting call".into()))?;
    let (memory_original, memory_contents) = prepared.memory.parts();
    let parked = ParkedRun {
        checkpoint: (*checkpoint).clone(),
        workspace: prepared.ws.clone(),
        memory_contents,
        memory_original,
        started: prepared.started,
    };
    let text = serde_json::to_string(&parked).map_err(|e| RunError::Encode(e.to_string()))?;
    let path = dir.join(PARKED_FILE);
    let tmp = dir.join("parked.json.tmp");
    write(&tmp, &text)?;
    std::fs::rename(&tmp, &path).map_err(|e| RunError::Io(path.clone(), e))?;
    workspace::park_lease(&prepared.ws, request.run_id.as_str())?;
    let now = runner.clock.now();
    let expires_at = now
        .checked_add(
            jiff::SignedDuration::try_from(task.approval_timeout)
                .unwrap_or(jiff::SignedDuration::MAX),
        )
        .unwrap_or(Timestamp::MAX);
    let (run, approval) = runner
        .store
        .park_run(&NewApproval {
            run: request.run_id.clone(),
            tool: call.name.clone(),
            arguments: call.input.clone(),
            rule: checkpoint.because.clone(),
            created_at: now,
            expires_at,
        })
        .await?;
    let summary = format!(
        "Waiting for approval: `{}` wants to run {} ({}). Approve with `tend approve {}`, or deny with `tend deny {} --reason …`.",
        task.name,
        describe_call(&call),
        checkpoint.because,
        approval.id,
        approval.id
    );
    write(
        &dir.join("report.md"),
        &format!("# {}: waiting for approval\n\n{summary}\n", task.name),
    )?;
    Ok(Finished {
        run,
        status: ReportStatus::NeedsHuman,
        summary,
        run_dir: dir.to_path_buf(),
        branch: None,
        conversation: Vec::new(),
        approval: Some(approval),
        briefing: None,
    })
}

fn describe_call(call: &tend_tools::ToolCall) -> String {
    match call.input.get("command").and_then(|c| c.as_str()) {
        Some(command) => format!("`{}`", command.trim()),
        None => format!("{} {}", call.name, call.input),
    }
}

/// Resumes a parked run after a human's answer: the same worktree, the conversation from the
/// checkpoint, the waiting call run (approved) or refused with the reason (denied).
pub async fn resume_with_stop(
    runner: &Runner<'_>,
    request: RunRequest,
    resolution: Resolution,
    live: &mut (dyn FnMut(&AgentEvent) + Send),
    stop: StopSignal,
) -> Result<Finished, RunError> {
    let dir = run_dir(runner.paths, request.run_id.as_str());
    let parked = load(&dir)?;
    let prepared = restore(
        runner,
        request.task_id,
        &request.task,
        &request.run_id,
        &parked,
    )?;
    let store = runner.store;
    store
        .set_run_state(&request.run_id, RunState::Running, runner.clock.now())
        .await?;
    store
        .set_run_owner(&request.run_id, Some(&crate::this_process()))
        .await?;
    let transcript = Transcript::append(&dir.join("transcript.jsonl"))?;
    let start = Start::Resume(Box::new(parked.checkpoint), resolution);
    let finished = session::run(
        runner, &request, &dir, prepared, start, transcript, live, stop,
    )
    .await?;
    Ok(crate::outputs::after(runner, &request.task, finished, live).await)
}

/// Why a parked run is closed without resuming.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closing {
    /// Nobody answered within the task's `approval_timeout`.
    Expired,
    Cancelled,
}

/// Closes a parked run: what the agent did before parking is committed on the run branch
/// (a proposal a human can still apply), the report says why the run stopped, the run ends
/// `expired` or `cancelled`, and the worktree goes back to the pool.
pub async fn close_parked(
    runner: &Runner<'_>,
    task: &ResolvedTask,
    task_id: TaskId,
    run_id: &RunId,
    model_label: &str,
    closing: Closing,
) -> Result<Finished, RunError> {
    // A run that has ended and waits only for its pull request to be approved.
    if let Some(finished) =
        crate::outputs::close_pull_request(runner, task, run_id, closing).await?
    {
        return Ok(finished);
    }
    let dir = run_dir(runner.paths, run_id.as_str());
    let parked = load(&dir)?;
    let prepared = restore(runner, task_id, task, run_id, &parked)?;
    if crate::writable(&prepared.ws) == Writable::Yes {
        prepared.memory.save(prepared.ws.dir())?;
    }
    let call = parked
        .checkpoint
        .pending_call()
        .map(describe_call)
        .unwrap_or_default();
    let (state, note) = match closing {
        Closing::Expired => (
            RunState::Expired,
            format!(
                "nobody answered the approval request for {call} within {}; the work so far is kept",
                tend_schedule::format_duration(task.approval_timeout)
            ),
        ),
        Closing::Cancelled => (
            RunState::Cancelled,
            format!("cancelled while waiting for approval of {call}; the work so far is kept"),
        ),
    };
    let cp = &parked.checkpoint;
    let outcome = SessionOutcome {
        end: EndReason::Parked,
        report: cp.report.clone(),
        final_text: cp.final_text.clone(),
        error: None,
        turns: cp.turn,
        usage: cp.usage,
        cost_micro_usd: cp.cost_micro_usd,
        messages: Vec::new(),
        parked: None,
    };
    let finished = conclude(
        runner,
        Concluding {
            task,
            run_id,
            model_label,
            dir: &dir,
            ws: &prepared.ws,
            started: prepared.started,
            outcome: &outcome,
            stopped: None,
            forced: Some((state, note)),
        },
    )
    .await?;
    Ok(crate::outputs::after(runner, task, finished, &mut |_| {}).await)
}

fn load(dir: &Path) -> Result<ParkedRun, RunError> {
    let path = dir.join(PARKED_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| RunError::Io(path.clone(), e))?;
    serde_json::from_str(&text).map_err(|e| RunError::Encode(format!("{}: {e}", path.display())))
}

/// The parked run's workspace (taken back for this process) and notes.
fn restore(
    runner: &Runner<'_>,
    task_id: TaskId,
    task: &ResolvedTask,
    run_id: &RunId,
    parked: &ParkedRun,
) -> Result<Prepared, RunError> {
    workspace::take_parked_lease(&parked.workspace, run_id.as_str())?;
    let memory = TaskMemory::restore(
        &runner.paths.state_dir,
        task_id.get(),
        &task.name,
        parked.memory_original.clone(),
        parked.memory_contents.clone(),
    );
    Ok(Prepared {
        ws: parked.workspace.clone(),
        memory,
        started: parked.started,
        inputs: Vec::new(),
    })
}

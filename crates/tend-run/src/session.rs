//! The middle of a run: the agent session in its prepared workspace, its events written to
//! the transcript as they happen, stoppable from outside; then the run either parks (a call
//! waits for a human) or concludes.

use std::path::Path;

use tend_agent::{
    AgentEvent, EndReason, Limits, PolicyGate, Session, SessionSettings, Start, TaskContext,
};
use tend_config::ResolvedTask;

use crate::conclude::{Concluding, conclude};
use crate::so_far::SoFar;
use crate::stop::StopSignal;
use crate::transcript::Transcript;
use crate::{Finished, Prepared, RunError, RunRequest, Runner, Writable, local_time, park};

/// Runs the session from `start` and ends the run accordingly.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run(
    runner: &Runner<'_>,
    request: &RunRequest,
    dir: &Path,
    prepared: Prepared,
    start: Start,
    mut transcript: Transcript,
    live: &mut (dyn FnMut(&AgentEvent) + Send),
    mut stop: StopSignal,
) -> Result<Finished, RunError> {
    let task = &request.task;
    let ctx = context(task, &prepared);
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).map_err(|e| RunError::Io(tmp.clone(), e))?;
    let tools_ws = crate::sandbox::tools_workspace(task, runner.paths, &prepared.ws, &tmp)?;
    // The task's MCP servers, started together; one that fails is reported, not fatal.
    let mcp = crate::mcp::start(task, &tools_ws, dir).await;
    let tools_ws = match &mcp {
        Some(hub) => tools_ws.with_mcp(std::sync::Arc::clone(hub)),
        None => tools_ws,
    };
    let settings = settings(request);
    let policy = tend_policy::Policy {
        mode: task.mode,
        allow: task.permissions.allow.clone(),
        ask: task.permissions.ask.clone(),
        deny: task.permissions.deny.clone(),
    }
    .compile(&tend_policy::PathContext {
        root: tools_ws.root().to_path_buf(),
        home: std::env::var_os("HOME").map(std::path::PathBuf::from),
    })
    .map_err(|e| RunError::Model(format!("task `{}`: {e}", task.name)))?;
    let gate = PolicyGate::new(policy, &tools_ws);
    let session = Session {
        client: &request.model.client,
        workspace: &tools_ws,
        ctx: &ctx,
        settings: &settings,
        gate: &gate,
    };
    let mut write_error = None;
    let clock = runner.clock;
    // What the session did so far, should it be stopped before it can say so itself.
    let mut so_far = SoFar::default();
    let mut sink = |event: AgentEvent| {
        so_far.note(&event);
        if let Err(e) = transcript.write(clock.now(), &event)
            && write_error.is_none()
        {
            write_error = Some(e);
        }
        live(&event);
    };
    let stopped = stop.requested();
    let outcome = match stopped {
        Some(reason) => Err(reason),
        None => tokio::select! {
            outcome = tend_agent::run_session(&session, start, &mut sink) => Ok(outcome),
            reason = stop.stopped() => Err(reason),
        },
    };
    let (outcome, stopped) = match outcome {
        Ok(outcome) => (outcome, None),
        Err(reason) => {
            let outcome = so_far.stopped_outcome(reason);
            let end = AgentEvent::End {
                reason: outcome.end,
                turns: outcome.turns,
                usage: outcome.usage,
                cost_micro_usd: outcome.cost_micro_usd,
            };
            if let Err(e) = transcript.write(clock.now(), &end)
                && write_error.is_none()
            {
                write_error = Some(e);
            }
            live(&end);
            (outcome, Some(reason))
        }
    };
    crate::mcp::stop(mcp.as_ref()).await;
    if let Some(e) = write_error {
        return Err(e);
    }
    if outcome.end == EndReason::Parked && stopped.is_none() {
        return park::park(runner, request, dir, prepared, outcome).await;
    }
    if crate::writable(&prepared.ws) == Writable::Yes {
        prepared.memory.save(prepared.ws.dir())?;
    }
    conclude(
        runner,
        Concluding {
            task,
            run_id: &request.run_id,
            model_label: &request.model.label,
            dir,
            ws: &prepared.ws,
            started: prepared.started,
            outcome: &outcome,
            stopped,
            forced: None,
        },
    )
    .await
}

/// The prompt's view of the task, the same on every resume: the notes are those the run
/// started with (the agent's edits to them are in the workspace file).
pub(crate) fn context(task: &ResolvedTask, prepared: &Prepared) -> TaskContext {
    TaskContext {
        task: task.name.clone(),
        prompt: task.prompt.clone(),
        mode: task.mode,
        branch: prepared.ws.branch().map(str::to_owned),
        project_memory: crate::project_memory(prepared.ws.dir()),
        memory_path: prepared.memory.relative.clone(),
        task_memory: prepared.memory.contents.clone(),
        inputs: prepared.inputs.clone(),
        now: local_time(prepared.started, task),
    }
}

fn settings(request: &RunRequest) -> SessionSettings {
    let task = &request.task;
    SessionSettings {
        model: request.model.name.clone(),
        model_label: request.model.label.clone(),
        price: request.model.price,
        max_tokens: 16_000,
        context_window: request.model.context_window,
        limits: Limits {
            max_turns: task.max_turns,
            timeout: task.timeout,
            budget_micro_usd: task.budget_usd.map(|m| m.micros()),
        },
        tool_limits: tend_tools::Limits::default(),
    }
}

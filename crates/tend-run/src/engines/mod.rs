//! Engines other than tend's own loop: `claude`, `codex` and `goose` (those CLIs run headless
//! in the run's workspace, their JSON output mapped line by line into tend's events) and
//! `command` (a plain shell command: tend as a better cron). Each ends in a
//! [`SessionOutcome`], so the run concludes exactly as a builtin one: commit on the branch,
//! `report.md`, `diff.patch`, the store's record.
//!
//! The agent CLIs are asked to end with a line `STATUS: changed|nothing-to-do|needs-human|
//! failed`; without one the diff decides (`changed` or `nothing-to-do`).

mod claude;
mod codex;
mod command;
mod goose;
mod process;
mod rules;
mod setup;
mod status;

use std::path::Path;
use std::time::Duration;

use tend_agent::{AgentEvent, EndReason, TaskContext};
use tend_config::{Engine, ResolvedTask};

use crate::conclude::{Concluding, conclude};
use crate::stop::StopSignal;
use crate::transcript::Transcript;
use crate::{Finished, Prepared, RunError, RunRequest, Runner, Writable};

pub use setup::{ExternalSetup, setup};
pub use status::parse_status;

/// Turns an engine's output, one line at a time, into tend's events.
pub(crate) trait Mapper: Send {
    /// The events one line of output means (none for lines of no interest).
    fn line(&mut self, line: &str) -> Vec<AgentEvent>;
    /// What the engine itself said about how it ended, once its output is over.
    fn ending(&mut self) -> Ending;
}

/// The engine's own account of its end.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Ending {
    /// `None`: it said nothing (crashed, killed); the exit status decides.
    pub end: Option<EndReason>,
    pub error: Option<String>,
    /// The final answer, when the engine gives one apart from its messages.
    pub result: Option<String>,
    /// Events that belong at the end (totals the engine reports last).
    pub events: Vec<AgentEvent>,
}

/// What a run of an external program is bounded by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bounds {
    pub timeout: Duration,
    /// Millionths of a dollar; enforced when the engine reports cost as it goes.
    pub budget_micro_usd: Option<u64>,
    /// After SIGTERM to the engine's process group, how long before SIGKILL.
    pub kill_grace: Duration,
}

/// Runs the task's engine in the prepared workspace and ends the run.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run(
    runner: &Runner<'_>,
    request: &RunRequest,
    dir: &Path,
    prepared: Prepared,
    mut transcript: Transcript,
    live: &mut (dyn FnMut(&AgentEvent) + Send),
    stop: StopSignal,
) -> Result<Finished, RunError> {
    let task = &request.task;
    let ctx = crate::session::context(task, &prepared);
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).map_err(|e| RunError::Io(tmp.clone(), e))?;
    let mut write_error = None;
    let clock = runner.clock;
    let mut sink = |event: AgentEvent| {
        if let Err(e) = transcript.write(clock.now(), &event)
            && write_error.is_none()
        {
            write_error = Some(e);
        }
        live(&event);
    };
    let bounds = Bounds {
        timeout: task.timeout,
        budget_micro_usd: task.budget_usd.map(|m| m.micros()),
        kill_grace: Duration::from_secs(2),
    };
    let (outcome, stopped) = match task.engine {
        Engine::Command => {
            command::run(
                task,
                runner.paths,
                &prepared.ws,
                &tmp,
                &bounds,
                &mut sink,
                stop,
            )
            .await?
        }
        Engine::Claude | Engine::Codex | Engine::Goose => {
            let setup = request.model.external.as_ref().ok_or_else(|| {
                RunError::Model(format!(
                    "task `{}`: engine `{}` was started without its program",
                    task.name, task.engine
                ))
            })?;
            let launch = Launch {
                task,
                ctx: &ctx,
                setup,
                model: &request.model,
                dir,
                workspace: prepared.ws.dir(),
                tmp: &tmp,
            };
            let (invocation, mapper) = invocation(&launch)?;
            sink(AgentEvent::Start {
                engine: task.engine.to_string(),
                model: request.model.label.clone(),
                fixed_prompt_bytes: 0,
            });
            process::drive(invocation, mapper, &bounds, &mut sink, stop).await
        }
        Engine::Builtin => {
            return Err(RunError::Model(
                "the builtin engine does not run as an external program".to_owned(),
            ));
        }
    };
    if let Some(e) = write_error {
        return Err(e);
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

/// Everything an engine's command line is made from.
pub(crate) struct Launch<'a> {
    pub task: &'a ResolvedTask,
    pub ctx: &'a TaskContext,
    pub setup: &'a ExternalSetup,
    pub model: &'a crate::ModelChoice,
    /// `runs/<run-id>/`: for files the engine reads (MCP config).
    pub dir: &'a Path,
    pub workspace: &'a Path,
    pub tmp: &'a Path,
}

/// A program to run: where, with what, in which environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invocation {
    pub program: std::path::PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: std::path::PathBuf,
}

fn invocation(launch: &Launch<'_>) -> Result<(Invocation, Box<dyn Mapper>), RunError> {
    let mut env = launch.setup.env.clone();
    env.retain(|(k, _)| k != "TMPDIR");
    env.push((
        "TMPDIR".to_owned(),
        launch.tmp.to_string_lossy().into_owned(),
    ));
    type Env = Vec<(String, String)>;
    let (args, extra_env, mapper): (Vec<String>, Env, Box<dyn Mapper>) = match launch.task.engine {
        Engine::Claude => {
            let mcp = claude::write_mcp_config(launch)?;
            let args = claude::args(launch.task, launch.ctx, &mcp);
            (args, Vec::new(), Box::new(claude::ClaudeMapper::new()))
        }
        Engine::Codex => {
            let args = codex::args(launch.task, launch.ctx, launch.setup.base_url.as_deref());
            (
                args,
                Vec::new(),
                Box::new(codex::CodexMapper::new(launch.model.price)),
            )
        }
        Engine::Goose => {
            let (args, env) = goose::args(launch.task, launch.ctx);
            (args, env, Box::new(goose::GooseMapper::new()))
        }
        Engine::Builtin | Engine::Command => {
            return Err(RunError::Model(format!(
                "engine `{}` has no external program",
                launch.task.engine
            )));
        }
    };
    for (k, v) in extra_env {
        env.retain(|(name, _)| *name != k);
        env.push((k, v));
    }
    env.sort();
    Ok((
        Invocation {
            program: launch.setup.program.clone(),
            args,
            env,
            cwd: launch.workspace.to_path_buf(),
        },
        mapper,
    ))
}

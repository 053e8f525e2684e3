//! One run, start to end: a workspace (a git worktree on `tend/<task>/<run-id>`), the agent
//! session with memory and inputs in context (tend's own loop, or another engine: Claude Code,
//! Codex, goose, a plain command; see `engines`), then the commit on the run branch, `report.md`,
//! `diff.patch` and the transcript in `runs/<run-id>/`, and the run's record in the store.

mod client;
mod conclude;
mod credentials;
mod engines;
pub mod failpoint;
mod gate;
pub mod git;
pub mod inputs;
pub mod loops;
mod mcp;
mod memory;
mod outputs;
mod owner;
mod park;
pub mod proposal;
mod report;
mod sandbox;
mod session;
mod so_far;
mod stop;
pub mod transcript;
mod workspace;

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use tend_agent::{AgentEvent, ReportStatus, Start};
use tend_config::{Clock, Engine, Paths, ResolvedTask, Scope};
use tend_store::{Run, RunEnd, RunId, RunState, Store, TaskId, Usage as StoreUsage};

pub use client::{ModelChoice, model_choice};
pub use engines::{ExternalSetup, parse_status};
pub use gate::{CHECK_TIMEOUT, Gate, check_gate};
pub use memory::{TaskMemory, Writable, project_memory};
pub use outputs::briefing::{Briefing, Place as BriefingPlace};
pub use outputs::{OPEN_PR_TOOL, PullRequestAnswer, answer_pull_request, wants as approval_wants};
pub use owner::{is_alive, process_tag, this_process};
pub use park::{Closing, close_parked, resume_with_stop};
pub use report::{ReportFacts, render as render_report};
pub use sandbox::{RunSandbox, run_sandbox, sandbox_helper, sandbox_probe, set_sandbox_helper};
pub use stop::{StopHandle, StopReason, StopSignal, stop_pair};
pub use workspace::{KeepBranch, Workspace, branch_name};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{} is not a git repository; a run that may change files needs one (run `git init`, or use mode = \"read-only\")", .0.display())]
    NotARepository(PathBuf),
    #[error("the repository at {} has no commits yet; commit something first", .0.display())]
    NoCommits(PathBuf),
    #[error(transparent)]
    Git(#[from] git::GitError),
    #[error(transparent)]
    Store(#[from] tend_store::StoreError),
    #[error("{path}: {source}", path = .0.display(), source = .1)]
    Io(PathBuf, std::io::Error),
    #[error("cannot encode the transcript: {0}")]
    Encode(String),
    #[error("{0}")]
    Model(String),
    #[error("task `{0}` already has {1} runs in progress; wait for one to end")]
    Busy(String, usize),
    #[error("the worktree lease {} is held by another process", .0.display())]
    LeaseHeld(PathBuf),
    #[error("engine `{0}` is not supported by this version of tend yet; use engine = \"builtin\"")]
    Engine(Engine),
}

/// What a run needs from its surroundings.
pub struct Runner<'a> {
    pub store: &'a Store,
    pub paths: &'a Paths,
    pub clock: &'a dyn Clock,
}

/// One run to execute: the task, its record in the store (state `queued`), and its model.
pub struct RunRequest {
    pub task: ResolvedTask,
    pub task_id: TaskId,
    pub run_id: RunId,
    pub model: ModelChoice,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    pub run: Run,
    pub status: ReportStatus,
    pub summary: String,
    /// `runs/<run-id>/`: transcript, report, diff.
    pub run_dir: PathBuf,
    /// The proposal's branch, when the run changed files.
    pub branch: Option<String>,
    /// The session's conversation as it ended (empty when it parked): a loop's next check goes
    /// on from it.
    pub conversation: Vec<tend_model::Message>,
    /// Set when the run parked on a call that needs a human, or when opening its pull request
    /// waits for one ([`OPEN_PR_TOOL`]).
    pub approval: Option<tend_store::Approval>,
    /// Where the run's briefing (`output = …`) went.
    pub briefing: Option<Briefing>,
}

/// The run's folder in tend's state: `runs/<run-id>/`.
pub fn run_dir(paths: &Paths, run_id: &str) -> PathBuf {
    paths.runs_dir.join(run_id)
}

/// Executes a queued run to its end. The run's record in the store always reaches a terminal
/// state, also when preparing the workspace fails.
pub async fn execute(
    runner: &Runner<'_>,
    request: RunRequest,
    live: &mut (dyn FnMut(&AgentEvent) + Send),
) -> Result<Finished, RunError> {
    execute_with_stop(runner, request, live, StopSignal::never()).await
}

/// [`execute`], stoppable from outside through `stop`: the session is dropped where it is
/// (its shell commands are killed), whatever the agent changed so far is committed on the run
/// branch as after a limit, and the run ends `cancelled` or `interrupted` as the
/// [`StopReason`] says.
pub async fn execute_with_stop(
    runner: &Runner<'_>,
    request: RunRequest,
    live: &mut (dyn FnMut(&AgentEvent) + Send),
    stop: StopSignal,
) -> Result<Finished, RunError> {
    execute_from(runner, request, Start::Fresh, live, stop).await
}

/// One check of a loop ([`loops`]): a run like [`execute_with_stop`]'s whose session has the
/// loop's tools and may go on from the conversation of the checks before.
pub async fn execute_loop_check(
    runner: &Runner<'_>,
    request: RunRequest,
    check: tend_agent::LoopStart,
    live: &mut (dyn FnMut(&AgentEvent) + Send),
    stop: StopSignal,
) -> Result<Finished, RunError> {
    execute_from(runner, request, Start::Loop(Box::new(check)), live, stop).await
}

async fn execute_from(
    runner: &Runner<'_>,
    request: RunRequest,
    start: Start,
    live: &mut (dyn FnMut(&AgentEvent) + Send),
    stop: StopSignal,
) -> Result<Finished, RunError> {
    let store = runner.store;
    let id = request.run_id.clone();
    let dir = run_dir(runner.paths, id.as_str());
    std::fs::create_dir_all(&dir).map_err(|e| RunError::Io(dir.clone(), e))?;
    // The owner first: a run seen `preparing` always names its process, so a daemon starting
    // at that moment cannot take it for an orphan of a crash (and retry it beside us).
    store.set_run_owner(&id, Some(&this_process())).await?;
    store
        .set_run_state(&id, RunState::Preparing, runner.clock.now())
        .await?;
    match prepare_and_run(runner, &request, &dir, start, live, stop).await {
        Ok(finished) => Ok(outputs::after(runner, &request.task, finished, live).await),
        Err(error) => {
            let end = RunEnd {
                state: RunState::Failed,
                status: Some(tend_store::ReportStatus::Failed),
                summary: Some(error.to_string()),
                usage: StoreUsage::default(),
            };
            // The original error matters more than a failure to record it.
            let _ = store.finish_run(&id, &end, runner.clock.now()).await;
            let _ = std::fs::write(
                dir.join("report.md"),
                format!("# {}: failed\n\n{error}\n", request.task.name),
            );
            outputs::after_error(runner, &request.task, &id, &error, live).await;
            Err(error)
        }
    }
}

async fn prepare_and_run(
    runner: &Runner<'_>,
    request: &RunRequest,
    dir: &Path,
    start: Start,
    live: &mut (dyn FnMut(&AgentEvent) + Send),
    stop: StopSignal,
) -> Result<Finished, RunError> {
    let task = &request.task;
    let store = runner.store;
    let id = &request.run_id;
    let started = runner.clock.now();
    let project = match &task.scope {
        Scope::Project { root } => Some(root.as_path()),
        Scope::User => None,
    };
    let pool = runner.paths.state_dir.join("worktrees");
    let ws = workspace::prepare(&workspace::Spec {
        project,
        mode: task.mode,
        task: &task.name,
        task_id: request.task_id.get(),
        run_id: id.as_str(),
        run_dir: dir,
        pool: &pool,
    })
    .await?;
    store.set_run_workspace(id, ws.dir(), ws.branch()).await?;
    let memory = TaskMemory::load(
        &runner.paths.state_dir,
        request.task_id.get(),
        &task.name,
        ws.dir(),
        writable(&ws),
    )?;
    // The inputs as of now; what they delivered is recorded only if the run succeeds.
    let previous = store.input_states(request.task_id).await?;
    let gathered = inputs::gather(task, &previous).await;
    inputs::keep_pending(dir, &gathered)?;
    let prepared = Prepared {
        ws,
        memory,
        started,
        inputs: gathered.inputs,
    };
    store
        .set_run_state(id, RunState::Running, runner.clock.now())
        .await?;
    let transcript = transcript::Transcript::create(&dir.join("transcript.jsonl"))?;
    match task.engine {
        Engine::Builtin => {}
        Engine::Claude | Engine::Codex | Engine::Goose | Engine::Command => {
            return engines::run(runner, request, dir, prepared, transcript, live, stop).await;
        }
    }
    session::run(
        runner, request, dir, prepared, start, transcript, live, stop,
    )
    .await
}

/// What a run works in, once prepared.
pub(crate) struct Prepared {
    pub ws: Workspace,
    pub memory: TaskMemory,
    pub started: Timestamp,
    /// The task's inputs, for a session that starts afresh (a resumed one has them in its
    /// checkpoint's conversation).
    pub inputs: Vec<tend_agent::Input>,
}

pub(crate) fn writable(ws: &Workspace) -> Writable {
    match ws {
        Workspace::InPlace { .. } => Writable::No,
        Workspace::Worktree { .. } | Workspace::Scratch { .. } => Writable::Yes,
    }
}

pub(crate) fn write(path: &Path, text: &str) -> Result<(), RunError> {
    std::fs::write(path, text).map_err(|e| RunError::Io(path.to_path_buf(), e))
}

pub(crate) fn local_time(at: Timestamp, task: &ResolvedTask) -> String {
    at.to_zoned_datetime(task.timezone.tz().clone())
        .strftime("%Y-%m-%d %H:%M:%S %:z")
        .to_string()
}

pub(crate) fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => format!("{}ms", d.as_millis()),
        1..60 => format!("{s}s"),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        _ => format!("{}h {}m", s / 3600, (s % 3600) / 60),
    }
}

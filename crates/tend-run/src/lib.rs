//! One run, start to end: a workspace (a git worktree on `tend/<task>/<run-id>`), the agent
//! session with memory and inputs in context, then the commit on the run branch, `report.md`,
//! `diff.patch` and the transcript in `runs/<run-id>/`, and the run's record in the store.

mod client;
pub mod git;
mod memory;
mod owner;
mod report;
pub mod transcript;
mod workspace;

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use tend_agent::{AgentEvent, EndReason, Limits, ReportStatus, SessionSettings, TaskContext};
use tend_config::{Clock, Engine, Paths, ResolvedTask, Scope};
use tend_store::{Run, RunEnd, RunId, RunState, Store, TaskId, Usage as StoreUsage};

pub use client::{ModelChoice, model_choice};
pub use memory::{TaskMemory, Writable, project_memory};
pub use owner::{is_alive, process_tag, this_process};
pub use report::{ReportFacts, render as render_report};
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
    let store = runner.store;
    let id = request.run_id.clone();
    let dir = run_dir(runner.paths, id.as_str());
    std::fs::create_dir_all(&dir).map_err(|e| RunError::Io(dir.clone(), e))?;
    store
        .set_run_state(&id, RunState::Preparing, runner.clock.now())
        .await?;
    store.set_run_owner(&id, Some(&this_process())).await?;
    match prepare_and_run(runner, &request, &dir, live).await {
        Ok(finished) => Ok(finished),
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
            Err(error)
        }
    }
}

async fn prepare_and_run(
    runner: &Runner<'_>,
    request: &RunRequest,
    dir: &Path,
    live: &mut (dyn FnMut(&AgentEvent) + Send),
) -> Result<Finished, RunError> {
    let task = &request.task;
    if task.engine != Engine::Builtin {
        return Err(RunError::Engine(task.engine));
    }
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
    let writable = match ws {
        Workspace::InPlace { .. } => Writable::No,
        Workspace::Worktree { .. } | Workspace::Scratch { .. } => Writable::Yes,
    };
    let memory = TaskMemory::load(
        &runner.paths.state_dir,
        request.task_id.get(),
        &task.name,
        ws.dir(),
        writable,
    )?;
    let ctx = TaskContext {
        task: task.name.clone(),
        prompt: task.prompt.clone(),
        mode: task.mode,
        branch: ws.branch().map(str::to_owned),
        project_memory: project_memory(ws.dir()),
        memory_path: memory.relative.clone(),
        task_memory: memory.contents.clone(),
        inputs: Vec::new(),
        now: local_time(started, task),
    };
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).map_err(|e| RunError::Io(tmp.clone(), e))?;
    let tools_ws =
        tend_tools::Workspace::new(ws.dir(), &tmp).map_err(|e| RunError::Model(e.to_string()))?;
    let settings = SessionSettings {
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
    };
    store
        .set_run_state(id, RunState::Running, runner.clock.now())
        .await?;
    let mut transcript = transcript::Transcript::create(&dir.join("transcript.jsonl"))?;
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
    let outcome =
        tend_agent::run_session(&request.model.client, &tools_ws, &ctx, &settings, &mut sink).await;
    if let Some(e) = write_error {
        return Err(e);
    }
    if writable == Writable::Yes {
        memory.save(ws.dir())?;
    }

    // Whatever the agent left is committed, also after a limit was hit: nothing is lost.
    let mut notes = Vec::new();
    if let Some(error) = &outcome.error {
        notes.push(error.clone());
    }
    let reported = outcome.report.clone();
    let summary = match (&reported, &outcome.final_text) {
        (Some(r), _) => r.summary.clone(),
        (None, Some(text)) => text.clone(),
        (None, None) => "The agent ended without a summary.".to_owned(),
    };
    let (commit, diff_stat, diff_text) = match &ws {
        Workspace::Worktree {
            dir: wt,
            base,
            branch,
            ..
        } => {
            let message = format!(
                "tend: {} ({})\n\n{}\n\nRun: {}",
                task.name,
                branch,
                summary.trim(),
                id
            );
            let commit = git::commit_all(wt, &message).await?;
            match &commit {
                Some(c) => (
                    Some(c.clone()),
                    git::diff_stat(wt, base, c).await?,
                    git::diff(wt, base, c).await?,
                ),
                None => (None, String::new(), String::new()),
            }
        }
        Workspace::InPlace { .. } | Workspace::Scratch { .. } => {
            (None, String::new(), String::new())
        }
    };
    let changed = commit.is_some();
    let status = reconcile(
        reported.as_ref().map(|r| r.status),
        outcome.end,
        changed,
        &mut notes,
    );
    let state = match (outcome.end, status) {
        (EndReason::Finished, ReportStatus::Failed) => RunState::Failed,
        (EndReason::Finished, _) => RunState::Succeeded,
        (EndReason::Timeout, _) => RunState::TimedOut,
        (EndReason::Cancelled, _) => RunState::Cancelled,
        (EndReason::MaxTurns | EndReason::Budget | EndReason::ModelError, _) => RunState::Failed,
    };
    let ended = runner.clock.now();
    let facts = ReportFacts {
        task: task.name.clone(),
        run_id: id.to_string(),
        status,
        state: state.to_string(),
        summary: summary.clone(),
        notes,
        model: request.model.label.clone(),
        branch: commit.as_ref().and(ws.branch().map(str::to_owned)),
        started: local_time(started, task),
        duration: human_duration(ended.duration_since(started).unsigned_abs()),
        turns: outcome.turns,
        usage: outcome.usage,
        cost_micro_usd: outcome.cost_micro_usd,
        diff_stat,
    };
    write(&dir.join("report.md"), &render_report(&facts))?;
    write(&dir.join("diff.patch"), &diff_text)?;
    let end = RunEnd {
        state,
        status: Some(store_status(status)),
        summary: Some(summary.clone()),
        usage: StoreUsage {
            cost_micro_usd: outcome.cost_micro_usd.unwrap_or(0),
            tokens_in: outcome.usage.input_tokens
                + outcome.usage.cache_read_tokens
                + outcome.usage.cache_write_tokens,
            tokens_out: outcome.usage.output_tokens,
        },
    };
    let mut run = store.finish_run(id, &end, ended).await?;
    if changed {
        run = store
            .set_proposal(id, tend_store::ProposalState::Pending)
            .await?;
    }
    let keep = if changed {
        workspace::KeepBranch::Yes
    } else {
        workspace::KeepBranch::No
    };
    workspace::finish(&ws, keep).await?;
    Ok(Finished {
        run,
        status,
        summary,
        run_dir: dir.to_path_buf(),
        branch: facts.branch,
    })
}

/// The report's status: the agent's word, checked against what it actually left behind.
fn reconcile(
    reported: Option<ReportStatus>,
    end: EndReason,
    changed: bool,
    notes: &mut Vec<String>,
) -> ReportStatus {
    match (end, reported, changed) {
        (EndReason::Finished, Some(ReportStatus::Changed), false) => {
            notes.push("the agent reported changes, but the worktree has none".to_owned());
            ReportStatus::NothingToDo
        }
        (EndReason::Finished, Some(ReportStatus::NothingToDo), true) => {
            notes.push(
                "the agent reported nothing to do, but changed files; review them".to_owned(),
            );
            ReportStatus::Changed
        }
        (EndReason::Finished, Some(status), _) => status,
        (EndReason::Finished, None, true) => ReportStatus::Changed,
        (EndReason::Finished, None, false) => ReportStatus::NothingToDo,
        (EndReason::Timeout | EndReason::MaxTurns | EndReason::Budget, _, true) => {
            notes.push(
                "the run stopped at a limit; its changes so far are on the branch".to_owned(),
            );
            ReportStatus::NeedsHuman
        }
        (
            EndReason::Timeout
            | EndReason::MaxTurns
            | EndReason::Budget
            | EndReason::ModelError
            | EndReason::Cancelled,
            _,
            _,
        ) => ReportStatus::Failed,
    }
}

fn store_status(status: ReportStatus) -> tend_store::ReportStatus {
    match status {
        ReportStatus::Changed => tend_store::ReportStatus::Changed,
        ReportStatus::NothingToDo => tend_store::ReportStatus::NothingToDo,
        ReportStatus::NeedsHuman => tend_store::ReportStatus::NeedsHuman,
        ReportStatus::Failed => tend_store::ReportStatus::Failed,
    }
}

fn write(path: &Path, text: &str) -> Result<(), RunError> {
    std::fs::write(path, text).map_err(|e| RunError::Io(path.to_path_buf(), e))
}

fn local_time(at: Timestamp, task: &ResolvedTask) -> String {
    at.to_zoned_datetime(task.timezone.tz().clone())
        .strftime("%Y-%m-%d %H:%M:%S %:z")
        .to_string()
}

fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => format!("{}ms", d.as_millis()),
        1..60 => format!("{s}s"),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        _ => format!("{}h {}m", s / 3600, (s % 3600) / 60),
    }
}

//! One run, start to end: a workspace (a git worktree on `tend/<task>/<run-id>`), the agent
//! session with memory and inputs in context, then the commit on the run branch, `report.md`,
//! `diff.patch` and the transcript in `runs/<run-id>/`, and the run's record in the store.

mod client;
pub mod failpoint;
pub mod git;
mod memory;
mod owner;
mod report;
mod stop;
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
    let store = runner.store;
    let id = request.run_id.clone();
    let dir = run_dir(runner.paths, id.as_str());
    std::fs::create_dir_all(&dir).map_err(|e| RunError::Io(dir.clone(), e))?;
    store
        .set_run_state(&id, RunState::Preparing, runner.clock.now())
        .await?;
    store.set_run_owner(&id, Some(&this_process())).await?;
    match prepare_and_run(runner, &request, &dir, live, stop).await {
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
    mut stop: StopSignal,
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
    let session = async {
        match stopped {
            Some(reason) => Err(reason),
            None => tokio::select! {
                outcome = tend_agent::run_session(
                    &request.model.client, &tools_ws, &ctx, &settings, &mut sink,
                ) => Ok(outcome),
                reason = stop.stopped() => Err(reason),
            },
        }
    };
    let session = session.await;
    let (outcome, stopped) = match session {
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
    let state = match (stopped, outcome.end, status) {
        (Some(StopReason::Cancelled), _, _) => RunState::Cancelled,
        (Some(StopReason::Interrupted), _, _) => RunState::Interrupted,
        (None, EndReason::Finished, ReportStatus::Failed) => RunState::Failed,
        (None, EndReason::Finished, _) => RunState::Succeeded,
        (None, EndReason::Timeout, _) => RunState::TimedOut,
        (None, EndReason::Cancelled, _) => RunState::Cancelled,
        (None, EndReason::MaxTurns | EndReason::Budget | EndReason::ModelError, _) => {
            RunState::Failed
        }
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
    failpoint::hit("writing-report");
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

/// A session's progress as its events tell it, for a session that was stopped from outside
/// and so cannot report its own end.
#[derive(Default)]
struct SoFar {
    turns: u32,
    usage: tend_model::Usage,
    cost_micro_usd: Option<u64>,
    report: Option<tend_agent::Report>,
    final_text: Option<String>,
}

impl SoFar {
    fn note(&mut self, event: &AgentEvent) {
        match event {
            AgentEvent::Request { turn, .. } => self.turns = self.turns.max(*turn),
            AgentEvent::Usage {
                usage,
                cost_micro_usd,
                ..
            } => {
                self.usage.input_tokens += usage.input_tokens;
                self.usage.output_tokens += usage.output_tokens;
                self.usage.cache_read_tokens += usage.cache_read_tokens;
                self.usage.cache_write_tokens += usage.cache_write_tokens;
                if let Some(cost) = cost_micro_usd {
                    *self.cost_micro_usd.get_or_insert(0) += cost;
                }
            }
            AgentEvent::AssistantText { text, .. } => self.final_text = Some(text.clone()),
            AgentEvent::Report { status, summary } => {
                self.report = Some(tend_agent::Report {
                    status: *status,
                    summary: summary.clone(),
                });
            }
            AgentEvent::Start { .. }
            | AgentEvent::TextDelta { .. }
            | AgentEvent::ToolCall { .. }
            | AgentEvent::ToolResult { .. }
            | AgentEvent::Refused { .. }
            | AgentEvent::Retry { .. }
            | AgentEvent::Compacted { .. }
            | AgentEvent::End { .. } => {}
        }
    }

    fn stopped_outcome(&self, reason: StopReason) -> tend_agent::SessionOutcome {
        let why = match reason {
            StopReason::Cancelled => "the run was cancelled",
            StopReason::Interrupted => "the run was interrupted: tend stopped",
        };
        tend_agent::SessionOutcome {
            end: EndReason::Cancelled,
            report: self.report.clone(),
            final_text: self.final_text.clone(),
            error: Some(why.to_owned()),
            turns: self.turns,
            usage: self.usage,
            cost_micro_usd: self.cost_micro_usd,
            messages: Vec::new(),
        }
    }
}

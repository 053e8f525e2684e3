//! What a run hands out once it is recorded: its briefing (written at the end of the run, see
//! [`briefing`]), its pull request ([`pull_request`]) and its notification. Each happens after
//! the run's record is final, is noted in the transcript, and never changes the run's outcome.
//!
//! The notification's event: `approval` when something waits for a human (a parked run, or a
//! pull request to approve), `failure` for a run that `failed`, `timed_out`, `expired` or was
//! `interrupted`, `proposal` for a succeeded run that left a branch, `success` for one that did
//! not; a cancelled run notifies nobody (a human stopped it). The task's `[notify] on` filters;
//! its channels (or the desktop, with none configured) receive it.

pub(crate) mod briefing;
mod notify;
pub(crate) mod pull_request;

use std::path::{Path, PathBuf};

use tend_agent::{AgentEvent, ReportStatus};
use tend_config::{Clock, NotifyOn, ResolvedTask};
use tend_notify::{ApprovalNote, Notification};
use tend_store::{Approval, ProposalState, Run, RunId, RunState};

use crate::transcript::Transcript;
use crate::{Finished, RunError, Runner, run_dir};

pub use pull_request::OPEN_PR_TOOL;

/// Appends after-the-run events to the run's transcript and shows them live. A transcript that
/// cannot be written loses those lines, never the run.
pub(crate) struct Log<'a> {
    path: PathBuf,
    transcript: Option<Transcript>,
    clock: &'a dyn Clock,
    live: &'a mut (dyn FnMut(&AgentEvent) + Send),
}

impl<'a> Log<'a> {
    pub(crate) fn new(
        clock: &'a dyn Clock,
        run_dir: &Path,
        live: &'a mut (dyn FnMut(&AgentEvent) + Send),
    ) -> Log<'a> {
        Log {
            path: run_dir.join("transcript.jsonl"),
            transcript: None,
            clock,
            live,
        }
    }

    pub(crate) fn event(&mut self, event: AgentEvent) {
        if self.transcript.is_none() {
            self.transcript = Transcript::append(&self.path).ok();
        }
        if let Some(t) = &mut self.transcript {
            let _ = t.write(self.clock.now(), &event);
        }
        (self.live)(&event);
    }
}

/// Everything after a run's record is final: briefing noted, pull request opened or asked for,
/// notification delivered.
pub(crate) async fn after(
    runner: &Runner<'_>,
    task: &ResolvedTask,
    mut finished: Finished,
    live: &mut (dyn FnMut(&AgentEvent) + Send),
) -> Finished {
    let mut log = Log::new(runner.clock, &finished.run_dir, live);
    if let Some(b) = &finished.briefing {
        log.event(AgentEvent::Briefing {
            path: b.shown.clone(),
            place: b.place.as_str().to_owned(),
        });
    }
    let mut pull_request = None;
    if let Some(outcome) = pull_request::after_run(runner, task, &finished).await {
        note_in_report(&finished.run_dir, &outcome.note());
        log.event(outcome.event());
        match outcome {
            pull_request::Outcome::Opened(url) => pull_request = Some(url),
            pull_request::Outcome::Waiting(approval) => finished.approval = Some(*approval),
            pull_request::Outcome::Refused(_)
            | pull_request::Outcome::Skipped(_)
            | pull_request::Outcome::Failed(_) => {}
        }
    }
    if let Some(event) = event_for(&finished) {
        let mut n = notification(event, task, &finished);
        n.pull_request = pull_request;
        notify::send(task, &n, &mut log).await;
    }
    finished
}

/// A run that could not even be prepared: its failure is told like any other.
pub(crate) async fn after_error(
    runner: &Runner<'_>,
    task: &ResolvedTask,
    run_id: &RunId,
    error: &RunError,
    live: &mut (dyn FnMut(&AgentEvent) + Send),
) {
    let dir = run_dir(runner.paths, run_id.as_str());
    let mut log = Log::new(runner.clock, &dir, live);
    let state = RunState::Failed.to_string();
    let mut n = Notification::new(NotifyOn::Failure, &task.name, run_id.as_str(), &state);
    n.status = Some(ReportStatus::Failed.as_str().to_owned());
    n.summary = error.to_string();
    n.report = Some(dir.join("report.md").display().to_string());
    n.next = vec![format!("tend logs {run_id}")];
    notify::send(task, &n, &mut log).await;
}

fn event_for(f: &Finished) -> Option<NotifyOn> {
    if f.approval.is_some() {
        return Some(NotifyOn::Approval);
    }
    match f.run.state {
        RunState::Failed | RunState::TimedOut | RunState::Expired | RunState::Interrupted => {
            Some(NotifyOn::Failure)
        }
        RunState::Succeeded if f.run.proposal == Some(ProposalState::Pending) => {
            Some(NotifyOn::Proposal)
        }
        RunState::Succeeded => Some(NotifyOn::Success),
        RunState::WaitingApproval => Some(NotifyOn::Approval),
        RunState::Cancelled | RunState::Queued | RunState::Preparing | RunState::Running => None,
    }
}

fn notification(event: NotifyOn, task: &ResolvedTask, f: &Finished) -> Notification {
    let id = f.run.id.as_str();
    let mut n = Notification::new(event, &task.name, id, f.run.state.as_str());
    n.status = Some(f.status.as_str().to_owned());
    n.summary = f.summary.clone();
    n.branch = f.branch.clone();
    n.report = Some(f.run_dir.join("report.md").display().to_string());
    n.briefing = f.briefing.as_ref().map(|b| match b.place {
        briefing::Place::Branch => format!(
            "{} (on {})",
            b.shown,
            f.branch.as_deref().unwrap_or("the run branch")
        ),
        briefing::Place::Outputs | briefing::Place::Path => b.shown.clone(),
    });
    n.approval = f.approval.as_ref().map(approval_note);
    let mut next = Vec::new();
    if let Some(a) = &f.approval {
        next.push(format!("tend approve {}", a.id));
        next.push(format!("tend deny {} --reason …", a.id));
    }
    if f.run.proposal == Some(ProposalState::Pending) {
        // A patch that cannot be read is refused by `tend apply` too; the notification says
        // what it can.
        n.sensitive =
            crate::proposal::sensitive_in(&f.run_dir.join("diff.patch")).unwrap_or_default();
        next.push(format!("tend review {id}"));
        if f.approval.is_none() {
            // With sensitive changes, the next step is reading them, not applying.
            if n.sensitive.is_empty() {
                next.push(format!("tend apply {id}"));
            }
            next.push(format!("tend discard {id}"));
        }
    } else if f.approval.is_none() {
        next.push(format!("tend logs {id}"));
    }
    n.next = next;
    n
}

pub(crate) fn approval_note(a: &Approval) -> ApprovalNote {
    ApprovalNote {
        id: a.id.get(),
        wants: wants(a),
        why: a.rule.clone(),
        expires_at: a.expires_at.to_string(),
    }
}

/// What an approval request wants, in a few words: `bash: git push origin main`.
pub fn wants(a: &Approval) -> String {
    if a.tool == OPEN_PR_TOOL
        && let Ok(plan) = serde_json::from_value::<pull_request::Plan>(a.arguments.clone())
    {
        return plan.wants();
    }
    match a.arguments.get("command").and_then(|c| c.as_str()) {
        Some(command) => format!("{}: {}", a.tool, command.trim()),
        None => format!("{} {}", a.tool, a.arguments),
    }
}

/// Adds a `> tend: …` line to the end of the run's report.
pub(crate) fn note_in_report(run_dir: &Path, note: &str) {
    use std::io::Write as _;
    let path = run_dir.join("report.md");
    if let Ok(mut file) = std::fs::File::options().append(true).open(&path) {
        let _ = writeln!(file, "\n> tend: {note}");
    }
}

/// A finished run as the store has it (for answers that come after its end).
pub(crate) fn finished_from_record(runner: &Runner<'_>, run: Run) -> Finished {
    let status = match run.status {
        Some(tend_store::ReportStatus::Changed) => ReportStatus::Changed,
        Some(tend_store::ReportStatus::NothingToDo) => ReportStatus::NothingToDo,
        Some(tend_store::ReportStatus::NeedsHuman) => ReportStatus::NeedsHuman,
        Some(tend_store::ReportStatus::Failed) | None => ReportStatus::Failed,
    };
    let branch = match run.proposal {
        Some(ProposalState::Pending) => run.branch.clone(),
        Some(ProposalState::Applied | ProposalState::Discarded) | None => None,
    };
    Finished {
        status,
        summary: run.summary.clone().unwrap_or_default(),
        run_dir: run_dir(runner.paths, run.id.as_str()),
        branch,
        conversation: Vec::new(),
        approval: None,
        briefing: None,
        run,
    }
}

/// A human's answer to a request to open a pull request, or its end without one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullRequestAnswer {
    Approve,
    Deny { by: String, reason: String },
    Closed(crate::Closing),
}

/// Carries out the answer to an [`OPEN_PR_TOOL`] request: approved, the branch is pushed and the
/// pull request opened (and notified as a proposal with its URL); denied or closed, the report
/// says so. The run itself has ended long before and stays as it is.
pub async fn answer_pull_request(
    runner: &Runner<'_>,
    task: &ResolvedTask,
    approval: &Approval,
    answer: PullRequestAnswer,
    live: &mut (dyn FnMut(&AgentEvent) + Send),
) -> Result<Finished, RunError> {
    let run = runner.store.run(&approval.run).await?.ok_or_else(|| {
        RunError::Store(tend_store::StoreError::RunNotFound(approval.run.clone()))
    })?;
    let finished = finished_from_record(runner, run);
    let plan: pull_request::Plan = serde_json::from_value(approval.arguments.clone())
        .map_err(|e| RunError::Encode(format!("approval {}: {e}", approval.id)))?;
    let outcome = match answer {
        PullRequestAnswer::Approve => match &task.scope {
            tend_config::Scope::Project { root } => {
                let report = std::fs::read_to_string(finished.run_dir.join("report.md"))
                    .unwrap_or_else(|_| finished.summary.clone());
                let body = pull_request::body(&report, finished.run.id.as_str());
                match pull_request::open(root, &plan, &body).await {
                    Ok(url) => pull_request::Outcome::Opened(url),
                    Err(e) => pull_request::Outcome::Failed(e),
                }
            }
            tend_config::Scope::User => {
                pull_request::Outcome::Failed("a user task has no repository".to_owned())
            }
        },
        PullRequestAnswer::Deny { by, reason } => {
            pull_request::Outcome::Refused(format!("{by} denied it: {reason}"))
        }
        PullRequestAnswer::Closed(crate::Closing::Expired) => {
            pull_request::Outcome::Skipped("nobody answered the request in time".to_owned())
        }
        PullRequestAnswer::Closed(crate::Closing::Cancelled) => {
            pull_request::Outcome::Skipped("the request was cancelled".to_owned())
        }
    };
    let mut log = Log::new(runner.clock, &finished.run_dir, live);
    note_in_report(&finished.run_dir, &outcome.note());
    log.event(outcome.event());
    if let pull_request::Outcome::Opened(url) = &outcome {
        let mut n = notification(NotifyOn::Proposal, task, &finished);
        n.title = format!("tend · {}: pull request opened", task.name);
        n.pull_request = Some(url.clone());
        notify::send(task, &n, &mut log).await;
    }
    Ok(finished)
}

/// For a run that has ended but still has a pull-request request open: closes that request
/// (the daemon and `tend approvals` close whatever expired the same way as a parked run).
pub(crate) async fn close_pull_request(
    runner: &Runner<'_>,
    task: &ResolvedTask,
    run_id: &RunId,
    closing: crate::Closing,
) -> Result<Option<Finished>, RunError> {
    let Some(run) = runner.store.run(run_id).await? else {
        return Ok(None);
    };
    if run.state == RunState::WaitingApproval {
        return Ok(None);
    }
    let approvals = runner.store.approvals_for_run(run_id).await?;
    let Some(approval) = approvals.iter().rev().find(|a| a.tool == OPEN_PR_TOOL) else {
        return Ok(None);
    };
    let finished = answer_pull_request(
        runner,
        task,
        approval,
        PullRequestAnswer::Closed(closing),
        &mut |_| {},
    )
    .await?;
    Ok(Some(finished))
}

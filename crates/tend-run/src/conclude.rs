//! The end of a run: whatever the agent left is committed on the run branch (also after a
//! limit, a stop, or an unanswered approval: nothing is lost), then `report.md`, `diff.patch`,
//! the run's final record, and the workspace handed back.

use std::path::Path;

use jiff::Timestamp;
use tend_agent::{EndReason, ReportStatus, SessionOutcome};
use tend_config::ResolvedTask;
use tend_config::sensitive::sensitive_changes;
use tend_store::{RunEnd, RunId, RunState, Usage as StoreUsage};

use crate::outputs::briefing;
use crate::report::{ReportFacts, render as render_report};
use crate::stop::StopReason;
use crate::workspace::{self, Workspace};
use crate::{Finished, RunError, Runner, failpoint, git, human_duration, local_time, write};

/// Everything the end of a run looks at.
pub(crate) struct Concluding<'a> {
    pub task: &'a ResolvedTask,
    pub run_id: &'a RunId,
    pub model_label: &'a str,
    pub dir: &'a Path,
    pub ws: &'a Workspace,
    pub started: Timestamp,
    pub outcome: &'a SessionOutcome,
    pub stopped: Option<StopReason>,
    /// A terminal state decided outside the session (an approval that expired or a parked run
    /// that was cancelled), with the note that says why.
    pub forced: Option<(RunState, String)>,
}

pub(crate) async fn conclude(runner: &Runner<'_>, c: Concluding<'_>) -> Result<Finished, RunError> {
    let store = runner.store;
    let (task, id, outcome, ws) = (c.task, c.run_id, c.outcome, c.ws);
    let mut notes = Vec::new();
    if let Some((_, note)) = &c.forced {
        notes.push(note.clone());
    }
    if let Some(error) = &outcome.error {
        notes.push(error.clone());
    }
    let reported = outcome.report.clone();
    let summary = match (&reported, &outcome.final_text) {
        (Some(r), _) => r.summary.clone(),
        (None, Some(text)) => text.clone(),
        (None, None) => "The agent ended without a summary.".to_owned(),
    };
    let (mut commit, diff_stat, mut diff_text) = match ws {
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
                None => (None, String::new(), Vec::new()),
            }
        }
        Workspace::InPlace { .. } | Workspace::Scratch { .. } => (None, String::new(), Vec::new()),
    };
    let changed = commit.is_some();
    let status = match &c.forced {
        Some(_) if changed => ReportStatus::NeedsHuman,
        Some(_) => ReportStatus::Failed,
        None => reconcile(
            reported.as_ref().map(|r| r.status),
            outcome.end,
            changed,
            &mut notes,
        ),
    };
    let state = match (&c.forced, c.stopped, outcome.end, status) {
        (Some((state, _)), _, _, _) => *state,
        (None, Some(StopReason::Cancelled), _, _) => RunState::Cancelled,
        (None, Some(StopReason::Interrupted), _, _) => RunState::Interrupted,
        (None, None, EndReason::Finished, ReportStatus::Failed) => RunState::Failed,
        (None, None, EndReason::Finished, _) => RunState::Succeeded,
        (None, None, EndReason::Timeout, _) => RunState::TimedOut,
        (None, None, EndReason::Cancelled, _) => RunState::Cancelled,
        (
            None,
            None,
            EndReason::MaxTurns | EndReason::Budget | EndReason::ModelError | EndReason::Parked,
            _,
        ) => RunState::Failed,
    };
    let ended = runner.clock.now();
    let mut facts = ReportFacts {
        task: task.name.clone(),
        run_id: id.to_string(),
        status,
        state: state.to_string(),
        summary: summary.clone(),
        notes,
        model: c.model_label.to_owned(),
        branch: commit.as_ref().and(ws.branch().map(str::to_owned)),
        started: local_time(c.started, task),
        duration: human_duration(ended.duration_since(c.started).unsigned_abs()),
        turns: outcome.turns,
        usage: outcome.usage,
        cost_micro_usd: outcome.cost_micro_usd,
        diff_stat,
        briefing: None,
        sensitive: sensitive_changes(&String::from_utf8_lossy(&diff_text)),
    };
    // The briefing is the report as it stands; in a worktree it joins the proposal.
    let spec = briefing::Spec {
        paths: runner.paths,
        task,
        run_id: id.as_str(),
        ws,
        started: c.started,
        state,
    };
    let briefing = match briefing::write(&spec, &render_report(&facts)).await {
        Ok(written) => written,
        Err(note) => {
            facts.notes.push(note);
            None
        }
    };
    if let Some(w) = &briefing {
        if let (
            Some(head),
            Workspace::Worktree {
                dir: wt,
                base,
                branch,
                ..
            },
        ) = (&w.commit, ws)
        {
            facts.diff_stat = git::diff_stat(wt, base, head).await?;
            diff_text = git::diff(wt, base, head).await?;
            facts.branch = Some(branch.clone());
            commit = Some(head.clone());
        }
        facts.briefing = Some(w.briefing.shown.clone());
    }
    let changed = commit.is_some();
    // Classified from the very text written to diff.patch, the file `tend apply` applies.
    facts.sensitive = sensitive_changes(&String::from_utf8_lossy(&diff_text));
    write(&c.dir.join("report.md"), &render_report(&facts))?;
    let patch = c.dir.join("diff.patch");
    std::fs::write(&patch, &diff_text).map_err(|e| RunError::Io(patch.clone(), e))?;
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
    if state == RunState::Succeeded {
        crate::inputs::commit(store, run.task, id, c.dir, ended).await;
    }
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
    workspace::finish(ws, keep).await?;
    Ok(Finished {
        run,
        status,
        summary,
        run_dir: c.dir.to_path_buf(),
        branch: facts.branch,
        conversation: outcome.messages.clone(),
        approval: None,
        briefing: briefing.map(|w| w.briefing),
    })
}

/// The report's status: the agent's word, checked against what it actually left behind.
pub(crate) fn reconcile(
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
            | EndReason::Cancelled
            | EndReason::Parked,
            _,
            _,
        ) => ReportStatus::Failed,
    }
}

pub(crate) fn store_status(status: ReportStatus) -> tend_store::ReportStatus {
    match status {
        ReportStatus::Changed => tend_store::ReportStatus::Changed,
        ReportStatus::NothingToDo => tend_store::ReportStatus::NothingToDo,
        ReportStatus::NeedsHuman => tend_store::ReportStatus::NeedsHuman,
        ReportStatus::Failed => tend_store::ReportStatus::Failed,
    }
}

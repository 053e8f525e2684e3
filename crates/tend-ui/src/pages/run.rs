//! A run's page: its facts, the approval it waits for, its report, its diff, and its
//! transcript (live while it runs), with apply/discard for a proposal.

use std::path::PathBuf;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use jiff::tz::TimeZone;
use serde::Deserialize;
use tend_store::{Approval, ApprovalState, ProposalState, Run, RunId, RunState};

use crate::auth::Session;
use crate::fmt::{count, duration, local_seconds, relative, usd};
use crate::pages::tasks::state_class;
use crate::pages::{App, Chrome, PageError, page};
use crate::render::diff::{self, Diff};
use crate::render::markdown;
use crate::render::transcript::{self, Lines, PAGE};

/// An approval request as the pages show it.
pub struct ApprovalView {
    pub id: i64,
    pub run: String,
    pub task: String,
    pub wants: String,
    pub rule: String,
    pub asked: String,
    pub expires: String,
}

/// What the call wants to do, in a few words: `bash: git push origin main`.
pub fn wants(a: &Approval) -> String {
    match a.arguments.get("command").and_then(|c| c.as_str()) {
        Some(command) => format!("{}: {}", a.tool, command.trim()),
        None => format!("{} {}", a.tool, a.arguments),
    }
}

pub fn approval_view(a: &Approval, task: String, now: jiff::Timestamp) -> ApprovalView {
    ApprovalView {
        id: a.id.get(),
        run: a.run.to_string(),
        task,
        wants: wants(a),
        rule: a.rule.clone(),
        asked: relative(a.created_at, now),
        expires: relative(a.expires_at, now),
    }
}

pub struct Facts {
    pub id: String,
    pub task: String,
    pub task_id: i64,
    pub state: String,
    pub class: &'static str,
    pub status: Option<String>,
    pub trigger: String,
    pub attempt: u32,
    pub created: String,
    pub started: Option<String>,
    pub ended: Option<String>,
    pub took: Option<String>,
    pub cost: Option<String>,
    pub tokens: String,
    pub branch: Option<String>,
    pub summary: Option<String>,
    /// `pending`, `applied`, `discarded`.
    pub proposal: Option<String>,
    pub pending_proposal: bool,
}

pub struct Transcript {
    pub html: String,
    pub page: usize,
    pub pages: usize,
    pub first: usize,
    pub last: usize,
    pub total: usize,
}

#[derive(Template)]
#[template(path = "run.html")]
struct RunPage {
    chrome: Chrome,
    run: Facts,
    approval: Option<ApprovalView>,
    /// The proposal's sensitive changes: listed first, and applying them takes a ticked box.
    sensitive: Vec<SensitiveView>,
    allow_sensitive: &'static str,
    report: Option<String>,
    diff: Option<Diff>,
    transcript: Transcript,
    /// Stream new events into the page.
    live: bool,
    /// The number of the last event shown (the stream starts after it).
    after: u64,
    cancellable: bool,
}

impl RunPage {
    fn page_numbers(&self) -> Vec<usize> {
        (1..=self.transcript.pages).collect()
    }
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    page: Option<usize>,
}

pub fn parse_run_id(text: &str) -> Result<RunId, PageError> {
    RunId::parse(text).map_err(|_| PageError::NotFound(format!("`{text}` is not a run id")))
}

pub async fn load_run(app: &App, text: &str) -> Result<Run, PageError> {
    let id = parse_run_id(text)?;
    app.handle
        .store
        .run(&id)
        .await?
        .ok_or_else(|| PageError::NotFound(format!("No run {id}.")))
}

/// Whether new events may still come: the run executes, or was answered and is resuming.
pub fn may_grow(run: &Run, pending: bool) -> bool {
    match run.state {
        RunState::Queued | RunState::Preparing | RunState::Running => true,
        RunState::WaitingApproval => !pending,
        RunState::Succeeded
        | RunState::Failed
        | RunState::TimedOut
        | RunState::Cancelled
        | RunState::Interrupted
        | RunState::Expired => false,
    }
}

fn facts(run: &Run, task: String, now: jiff::Timestamp, tz: &TimeZone) -> Facts {
    Facts {
        id: run.id.to_string(),
        task,
        task_id: run.task.get(),
        state: run.state.to_string(),
        class: state_class(run.state.as_str()),
        status: run.status.map(|s| s.to_string()),
        trigger: run.trigger.to_string(),
        attempt: run.attempt,
        created: local_seconds(run.created_at, tz),
        started: run.started_at.map(|t| local_seconds(t, tz)),
        ended: run.ended_at.map(|t| local_seconds(t, tz)),
        took: run
            .started_at
            .map(|s| duration(s.duration_until(run.ended_at.unwrap_or(now)))),
        cost: (run.usage.cost_micro_usd > 0).then(|| usd(run.usage.cost_micro_usd)),
        tokens: format!(
            "{} in · {} out",
            count(run.usage.tokens_in),
            count(run.usage.tokens_out)
        ),
        branch: run.branch.clone(),
        summary: run.summary.clone(),
        proposal: run.proposal.map(|p| p.to_string()),
        pending_proposal: run.proposal == Some(ProposalState::Pending),
    }
}

/// A sensitive change of the proposal, as the page lists it.
pub struct SensitiveView {
    pub path: String,
    pub why: String,
}

struct Files {
    sensitive: Vec<SensitiveView>,
    report: Option<String>,
    diff: Option<Diff>,
    transcript: Transcript,
    after: u64,
}

/// Reads and renders the run's files (off the async threads: a transcript may be megabytes).
fn files(dir: PathBuf, run: String, page: Option<usize>, tz: TimeZone) -> Result<Files, PageError> {
    let report = std::fs::read_to_string(dir.join("report.md"))
        .ok()
        .map(|md| markdown::to_html(&md));
    let diff = std::fs::read(dir.join("diff.patch"))
        .ok()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .filter(|d| !d.trim().is_empty())
        .map(|d| diff::parse(&d));
    let sensitive = tend_run::proposal::sensitive_in(&dir.join("diff.patch"))
        .map_err(|e| PageError::Internal(e.to_string()))?
        .into_iter()
        .map(|c| SensitiveView {
            why: c.kind.to_string(),
            path: c.path,
        })
        .collect();
    let lines = Lines::read(&dir.join("transcript.jsonl"))
        .map_err(|e| PageError::Internal(format!("cannot read the transcript: {e}")))?;
    let (page, start, end) = transcript::page_range(lines.len(), page);
    let html = transcript::render_range(&lines, &run, start, end, &tz);
    let after = end
        .checked_sub(1)
        .and_then(|i| lines.line(i))
        .and_then(transcript::parse)
        .and_then(|v| transcript::seq_of(&v))
        .unwrap_or(0);
    Ok(Files {
        sensitive,
        report,
        diff,
        transcript: Transcript {
            html,
            page,
            pages: lines.len().div_ceil(PAGE).max(1),
            first: if end > start { start + 1 } else { 0 },
            last: end,
            total: lines.len(),
        },
        after,
    })
}

pub async fn show(
    State(app): State<App>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, PageError> {
    let run = load_run(&app, &id).await?;
    let store = &app.handle.store;
    let labels = app.labels().await?;
    let task = labels
        .get(&run.task.get())
        .cloned()
        .unwrap_or_else(|| format!("#{}", run.task));
    let now = app.now();
    let pending = store
        .approvals_for_run(&run.id)
        .await?
        .into_iter()
        .find(|a| a.state == ApprovalState::Pending);
    let dir = tend_run::run_dir(&app.handle.paths, run.id.as_str());
    let (run_text, tz) = (run.id.to_string(), app.tz.clone());
    let files = tokio::task::spawn_blocking(move || files(dir, run_text, q.page, tz))
        .await
        .map_err(|e| PageError::Internal(e.to_string()))??;
    let live = may_grow(&run, pending.is_some()) && files.transcript.page == files.transcript.pages;
    let cancellable = matches!(
        run.state,
        RunState::Queued | RunState::Preparing | RunState::Running
    );
    let approval = pending.map(|a| approval_view(&a, task.clone(), now));
    page(&RunPage {
        chrome: app
            .chrome(format!("Run {}", run.id), "timeline", &session)
            .await,
        run: facts(&run, task, now, &app.tz),
        approval,
        sensitive: files.sensitive,
        allow_sensitive: crate::pages::actions::ALLOW_SENSITIVE,
        report: files.report,
        diff: files.diff,
        transcript: files.transcript,
        live,
        after: files.after,
        cancellable,
    })
}

/// The whole text behind one event's preview (loaded when the reader asks for it).
pub async fn event(
    State(app): State<App>,
    Path((id, seq)): Path<(String, u64)>,
) -> Result<Response, PageError> {
    let run = parse_run_id(&id)?;
    let path = tend_run::run_dir(&app.handle.paths, run.as_str()).join("transcript.jsonl");
    let body = tokio::task::spawn_blocking(move || {
        Lines::read(&path)
            .ok()
            .and_then(|lines| lines.find(seq))
            .map(|v| transcript::full_body(&v))
    })
    .await
    .map_err(|e| PageError::Internal(e.to_string()))?
    .ok_or_else(|| PageError::NotFound(format!("No event {seq} in run {run}.")))?;
    let html = format!("<pre class=\"body\">{}</pre>", escape(&body));
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

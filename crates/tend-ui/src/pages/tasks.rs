//! The tasks page (the dashboard's home) and one task's page: schedule in words, next slot,
//! last outcome, state, and the buttons to pause, resume or run now.

use std::collections::HashMap;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Html;
use jiff::tz::TimeZone;
use tend_daemon::protocol::{TaskInfo, flatten_settings};
use tend_store::{Run, TaskState};

use crate::auth::Session;
use crate::fmt::{local, relative};
use crate::pages::{App, Chrome, PageError, page};

pub struct Last {
    pub id: String,
    pub state: String,
    pub status: Option<String>,
    pub when: String,
    pub class: &'static str,
}

pub struct Row {
    pub id: i64,
    pub label: String,
    pub description: String,
    pub schedule: String,
    pub describe: String,
    pub timezone: String,
    /// The next fire time in the task's zone, and how far away.
    pub next: Option<(String, String)>,
    /// `active`, `paused` or `disabled`.
    pub state: &'static str,
    pub paused_by: Option<String>,
    pub last: Option<Last>,
}

#[derive(Template)]
#[template(path = "tasks.html")]
struct TasksPage {
    chrome: Chrome,
    rows: Vec<Row>,
    broken: Vec<String>,
}

/// A run's state as a badge colour.
pub fn state_class(state: &str) -> &'static str {
    match state {
        "succeeded" | "ran" => "ok",
        "failed" | "timed_out" | "interrupted" | "missed" => "bad",
        "waiting_approval" | "expired" | "cancelled" | "skipped" => "warn",
        "running" | "preparing" | "queued" => "live",
        _ => "",
    }
}

fn row(
    info: &TaskInfo,
    state: Option<&TaskState>,
    last: Option<&Run>,
    now: jiff::Timestamp,
    tz: &TimeZone,
) -> Row {
    let task_tz = TimeZone::get(&info.timezone).unwrap_or_else(|_| tz.clone());
    let paused = state.and_then(|s| s.paused.as_ref());
    Row {
        id: info.id,
        label: info.label.clone(),
        description: info.description.clone().unwrap_or_default(),
        schedule: info.schedule.clone(),
        describe: info.describe.clone(),
        timezone: info.timezone.clone(),
        next: info
            .next
            .map(|n| (local(n.fire_at, &task_tz), relative(n.fire_at, now))),
        state: if !info.enabled {
            "disabled"
        } else if paused.is_some() {
            "paused"
        } else {
            "active"
        },
        paused_by: paused.map(|p| {
            format!(
                "paused {}{}",
                relative(p.at, now),
                p.by.as_ref()
                    .map(|b| format!(" by {b}"))
                    .unwrap_or_default()
            )
        }),
        last: last.map(|r| Last {
            id: r.id.to_string(),
            state: r.state.to_string(),
            status: r.status.map(|s| s.to_string()),
            when: relative(r.ended_at.or(r.started_at).unwrap_or(r.created_at), now),
            class: state_class(r.state.as_str()),
        }),
    }
}

pub async fn list(
    State(app): State<App>,
    Extension(session): Extension<Session>,
) -> Result<Html<String>, PageError> {
    let (tasks, broken) = app.tasks().await?;
    let store = &app.handle.store;
    let states: HashMap<i64, TaskState> = store
        .task_states()
        .await?
        .into_iter()
        .map(|s| (s.id.get(), s))
        .collect();
    let last: HashMap<i64, Run> = store
        .last_runs()
        .await?
        .into_iter()
        .map(|r| (r.task.get(), r))
        .collect();
    let now = app.now();
    let rows = tasks
        .iter()
        .map(|t| row(t, states.get(&t.id), last.get(&t.id), now, &app.tz))
        .collect();
    page(&TasksPage {
        chrome: app.chrome("Tasks".into(), "tasks", &session).await,
        rows,
        broken,
    })
}

#[derive(Template)]
#[template(path = "task.html")]
struct TaskPage {
    chrome: Chrome,
    row: Row,
    path: String,
    settings: Vec<(String, String)>,
}

pub async fn show(
    State(app): State<App>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
) -> Result<Html<String>, PageError> {
    let (tasks, _) = app.tasks().await?;
    let Some(info) = tasks.iter().find(|t| t.id == id) else {
        return Err(PageError::NotFound(format!(
            "No task {id} is loaded (its file may be gone or broken)."
        )));
    };
    let store = &app.handle.store;
    let state = store.task(tend_store::TaskId::new(id)).await?;
    let last = store
        .runs(&tend_store::RunFilter {
            task: Some(tend_store::TaskId::new(id)),
            limit: Some(1),
            ..Default::default()
        })
        .await?;
    let row = row(info, state.as_ref(), last.first(), app.now(), &app.tz);
    page(&TaskPage {
        chrome: app.chrome(info.label.clone(), "tasks", &session).await,
        path: info.path.display().to_string(),
        settings: flatten_settings(&info.settings),
        row,
    })
}

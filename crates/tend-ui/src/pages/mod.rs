//! The pages, and what they share: the app's state, the page frame, errors, and the form every
//! action posts.

pub mod actions;
pub mod alive;
pub mod approvals;
pub mod costs;
pub mod run;
pub mod tasks;
pub mod timeline;

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use jiff::tz::TimeZone;
use serde::Deserialize;
use tend_daemon::Handle;
use tend_daemon::protocol::{Reply, Request, TaskInfo};
use tend_store::{TaskKey, TaskScope, TaskState};

use crate::auth::Session;

/// What every handler works with.
#[derive(Clone)]
pub struct App(pub Arc<AppInner>);

pub struct AppInner {
    pub handle: Handle,
    /// Times are shown in the machine's zone (a task's next slot in the task's own).
    pub tz: TimeZone,
}

impl std::ops::Deref for App {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

impl App {
    pub fn now(&self) -> jiff::Timestamp {
        self.handle.clock.now()
    }

    /// The daemon's tasks and broken files.
    pub async fn tasks(&self) -> Result<(Vec<TaskInfo>, Vec<String>), PageError> {
        match self.handle.ask(Request::Tasks).await {
            Some(Reply::Tasks { tasks, broken }) => Ok((tasks, broken)),
            Some(Reply::Error { message }) => Err(PageError::Internal(message)),
            _ => Err(PageError::Internal("the daemon is stopping".into())),
        }
    }

    /// A name for every task the store knows, as the daemon labels them (`folder/name`,
    /// `user/name`), also for tasks whose file is gone.
    pub async fn labels(&self) -> Result<HashMap<i64, String>, PageError> {
        let states = self.handle.store.task_states().await?;
        Ok(states.iter().map(|s| (s.id.get(), label_of(s))).collect())
    }

    /// The frame of a page, with the number of approvals waiting (shown in the menu).
    pub async fn chrome(&self, title: String, active: &'static str, session: &Session) -> Chrome {
        let waiting = self
            .handle
            .store
            .pending_approvals()
            .await
            .map(|a| a.len())
            .unwrap_or(0);
        Chrome {
            title,
            active,
            csrf: session.csrf.clone(),
            waiting,
        }
    }
}

pub fn label_of(state: &TaskState) -> String {
    label_of_key(&state.key)
}

pub fn label_of_key(key: &TaskKey) -> String {
    match &key.scope {
        TaskScope::User => format!("user/{}", key.name),
        TaskScope::Project(root) => {
            let folder = root.file_name().map_or_else(
                || root.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            format!("{folder}/{}", key.name)
        }
    }
}

/// What the page frame shows.
pub struct Chrome {
    pub title: String,
    /// Which menu entry is this page.
    pub active: &'static str,
    pub csrf: String,
    pub waiting: usize,
}

/// The form of every action: the session's CSRF token, and what some actions need.
#[derive(Debug, Deserialize)]
pub struct ActionForm {
    #[serde(rename = "_csrf", default)]
    pub csrf: String,
    #[serde(default)]
    pub answer: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    /// `yes` when the human ticked "apply including sensitive changes" on the run's page.
    #[serde(default)]
    pub allow_sensitive: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("{0}")]
    NotFound(String),
    /// The action does not fit the state of things (already answered, nothing to apply).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Internal(String),
}

impl From<tend_store::StoreError> for PageError {
    fn from(e: tend_store::StoreError) -> PageError {
        PageError::Internal(e.to_string())
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> PageError {
        PageError::Internal(format!("cannot render the page: {e}"))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = match &self {
            PageError::NotFound(_) => StatusCode::NOT_FOUND,
            PageError::Conflict(_) => StatusCode::CONFLICT,
            PageError::Forbidden(_) => StatusCode::FORBIDDEN,
            PageError::Internal(e) => {
                tracing::warn!("dashboard: {e}");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        error_page(status, &self.to_string())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    reason: &'a str,
    message: &'a str,
}

/// A plain page saying what went wrong (also before any session exists: it needs no data).
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let page = ErrorPage {
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or(""),
        message,
    };
    let body = page
        .render()
        .unwrap_or_else(|_| format!("{} {message}", status.as_u16()));
    (status, Html(body)).into_response()
}

/// Renders a page template.
pub fn page(template: &impl Template) -> Result<Html<String>, PageError> {
    Ok(Html(template.render()?))
}

/// Checks an action's CSRF token.
pub fn check_csrf(session: &Session, form: &ActionForm) -> Result<(), PageError> {
    if session.accepts(&form.csrf) {
        Ok(())
    } else {
        Err(PageError::Forbidden(
            "This form is stale or did not come from the dashboard (CSRF token missing or wrong). Reload the page and try again.".into(),
        ))
    }
}

//! The actions: every one a POST with the session's CSRF token (the auth layer has checked the
//! Host, the session and the origin already), answered with a redirect to the page to look at
//! next.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::response::Redirect;
use axum::{Extension, Form};
use tend_daemon::protocol::{Answer, Reply, Request};
use tend_run::proposal::SensitivePolicy;
use tend_store::{Pause, Paused, TaskId};

use crate::auth::Session;
use crate::pages::run::load_run;
use crate::pages::{ActionForm, App, PageError, check_csrf};

/// The form, once its CSRF token is checked; a body that is no form has no token either.
fn checked(
    session: &Session,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Result<ActionForm, PageError> {
    let form = form.map_or_else(
        |_| ActionForm {
            csrf: String::new(),
            answer: None,
            reason: None,
            allow_sensitive: None,
        },
        |Form(f)| f,
    );
    check_csrf(session, &form)?;
    Ok(form)
}

/// Who answered or paused, for the record.
fn who() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "someone".to_owned());
    format!("{user} (dashboard)")
}

fn daemon_gone() -> PageError {
    PageError::Internal("the daemon is stopping".into())
}

/// `pause` and `resume`: runtime state in the store, as `tend pause` keeps it; the task file is
/// left alone.
async fn set_paused(app: &App, id: i64, paused: bool) -> Result<Redirect, PageError> {
    let store = &app.handle.store;
    let state = store
        .task(TaskId::new(id))
        .await?
        .ok_or_else(|| PageError::NotFound(format!("No task {id}.")))?;
    if state.paused.is_some() != paused {
        let pause = if paused {
            Pause::Paused(Paused {
                at: app.now(),
                by: Some(who()),
                reason: None,
            })
        } else {
            Pause::Active
        };
        store.set_paused(state.id, &pause).await?;
    }
    Ok(Redirect::to("/"))
}

pub async fn pause(
    State(app): State<App>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    checked(&session, form)?;
    set_paused(&app, id, true).await
}

pub async fn resume(
    State(app): State<App>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    checked(&session, form)?;
    set_paused(&app, id, false).await
}

/// A manual run, handed to the daemon as `tend run` hands it; the page goes to the new run.
pub async fn run_now(
    State(app): State<App>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    checked(&session, form)?;
    let (tasks, _) = app.tasks().await?;
    let task = tasks
        .into_iter()
        .find(|t| t.id == id)
        .ok_or_else(|| PageError::NotFound(format!("No task {id} is loaded.")))?;
    match app.handle.ask(Request::Run { task: task.task }).await {
        Some(Reply::RunCreated { run, .. }) => Ok(Redirect::to(&format!("/runs/{run}"))),
        Some(Reply::Error { message }) => Err(PageError::Conflict(message)),
        _ => Err(daemon_gone()),
    }
}

/// An answer to an approval request; the daemon resumes the run, and the page goes to it.
pub async fn answer(
    State(app): State<App>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    let form = checked(&session, form)?;
    let answer = match form.answer.as_deref() {
        Some("approve") => Answer::Approve,
        Some("approve_always") => Answer::ApproveAlways,
        Some("deny") => Answer::Deny,
        other => {
            return Err(PageError::Conflict(format!(
                "`{}` is not an answer: approve, approve_always or deny",
                other.unwrap_or("")
            )));
        }
    };
    let request = Request::Answer {
        approval: id,
        answer,
        reason: form.reason.clone(),
        by: who(),
    };
    match app.handle.ask(request).await {
        Some(Reply::Answered { run, .. }) => Ok(Redirect::to(&format!("/runs/{run}"))),
        Some(Reply::Error { message }) => Err(PageError::Conflict(message)),
        _ => Err(daemon_gone()),
    }
}

/// The value of the run page's "apply including sensitive changes" box.
pub const ALLOW_SENSITIVE: &str = "yes";

pub async fn apply(
    State(app): State<App>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    let form = checked(&session, form)?;
    let run = load_run(&app, &id).await?;
    // Sensitive changes go in only with the run page's explicit box ticked; without it the
    // refusal names each.
    let policy = match form.allow_sensitive.as_deref() {
        Some(ALLOW_SENSITIVE) => SensitivePolicy::Allow,
        _ => SensitivePolicy::Refuse,
    };
    tend_run::proposal::apply(&app.handle.store, &app.handle.paths, &run, policy)
        .await
        .map_err(|e| PageError::Conflict(e.to_string()))?;
    Ok(Redirect::to(&format!("/runs/{}", run.id)))
}

pub async fn discard(
    State(app): State<App>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    checked(&session, form)?;
    let run = load_run(&app, &id).await?;
    tend_run::proposal::discard(&app.handle.store, &run)
        .await
        .map_err(|e| PageError::Conflict(e.to_string()))?;
    Ok(Redirect::to(&format!("/runs/{}", run.id)))
}

pub async fn cancel(
    State(app): State<App>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    checked(&session, form)?;
    let run = load_run(&app, &id).await?;
    match app
        .handle
        .ask(Request::Cancel {
            run: run.id.to_string(),
        })
        .await
    {
        Some(Reply::Cancelled { .. }) => Ok(Redirect::to(&format!("/runs/{}", run.id))),
        Some(Reply::NotMine { .. }) => Err(PageError::Conflict(format!(
            "Run {} is not executed by the daemon; `tend cancel {}` stops it.",
            run.id, run.id
        ))),
        Some(Reply::Error { message }) => Err(PageError::Conflict(message)),
        _ => Err(daemon_gone()),
    }
}

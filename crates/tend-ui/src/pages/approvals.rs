//! The approvals inbox: what each parked run wants to do, why it asks, until when; approve,
//! approve always, or deny with a reason.

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::response::Html;

use crate::auth::Session;
use crate::pages::run::{ApprovalView, approval_view};
use crate::pages::{App, Chrome, PageError, page};

#[derive(Template)]
#[template(path = "approvals.html")]
struct ApprovalsPage {
    chrome: Chrome,
    approvals: Vec<ApprovalView>,
}

pub async fn list(
    State(app): State<App>,
    Extension(session): Extension<Session>,
) -> Result<Html<String>, PageError> {
    let store = &app.handle.store;
    let now = app.now();
    let labels = app.labels().await?;
    let mut approvals = Vec::new();
    for a in store.pending_approvals().await? {
        // Overdue ones are expired at the daemon's next wake-up; not offered meanwhile.
        if a.expires_at <= now {
            continue;
        }
        let task = match store.run(&a.run).await? {
            Some(run) => labels.get(&run.task.get()).cloned().unwrap_or_default(),
            None => String::new(),
        };
        approvals.push(approval_view(&a, task, now));
    }
    page(&ApprovalsPage {
        chrome: app.chrome("Approvals".into(), "approvals", &session).await,
        approvals,
    })
}

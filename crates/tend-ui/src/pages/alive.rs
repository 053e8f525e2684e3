//! What is alive right now, as `tend ps` sees it: the daemon, the runs it executes and holds
//! queued, runs other processes execute (`tend run --local`, `tend loop`), and parked runs.

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::response::Html;
use tend_daemon::protocol::{Reply, Request};
use tend_store::{RunFilter, RunState};

use crate::auth::Session;
use crate::fmt::{duration, local, relative};
use crate::pages::tasks::state_class;
use crate::pages::{App, Chrome, PageError, page};

pub struct Daemon {
    pub pid: u32,
    pub version: String,
    pub up: String,
    pub scheduled: usize,
    pub next: Option<String>,
    pub active: usize,
    pub queued: usize,
    pub max: usize,
}

pub struct Alive {
    pub run: String,
    pub task: String,
    pub state: String,
    pub class: &'static str,
    pub trigger: String,
    pub since: String,
    /// `daemon`, `pid N`, `gone (pid N)`.
    pub owner: String,
    pub waiting_for: Option<String>,
}

#[derive(Template)]
#[template(path = "alive.html")]
struct AlivePage {
    chrome: Chrome,
    daemon: Option<Daemon>,
    loops: Vec<Alive>,
    runs: Vec<Alive>,
}

pub async fn show(
    State(app): State<App>,
    Extension(session): Extension<Session>,
) -> Result<Html<String>, PageError> {
    let now = app.now();
    let daemon = match app.handle.ask(Request::Status).await {
        Some(Reply::Status(s)) => Some(Daemon {
            pid: s.pid,
            version: s.version.clone(),
            up: duration(jiff::SignedDuration::from_millis(
                i64::try_from(s.uptime_ms).unwrap_or(i64::MAX),
            )),
            scheduled: s.tasks_scheduled,
            next: s.next.as_ref().map(|n| {
                format!(
                    "{} at {} ({})",
                    n.task,
                    local(n.fire_at, &app.tz),
                    relative(n.fire_at, now)
                )
            }),
            active: s.runs_active,
            queued: s.runs_queued,
            max: s.max_concurrent_runs,
        }),
        _ => None,
    };
    let held = match app.handle.ask(Request::Ps).await {
        Some(Reply::Ps { runs }) => runs,
        _ => Vec::new(),
    };
    let mut all: Vec<Alive> = held
        .iter()
        .map(|r| Alive {
            run: r.run.clone(),
            task: r.task.clone(),
            state: r.state.clone(),
            class: state_class(&r.state),
            trigger: r.trigger.clone(),
            since: relative(r.started_at.unwrap_or(r.created_at), now),
            owner: "daemon".into(),
            waiting_for: r.waiting_for.clone(),
        })
        .collect();
    let labels = app.labels().await?;
    let active = app
        .handle
        .store
        .runs(&RunFilter {
            states: RunState::ACTIVE.to_vec(),
            ..RunFilter::default()
        })
        .await?;
    for run in active.iter().rev() {
        if held.iter().any(|r| r.run == run.id.as_str()) {
            continue;
        }
        let owner = match &run.owner {
            Some(o) if tend_run::is_alive(o) => format!("pid {}", o.pid),
            Some(o) => format!("gone (pid {})", o.pid),
            None => "none".to_owned(),
        };
        all.push(Alive {
            run: run.id.to_string(),
            task: labels
                .get(&run.task.get())
                .cloned()
                .unwrap_or_else(|| format!("#{}", run.task)),
            state: run.state.to_string(),
            class: state_class(run.state.as_str()),
            trigger: run.trigger.to_string(),
            since: relative(run.started_at.unwrap_or(run.created_at), now),
            owner,
            waiting_for: (run.state == RunState::WaitingApproval)
                .then(|| "a human's answer".to_owned()),
        });
    }
    let (loops, runs) = all.into_iter().partition(|a| a.trigger == "loop");
    page(&AlivePage {
        chrome: app.chrome("Alive".into(), "alive", &session).await,
        daemon,
        loops,
        runs,
    })
}

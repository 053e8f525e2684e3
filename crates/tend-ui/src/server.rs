//! The dashboard's web server: bound to 127.0.0.1 only, on the configured port or one the
//! system picks, announced in `<state>/ui.json` for `tend ui`.

use std::net::Ipv4Addr;
use std::sync::Arc;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jiff::tz::TimeZone;
use tend_daemon::{Addon, Handle};

use crate::auth::{self, Guard};
use crate::install::{InfoFile, InstallError, UiInfo, load_or_create_token};
use crate::pages::{self, App, AppInner, actions, alive, approvals, costs, run, tasks, timeline};

const STYLE: &str = include_str!("../assets/style.css");
const SCRIPT: &str = include_str!("../assets/app.js");
const ICON: &str = include_str!("../assets/icon.svg");

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UiOptions {
    /// `ui_port` from tend's config; `None`: a free port the system picks.
    pub port: Option<u16>,
}

#[derive(Debug, thiserror::Error)]
pub enum UiError {
    #[error(transparent)]
    Install(#[from] InstallError),
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        port: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("the dashboard's server stopped: {0}")]
    Serve(#[source] std::io::Error),
}

/// The dashboard as an add-on of the daemon: it serves until the daemon stops. A dashboard
/// that cannot start (its port taken) is logged; the daemon goes on without it.
pub fn addon(options: UiOptions) -> Addon {
    Box::new(move |handle| {
        Box::pin(async move {
            if let Err(e) = serve(handle, options).await {
                tracing::warn!("dashboard: {e}; the daemon goes on without it");
            }
        })
    })
}

/// Binds, writes `ui.json`, and serves.
pub async fn serve(handle: Handle, options: UiOptions) -> Result<(), UiError> {
    let state_dir = handle.paths.state_dir.clone();
    let token = load_or_create_token(&state_dir)?;
    let port = options.port.unwrap_or(0);
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .await
        .map_err(|source| UiError::Bind { port, source })?;
    let port = listener
        .local_addr()
        .map_err(|source| UiError::Bind { port, source })?
        .port();
    let _info = InfoFile::write(
        &state_dir,
        &UiInfo {
            port,
            pid: std::process::id(),
        },
    )?;
    tracing::info!("dashboard at http://127.0.0.1:{port}/ (`tend ui` opens it)");
    let app = router(handle, &token, port);
    axum::serve(listener, app).await.map_err(UiError::Serve)
}

/// Every page and action, behind the guard.
pub fn router(handle: Handle, token: &str, port: u16) -> Router {
    let app = App(Arc::new(AppInner {
        handle,
        tz: TimeZone::system(),
    }));
    let guard = Arc::new(Guard::new(token, port));
    Router::new()
        .route("/", get(tasks::list))
        .route("/tasks/{id}", get(tasks::show))
        .route("/tasks/{id}/pause", post(actions::pause))
        .route("/tasks/{id}/resume", post(actions::resume))
        .route("/tasks/{id}/run", post(actions::run_now))
        .route("/timeline", get(timeline::show))
        .route("/runs/{id}", get(run::show))
        .route("/runs/{id}/live", get(crate::live::stream))
        .route("/runs/{id}/events/{seq}", get(run::event))
        .route("/runs/{id}/apply", post(actions::apply))
        .route("/runs/{id}/discard", post(actions::discard))
        .route("/runs/{id}/cancel", post(actions::cancel))
        .route("/approvals", get(approvals::list))
        .route("/approvals/{id}", post(actions::answer))
        .route("/alive", get(alive::show))
        .route("/costs", get(costs::show))
        .route(
            "/assets/style.css",
            get(|| async { asset("text/css", STYLE) }),
        )
        .route(
            "/assets/app.js",
            get(|| async { asset("text/javascript", SCRIPT) }),
        )
        .route(
            "/assets/icon.svg",
            get(|| async { asset("image/svg+xml", ICON) }),
        )
        // Browsers ask for it whatever the page says; the pages name the icon above.
        .route(
            "/favicon.ico",
            get(|| async { asset("image/svg+xml", ICON) }),
        )
        .fallback(|| async { pages::error_page(StatusCode::NOT_FOUND, "No such page.") })
        .with_state(app)
        .layer(middleware::from_fn_with_state(guard, auth::protect))
}

fn asset(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        body,
    )
        .into_response()
}

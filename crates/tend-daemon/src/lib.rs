//! The scheduler daemon (`tend daemon`): runs every enabled task at its slots, exactly once.
//!
//! - [`decide`]: the pure scheduling decisions (catch-up, overlap, pause, one-shots, backlogs).
//! - The loop ([`run`]): sleeps until the earliest fire time (at most 30 s), claims each due
//!   slot in the store in one transaction (the unique (task, due) row is the exactly-once
//!   guarantee), and executes runs under the global `max_concurrent_runs`.
//! - Crash recovery at start: orphaned runs become `interrupted` (retried once when the task
//!   says `retry_interrupted = true`), claimed-but-unstarted runs start.
//! - Task files and configs are watched; wall-clock jumps and suspend/resume are noticed.
//! - [`client`] / [`protocol`]: the control socket `<state>/daemon.sock` that `tend status`,
//!   `tend ps`, `tend cancel` and `tend run` use; [`lock`]: one daemon per tend home.
//! - [`Addon`]s run beside the loop in the daemon's process (the dashboard), asking it through a
//!   [`Handle`] what the socket's clients ask, and watching runs' events live.

mod answer;
mod approvals;
pub mod client;
mod control;
mod daemon;
pub mod decide;
mod exec;
mod gate;
mod handle;
pub mod lock;
mod logging;
pub mod protocol;
mod recover;
mod requests;
mod schedule;
mod tasks;
mod watch;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use tend_config::{Clock, Paths, SystemClock};
use tend_store::{Store, StoreError};
use tokio::sync::{broadcast, mpsc};

pub use answer::always_rule;
pub use daemon::{MAX_SLEEP, ON_TIME_GRACE};
pub use handle::{Addon, Handle, LiveEvent};
pub use lock::{DaemonLock, LockError};

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot create tend's folders: {0}")]
    Dirs(#[source] std::io::Error),
    #[error("cannot write the daemon's log in {}: {source}", path.display())]
    Log {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot listen on the control socket {}: {source}", path.display())]
    Socket {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

/// Runs the daemon in the foreground until SIGTERM or SIGINT: takes the tend home's lock,
/// starts logging (stderr and `<state>/logs/daemon.*.log`), then schedules.
pub fn run(paths: Paths) -> Result<(), DaemonError> {
    run_with(paths, Vec::new())
}

/// [`run`], with add-ons running beside the loop until it stops.
pub fn run_with(paths: Paths, addons: Vec<Addon>) -> Result<(), DaemonError> {
    paths.create_dirs().map_err(DaemonError::Dirs)?;
    let lock = lock::acquire(&paths.state_dir)?;
    logging::init(&paths.logs_dir, logging::level_from_env()).map_err(|source| {
        DaemonError::Log {
            path: paths.logs_dir.clone(),
            source,
        }
    })?;
    match lock.previous {
        lock::PreviousStop::Clean => {}
        lock::PreviousStop::Unclean { pid } => tracing::warn!(
            "the last daemon (pid {pid}) did not stop cleanly; checking the store before going on"
        ),
    }
    if std::env::var_os("TEND_NOW").is_some() {
        tracing::warn!("TEND_NOW is set; the daemon ignores it and uses the real clock");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(DaemonError::Runtime)?;
    let result = runtime.block_on(serve_with(
        paths,
        Arc::new(SystemClock),
        stop_signal(),
        addons,
    ));
    // A controlled stop, even with an error: the next daemon need not call it unclean.
    let lock_file = lock.path.clone();
    if let Err(e) = lock.release() {
        tracing::warn!("cannot empty the lock file {}: {e}", lock_file.display());
    }
    result
}

/// SIGTERM (a service manager) or SIGINT (Ctrl-C).
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::warn!("cannot listen for SIGTERM/SIGINT; stop the daemon with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: stopping"),
        _ = int.recv() => tracing::info!("SIGINT: stopping"),
    }
}

/// The daemon itself, until `shutdown` completes. The caller holds the lock.
pub async fn serve(
    paths: Paths,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), DaemonError> {
    serve_with(paths, clock, shutdown, Vec::new()).await
}

/// [`serve`], with add-ons started once the daemon is up and dropped when it stops.
pub async fn serve_with(
    paths: Paths,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()>,
    addons: Vec<Addon>,
) -> Result<(), DaemonError> {
    let paths = Arc::new(paths);
    let store = Store::open(&paths.db_path).await?;
    // A damaged file must stop the daemon before it schedules anything on it (SQLite would
    // otherwise only notice when a query happens to touch the bad page, maybe mid-run).
    if let Err(e) = store.check().await {
        store.close().await;
        return Err(e.into());
    }
    tracing::info!(
        "tend daemon {} (pid {}) for {}",
        env!("CARGO_PKG_VERSION"),
        std::process::id(),
        paths.state_dir.display()
    );
    let socket = protocol::socket_path(&paths.state_dir);
    let listener = control::bind(&socket).map_err(|source| DaemonError::Socket {
        path: socket.clone(),
        source,
    })?;
    let (control_tx, control_rx) = mpsc::unbounded_channel();
    let server = tokio::spawn(control::serve(listener, control_tx.clone()));
    let (done_tx, done_rx) = mpsc::unbounded_channel();
    let (changed_tx, changed_rx) = mpsc::unbounded_channel();
    let (live_tx, _) = broadcast::channel(handle::LIVE_BACKLOG);
    let exec = exec::Exec::new(
        store.clone(),
        Arc::clone(&paths),
        Arc::clone(&clock),
        usize::try_from(tend_config::DEFAULT_MAX_CONCURRENT_RUNS).unwrap_or(2),
        done_tx,
        live_tx.clone(),
    );
    let handle = Handle::new(
        control_tx,
        live_tx,
        store.clone(),
        Arc::clone(&paths),
        Arc::clone(&clock),
    );
    let mut daemon = daemon::Daemon::new(store.clone(), Arc::clone(&paths), clock, exec);
    match watch::Watcher::new(changed_tx) {
        Ok(watcher) => daemon.watcher = Some(watcher),
        Err(e) => {
            tracing::warn!("cannot watch task files ({e}); changes need `tend daemon` restarted")
        }
    }
    let started = daemon.start().await;
    if let Err(e) = started {
        server.abort();
        let _ = std::fs::remove_file(&socket);
        store.close().await;
        return Err(e.into());
    }
    if let Some(watcher) = daemon.watcher.as_mut() {
        watcher.watch(&paths, &daemon.roots);
        tracing::debug!("watching {:?}", watcher.watched());
    }
    let inbox = daemon::Inbox {
        control: control_rx,
        done: done_rx,
        changed: changed_rx,
    };
    let running: Vec<_> = addons
        .into_iter()
        .map(|addon| tokio::spawn(addon(handle.clone())))
        .collect();
    drop(handle);
    daemon.run(inbox, shutdown).await;
    for addon in running {
        addon.abort();
        // Aborted add-ons drop what they hold (a listener, a file naming the port) here.
        let _ = addon.await;
    }
    server.abort();
    let _ = std::fs::remove_file(&socket);
    store.close().await;
    Ok(())
}

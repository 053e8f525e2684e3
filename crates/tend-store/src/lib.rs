//! tend's state on SQLite: projects, task runtime state, slots (the exactly-once ledger), runs,
//! run events, approvals, and what each task's inputs had delivered at its last successful run.
//!
//! One file (`tend.db`) in WAL mode is shared by the daemon and every CLI invocation; each opens
//! its own [`Store`]. Writers serialize on SQLite's write lock (with a busy timeout), readers
//! never block on writers. All times are passed in by the caller (no clock inside) and stored as
//! milliseconds since the Unix epoch, so sub-millisecond precision is dropped.
//!
//! A database this binary cannot understand (written by a newer tend, another program's SQLite
//! file, a damaged file) is refused with [`StoreError::NewerSchema`], [`StoreError::Corrupt`] or
//! [`StoreError::Damaged`]
//! before anything is written to it.

mod approvals;
mod convert;
mod error;
mod events;
mod ids;
mod inputs;
mod kinds;
mod open;
mod private;
mod runs;
mod slots;
mod tasks;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection};

pub use approvals::{Approval, NewApproval};
pub use error::StoreError;
pub use events::Event;
pub use ids::{ApprovalId, RunId, SlotId, TaskId};
pub use inputs::InputState;
pub use kinds::{
    ApprovalState, Decision, ProposalState, ReportStatus, RunState, SlotOutcome, Trigger,
    UnknownVariant,
};
pub use runs::{NewRun, Run, RunEnd, RunFilter, RunOwner, Usage};
pub use slots::{Claim, ClaimWithRun, NewSlot, SlotRecord};
pub use tasks::{Pause, Paused, Project, TaskKey, TaskScope, TaskState};

/// How long a statement waits for another process's write lock before failing with "busy".
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Read connections per store; reads run beside the single writer in WAL mode.
const READERS: u32 = 2;

/// A handle on the database; cheap to clone (clones share connections).
#[derive(Debug, Clone)]
pub struct Store {
    /// Exactly one connection: writers of this process queue here, in order, rather than in
    /// SQLite's sleeping busy handler.
    writer: SqlitePool,
    reader: SqlitePool,
    path: Arc<Path>,
}

/// Whether opening may create the database file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Create {
    IfMissing,
    Never,
}

impl Store {
    /// Opens the database at `path`, creating it and its parent directories if missing, and
    /// brings its schema up to date.
    ///
    /// Folders it creates are the owner's alone (0700), and a new database file is created
    /// 0600 before SQLite opens it, whatever the umask: SQLite gives the `-wal` and `-shm`
    /// files it makes beside it the database file's mode.
    pub async fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            private::create_dir(dir).map_err(|source| StoreError::CreateDir {
                dir: dir.to_owned(),
                source,
            })?;
        }
        private::create_file(path).map_err(|e| StoreError::Open {
            path: path.to_owned(),
            detail: format!("{e}; check that it is a file in a writable directory"),
            source: sqlx::Error::Io(e),
        })?;
        Self::open_file(path, Create::IfMissing).await
    }

    /// Asks SQLite to check the whole file (`PRAGMA quick_check`: every page, every index
    /// entry's shape; not the index contents against the tables). A damaged file is
    /// [`StoreError::Damaged`] with what SQLite found; nothing is written.
    pub async fn check(&self) -> Result<(), StoreError> {
        let mut conn = self.reader.acquire().await.map_err(|e| self.db_error(e))?;
        let found: Vec<String> = sqlx::query_scalar("PRAGMA quick_check")
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| self.db_error(e))?;
        match found.as_slice() {
            [ok] if ok == "ok" => Ok(()),
            problems => Err(StoreError::Damaged {
                path: self.path.to_path_buf(),
                detail: quick_check_summary(problems),
            }),
        }
    }

    /// Like [`Store::open`] but creates nothing: `Ok(None)` when there is no database yet, so
    /// read-only commands (`tend list`, `tend show`) leave no files behind. An existing database
    /// is still migrated, as by `open`.
    pub async fn open_existing(path: impl AsRef<Path>) -> Result<Option<Store>, StoreError> {
        let path = path.as_ref();
        match path.try_exists() {
            Ok(true) => Self::open_file(path, Create::Never).await.map(Some),
            Ok(false) => Ok(None),
            Err(e) => Err(open_error(path, sqlx::Error::Io(e))),
        }
    }

    /// A private database in memory, for tests.
    pub async fn open_in_memory() -> Result<Store, StoreError> {
        let path: Arc<Path> = Arc::from(Path::new(":memory:"));
        let options = SqliteConnectOptions::new()
            .in_memory(true)
            .foreign_keys(true);
        // One connection for all: every further connection would see another empty database.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_lazy_with(options);
        let store = Store {
            writer: pool.clone(),
            reader: pool,
            path,
        };
        let mut conn = store
            .writer
            .acquire()
            .await
            .map_err(|e| open_error(&store.path, e))?;
        open::prepare(&mut conn, &store.path, open::Journal::Memory).await?;
        Ok(store)
    }

    async fn open_file(path: &Path, create: Create) -> Result<Store, StoreError> {
        let create_if_missing = match create {
            Create::IfMissing => true,
            Create::Never => false,
        };
        // A connection of its own for the checks, closed and awaited before we return: SQLite
        // leaves -wal/-shm files beside a database it cannot read until the connection that
        // opened them is gone. Its options run no pragma that reads the file at connect time
        // (`synchronous` would), so even a corrupt file yields a connection to close properly.
        let mut probe = SqliteConnectOptions::new()
            .filename(path)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            .create_if_missing(create_if_missing)
            .connect()
            .await
            .map_err(|e| open_error(path, e))?;
        let prepared = open::prepare(&mut probe, path, open::Journal::Wal).await;
        if let Err(e) = prepared {
            let _ = probe.close().await;
            return Err(e);
        }

        let options = SqliteConnectOptions::new()
            .filename(path)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            // Safe in WAL mode: a power loss may lose the last commits, never consistency.
            .synchronous(SqliteSynchronous::Normal);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .idle_timeout(None)
            .max_lifetime(None)
            .test_before_acquire(false)
            // A statement can make SQLite roll a transaction back by itself (a full disk, an
            // I/O error); sqlx's own ROLLBACK then fails and it keeps counting the transaction
            // as open, so every later BEGIN on that connection would fail. Such a connection
            // is closed and the next write gets a fresh one. (The pool pings a connection on
            // release, so a dropped transaction's rollback has run by now.)
            .before_acquire(|conn, _| Box::pin(async move { Ok(!conn.is_in_transaction()) }))
            .connect_lazy_with(options.clone());
        let reader = SqlitePoolOptions::new()
            .max_connections(READERS)
            .min_connections(0)
            .test_before_acquire(false)
            .connect_lazy_with(options);
        // Connect the writer before the probe goes: closing the last connection to a file
        // checkpoints it and deletes its -wal/-shm, which the writer would then recreate (that
        // churn was most of an open's time).
        let connected = writer.acquire().await.map(drop);
        let closed = probe.close().await;
        connected.and(closed).map_err(|e| open_error(path, e))?;
        Ok(Store {
            writer,
            reader,
            path: Arc::from(path),
        })
    }

    /// The database file (`:memory:` for [`Store::open_in_memory`]).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The newest schema version this binary knows (and every store it opened has).
    pub fn schema_version() -> i64 {
        open::known_version()
    }

    /// Closes all connections, checkpointing the WAL when this was the last user of the file.
    /// Dropping a store without closing is safe, just less tidy.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    fn db_error(&self, error: sqlx::Error) -> StoreError {
        classify(&self.path, error)
    }
}

/// The first few of quick_check's findings (it can list thousands), and how many more.
fn quick_check_summary(problems: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut text = problems
        .iter()
        .take(SHOWN)
        .map(|p| p.trim())
        .collect::<Vec<_>>()
        .join("; ");
    if problems.is_empty() {
        text.push_str("quick_check returned nothing");
    }
    if problems.len() > SHOWN {
        text = format!("{text} (and {} more)", problems.len() - SHOWN);
    }
    text
}

/// Failing to open at all is its own error, unless the file turned out to be corrupt.
fn open_error(path: &Path, error: sqlx::Error) -> StoreError {
    match classify(path, error) {
        StoreError::Database { path, source } => {
            let detail = match &source {
                sqlx::Error::Database(db) => format!(
                    "{} (SQLite code {}); check that it is a file in a writable directory",
                    db.message(),
                    db.code().unwrap_or_default()
                ),
                other => other.to_string(),
            };
            StoreError::Open {
                path,
                detail,
                source,
            }
        }
        other => other,
    }
}

const SQLITE_CORRUPT: i32 = 11;
const SQLITE_NOTADB: i32 = 26;

/// Corruption is reported as such wherever it shows up, not only at open.
pub(crate) fn classify(path: &Path, error: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &error {
        let code = db.code().and_then(|code| code.parse::<i32>().ok());
        if let Some(code) = code
            && matches!(code & 0xff, SQLITE_CORRUPT | SQLITE_NOTADB)
        {
            return StoreError::Damaged {
                path: path.to_owned(),
                detail: db.message().to_owned(),
            };
        }
    }
    StoreError::Database {
        path: path.to_owned(),
        source: error,
    }
}

/// Paths are stored as text; tend does not support non-UTF-8 paths here.
pub(crate) fn path_text(path: &Path) -> Result<&str, StoreError> {
    path.to_str()
        .ok_or_else(|| StoreError::NonUtf8Path(path.to_owned()))
}

pub(crate) fn path_from_text(text: String) -> PathBuf {
    PathBuf::from(text)
}

use std::path::PathBuf;

use crate::kinds::{ApprovalState, RunState};
use crate::{ApprovalId, RunId, SlotId, TaskId};

/// Everything that can go wrong in the store. Errors about the database file name its path.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the directory {dir} for the tend database: {source}")]
    CreateDir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The file could not be opened or created at all (permissions, a directory in the way).
    #[error("cannot open the tend database {path}: {detail}")]
    Open {
        path: PathBuf,
        detail: String,
        #[source]
        source: sqlx::Error,
    },

    #[error(
        "{path} was written by a newer tend (schema {found}, this tend knows up to {known}); \
         upgrade tend, the database was left untouched"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        known: i64,
    },

    #[error(
        "{path} is not a valid tend database ({detail}); it was left untouched; \
         move it aside to start fresh"
    )]
    Corrupt { path: PathBuf, detail: String },

    /// SQLite found the file damaged (`SQLITE_CORRUPT`, `SQLITE_NOTADB`, or `PRAGMA
    /// quick_check` failing). tend never repairs or rewrites it: the message says how to
    /// rescue what SQLite can still read.
    #[error("{}", damaged_message(path, detail))]
    Damaged { path: PathBuf, detail: String },

    #[error("cannot bring the tend database {path} up to date: {source}")]
    Migrate {
        path: PathBuf,
        #[source]
        source: sqlx::migrate::MigrateError,
    },

    #[error("tend database {path}: {source}")]
    Database {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },

    /// A stored value this tend cannot read (e.g. a timestamp out of range).
    #[error("tend database {path}: column {column} holds {value:?}, which this tend cannot read")]
    BadValue {
        path: PathBuf,
        column: &'static str,
        value: String,
    },

    #[error("path {0} is not valid UTF-8; tend stores paths as text")]
    NonUtf8Path(PathBuf),

    #[error("a project root must not be empty")]
    EmptyProjectRoot,

    #[error("invalid run id {0:?}: use 1 to 64 characters from a-z, 0-9 and '-'")]
    InvalidRunId(String),

    #[error("no task with id {0}")]
    TaskNotFound(TaskId),

    #[error("no slot with id {0}")]
    SlotNotFound(SlotId),

    #[error("no run {0}")]
    RunNotFound(RunId),

    #[error("no approval {0}")]
    ApprovalNotFound(ApprovalId),

    #[error("run {run} cannot move from {from} to {to}")]
    IllegalTransition {
        run: RunId,
        from: RunState,
        to: RunState,
    },

    #[error("a run can only finish in a terminal state, not {0}")]
    NotTerminal(RunState),

    #[error("run {run} is {state}; only an interrupted run can be retried")]
    NotRetryable { run: RunId, state: RunState },

    #[error("run {run} was already retried as {retry}")]
    AlreadyRetried { run: RunId, retry: RunId },

    #[error("approval {id} is already {state}")]
    ApprovalClosed {
        id: ApprovalId,
        state: ApprovalState,
    },

    #[error("{what} {value} does not fit in the database")]
    OutOfRange { what: &'static str, value: String },
}

fn damaged_message(path: &std::path::Path, detail: &str) -> String {
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    let recovered = dir.join("tend-recovered.db");
    let copy = dir.join("tend.db.damaged");
    format!(
        "the tend database {db} is damaged: SQLite says \"{detail}\"; tend left the file as it \
         is.\n  To recover: stop the daemon, keep a copy (`cp {db} {copy}`), rescue what SQLite \
         can read (`sqlite3 {db} \".recover\" | sqlite3 {rec}`), then move it into place \
         (`mv {rec} {db}`); or move the file aside to start with an empty store",
        db = path.display(),
        copy = copy.display(),
        rec = recovered.display(),
    )
}

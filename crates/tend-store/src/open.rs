//! Opening a database file: checks that it is a tend database this binary understands before
//! anything is written, then switches it to WAL and applies pending migrations.

use std::path::Path;
use std::time::Duration;

use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::SqliteConnection;
use sqlx::{Connection, Row};

use crate::{StoreError, classify};

pub(crate) static MIGRATOR: Migrator = sqlx::migrate!();

/// `PRAGMA application_id` of a tend database ('tend' in ASCII); set by the first migration.
pub(crate) const APPLICATION_ID: i64 = 0x7465_6E64;

/// Switching to WAL needs an exclusive lock that SQLite's busy timeout does not wait for, so a
/// second process creating the same fresh database at the same moment retries a little.
const WAL_SWITCH_ATTEMPTS: u32 = 50;
const WAL_SWITCH_PAUSE: Duration = Duration::from_millis(20);

const SQLITE_BUSY: i32 = 5;

/// What a database holds, judged without writing to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Schema {
    /// No tables at all: a new or empty file.
    Fresh,
    /// Some of this binary's migrations are not applied yet.
    Behind,
    Current,
}

/// The newest schema version this binary knows.
pub(crate) fn known_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Whether the file should be switched to WAL (not for in-memory databases).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Journal {
    Wal,
    Memory,
}

pub(crate) async fn prepare(
    conn: &mut SqliteConnection,
    path: &Path,
    journal: Journal,
) -> Result<(), StoreError> {
    // Judge first, write later: a foreign, corrupt or newer database fails here untouched.
    let schema = inspect(conn, path).await?;
    match journal {
        Journal::Wal => ensure_wal(conn, path).await?,
        Journal::Memory => {}
    }
    match schema {
        Schema::Current => return Ok(()),
        Schema::Fresh | Schema::Behind => {}
    }
    // IMMEDIATE: take the write lock before looking again, so that a CLI and the daemon opening
    // an old or new database together migrate it once.
    let mut tx = conn
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(|e| classify(path, e))?;
    match inspect(&mut tx, path).await? {
        Schema::Current => {}
        Schema::Fresh | Schema::Behind => {
            MIGRATOR
                .run_direct(None, &mut *tx, false)
                .await
                .map_err(|source| migrate_error(path, source))?;
        }
    }
    tx.commit().await.map_err(|e| classify(path, e))
}

async fn inspect(conn: &mut SqliteConnection, path: &Path) -> Result<Schema, StoreError> {
    let corrupt = |detail: String| StoreError::Corrupt {
        path: path.to_owned(),
        detail,
    };
    let objects: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_schema")
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| classify(path, e))?;
    if objects == 0 {
        return Ok(Schema::Fresh);
    }
    let application_id: i64 = sqlx::query_scalar("PRAGMA application_id")
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| classify(path, e))?;
    if application_id != APPLICATION_ID {
        return Err(corrupt(format!(
            "it is an SQLite database of another program: application_id {application_id}, \
             tend's is {APPLICATION_ID}"
        )));
    }
    let history: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| classify(path, e))?;
    if history == 0 {
        return Err(corrupt("its schema history table is missing".to_owned()));
    }
    let rows = sqlx::query("SELECT version, success, checksum FROM _sqlx_migrations")
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| classify(path, e))?;
    let known = known_version();
    let mut newest_applied = 0;
    let mut applied = 0usize;
    for row in &rows {
        let version: i64 = row.try_get("version").map_err(|e| classify(path, e))?;
        let success: i64 = row.try_get("success").map_err(|e| classify(path, e))?;
        let checksum: Vec<u8> = row.try_get("checksum").map_err(|e| classify(path, e))?;
        newest_applied = newest_applied.max(version);
        if success == 0 {
            return Err(corrupt(format!(
                "schema migration {version} did not finish"
            )));
        }
        match MIGRATOR.iter().find(|m| m.version == version) {
            Some(migration) if *migration.checksum == *checksum => applied += 1,
            Some(_) => {
                return Err(migrate_error(path, MigrateError::VersionMismatch(version)));
            }
            None if version > known => {}
            None => {
                return Err(corrupt(format!(
                    "it records schema version {version}, which no tend release has"
                )));
            }
        }
    }
    if newest_applied > known {
        return Err(StoreError::NewerSchema {
            path: path.to_owned(),
            found: newest_applied,
            known,
        });
    }
    if applied == MIGRATOR.iter().count() {
        Ok(Schema::Current)
    } else {
        Ok(Schema::Behind)
    }
}

async fn ensure_wal(conn: &mut SqliteConnection, path: &Path) -> Result<(), StoreError> {
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| classify(path, e))?;
    if mode.eq_ignore_ascii_case("wal") {
        return Ok(());
    }
    let mut attempt = 1;
    loop {
        match sqlx::query_scalar::<_, String>("PRAGMA journal_mode = WAL")
            .fetch_one(&mut *conn)
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) if is_busy(&e) && attempt < WAL_SWITCH_ATTEMPTS => {
                attempt += 1;
                tokio::time::sleep(WAL_SWITCH_PAUSE).await;
            }
            Err(e) => return Err(classify(path, e)),
        }
    }
}

fn is_busy(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            .is_some_and(|code| code & 0xff == SQLITE_BUSY),
        _ => false,
    }
}

fn migrate_error(path: &Path, source: MigrateError) -> StoreError {
    match source {
        MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _) => {
            match classify(path, e) {
                corrupt @ StoreError::Corrupt { .. } => corrupt,
                StoreError::Database { path, source } => StoreError::Migrate {
                    path,
                    source: MigrateError::Execute(source),
                },
                other => other,
            }
        }
        other => StoreError::Migrate {
            path: path.to_owned(),
            source: other,
        },
    }
}

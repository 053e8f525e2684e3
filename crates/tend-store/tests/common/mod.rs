#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Timestamp};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};
use tend_store::{NewSlot, SlotOutcome, Store, TaskId, TaskKey, TaskState};

/// 2026-11-25T20:00:00Z plus `minutes`.
pub fn at(minutes: i64) -> Timestamp {
    Timestamp::from_second(1_795_636_800 + minutes * 60).unwrap()
}

pub struct TempStore {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    pub store: Store,
}

pub async fn temp_store() -> TempStore {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state").join("tend.db");
    let store = Store::open(&path).await.unwrap();
    TempStore { dir, path, store }
}

pub async fn task(store: &Store, name: &str) -> TaskState {
    store
        .ensure_task(&TaskKey::project("/repo", name), at(0))
        .await
        .unwrap()
}

pub fn slot(task: TaskId, due_minutes: i64, outcome: SlotOutcome) -> NewSlot {
    NewSlot {
        task,
        due: at(due_minutes),
        fire_at: at(due_minutes) + SignedDuration::from_secs(7),
        claimed_at: at(due_minutes) + SignedDuration::from_secs(8),
        outcome,
        reason: None,
        lateness: Some(SignedDuration::from_millis(1000)),
    }
}

/// A plain connection to the file, bypassing the store (to inspect or tamper with it).
pub async fn raw(path: &Path) -> SqliteConnection {
    SqliteConnectOptions::new()
        .filename(path)
        .connect()
        .await
        .unwrap()
}

/// Every file in `dir` (recursively) with its bytes.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                files.insert(path, bytes);
            }
        }
    }
    files
}

/// The `CHECK (column IN (...))` list of a table, as written in the schema.
pub async fn check_list(path: &Path, table: &str, column: &str) -> Vec<String> {
    let mut conn = raw(path).await;
    let sql: String = sqlx::query_scalar("SELECT sql FROM sqlite_schema WHERE name = ?")
        .bind(table)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let marker = format!("CHECK ({column} IN (");
    let start = sql.find(&marker).unwrap() + marker.len();
    let end = start + sql[start..].find(')').unwrap();
    sql[start..end]
        .split(',')
        .map(|item| item.trim().trim_matches('\'').to_owned())
        .collect()
}

// Tests may unwrap and panic (TEAM.md); clippy only knows that inside #[test] functions.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{at, check_list, raw, snapshot, task, temp_store};
use pretty_assertions::assert_eq;
use sqlx::Connection;
use tend_store::{
    ApprovalState, ProposalState, ReportStatus, RunState, SlotOutcome, Store, StoreError, TaskKey,
    Trigger,
};

async fn applied_versions(path: &std::path::Path) -> Vec<i64> {
    let mut conn = raw(path).await;
    let versions = sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    versions
}

async fn schema_sql(path: &std::path::Path) -> Vec<String> {
    let mut conn = raw(path).await;
    let sql =
        sqlx::query_scalar("SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY name")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    conn.close().await.unwrap();
    sql
}

#[tokio::test]
async fn fresh_database_is_created_with_parents_and_migrated() {
    let t = temp_store().await;
    assert!(t.path.is_file());
    t.store.close().await;
    assert_eq!(applied_versions(&t.path).await, vec![1, 2, 3]);
    assert_eq!(Store::schema_version(), 3);
}

#[tokio::test]
async fn database_is_in_wal_mode_with_tend_application_id() {
    let t = temp_store().await;
    t.store.close().await;
    let mut conn = raw(&t.path).await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let app: i64 = sqlx::query_scalar("PRAGMA application_id")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    assert_eq!(
        (mode.as_str(), app),
        ("wal", i64::from_be_bytes(*b"\0\0\0\0tend"))
    );
}

#[tokio::test]
async fn reopening_keeps_data_and_changes_no_schema() {
    let t = temp_store().await;
    let first = task(&t.store, "triage").await;
    t.store.close().await;
    let schema_before = schema_sql(&t.path).await;

    for _ in 0..3 {
        let store = Store::open(&t.path).await.unwrap();
        let again = store.task_state(&first.key).await.unwrap();
        assert_eq!(again, Some(first.clone()));
        store.close().await;
    }
    assert_eq!(applied_versions(&t.path).await, vec![1, 2, 3]);
    assert_eq!(schema_sql(&t.path).await, schema_before);
}

#[tokio::test]
async fn open_existing_creates_nothing_when_there_is_no_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("tend.db");
    let store = Store::open_existing(&path).await.unwrap();
    assert!(store.is_none());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn open_existing_opens_an_existing_database() {
    let t = temp_store().await;
    let first = task(&t.store, "triage").await;
    t.store.close().await;
    let store = Store::open_existing(&t.path).await.unwrap().unwrap();
    assert_eq!(store.task_states().await.unwrap(), vec![first]);
}

#[tokio::test]
async fn an_older_database_is_migrated_and_keeps_its_data() {
    let t = temp_store().await;
    let triage = task(&t.store, "triage").await;
    t.store.close().await;
    // Turn it back into a schema-1 database, as an older tend left it.
    let mut conn = raw(&t.path).await;
    for sql in [
        "DROP TABLE input_state",
        "DELETE FROM _sqlx_migrations WHERE version = 3",
        "DROP INDEX runs_by_proposal",
        "ALTER TABLE runs DROP COLUMN proposal",
        "DELETE FROM _sqlx_migrations WHERE version = 2",
    ] {
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
    conn.close().await.unwrap();
    assert_eq!(applied_versions(&t.path).await, vec![1]);

    let store = Store::open(&t.path).await.unwrap();
    assert_eq!(
        store
            .task_state(&TaskKey::project("/repo", "triage"))
            .await
            .unwrap(),
        Some(triage)
    );
    store.close().await;
    assert_eq!(applied_versions(&t.path).await, vec![1, 2, 3]);
}

#[tokio::test]
async fn newer_schema_is_refused_and_left_untouched() {
    let t = temp_store().await;
    task(&t.store, "triage").await;
    t.store.close().await;
    let mut conn = raw(&t.path).await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9999, 'from the future', TRUE, x'00', 0)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let before = snapshot(t.dir.path());

    let err = Store::open(&t.path).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{} was written by a newer tend (schema 9999, this tend knows up to 3); \
             upgrade tend, the database was left untouched",
            t.path.display()
        )
    );
    assert!(matches!(
        err,
        StoreError::NewerSchema { ref path, found: 9999, known: 3 } if *path == t.path
    ));
    let err = Store::open_existing(&t.path).await.unwrap_err();
    assert!(matches!(err, StoreError::NewerSchema { .. }), "{err}");
    assert_eq!(snapshot(t.dir.path()), before);
}

fn assert_corrupt(err: StoreError, path: &std::path::Path) {
    let message = err.to_string();
    match err {
        StoreError::Corrupt { path: p, detail } => {
            assert_eq!(p, path);
            assert_eq!(
                message,
                format!(
                    "{} is not a valid tend database ({detail}); it was left untouched; \
                     move it aside to start fresh",
                    path.display()
                )
            );
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

/// SQLite's own verdict on a damaged file, with the way to rescue it.
fn assert_damaged(err: StoreError, path: &std::path::Path) {
    let message = err.to_string();
    match err {
        StoreError::Damaged { path: p, detail } => {
            assert_eq!(p, path);
            let dir = path.parent().unwrap().display();
            assert_eq!(
                message,
                format!(
                    "the tend database {db} is damaged: SQLite says \"{detail}\"; tend left the \
                     file as it is.\n  To recover: stop the daemon, keep a copy (`cp {db} \
                     {dir}/tend.db.damaged`), rescue what SQLite can read (`sqlite3 {db} \
                     \".recover\" | sqlite3 {dir}/tend-recovered.db`), then move it into place \
                     (`mv {dir}/tend-recovered.db {db}`); or move the file aside to start with an \
                     empty store",
                    db = path.display(),
                )
            );
        }
        other => panic!("expected Damaged, got {other:?}"),
    }
}

/// Overwrites the first page of the index `name` with garbage, the way a bad sector would.
async fn damage_index(path: &std::path::Path, name: &str) {
    let mut conn =
        sqlx::ConnectOptions::connect(&sqlx::sqlite::SqliteConnectOptions::new().filename(path))
            .await
            .unwrap();
    let root: i64 = sqlx::query_scalar("SELECT rootpage FROM sqlite_master WHERE name = ?")
        .bind(name)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let page_size: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let mut bytes = std::fs::read(path).unwrap();
    let start = usize::try_from((root - 1) * page_size).unwrap();
    let page = usize::try_from(page_size).unwrap();
    bytes[start..start + page].copy_from_slice(&garbage(page));
    std::fs::write(path, bytes).unwrap();
}

#[tokio::test]
async fn check_finds_a_damaged_index_and_leaves_the_file_alone() {
    let (dir, path) = populated_db().await;
    let store = Store::open(&path).await.unwrap();
    store.check().await.unwrap();
    store.close().await;
    damage_index(&path, "runs_by_created").await;
    let before = snapshot(dir.path());
    // Opening reads only the schema, so it succeeds; the check is what finds the damage.
    let store = Store::open(&path).await.unwrap();
    let err = store.check().await.unwrap_err();
    store.close().await;
    assert!(
        err.to_string().contains("runs_by_created") || err.to_string().contains("page"),
        "{err}"
    );
    assert_damaged(err, &path);
    assert_eq!(snapshot(dir.path()), before);
}

#[tokio::test]
async fn a_new_database_is_the_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state/deeper/tend.db");
    let store = Store::open(&path).await.unwrap();
    for name in ["tend.db", "tend.db-wal", "tend.db-shm"] {
        let mode = std::fs::metadata(path.with_file_name(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}: {mode:o}");
    }
    store.close().await;
    for d in [dir.path().join("state"), dir.path().join("state/deeper")] {
        let mode = std::fs::metadata(&d).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "{}: {mode:o}", d.display());
    }
}

/// Bytes that are no SQLite database (a fixed xorshift stream, so failures reproduce).
fn garbage(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[0]
        })
        .collect()
}

#[tokio::test]
async fn garbage_file_is_corrupt_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tend.db");
    std::fs::write(&path, garbage(8192)).unwrap();
    let before = snapshot(dir.path());
    assert_damaged(Store::open(&path).await.unwrap_err(), &path);
    assert_damaged(Store::open_existing(&path).await.unwrap_err(), &path);
    assert_eq!(snapshot(dir.path()), before);
}

async fn populated_db() -> (tempfile::TempDir, std::path::PathBuf) {
    let t = temp_store().await;
    for i in 0..40 {
        let state = task(&t.store, &format!("task-{i}")).await;
        let run = t
            .store
            .create_run(&tend_store::NewRun {
                task: state.id,
                trigger: Trigger::Manual,
                created_at: at(i),
            })
            .await
            .unwrap();
        for n in 0..10 {
            let payload = serde_json::json!({ "text": "x".repeat(200), "n": n });
            t.store
                .append_event(&run.id, "message", &payload, at(i))
                .await
                .unwrap();
        }
    }
    t.store.close().await;
    (t.dir, t.path)
}

#[tokio::test]
async fn truncated_database_is_corrupt_and_left_untouched() {
    let (dir, path) = populated_db().await;
    let full = std::fs::read(&path).unwrap();
    assert!(full.len() > 8 * 4096, "{}", full.len());
    for keep in [full.len() / 2, 4096, 50] {
        std::fs::write(&path, &full[..keep]).unwrap();
        let before = snapshot(dir.path());
        assert_damaged(Store::open(&path).await.unwrap_err(), &path);
        assert_eq!(snapshot(dir.path()), before, "truncated to {keep}");
    }
}

#[tokio::test]
async fn another_programs_sqlite_database_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tend.db");
    let mut conn = sqlx::ConnectOptions::connect(
        &sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true),
    )
    .await
    .unwrap();
    sqlx::query("CREATE TABLE notes (body TEXT)")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let before = snapshot(dir.path());
    let err = Store::open(&path).await.unwrap_err();
    assert!(err.to_string().contains("application_id 0"), "{err}");
    assert_corrupt(err, &path);
    assert_eq!(snapshot(dir.path()), before);
}

#[tokio::test]
async fn empty_file_becomes_a_tend_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tend.db");
    std::fs::write(&path, b"").unwrap();
    let store = Store::open(&path).await.unwrap();
    store.close().await;
    assert_eq!(applied_versions(&path).await, vec![1, 2, 3]);
}

#[tokio::test]
async fn parent_that_is_a_file_gives_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let err = Store::open(file.join("state").join("tend.db"))
        .await
        .unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "cannot create the directory {} for the tend database: ",
            file.join("state").display()
        )),
        "{err}"
    );
    assert!(matches!(err, StoreError::CreateDir { .. }));
}

#[tokio::test]
async fn unwritable_directory_gives_a_clear_error() {
    // sysfs refuses new files and directories even to root, so this holds in CI too.
    let in_existing = std::path::Path::new("/sys/tend-test.db");
    let err = Store::open(in_existing).await.unwrap_err();
    assert!(
        err.to_string()
            == "cannot open the tend database /sys/tend-test.db: Permission denied (os error 13); \
                check that it is a file in a writable directory",
        "{err}"
    );
    assert!(matches!(err, StoreError::Open { ref path, .. } if path == in_existing));

    let err = Store::open("/sys/tend-test/tend.db").await.unwrap_err();
    assert!(
        matches!(err, StoreError::CreateDir { ref dir, .. } if dir.as_os_str() == "/sys/tend-test"),
        "{err}"
    );
}

#[tokio::test]
async fn a_directory_is_not_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open(dir.path()).await.unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
}

#[tokio::test]
async fn in_memory_store_works() {
    let store = Store::open_in_memory().await.unwrap();
    let key = TaskKey::user("standup");
    let state = store.ensure_task(&key, at(0)).await.unwrap();
    assert_eq!(store.task_state(&key).await.unwrap(), Some(state));
}

#[tokio::test]
async fn check_constraints_list_exactly_the_rust_enums() {
    let t = temp_store().await;
    t.store.close().await;
    fn texts<T: Copy>(all: &[T], as_str: fn(T) -> &'static str) -> Vec<String> {
        all.iter().map(|v| as_str(*v).to_owned()).collect()
    }
    assert_eq!(
        check_list(&t.path, "slots", "outcome").await,
        texts(SlotOutcome::ALL, SlotOutcome::as_str)
    );
    assert_eq!(
        check_list(&t.path, "runs", "trigger").await,
        texts(Trigger::ALL, Trigger::as_str)
    );
    assert_eq!(
        check_list(&t.path, "runs", "state").await,
        texts(RunState::ALL, RunState::as_str)
    );
    assert_eq!(
        check_list(&t.path, "runs", "status").await,
        texts(ReportStatus::ALL, ReportStatus::as_str)
    );
    assert_eq!(
        check_list(&t.path, "runs", "proposal").await,
        texts(ProposalState::ALL, ProposalState::as_str)
    );
    assert_eq!(
        check_list(&t.path, "approvals", "state").await,
        texts(ApprovalState::ALL, ApprovalState::as_str)
    );
}

#[test]
fn enum_texts_round_trip() {
    fn round_trip<T>(all: &[T], as_str: fn(T) -> &'static str)
    where
        T: Copy + std::fmt::Debug + PartialEq + std::str::FromStr,
        T::Err: std::fmt::Debug,
    {
        for value in all {
            assert_eq!(as_str(*value).parse::<T>().unwrap(), *value);
        }
        assert!("no-such-value".parse::<T>().is_err());
    }
    round_trip(SlotOutcome::ALL, SlotOutcome::as_str);
    round_trip(Trigger::ALL, Trigger::as_str);
    round_trip(RunState::ALL, RunState::as_str);
    round_trip(ReportStatus::ALL, ReportStatus::as_str);
    round_trip(ApprovalState::ALL, ApprovalState::as_str);
}

/// A CLI and the daemon (here: six stores) creating the same database at the same moment:
/// all open it, and the schema is applied once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_opens_migrate_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tend.db");
    let mut handles = Vec::new();
    for _ in 0..6 {
        let path = path.clone();
        handles.push(tokio::spawn(async move { Store::open(&path).await }));
    }
    let mut stores = Vec::new();
    for handle in handles {
        stores.push(handle.await.unwrap().unwrap());
    }
    let key = TaskKey::user("shared");
    let created = stores[0].ensure_task(&key, at(0)).await.unwrap();
    for store in &stores {
        assert_eq!(store.task_state(&key).await.unwrap(), Some(created.clone()));
        store.close().await;
    }
    assert_eq!(applied_versions(&path).await, vec![1, 2, 3]);
}

#[test]
fn store_can_be_shared_between_tasks() {
    fn shareable<T: Send + Sync + Clone + 'static>() {}
    shareable::<Store>();
}

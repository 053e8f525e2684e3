//! Slot claims per second on a file database, next to a baseline of plain INSERTs on the same
//! settings (WAL, synchronous=NORMAL, one connection), and the time `Store::open` takes on an
//! existing database. Target: 2,000+ claims/s; open in a few ms.
//!
//! `cargo bench -p tend-store --bench claims` (set TEND_BENCH_CLAIMS to change the count).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use tend_store::{Claim, ClaimWithRun, NewSlot, SlotOutcome, Store, TaskKey, Trigger};

fn main() {
    let claims: i64 = std::env::var("TEND_BENCH_CLAIMS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5_000);
    // The CLI's runtime.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(claims));
}

async fn run(claims: i64) {
    let dir = tempfile::tempdir().unwrap();
    let start = Timestamp::from_second(1_795_636_800).unwrap();

    // Baseline: the same INSERT without a uniqueness check, transaction or cursor update.
    let baseline_path = dir.path().join("baseline.db");
    let mut conn = SqliteConnectOptions::new()
        .filename(&baseline_path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .connect()
        .await
        .unwrap();
    sqlx::query(
        "CREATE TABLE slots (id INTEGER PRIMARY KEY, task_id INTEGER NOT NULL, \
         due_at INTEGER NOT NULL, fire_at INTEGER NOT NULL, claimed_at INTEGER NOT NULL, \
         outcome TEXT NOT NULL, reason TEXT, lateness_ms INTEGER, run_id TEXT) STRICT",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let t0 = Instant::now();
    for i in 0..claims {
        let due = (start + SignedDuration::from_mins(i)).as_millisecond();
        sqlx::query(
            "INSERT INTO slots (task_id, due_at, fire_at, claimed_at, outcome, reason, \
             lateness_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(1_i64)
        .bind(due)
        .bind(due)
        .bind(due + 5)
        .bind("ran")
        .bind(None::<String>)
        .bind(Some(5_i64))
        .execute(&mut conn)
        .await
        .unwrap();
    }
    let baseline = t0.elapsed();

    let path = dir.path().join("tend.db");
    let store = Store::open(&path).await.unwrap();
    let task = store
        .ensure_task(&TaskKey::user("bench"), start)
        .await
        .unwrap();
    let slot = |i: i64| NewSlot {
        task: task.id,
        due: start + SignedDuration::from_mins(i),
        fire_at: start + SignedDuration::from_mins(i),
        claimed_at: start + SignedDuration::from_mins(i) + SignedDuration::from_millis(5),
        outcome: SlotOutcome::Ran,
        reason: None,
        lateness: Some(SignedDuration::from_millis(5)),
    };

    let t0 = Instant::now();
    for i in 0..claims {
        let claim = store.claim_slot(&slot(i)).await.unwrap();
        assert!(matches!(claim, Claim::Claimed(_)));
    }
    let claimed = t0.elapsed();

    // The same slots again: every claim is refused by the UNIQUE constraint.
    let t0 = Instant::now();
    for i in 0..claims {
        let claim = store.claim_slot(&slot(i)).await.unwrap();
        assert!(matches!(claim, Claim::AlreadyClaimed));
    }
    let refused = t0.elapsed();

    let t0 = Instant::now();
    for i in claims..2 * claims {
        let claim = store
            .claim_slot_with_run(&slot(i), Trigger::Schedule)
            .await
            .unwrap();
        assert!(matches!(claim, ClaimWithRun::Claimed { .. }));
    }
    let with_run = t0.elapsed();
    store.close().await;

    let opens = 50;
    let mut open_times = Vec::new();
    let mut open_read_times = Vec::new();
    for _ in 0..opens {
        let t0 = Instant::now();
        let store = Store::open(&path).await.unwrap();
        open_times.push(t0.elapsed());
        store.task_states().await.unwrap();
        open_read_times.push(t0.elapsed());
        store.close().await;
    }

    let rate = |d: Duration| claims as f64 / d.as_secs_f64();
    println!("slot claims on a file database ({claims} each, current-thread runtime)");
    println!("  baseline plain INSERT         {:>9.0}/s", rate(baseline));
    println!(
        "  claim_slot (new slot)         {:>9.0}/s  ({:.2}x the baseline's time)",
        rate(claimed),
        claimed.as_secs_f64() / baseline.as_secs_f64()
    );
    println!(
        "  claim_slot (already claimed)  {:>9.0}/s  ({:.2}x)",
        rate(refused),
        refused.as_secs_f64() / baseline.as_secs_f64()
    );
    println!(
        "  claim_slot_with_run           {:>9.0}/s  ({:.2}x)",
        rate(with_run),
        with_run.as_secs_f64() / baseline.as_secs_f64()
    );
    println!(
        "Store::open on an existing db ({opens} times): median {:?}, max {:?}; \
         with a first read: median {:?}",
        median(&mut open_times),
        open_times.iter().max().unwrap(),
        median(&mut open_read_times)
    );
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

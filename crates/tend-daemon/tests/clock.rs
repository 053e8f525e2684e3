//! The daemon in this process with a clock the test moves: a jump of the wall clock (as after
//! suspend/resume, or a clock set by hand) is noticed at the loop's next turn, and the slots
//! that came due meanwhile go through catch-up; a jump back runs nothing twice.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use pretty_assertions::assert_eq;
use tend_config::{Clock, FixedClock, Paths};
use tend_daemon::client::Client;
use tend_daemon::protocol::{Reply, Request, Status};
use tend_store::{SlotOutcome, Store, TaskKey};

const REPLAY: &str = r#"{"version":1,"provider":"anthropic","model":"m","turns":[{"content":[{"type":"tool_use","id":"t1","name":"report","input":{"status":"nothing-to-do","summary":"ok"}}],"stop":"tool_use","usage":{"input_tokens":0,"output_tokens":0,"cache_read_tokens":0,"cache_write_tokens":0},"request_id":"r1"}]}"#;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// Asks the daemon for its status from a blocking thread (the client is plain std IO).
async fn status(paths: &Paths) -> Option<Status> {
    let state = paths.state_dir.clone();
    tokio::task::spawn_blocking(move || {
        let mut client = Client::connect(&state).ok()??;
        match client.ask(&Request::Status).ok()? {
            Reply::Status(s) => Some(*s),
            _ => None,
        }
    })
    .await
    .unwrap()
}

async fn wait_for<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut check: impl FnMut() -> F,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `(due, outcome)` of every slot of the task, oldest first.
async fn slots(store: &Store) -> Vec<(Timestamp, SlotOutcome)> {
    let Some(task) = store.task_state(&TaskKey::user("hourly")).await.unwrap() else {
        return Vec::new();
    };
    let mut v: Vec<(Timestamp, SlotOutcome)> = store
        .slots_for_task(task.id, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.due, s.outcome))
        .collect();
    v.reverse();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wall_clock_jump_is_caught_up_and_a_jump_back_runs_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::under(dir.path().join("config"), dir.path().join("state"));
    std::fs::create_dir_all(&paths.user_tasks_dir).unwrap();
    std::fs::write(paths.user_tasks_dir.join("rec.json"), REPLAY).unwrap();
    std::fs::write(
        paths.user_tasks_dir.join("hourly.md"),
        "+++\nschedule = \"0 * * * *\"\ntimezone = \"UTC\"\nmodel = \"replay:rec.json\"\ncatch_up = \"latest\"\n+++\nLook.\n",
    )
    .unwrap();
    let clock = Arc::new(FixedClock::new(ts("2026-03-01T10:30:00Z")));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let daemon = tokio::spawn(tend_daemon::serve(
        paths.clone(),
        Arc::clone(&clock) as Arc<dyn Clock>,
        async move {
            let _ = stop_rx.await;
        },
    ));
    let first = wait_for("the daemon to answer", || status(&paths)).await;
    assert_eq!(first.tasks_scheduled, 1);
    assert_eq!(first.next.unwrap().due, ts("2026-03-01T11:00:00Z"));
    let store = Store::open(&paths.db_path).await.unwrap();
    assert_eq!(slots(&store).await, vec![]);

    // The machine slept three hours: the wall clock moved, the monotonic clock did not.
    clock.advance(SignedDuration::from_hours(3));
    // Any turn of the loop looks at the clocks; a status request is one.
    status(&paths).await.unwrap();
    let caught_up = wait_for("the catch-up of the three slots", || async {
        let s = slots(&store).await;
        (s.len() == 3).then_some(s)
    })
    .await;
    assert_eq!(
        caught_up,
        vec![
            (ts("2026-03-01T11:00:00Z"), SlotOutcome::Missed),
            (ts("2026-03-01T12:00:00Z"), SlotOutcome::Missed),
            (ts("2026-03-01T13:00:00Z"), SlotOutcome::Ran),
        ]
    );
    let after = status(&paths).await.unwrap();
    assert_eq!(after.next.unwrap().due, ts("2026-03-01T14:00:00Z"));

    // The clock is set back two hours: slots already dealt with do not come again.
    clock.advance(SignedDuration::from_hours(-2));
    status(&paths).await.unwrap();
    let back = status(&paths).await.unwrap();
    assert_eq!(back.next.unwrap().due, ts("2026-03-01T14:00:00Z"));
    assert_eq!(slots(&store).await.len(), 3);

    stop_tx.send(()).unwrap();
    daemon.await.unwrap().unwrap();
    store.close().await;
}

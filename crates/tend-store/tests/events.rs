// Tests may unwrap and panic (TEAM.md); clippy only knows that inside #[test] functions.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{at, task, temp_store};
use pretty_assertions::assert_eq;
use serde_json::json;
use tend_store::{Event, NewRun, RunId, Store, StoreError, Trigger};

#[tokio::test]
async fn events_are_numbered_from_one_and_read_back_in_order() {
    let t = temp_store().await;
    let task = task(&t.store, "triage").await;
    let run = t
        .store
        .create_run(&NewRun {
            task: task.id,
            trigger: Trigger::Manual,
            created_at: at(0),
        })
        .await
        .unwrap();
    let other = t
        .store
        .create_run(&NewRun {
            task: task.id,
            trigger: Trigger::Manual,
            created_at: at(0),
        })
        .await
        .unwrap();
    let payloads = [
        json!({"role": "user", "text": "go"}),
        json!(["a", 1]),
        json!(null),
    ];
    let mut seqs = Vec::new();
    for (minute, payload) in (1..).zip(&payloads) {
        seqs.push(
            t.store
                .append_event(&run.id, "message", payload, at(minute))
                .await
                .unwrap(),
        );
    }
    assert_eq!(seqs, vec![1, 2, 3]);
    // Each run counts on its own.
    assert_eq!(
        t.store
            .append_event(&other.id, "start", &json!({}), at(1))
            .await
            .unwrap(),
        1
    );

    let expected: Vec<Event> = (1..)
        .zip(&payloads)
        .map(|(seq, payload)| Event {
            run: run.id.clone(),
            seq,
            at: at(i64::try_from(seq).unwrap()),
            kind: "message".into(),
            payload: payload.clone(),
        })
        .collect();
    assert_eq!(t.store.events(&run.id, 1).await.unwrap(), expected);
    assert_eq!(
        t.store.events(&run.id, 3).await.unwrap(),
        expected[2..].to_vec()
    );
    assert_eq!(t.store.events(&run.id, 4).await.unwrap(), vec![]);
}

#[tokio::test]
async fn events_of_an_unknown_run_are_refused() {
    let t = temp_store().await;
    let missing = RunId::parse("nope").unwrap();
    let err = t
        .store
        .append_event(&missing, "x", &json!(1), at(0))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::RunNotFound(_)), "{err}");
}

/// Appenders on two stores of one file, all at once: sequence numbers stay 1..=N, no gaps, no
/// duplicates, and each appender's own events keep their order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_keep_seq_contiguous() {
    let t = temp_store().await;
    let other = Store::open(&t.path).await.unwrap();
    let task = task(&t.store, "triage").await;
    let run = t
        .store
        .create_run(&NewRun {
            task: task.id,
            trigger: Trigger::Loop,
            created_at: at(0),
        })
        .await
        .unwrap();
    const WRITERS: u64 = 8;
    const EACH: u64 = 25;
    let mut handles = Vec::new();
    for writer in 0..WRITERS {
        let store = if writer % 2 == 0 {
            t.store.clone()
        } else {
            other.clone()
        };
        let run = run.id.clone();
        handles.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for n in 0..EACH {
                let payload = json!({ "writer": writer, "n": n });
                seqs.push(
                    store
                        .append_event(&run, "tick", &payload, at(1))
                        .await
                        .unwrap(),
                );
            }
            seqs
        }));
    }
    for handle in handles {
        let seqs = handle.await.unwrap();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    }
    let events = other.events(&run.id, 1).await.unwrap();
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=WRITERS * EACH).collect::<Vec<_>>());
    for writer in 0..WRITERS {
        let ns: Vec<u64> = events
            .iter()
            .filter(|e| e.payload["writer"] == json!(writer))
            .map(|e| e.payload["n"].as_u64().unwrap())
            .collect();
        assert_eq!(ns, (0..EACH).collect::<Vec<_>>(), "writer {writer}");
    }
    other.close().await;
}

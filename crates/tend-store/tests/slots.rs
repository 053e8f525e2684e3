// Tests may unwrap and panic (TEAM.md); clippy only knows that inside #[test] functions.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{at, slot, task, temp_store};
use jiff::SignedDuration;
use pretty_assertions::assert_eq;
use tend_store::{
    Claim, ClaimWithRun, RunState, SlotId, SlotOutcome, SlotRecord, Store, StoreError, TaskId,
    Trigger,
};

#[tokio::test]
async fn second_claim_of_a_slot_is_refused() {
    let t = temp_store().await;
    let task = task(&t.store, "triage").await;
    let first = t
        .store
        .claim_slot(&slot(task.id, 60, SlotOutcome::Ran))
        .await
        .unwrap();
    let Claim::Claimed(id) = first else {
        panic!("first claim: {first:?}")
    };
    // Different fire time, outcome and claimer: still the same slot.
    let mut again = slot(task.id, 60, SlotOutcome::Skipped);
    again.claimed_at = at(61);
    assert_eq!(
        t.store.claim_slot(&again).await.unwrap(),
        Claim::AlreadyClaimed
    );
    assert_eq!(
        t.store.slots_for_task(task.id, 10).await.unwrap(),
        vec![SlotRecord {
            id,
            task: task.id,
            due: at(60),
            fire_at: at(60) + SignedDuration::from_secs(7),
            claimed_at: at(60) + SignedDuration::from_secs(8),
            outcome: SlotOutcome::Ran,
            reason: None,
            lateness: Some(SignedDuration::from_secs(1)),
            run: None,
        }]
    );
}

#[tokio::test]
async fn claims_advance_the_cursor_but_never_back() {
    let t = temp_store().await;
    let task = task(&t.store, "triage").await;
    assert_eq!(task.last_slot_due, None);
    t.store
        .claim_slot(&slot(task.id, 120, SlotOutcome::Ran))
        .await
        .unwrap();
    let mut missed = slot(task.id, 60, SlotOutcome::Missed);
    missed.reason = Some("machine asleep".into());
    missed.lateness = None;
    t.store.claim_slot(&missed).await.unwrap();
    let state = t.store.task(task.id).await.unwrap().unwrap();
    assert_eq!(state.last_slot_due, Some(at(120)));

    let state = t
        .store
        .advance_last_slot_due(task.id, at(90))
        .await
        .unwrap();
    assert_eq!(state.last_slot_due, Some(at(120)));
    let state = t
        .store
        .advance_last_slot_due(task.id, at(180))
        .await
        .unwrap();
    assert_eq!(state.last_slot_due, Some(at(180)));

    let outcomes: Vec<_> = t
        .store
        .slots_for_task(task.id, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.due, s.outcome, s.reason, s.lateness))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            (
                at(120),
                SlotOutcome::Ran,
                None,
                Some(SignedDuration::from_secs(1))
            ),
            (
                at(60),
                SlotOutcome::Missed,
                Some("machine asleep".into()),
                None
            ),
        ]
    );
}

#[tokio::test]
async fn claim_for_an_unknown_task_fails() {
    let t = temp_store().await;
    let err = t
        .store
        .claim_slot(&slot(TaskId::new(42), 0, SlotOutcome::Ran))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::TaskNotFound(id) if id == TaskId::new(42)),
        "{err}"
    );
}

#[tokio::test]
async fn claim_with_run_creates_both_or_nothing() {
    let t = temp_store().await;
    let task = task(&t.store, "triage").await;
    let new = slot(task.id, 60, SlotOutcome::Ran);
    let ClaimWithRun::Claimed { slot: slot_id, run } = t
        .store
        .claim_slot_with_run(&new, Trigger::Schedule)
        .await
        .unwrap()
    else {
        panic!("not claimed")
    };
    assert_eq!(
        (
            run.task,
            run.slot,
            run.trigger,
            run.state,
            run.attempt,
            run.created_at
        ),
        (
            task.id,
            Some(slot_id),
            Trigger::Schedule,
            RunState::Queued,
            1,
            new.claimed_at
        )
    );
    assert_eq!(t.store.run(&run.id).await.unwrap(), Some(*run.clone()));
    let stored = t.store.slot(slot_id).await.unwrap().unwrap();
    assert_eq!(stored.run, Some(run.id.clone()));

    assert_eq!(
        t.store
            .claim_slot_with_run(&new, Trigger::OsTimer)
            .await
            .unwrap(),
        ClaimWithRun::AlreadyClaimed
    );
    assert_eq!(
        t.store.claim_slot(&new).await.unwrap(),
        Claim::AlreadyClaimed
    );
    let runs = t.store.runs(&Default::default()).await.unwrap();
    assert_eq!(runs, vec![*run]);
}

#[tokio::test]
async fn queued_slot_outcome_can_change_later() {
    let t = temp_store().await;
    let task = task(&t.store, "triage").await;
    let Claim::Claimed(id) = t
        .store
        .claim_slot(&slot(task.id, 0, SlotOutcome::Queued))
        .await
        .unwrap()
    else {
        panic!()
    };
    let updated = t
        .store
        .set_slot_outcome(id, SlotOutcome::Skipped, Some("replaced"))
        .await
        .unwrap();
    assert_eq!(
        (updated.outcome, updated.reason.as_deref()),
        (SlotOutcome::Skipped, Some("replaced"))
    );
    let err = t
        .store
        .set_slot_outcome(SlotId::new(999), SlotOutcome::Ran, None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::SlotNotFound(_)), "{err}");
}

#[tokio::test]
async fn recent_slots_span_tasks_newest_claim_first() {
    let t = temp_store().await;
    let a = task(&t.store, "a").await;
    let b = task(&t.store, "b").await;
    for (task, due) in [(a.id, 10), (b.id, 30), (a.id, 20), (b.id, 5)] {
        t.store
            .claim_slot(&slot(task, due, SlotOutcome::Ran))
            .await
            .unwrap();
    }
    let recent: Vec<_> = t
        .store
        .recent_slots(3)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.task, s.due))
        .collect();
    // In claim order, not due order.
    assert_eq!(recent, vec![(b.id, at(5)), (a.id, at(20)), (b.id, at(30))]);
    let for_b: Vec<_> = t
        .store
        .slots_for_task(b.id, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.due)
        .collect();
    assert_eq!(for_b, vec![at(30), at(5)]);
}

/// 16 claimers on two stores (two connections sets, as a daemon and an OS timer's `tend run`
/// would have) race for each of 25 slots; every slot is won exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_from_two_stores_win_exactly_once() {
    let t = temp_store().await;
    let other = Store::open(&t.path).await.unwrap();
    let task = task(&t.store, "triage").await;
    const SLOTS: i64 = 25;
    let mut handles = Vec::new();
    for claimer in 0..16 {
        let store = if claimer % 2 == 0 {
            t.store.clone()
        } else {
            other.clone()
        };
        let task_id = task.id;
        handles.push(tokio::spawn(async move {
            let mut won = Vec::new();
            for due in 0..SLOTS {
                // Half of the claimers also create the run, as `claim_slot_with_run` does.
                let new = slot(task_id, due, SlotOutcome::Ran);
                let claimed = if claimer % 4 < 2 {
                    matches!(store.claim_slot(&new).await.unwrap(), Claim::Claimed(_))
                } else {
                    matches!(
                        store
                            .claim_slot_with_run(&new, Trigger::Schedule)
                            .await
                            .unwrap(),
                        ClaimWithRun::Claimed { .. }
                    )
                };
                if claimed {
                    won.push(due);
                }
            }
            won
        }));
    }
    let mut wins = Vec::new();
    for handle in handles {
        wins.extend(handle.await.unwrap());
    }
    wins.sort_unstable();
    assert_eq!(wins, (0..SLOTS).collect::<Vec<_>>());
    let stored = other.slots_for_task(task.id, 100).await.unwrap();
    assert_eq!(stored.len(), usize::try_from(SLOTS).unwrap());
    let state = other.task(task.id).await.unwrap().unwrap();
    assert_eq!(state.last_slot_due, Some(at(SLOTS - 1)));
    // Every run belongs to a slot that points back at it.
    for run in other.runs(&Default::default()).await.unwrap() {
        let slot = other.slot(run.slot.unwrap()).await.unwrap().unwrap();
        assert_eq!(slot.run, Some(run.id));
    }
    other.close().await;
}

/// A statement that makes SQLite roll the whole transaction back by itself (a full disk or an
/// I/O error does; here a trigger's `RAISE(ROLLBACK)`) fails that claim only: the writer
/// connection is not left counting a transaction that no longer exists, which made every later
/// write fail with "begin_with at non-zero transaction depth" (found by the fault suite's full
/// disk).
#[tokio::test]
async fn a_transaction_sqlite_rolled_back_by_itself_does_not_block_later_writes() {
    use sqlx::Executor as _;
    let t = temp_store().await;
    let task = task(&t.store, "triage").await;
    let mut raw = common::raw(&t.path).await;
    raw.execute(
        "CREATE TRIGGER fail_claims BEFORE INSERT ON slots WHEN NEW.reason = 'roll back' \
         BEGIN SELECT RAISE(ROLLBACK, 'the disk is full'); END",
    )
    .await
    .unwrap();
    let mut failing = slot(task.id, 60, SlotOutcome::Ran);
    failing.reason = Some("roll back".to_owned());
    for _ in 0..2 {
        let err = t
            .store
            .claim_slot_with_run(&failing, Trigger::Schedule)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("the disk is full"), "{err}");
    }
    for minute in [61, 62] {
        let claim = t
            .store
            .claim_slot_with_run(&slot(task.id, minute, SlotOutcome::Ran), Trigger::Schedule)
            .await
            .unwrap();
        assert!(matches!(claim, ClaimWithRun::Claimed { .. }), "{claim:?}");
    }
    assert_eq!(
        t.store
            .claim_slot(&slot(task.id, 63, SlotOutcome::Skipped))
            .await
            .unwrap(),
        Claim::Claimed(SlotId::new(2 + 1))
    );
}

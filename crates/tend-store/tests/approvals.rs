// Tests may unwrap and panic (TEAM.md); clippy only knows that inside #[test] functions.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{at, task, temp_store};
use pretty_assertions::assert_eq;
use serde_json::json;
use tend_store::{
    Approval, ApprovalId, ApprovalState, Decision, NewApproval, NewRun, Run, RunId, RunState,
    Store, StoreError, Trigger,
};

async fn running_run(store: &Store) -> Run {
    let task = task(store, "triage").await;
    let run = store
        .create_run(&NewRun {
            task: task.id,
            trigger: Trigger::Schedule,
            created_at: at(0),
        })
        .await
        .unwrap();
    store
        .set_run_state(&run.id, RunState::Preparing, at(1))
        .await
        .unwrap();
    store
        .set_run_state(&run.id, RunState::Running, at(2))
        .await
        .unwrap()
}

fn request(run: &RunId, minute: i64) -> NewApproval {
    NewApproval {
        run: run.clone(),
        tool: "bash".into(),
        arguments: json!({ "command": "git push origin tend/triage" }),
        rule: "bash(git push *)".into(),
        created_at: at(minute),
        expires_at: at(minute + 24 * 60),
    }
}

#[tokio::test]
async fn park_run_records_the_request_and_parks_the_run() {
    let t = temp_store().await;
    let run = running_run(&t.store).await;
    let (parked, approval) = t.store.park_run(&request(&run.id, 3)).await.unwrap();
    assert_eq!(parked.state, RunState::WaitingApproval);
    assert_eq!(parked.owner, None);
    assert_eq!(
        approval,
        Approval {
            id: approval.id,
            run: run.id.clone(),
            tool: "bash".into(),
            arguments: json!({ "command": "git push origin tend/triage" }),
            rule: "bash(git push *)".into(),
            state: ApprovalState::Pending,
            created_at: at(3),
            expires_at: at(3 + 24 * 60),
            decided_at: None,
            decided_by: None,
            reason: None,
            always: false,
        }
    );
    assert_eq!(
        t.store.pending_approvals().await.unwrap(),
        vec![approval.clone()]
    );
    assert_eq!(
        t.store.approvals_for_run(&run.id).await.unwrap(),
        vec![approval]
    );

    // A parked run cannot be parked again, and nothing is recorded when parking fails.
    let err = t.store.park_run(&request(&run.id, 4)).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::IllegalTransition {
                from: RunState::WaitingApproval,
                to: RunState::WaitingApproval,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(t.store.pending_approvals().await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_approval_is_decided_only_once() {
    let t = temp_store().await;
    let run = running_run(&t.store).await;
    let pending = t.store.create_approval(&request(&run.id, 3)).await.unwrap();
    let approved = t
        .store
        .decide_approval(
            pending.id,
            Decision::ApproveAlways,
            "alice",
            Some("fine"),
            at(10),
        )
        .await
        .unwrap();
    let expected = Approval {
        state: ApprovalState::Approved,
        decided_at: Some(at(10)),
        decided_by: Some("alice".into()),
        reason: Some("fine".into()),
        always: true,
        ..pending.clone()
    };
    assert_eq!(approved, expected);

    for decision in [Decision::Deny, Decision::Approve, Decision::ApproveAlways] {
        let err = t
            .store
            .decide_approval(pending.id, decision, "bob", None, at(11))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::ApprovalClosed {
                    state: ApprovalState::Approved,
                    ..
                }
            ),
            "{err}"
        );
    }
    assert_eq!(t.store.approval(pending.id).await.unwrap(), Some(expected));
    assert_eq!(t.store.pending_approvals().await.unwrap(), vec![]);
}

#[tokio::test]
async fn concurrent_deciders_get_one_winner() {
    let t = temp_store().await;
    let other = Store::open(&t.path).await.unwrap();
    let run = running_run(&t.store).await;
    let pending = t.store.create_approval(&request(&run.id, 3)).await.unwrap();
    let mut handles = Vec::new();
    for n in 0..8 {
        let store = if n % 2 == 0 {
            t.store.clone()
        } else {
            other.clone()
        };
        let decision = if n % 3 == 0 {
            Decision::Deny
        } else {
            Decision::Approve
        };
        handles.push(tokio::spawn(async move {
            store
                .decide_approval(pending.id, decision, &format!("user-{n}"), None, at(5))
                .await
        }));
    }
    let mut winners = Vec::new();
    for handle in handles {
        match handle.await.unwrap() {
            Ok(decided) => winners.push(decided),
            Err(StoreError::ApprovalClosed { .. }) => {}
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(winners.len(), 1);
    assert_eq!(
        t.store.approval(pending.id).await.unwrap(),
        Some(winners.remove(0))
    );
    other.close().await;
}

#[tokio::test]
async fn denial_keeps_its_reason() {
    let t = temp_store().await;
    let run = running_run(&t.store).await;
    let pending = t.store.create_approval(&request(&run.id, 3)).await.unwrap();
    let denied = t
        .store
        .decide_approval(
            pending.id,
            Decision::Deny,
            "alice",
            Some("not on Fridays"),
            at(4),
        )
        .await
        .unwrap();
    assert_eq!(
        (denied.state, denied.reason.as_deref(), denied.always),
        (ApprovalState::Denied, Some("not on Fridays"), false)
    );
}

#[tokio::test]
async fn expiry_closes_pending_requests() {
    let t = temp_store().await;
    let run = running_run(&t.store).await;
    let early = t.store.create_approval(&request(&run.id, 0)).await.unwrap();
    let late = t
        .store
        .create_approval(&request(&run.id, 60))
        .await
        .unwrap();
    let decided = t.store.create_approval(&request(&run.id, 0)).await.unwrap();
    t.store
        .decide_approval(decided.id, Decision::Approve, "alice", None, at(1))
        .await
        .unwrap();

    // Nothing is due yet.
    assert_eq!(
        t.store.expire_approvals(at(24 * 60 - 1)).await.unwrap(),
        vec![]
    );
    let expired = t.store.expire_approvals(at(24 * 60)).await.unwrap();
    assert_eq!(
        expired,
        vec![Approval {
            state: ApprovalState::Expired,
            decided_at: Some(at(24 * 60)),
            ..early.clone()
        }]
    );
    let err = t
        .store
        .decide_approval(early.id, Decision::Approve, "alice", None, at(24 * 60 + 1))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::ApprovalClosed {
                state: ApprovalState::Expired,
                ..
            }
        ),
        "{err}"
    );

    // Deciding after expires_at but before the sweep: refused, and recorded as expired.
    let err = t
        .store
        .decide_approval(late.id, Decision::Approve, "alice", None, at(60 + 24 * 60))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::ApprovalClosed {
                state: ApprovalState::Expired,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        t.store
            .approval(late.id)
            .await
            .unwrap()
            .map(|a| (a.state, a.decided_at)),
        Some((ApprovalState::Expired, Some(at(60 + 24 * 60))))
    );
    assert_eq!(t.store.pending_approvals().await.unwrap(), vec![]);
}

#[tokio::test]
async fn unknown_approvals_and_runs_are_reported() {
    let t = temp_store().await;
    let err = t
        .store
        .decide_approval(ApprovalId::new(5), Decision::Approve, "alice", None, at(0))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::ApprovalNotFound(id) if id.get() == 5),
        "{err}"
    );
    let missing = RunId::parse("missing").unwrap();
    let err = t
        .store
        .create_approval(&request(&missing, 0))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::RunNotFound(_)), "{err}");
    let err = t.store.park_run(&request(&missing, 0)).await.unwrap_err();
    assert!(matches!(err, StoreError::RunNotFound(_)), "{err}");
}

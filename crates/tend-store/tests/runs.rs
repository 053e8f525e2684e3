// Tests may unwrap and panic (TEAM.md); clippy only knows that inside #[test] functions.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::PathBuf;

use common::{at, task, temp_store};
use pretty_assertions::assert_eq;
use tend_store::{
    NewRun, ReportStatus, Run, RunEnd, RunFilter, RunId, RunOwner, RunState, Store, StoreError,
    TaskId, Trigger, Usage,
};

use RunState::*;

/// The state machine of DESIGN.md, written out pair by pair.
const LEGAL: &[(RunState, RunState)] = &[
    (Queued, Preparing),
    (Queued, Cancelled),
    (Preparing, Running),
    (Preparing, Failed),
    (Preparing, TimedOut),
    (Preparing, Cancelled),
    (Preparing, Interrupted),
    (Running, WaitingApproval),
    (Running, Succeeded),
    (Running, Failed),
    (Running, TimedOut),
    (Running, Cancelled),
    (Running, Interrupted),
    (WaitingApproval, Running),
    (WaitingApproval, Failed),
    (WaitingApproval, Cancelled),
    (WaitingApproval, Expired),
];

#[test]
fn can_move_to_allows_exactly_the_designed_transitions() {
    let mut allowed = Vec::new();
    for from in RunState::ALL {
        for to in RunState::ALL {
            if from.can_move_to(*to) {
                allowed.push((*from, *to));
            }
        }
    }
    assert_eq!(allowed, LEGAL.to_vec());
}

#[test]
fn terminal_states_are_the_ones_without_exits() {
    let terminal: Vec<_> = RunState::ALL
        .iter()
        .filter(|s| s.is_terminal())
        .copied()
        .collect();
    assert_eq!(
        terminal,
        vec![Succeeded, Failed, TimedOut, Cancelled, Interrupted, Expired]
    );
    let without_exits: Vec<_> = RunState::ALL
        .iter()
        .filter(|from| !RunState::ALL.iter().any(|to| from.can_move_to(*to)))
        .copied()
        .collect();
    assert_eq!(without_exits, terminal);
    let active: Vec<_> = RunState::ALL
        .iter()
        .filter(|s| !s.is_terminal())
        .copied()
        .collect();
    assert_eq!(active, RunState::ACTIVE.to_vec());
}

async fn new_run(store: &Store, task: TaskId, minute: i64) -> Run {
    store
        .create_run(&NewRun {
            task,
            trigger: Trigger::Manual,
            created_at: at(minute),
        })
        .await
        .unwrap()
}

/// Drives a fresh run along a path of legal moves, to reach `state`.
async fn run_in(store: &Store, task: TaskId, state: RunState) -> Run {
    let path: &[RunState] = match state {
        Queued => &[],
        Preparing => &[Preparing],
        Running => &[Preparing, Running],
        WaitingApproval => &[Preparing, Running, WaitingApproval],
        Succeeded => &[Preparing, Running, Succeeded],
        Failed => &[Preparing, Failed],
        TimedOut => &[Preparing, Running, TimedOut],
        Cancelled => &[Cancelled],
        Interrupted => &[Preparing, Interrupted],
        Expired => &[Preparing, Running, WaitingApproval, Expired],
    };
    let mut run = new_run(store, task, 0).await;
    for (minute, to) in (1..).zip(path) {
        run = store.set_run_state(&run.id, *to, at(minute)).await.unwrap();
    }
    assert_eq!(run.state, state);
    run
}

#[tokio::test]
async fn store_enforces_every_transition_of_the_state_machine() {
    let t = temp_store().await;
    let task = task(&t.store, "triage").await;
    for from in RunState::ALL {
        for to in RunState::ALL {
            let run = run_in(&t.store, task.id, *from).await;
            let result = t.store.set_run_state(&run.id, *to, at(100)).await;
            if from.can_move_to(*to) {
                let moved = result.unwrap();
                assert_eq!(moved.state, *to);
                assert_eq!(
                    moved.ended_at,
                    to.is_terminal().then(|| at(100)),
                    "{from} -> {to}"
                );
            } else {
                let err = result.unwrap_err();
                assert!(
                    matches!(
                        err,
                        StoreError::IllegalTransition { run: ref r, from: f, to: t2 }
                            if *r == run.id && f == *from && t2 == *to
                    ),
                    "{from} -> {to}: {err}"
                );
                assert_eq!(t.store.run(&run.id).await.unwrap(), Some(run));
            }
        }
    }
}

#[tokio::test]
async fn a_run_goes_from_queued_to_succeeded_with_its_report() {
    let t = temp_store().await;
    let task = task(&t.store, "triage").await;
    let run = new_run(&t.store, task.id, 0).await;
    assert_eq!(
        run,
        Run {
            id: run.id.clone(),
            task: task.id,
            slot: None,
            trigger: Trigger::Manual,
            state: Queued,
            status: None,
            attempt: 1,
            retry_of: None,
            created_at: at(0),
            started_at: None,
            ended_at: None,
            summary: None,
            usage: Usage::default(),
            worktree: None,
            branch: None,
            owner: None,
            proposal: None,
        }
    );
    let owner = RunOwner {
        pid: 4242,
        tag: "boot-1/started-7".into(),
    };
    t.store
        .set_run_state(&run.id, Preparing, at(1))
        .await
        .unwrap();
    t.store.set_run_owner(&run.id, Some(&owner)).await.unwrap();
    let branch = format!("tend/triage/{}", run.id);
    t.store
        .set_run_workspace(&run.id, &PathBuf::from("/wt/1"), Some(&branch))
        .await
        .unwrap();
    t.store
        .set_run_state(&run.id, Running, at(2))
        .await
        .unwrap();
    let usage = Usage {
        cost_micro_usd: 1_250,
        tokens_in: 3_000,
        tokens_out: 400,
    };
    t.store.set_run_usage(&run.id, &usage).await.unwrap();
    // Leaving and re-entering running does not move started_at.
    t.store
        .set_run_state(&run.id, WaitingApproval, at(3))
        .await
        .unwrap();
    t.store
        .set_run_state(&run.id, Running, at(4))
        .await
        .unwrap();
    let end = RunEnd {
        state: Succeeded,
        status: Some(ReportStatus::Changed),
        summary: Some("fixed the flaky test".into()),
        usage: Usage {
            cost_micro_usd: 1_500_000,
            tokens_in: 50_000,
            tokens_out: 2_000,
        },
    };
    let done = t.store.finish_run(&run.id, &end, at(5)).await.unwrap();
    let expected = Run {
        state: Succeeded,
        status: Some(ReportStatus::Changed),
        started_at: Some(at(1)),
        ended_at: Some(at(5)),
        summary: Some("fixed the flaky test".into()),
        usage: end.usage,
        worktree: Some(PathBuf::from("/wt/1")),
        branch: Some(branch),
        owner: Some(owner),
        ..run.clone()
    };
    assert_eq!(done, expected);
    assert_eq!(t.store.run(&run.id).await.unwrap(), Some(expected.clone()));
    // The proposal's fate is recorded after the run ended.
    let applied = t
        .store
        .set_proposal(&run.id, tend_store::ProposalState::Applied)
        .await
        .unwrap();
    assert_eq!(
        applied,
        Run {
            proposal: Some(tend_store::ProposalState::Applied),
            ..expected
        }
    );

    let err = t.store.finish_run(&run.id, &end, at(6)).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::IllegalTransition {
                from: Succeeded,
                to: Succeeded,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn finish_run_needs_a_terminal_state() {
    let t = temp_store().await;
    let task = task(&t.store, "triage").await;
    let run = run_in(&t.store, task.id, Running).await;
    let end = RunEnd {
        state: WaitingApproval,
        status: None,
        summary: None,
        usage: Usage::default(),
    };
    let err = t.store.finish_run(&run.id, &end, at(9)).await.unwrap_err();
    assert!(
        matches!(err, StoreError::NotTerminal(WaitingApproval)),
        "{err}"
    );
}

#[tokio::test]
async fn unknown_runs_and_tasks_are_reported() {
    let t = temp_store().await;
    let missing = RunId::parse("20260101-000000-zzzzzz").unwrap();
    let err = t
        .store
        .set_run_state(&missing, Preparing, at(0))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::RunNotFound(ref id) if *id == missing),
        "{err}"
    );
    assert_eq!(t.store.run(&missing).await.unwrap(), None);
    let err = t
        .store
        .create_run(&NewRun {
            task: TaskId::new(7),
            trigger: Trigger::Loop,
            created_at: at(0),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::TaskNotFound(_)), "{err}");
}

#[tokio::test]
async fn runs_filter_by_task_and_state_newest_first() {
    let t = temp_store().await;
    let a = task(&t.store, "a").await;
    let b = task(&t.store, "b").await;
    let a1 = new_run(&t.store, a.id, 1).await;
    let b2 = new_run(&t.store, b.id, 2).await;
    let a3 = new_run(&t.store, a.id, 3).await;
    t.store
        .set_run_state(&a3.id, Cancelled, at(4))
        .await
        .unwrap();

    let ids = |runs: Vec<Run>| runs.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let all = t.store.runs(&RunFilter::default()).await.unwrap();
    assert_eq!(ids(all), vec![a3.id.clone(), b2.id.clone(), a1.id.clone()]);
    let of_a = RunFilter {
        task: Some(a.id),
        ..Default::default()
    };
    assert_eq!(
        ids(t.store.runs(&of_a).await.unwrap()),
        vec![a3.id.clone(), a1.id.clone()]
    );
    let active = RunFilter {
        states: RunState::ACTIVE.to_vec(),
        ..Default::default()
    };
    assert_eq!(
        ids(t.store.runs(&active).await.unwrap()),
        vec![b2.id.clone(), a1.id.clone()]
    );
    let active_a_one = RunFilter {
        task: Some(a.id),
        states: vec![Queued],
        limit: Some(1),
    };
    assert_eq!(ids(t.store.runs(&active_a_one).await.unwrap()), vec![a1.id]);
    let limited = RunFilter {
        limit: Some(2),
        ..Default::default()
    };
    assert_eq!(
        ids(t.store.runs(&limited).await.unwrap()),
        vec![a3.id, b2.id]
    );
}

#[tokio::test]
async fn orphans_are_interrupted_and_retried_once() {
    let t = temp_store().await;
    let task = task(&t.store, "triage").await;
    let alive = RunOwner {
        pid: 1,
        tag: "alive".into(),
    };
    let dead = RunOwner {
        pid: 2,
        tag: "dead".into(),
    };

    let queued = run_in(&t.store, task.id, Queued).await;
    let preparing_dead = run_in(&t.store, task.id, Preparing).await;
    t.store
        .set_run_owner(&preparing_dead.id, Some(&dead))
        .await
        .unwrap();
    let running_alive = run_in(&t.store, task.id, Running).await;
    t.store
        .set_run_owner(&running_alive.id, Some(&alive))
        .await
        .unwrap();
    let running_unowned = run_in(&t.store, task.id, Running).await;
    let parked = run_in(&t.store, task.id, WaitingApproval).await;
    let done = run_in(&t.store, task.id, Succeeded).await;

    let interrupted = t
        .store
        .interrupt_orphans(at(50), |owner| owner.tag == "alive")
        .await
        .unwrap();
    let mut got: Vec<_> = interrupted
        .iter()
        .map(|r| (r.id.clone(), r.state, r.ended_at))
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    let mut want = vec![
        (preparing_dead.id.clone(), Interrupted, Some(at(50))),
        (running_unowned.id.clone(), Interrupted, Some(at(50))),
    ];
    want.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got, want);
    for (run, state) in [
        (&queued, Queued),
        (&running_alive, Running),
        (&parked, WaitingApproval),
        (&done, Succeeded),
    ] {
        assert_eq!(t.store.run(&run.id).await.unwrap().unwrap().state, state);
    }

    let retry = t.store.retry_run(&preparing_dead.id, at(51)).await.unwrap();
    assert_eq!(
        (
            retry.task,
            retry.slot,
            retry.trigger,
            retry.state,
            retry.attempt,
            retry.retry_of.clone()
        ),
        (
            task.id,
            None,
            Trigger::Retry,
            Queued,
            2,
            Some(preparing_dead.id.clone())
        )
    );
    let err = t
        .store
        .retry_run(&preparing_dead.id, at(52))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::AlreadyRetried { retry: ref r, .. } if *r == retry.id),
        "{err}"
    );
    let err = t.store.retry_run(&done.id, at(52)).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::NotRetryable {
                state: Succeeded,
                ..
            }
        ),
        "{err}"
    );
}

// Tests may unwrap and panic (TEAM.md); clippy only knows that inside #[test] functions.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};

use common::{at, temp_store};
use pretty_assertions::assert_eq;
use tend_store::{Pause, Paused, Project, StoreError, TaskId, TaskKey, TaskScope, TaskState};

#[tokio::test]
async fn ensure_task_creates_once_and_keeps_first_seen() {
    let t = temp_store().await;
    let key = TaskKey::project("/home/me/repo", "triage");
    let created = t.store.ensure_task(&key, at(0)).await.unwrap();
    assert_eq!(
        created,
        TaskState {
            id: created.id,
            key: key.clone(),
            first_seen_at: at(0),
            paused: None,
            last_slot_due: None,
            done_at: None,
            removed_at: None,
        }
    );
    assert_eq!(t.store.ensure_task(&key, at(99)).await.unwrap(), created);
    assert_eq!(
        t.store.task_state(&key).await.unwrap(),
        Some(created.clone())
    );
    assert_eq!(t.store.task(created.id).await.unwrap(), Some(created));
}

#[tokio::test]
async fn user_and_project_tasks_of_one_name_are_distinct() {
    let t = temp_store().await;
    let user = t
        .store
        .ensure_task(&TaskKey::user("triage"), at(0))
        .await
        .unwrap();
    let a = t
        .store
        .ensure_task(&TaskKey::project("/a", "triage"), at(1))
        .await
        .unwrap();
    let b = t
        .store
        .ensure_task(&TaskKey::project("/b", "triage"), at(2))
        .await
        .unwrap();
    let keys: Vec<TaskKey> = t
        .store
        .task_states()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.key)
        .collect();
    assert_eq!(keys, vec![user.key, a.key, b.key]);
    assert_eq!(
        t.store
            .task_state(&TaskKey::project("/c", "triage"))
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn an_empty_project_root_is_refused() {
    let t = temp_store().await;
    let err = t
        .store
        .ensure_task(
            &TaskKey {
                scope: TaskScope::Project(PathBuf::new()),
                name: "x".into(),
            },
            at(0),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::EmptyProjectRoot), "{err}");
}

#[tokio::test]
async fn pause_and_resume() {
    let t = temp_store().await;
    let task = t
        .store
        .ensure_task(&TaskKey::user("triage"), at(0))
        .await
        .unwrap();
    let pause = Paused {
        at: at(5),
        by: Some("alice".into()),
        reason: Some("release week".into()),
    };
    let paused = t
        .store
        .set_paused(task.id, &Pause::Paused(pause.clone()))
        .await
        .unwrap();
    assert_eq!(
        paused,
        TaskState {
            paused: Some(pause),
            ..task.clone()
        }
    );
    let resumed = t.store.set_paused(task.id, &Pause::Active).await.unwrap();
    assert_eq!(resumed, task);
    let err = t
        .store
        .set_paused(TaskId::new(999), &Pause::Active)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::TaskNotFound(_)), "{err}");
}

#[tokio::test]
async fn removed_tasks_keep_their_row_and_come_back() {
    let t = temp_store().await;
    let key = TaskKey::user("triage");
    let task = t.store.ensure_task(&key, at(0)).await.unwrap();
    let removed = t.store.mark_task_removed(task.id, at(10)).await.unwrap();
    assert_eq!(removed.removed_at, Some(at(10)));
    // The first removal time stays.
    let again = t.store.mark_task_removed(task.id, at(20)).await.unwrap();
    assert_eq!(again.removed_at, Some(at(10)));
    assert_eq!(t.store.task_states().await.unwrap(), vec![again]);

    let back = t.store.ensure_task(&key, at(30)).await.unwrap();
    assert_eq!(back, task);
}

#[tokio::test]
async fn at_tasks_are_marked_done() {
    let t = temp_store().await;
    let task = t
        .store
        .ensure_task(&TaskKey::user("once"), at(0))
        .await
        .unwrap();
    let done = t.store.mark_task_done(task.id, at(3)).await.unwrap();
    assert_eq!(
        done,
        TaskState {
            done_at: Some(at(3)),
            ..task
        }
    );
}

#[tokio::test]
async fn projects_register_once() {
    let t = temp_store().await;
    let b = t
        .store
        .register_project(Path::new("/b"), at(1))
        .await
        .unwrap();
    let a = t
        .store
        .register_project(Path::new("/a"), at(2))
        .await
        .unwrap();
    let a_again = t
        .store
        .register_project(Path::new("/a"), at(3))
        .await
        .unwrap();
    assert_eq!(a_again, a);
    assert_eq!(
        a,
        Project {
            id: a.id,
            root: PathBuf::from("/a"),
            registered_at: at(2)
        }
    );
    assert_eq!(t.store.projects().await.unwrap(), vec![a, b]);
}

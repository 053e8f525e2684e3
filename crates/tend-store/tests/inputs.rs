//! Input state: what each input of a task had delivered at its last successful run.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use pretty_assertions::assert_eq;
use serde_json::json;
use tend_store::{InputState, NewRun, StoreError, TaskId, Trigger};

use common::{at, task, temp_store};

#[tokio::test]
async fn saving_replaces_the_whole_set_and_reads_back_in_input_order() {
    let t = temp_store().await;
    let triage = task(&t.store, "triage").await;
    let other = task(&t.store, "other").await;
    let run = t
        .store
        .create_run(&NewRun {
            task: triage.id,
            trigger: Trigger::Manual,
            created_at: at(1),
        })
        .await
        .unwrap();
    assert_eq!(t.store.input_states(triage.id).await.unwrap(), vec![]);
    let first = vec![
        (
            "log /var/log/*.log".to_owned(),
            json!({"files": [{"ino": 7, "offset": 120}]}),
        ),
        ("command gh pr list".to_owned(), json!({"digest": "ab"})),
    ];
    t.store
        .save_input_states(triage.id, Some(&run.id), &first, at(2))
        .await
        .unwrap();
    t.store
        .save_input_states(other.id, None, &[("file TODO.md".into(), json!({}))], at(2))
        .await
        .unwrap();
    assert_eq!(
        t.store.input_states(triage.id).await.unwrap(),
        vec![
            InputState {
                input: "command gh pr list".into(),
                state: json!({"digest": "ab"}),
                run: Some(run.id.clone()),
                updated_at: at(2),
            },
            InputState {
                input: "log /var/log/*.log".into(),
                state: json!({"files": [{"ino": 7, "offset": 120}]}),
                run: Some(run.id.clone()),
                updated_at: at(2),
            },
        ]
    );
    // An input the task no longer names is forgotten; the other task's state is untouched.
    let second = vec![("log /var/log/*.log".to_owned(), json!({"files": []}))];
    t.store
        .save_input_states(triage.id, None, &second, at(3))
        .await
        .unwrap();
    assert_eq!(
        t.store.input_states(triage.id).await.unwrap(),
        vec![InputState {
            input: "log /var/log/*.log".into(),
            state: json!({"files": []}),
            run: None,
            updated_at: at(3),
        }]
    );
    assert_eq!(t.store.input_states(other.id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_unknown_task_is_an_error() {
    let t = temp_store().await;
    let err = t
        .store
        .save_input_states(
            TaskId::new(99),
            None,
            &[("file a".into(), json!({}))],
            at(0),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::TaskNotFound(_)), "{err}");
}

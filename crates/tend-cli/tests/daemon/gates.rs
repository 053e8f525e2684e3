//! The `[when]` gate in the daemon: a slot the gate says no to is recorded `skipped` with the
//! gate's reason, without a run and without a model call; new log lines let the next slot run,
//! and the model reads them.

use std::io::Write as _;

use pretty_assertions::assert_eq;
use serde_json::json;
use tend_mock_model::{MockModel, Script, Step};

use crate::harness::{Home, write_atomically};

#[test]
fn a_gated_slot_is_skipped_with_its_reason_and_no_model_call() {
    let mut home = Home::new();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mock = rt
        .block_on(MockModel::start(Script::new([Step::tool_use(
            "report",
            json!({"status": "nothing-to-do", "summary": "Seen."}),
        )])))
        .unwrap();
    let api_log = home.env.root.join("api.log");
    std::fs::write(&api_log, "").unwrap();
    std::fs::create_dir_all(home.tasks_dir()).unwrap();
    write_atomically(
        &home.tasks_dir().join("watch.md"),
        &format!(
            "+++\nschedule = \"* * * * * *\"\nmodel = \"anthropic:claude-sonnet-4-5\"\nmode = \"read-only\"\n\n[[input]]\nlog = \"{}\"\n\n[when]\ninputs_changed = true\n+++\nTriage the new errors.\n",
            api_log.display()
        ),
    );
    home.extra_env = vec![
        ("ANTHROPIC_BASE_URL".into(), mock.base_url()),
        ("ANTHROPIC_API_KEY".into(), "test-key".into()),
    ];
    home.start(None);
    let skipped = "SELECT COUNT(*) FROM slots s JOIN tasks t ON t.id = s.task_id \
                   WHERE t.name = 'watch' AND s.outcome = 'skipped' AND s.reason = 'gate: no new input'";
    home.wait_for("a slot skipped by the gate", || {
        (home.count_when_ready(skipped)? >= 2).then_some(())
    });
    assert_eq!(home.count("SELECT COUNT(*) FROM runs"), 0);
    assert_eq!(mock.requests().len(), 0);

    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&api_log)
        .unwrap();
    f.write_all(b"ERROR boom\n").unwrap();
    home.wait_for_runs("watch", 1);
    let request = mock.requests()[0].body["messages"][0].to_string();
    assert!(request.contains("ERROR boom"), "{request}");
    // The run took the line: later slots are skipped again, and no other run starts.
    let before = home.count(skipped);
    home.wait_for("another slot skipped by the gate", || {
        (home.count(skipped) > before).then_some(())
    });
    assert_eq!(home.count("SELECT COUNT(*) FROM runs"), 1);
    let ran = home.sql("SELECT s.outcome, r.state FROM slots s JOIN runs r ON r.slot_id = s.id");
    assert_eq!(ran, vec![vec!["ran".to_owned(), "succeeded".to_owned()]]);
    home.stop();
}

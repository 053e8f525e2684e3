//! What the daemon does while it runs: slots on time, status/ps/runs, file changes, overlap,
//! the global limit, pause, one-shots, catch-up, and the CLI commands handed to it.

use std::process::Stdio;
use std::time::{Duration, Instant};

use pretty_assertions::assert_eq;
use serde_json::Value;

use crate::harness::{Home, write_atomically};

fn slots_json(home: &Home) -> Vec<Value> {
    let out = home.tend(&["runs", "--slots", "--json", "-n", "500"]);
    out.ok();
    serde_json::from_str(&out.stdout).unwrap()
}

fn status(home: &Home) -> Value {
    let out = home.tend(&["status", "--json"]);
    out.ok();
    out.json()
}

/// Waits until a slot of `task` has `outcome` and a reason containing `reason`.
fn wait_for_slot(home: &Home, task: &str, outcome: &str, reason: &str) -> Value {
    home.wait_for(&format!("a {outcome} slot of {task} ({reason})"), || {
        slots_json(home).into_iter().find(|s| {
            s["task"] == format!("user/{task}")
                && s["outcome"] == outcome
                && s["reason"].as_str().unwrap_or("").contains(reason)
        })
    })
}

#[test]
fn slots_run_on_time_and_status_ps_runs_show_them() {
    let mut home = Home::new();
    home.task("tick", "* * * * * *", "true", "");
    home.start(None);
    home.wait_for_runs("tick", 3);
    let st = status(&home);
    assert_eq!(
        (
            &st["running"],
            &st["daemon"]["tasks_scheduled"],
            &st["daemon"]["next"]["task"]
        ),
        (
            &Value::Bool(true),
            &Value::from(1),
            &Value::from("user/tick")
        )
    );
    let text = home.tend(&["status"]);
    text.ok();
    assert!(
        text.stdout.starts_with("daemon   running (pid "),
        "{}",
        text.stdout
    );
    home.tend(&["ps", "--json"]).ok();
    let slots = slots_json(&home);
    let ran: Vec<&Value> = slots.iter().filter(|s| s["outcome"] == "ran").collect();
    assert!(ran.len() >= 3, "{slots:?}");
    for slot in &ran {
        // Lateness is measured and recorded (its size is the benchmark's business).
        let late = slot["lateness_ms"].as_i64().unwrap();
        assert!((0..10_000).contains(&late), "{slot}");
        assert!(slot["run"].is_string(), "{slot}");
    }
    home.stop();
    let socket = home.env.home.join("state/daemon.sock");
    assert!(!socket.exists());
    let after = home.tend(&["status"]);
    after.ok();
    assert!(
        after.stdout.starts_with("daemon   not running"),
        "{}",
        after.stdout
    );
}

#[test]
fn a_second_daemon_for_the_same_home_is_refused() {
    let mut home = Home::new();
    home.start(None);
    let second = home.tend(&["daemon"]);
    second.code(1);
    assert!(
        second
            .stderr
            .contains("another tend daemon is running for this tend home"),
        "{}",
        second.stderr
    );
    home.stop();
}

#[test]
fn task_files_are_noticed_when_added_changed_broken_and_removed() {
    let mut home = Home::new();
    home.start(None);
    assert_eq!(status(&home)["daemon"]["tasks_scheduled"], 0);
    // Added: it runs, no restart needed.
    let path = home.task("tick", "* * * * * *", "true", "");
    home.wait_for_runs("tick", 1);
    // Changed to manual: no schedule any more.
    let text = std::fs::read_to_string(&path).unwrap();
    write_atomically(&path, &text.replace("* * * * * *", "manual"));
    home.wait_for("the task to leave the schedule", || {
        (status(&home)["daemon"]["tasks_scheduled"] == 0).then_some(())
    });
    // Broken: reported with its position, and the daemon goes on.
    write_atomically(&path, "+++\nschedule = \"every\"\n+++\nHi\n");
    let broken = home.wait_for("the broken file to be reported", || {
        let st = status(&home);
        st["daemon"]["broken"].as_array().unwrap().first().cloned()
    });
    let broken = broken.as_str().unwrap();
    assert!(broken.contains("tick.md:2:"), "{broken}");
    // Fixed: scheduled again.
    write_atomically(&path, &text);
    home.wait_for("the fixed task to be scheduled", || {
        (status(&home)["daemon"]["tasks_scheduled"] == 1).then_some(())
    });
    // Removed: the store keeps its history and marks it removed.
    std::fs::remove_file(&path).unwrap();
    home.wait_for("the task to be marked removed", || {
        let removed =
            home.count("SELECT COUNT(*) FROM tasks WHERE name = 'tick' AND removed_at IS NOT NULL");
        (removed == 1).then_some(())
    });
    assert_eq!(status(&home)["daemon"]["tasks_scheduled"], 0);
    home.stop();
}

#[test]
fn overlap_and_the_global_limit_record_skipped_and_queued_slots() {
    let mut home = Home::new();
    home.config("max_concurrent_runs = 1\n");
    // Each run outlasts its second: the next slot finds it still going.
    home.task("slow", "* * * * * *", "sleep 1.5", "overlap = \"skip\"");
    home.task("other", "* * * * * *", "sleep 0.2", "overlap = \"skip\"");
    home.start(None);
    wait_for_slot(
        &home,
        "slow",
        "skipped",
        "overlap: the previous run is still going",
    );
    // With one worker, a slot of one task waits for the other's run, then runs.
    let waited = home.wait_for("a slot that waited for a worker and then ran", || {
        slots_json(&home).into_iter().find(|s| {
            s["outcome"] == "ran"
                && s["reason"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("started after waiting")
        })
    });
    assert!(waited["run"].is_string(), "{waited}");
    home.stop();
}

#[test]
fn overlap_queue_keeps_one_waiting_and_replace_cancels() {
    let mut home = Home::new();
    home.task("queued", "* * * * * *", "sleep 2.5", "overlap = \"queue\"");
    home.task(
        "replaced",
        "*/2 * * * * *",
        "sleep 30",
        "overlap = \"replace\"",
    );
    home.start(None);
    wait_for_slot(&home, "queued", "skipped", "a run is already waiting");
    wait_for_slot(&home, "queued", "ran", "started after waiting");
    home.wait_for("a run cancelled by the next slot", || {
        let n = home.count(
            "SELECT COUNT(*) FROM runs r JOIN tasks t ON t.id = r.task_id \
             WHERE t.name = 'replaced' AND r.state = 'cancelled'",
        );
        (n >= 1).then_some(())
    });
    home.stop();
}

#[test]
fn a_paused_task_records_skipped_slots_until_resumed() {
    let mut home = Home::new();
    home.task("tick", "* * * * * *", "true", "");
    home.start(None);
    home.wait_for_runs("tick", 1);
    home.tend(&["pause", "user/tick"]).ok();
    wait_for_slot(&home, "tick", "skipped", "paused");
    home.tend(&["resume", "user/tick"]).ok();
    let resumed = jiff::Timestamp::now();
    home.wait_for("a slot that ran after the resume", || {
        slots_json(&home).into_iter().find(|s| {
            s["outcome"] == "ran"
                && s["due"]
                    .as_str()
                    .unwrap()
                    .parse::<jiff::Timestamp>()
                    .unwrap()
                    > resumed
        })
    });
    home.stop();
}

#[test]
fn a_one_shot_task_runs_once_and_is_done() {
    let mut home = Home::new();
    let at = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_secs(3))
        .unwrap()
        .strftime("%Y-%m-%dT%H:%M:%S+00:00")
        .to_string();
    home.task("once", &format!("at {at}"), "true", "");
    home.start(None);
    home.wait_for_runs("once", 1);
    home.wait_for("the one-shot task to be done", || {
        let done =
            home.count("SELECT COUNT(*) FROM tasks WHERE name = 'once' AND done_at IS NOT NULL");
        (done == 1).then_some(())
    });
    assert_eq!(status(&home)["daemon"]["tasks_scheduled"], 0);
    assert_eq!(home.count("SELECT COUNT(*) FROM slots"), 1);
    home.stop();
}

#[test]
fn slots_due_while_stopped_are_caught_up_by_policy() {
    let mut home = Home::new();
    home.task("none", "* * * * * *", "true", "catch_up = \"none\"");
    home.task("latest", "* * * * * *", "true", "catch_up = \"latest\"");
    home.start(None);
    home.wait_for_runs("none", 1);
    home.wait_for_runs("latest", 1);
    home.stop();
    // Stopped for a while: slots come due with nobody there.
    let down = Instant::now();
    home.wait_for("three slots to pass while stopped", || {
        (down.elapsed() >= Duration::from_millis(3500)).then_some(())
    });
    home.start(None);
    wait_for_slot(&home, "none", "missed", "catch_up = \"none\"");
    wait_for_slot(&home, "latest", "missed", "catch_up = \"latest\"");
    home.stop();
    // Whatever the policy, every second has exactly one outcome.
    for task in ["none", "latest"] {
        let dues: Vec<i64> = home
            .sql(&format!(
                "SELECT s.due_at FROM slots s JOIN tasks t ON t.id = s.task_id \
                 WHERE t.name = '{task}' ORDER BY s.due_at"
            ))
            .iter()
            .map(|r| r[0].parse().unwrap())
            .collect();
        assert!(
            dues.windows(2).all(|w| w[1] - w[0] == 1000),
            "{task}: {dues:?}"
        );
    }
}

#[test]
fn tend_run_is_handed_to_the_daemon_and_cancel_reaches_it() {
    let mut home = Home::new();
    home.task("quick", "manual", "true", "");
    home.task("slow", "manual", "sleep 30", "");
    home.start(None);
    let out = home.tend(&["run", "quick"]);
    out.ok();
    assert!(out.stdout.contains("· in the daemon"), "{}", out.stdout);
    assert!(
        out.stdout.contains("nothing-to-do: succeeded"),
        "{}",
        out.stdout
    );
    // A long run, cancelled from another terminal.
    let mut foreground = home
        .command(&["run", "slow"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let id = home.wait_for("the slow run to be running in the daemon", || {
        let ps = home.tend(&["ps", "--json"]);
        ps.json()
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["task"] == "user/slow" && r["state"] == "running")
            .map(|r| r["run"].as_str().unwrap().to_owned())
    });
    let cancel = home.tend(&["cancel", &id]);
    cancel.ok();
    assert!(
        cancel.stdout.starts_with(&format!("cancelling run {id}")),
        "{}",
        cancel.stdout
    );
    let status = home.wait_for("the foreground tend run to end", || {
        foreground.try_wait().unwrap()
    });
    assert_eq!(status.code(), Some(1));
    let state = home.sql(&format!("SELECT state FROM runs WHERE id = '{id}'"));
    assert_eq!(state, vec![vec!["cancelled".to_owned()]]);
    home.stop();
}

#[test]
fn cancel_without_a_daemon_fixes_the_store() {
    let home = Home::new();
    home.task("t", "manual", "true", "");
    // A run cut off by a crash (its process is gone) and one that never started.
    home.tend(&["list"]).ok();
    let task = home.count("SELECT id FROM tasks WHERE name = 't'");
    home.sql(&format!(
        "INSERT INTO runs (id, task_id, trigger, state, created_at, started_at, owner_pid, owner_tag) \
         VALUES ('20260101-000000-aaaaaa', {task}, 'manual', 'running', 1, 1, 4194303, 'gone:1'); \
         INSERT INTO runs (id, task_id, trigger, state, created_at) \
         VALUES ('20260101-000000-bbbbbb', {task}, 'manual', 'queued', 2);"
    ));
    let cut = home.tend(&["cancel", "aaaaaa"]);
    cut.ok();
    assert_eq!(
        cut.stdout,
        "run 20260101-000000-aaaaaa was running but its process is gone: recorded as interrupted\n"
    );
    let queued = home.tend(&["cancel", "bbbbbb", "--json"]);
    queued.ok();
    assert_eq!(
        queued.json(),
        serde_json::json!({"run": "20260101-000000-bbbbbb", "was": "queued", "now": "cancelled"})
    );
    let again = home.tend(&["cancel", "bbbbbb"]);
    again.code(2);
    assert!(
        again.stderr.contains("already ended (cancelled)"),
        "{}",
        again.stderr
    );
}

#[test]
fn a_project_task_is_handed_over_then_scheduled_from_its_repository() {
    let mut home = Home::new();
    let repo = home.env.repo.clone();
    let tasks = repo.join(".tend/tasks");
    std::fs::create_dir_all(&tasks).unwrap();
    std::fs::write(tasks.join("proj.json"), crate::harness::recording("true")).unwrap();
    let task = tasks.join("proj.md");
    let text = "+++\nschedule = \"manual\"\nmodel = \"replay:.tend/tasks/proj.json\"\nsandbox = \"off\"\n[permissions]\nallow = [\"bash(true)\"]\n+++\nCheck.\n";
    write_atomically(&task, text);
    home.start(None);
    // The daemon has never heard of this repository: `tend run` there introduces it.
    let mut cmd = home.command(&["run", "proj"]);
    cmd.current_dir(&repo);
    let out = home.env.finish(&["run", "proj"], &mut cmd);
    out.ok();
    assert!(out.stdout.contains("· in the daemon"), "{}", out.stdout);
    assert!(
        out.stdout.contains("nothing-to-do: succeeded"),
        "{}",
        out.stdout
    );
    // Now its `.tend/` is watched: a schedule written there is picked up.
    write_atomically(&task, &text.replace("\"manual\"", "\"* * * * * *\""));
    home.wait_for("the project task to be scheduled", || {
        (status(&home)["daemon"]["tasks_scheduled"] == 1).then_some(())
    });
    home.wait_for("a scheduled run of the project task", || {
        let n = home.count(
            "SELECT COUNT(*) FROM runs r JOIN tasks t ON t.id = r.task_id \
             WHERE t.name = 'proj' AND r.trigger = 'schedule' AND r.state = 'succeeded'",
        );
        (n >= 1).then_some(())
    });
    home.stop();
}

#[test]
fn an_unanswered_approval_expires_under_the_daemon_keeping_the_run_record() {
    let mut home = Home::new();
    // A push asks a human in a propose run; nobody answers within a second.
    home.task(
        "ship",
        "manual",
        "git push origin main",
        "approval_timeout = \"1s\"",
    );
    let parked = home.tend(&["run", "--local", "ship"]);
    parked.ok();
    assert!(
        parked.stdout.contains("waits for a human"),
        "{}",
        parked.stdout
    );
    home.start(None);
    home.wait_for("the parked run to expire", || {
        let rows = home.sql("SELECT state, status FROM runs");
        (rows.first().map(|r| r[0].as_str()) == Some("expired")).then(|| rows[0][1].clone())
    });
    assert_eq!(
        home.sql("SELECT state FROM approvals"),
        vec![vec!["expired".to_owned()]]
    );
    home.stop();
}

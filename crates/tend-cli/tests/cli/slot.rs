//! `tend run --slot`: what OS timers call. The slot is claimed once, with trigger `os-timer`;
//! older slots since the last one are recorded missed; paused tasks and late slots without
//! catch-up are recorded without a run. The clock is fixed per call with `TEND_NOW`.

use pretty_assertions::assert_eq;
use serde_json::Value;

use crate::common::{Env, Out};

/// A replayed session that reports at once: no model, no tools.
pub const REPORT_ONLY: &str = r#"{"version":1,"provider":"anthropic","model":"m","turns":[
{"content":[{"type":"tool_use","id":"t1","name":"report","input":{"status":"nothing-to-do","summary":"Nothing to do today."}}],"stop":"tool_use","usage":{"input_tokens":0,"output_tokens":0,"cache_read_tokens":0,"cache_write_tokens":0},"request_id":"r1"}]}"#;

/// A project task `nightly` that reports at once, with extra front matter.
pub fn nightly(env: &Env, schedule: &str, extra: &str) {
    let dir = env.repo.join(".tend/recordings");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("done.json"), REPORT_ONLY).unwrap();
    env.write_task(
        "nightly",
        &format!(
            "+++\nschedule = \"{schedule}\"\ntimezone = \"UTC\"\nmodel = \"replay:.tend/recordings/done.json\"\nmode = \"read-only\"\n{extra}+++\nReport that there is nothing to do.\n"
        ),
    );
}

/// `tend ARGS` with the clock at `now`.
fn at(env: &Env, now: &str, args: &[&str]) -> Out {
    let mut cmd = env.command(&env.repo, args);
    cmd.env("TEND_NOW", now);
    env.finish(args, &mut cmd)
}

fn slot_run(env: &Env, now: &str) -> Out {
    at(env, now, &["run", "--slot", "latest", "--quiet", "nightly"])
}

/// The ledger, oldest first: (due, outcome, reason, has a run).
fn ledger(env: &Env) -> Vec<(String, String, Option<String>, bool)> {
    let out = env.tend(&["runs", "--slots", "--json"]);
    out.ok();
    let mut rows: Vec<(String, String, Option<String>, bool)> = out
        .json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "slot")
        .map(|r| {
            (
                r["due"].as_str().unwrap().to_owned(),
                r["outcome"].as_str().unwrap().to_owned(),
                r["reason"].as_str().map(str::to_owned),
                r["run"].is_string(),
            )
        })
        .collect();
    rows.sort();
    rows
}

fn runs(env: &Env) -> Vec<Value> {
    let out = env.tend(&["runs", "--json"]);
    out.ok();
    out.json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] != "slot")
        .cloned()
        .collect()
}

/// The lines that say what happened to the slot (the run's own output follows them).
fn slot_lines(out: &Out) -> Vec<&str> {
    out.stdout
        .lines()
        .filter(|l| {
            l.starts_with("slot ") || l.contains("earlier slot") || l.starts_with("no slot")
        })
        .collect()
}

#[test]
fn latest_claims_the_newest_due_slot_once() {
    let env = Env::new();
    nightly(&env, "0 9 * * *", "");
    // tend first sees the task at 08:00: the 09:00 slot is its first.
    at(&env, "2026-03-07T08:00:00Z", &["list"]).ok();
    let first = slot_run(&env, "2026-03-07T09:00:02Z");
    first.ok();
    assert_eq!(
        slot_lines(&first),
        ["slot 2026-03-07 09:00:00 +00:00 of repo/nightly claimed by the OS timer (2s late)"]
    );
    assert!(
        first.stdout.contains("nothing-to-do: succeeded"),
        "{}",
        first.transcript()
    );
    // A second timer for the same slot (a catch-up, cron and systemd both): nothing runs.
    let second = slot_run(&env, "2026-03-07T09:00:30Z");
    second.ok();
    assert_eq!(
        second.stdout,
        "slot 2026-03-07 09:00:00 +00:00 of repo/nightly was already claimed (it ran, or the daemon or another timer handled it); nothing to do\n"
    );
    let runs = runs(&env);
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0]["trigger"].as_str(), runs[0]["state"].as_str()),
        (Some("os-timer"), Some("succeeded"))
    );
    assert_eq!(
        ledger(&env),
        [("2026-03-07T09:00:00Z".into(), "ran".into(), None, true)]
    );
}

#[test]
fn a_timer_may_be_a_second_early() {
    let env = Env::new();
    nightly(&env, "0 9 * * *", "");
    at(&env, "2026-03-07T08:00:00Z", &["list"]).ok();
    let out = slot_run(&env, "2026-03-07T08:59:59.400Z");
    out.ok();
    assert_eq!(
        slot_lines(&out),
        ["slot 2026-03-07 09:00:00 +00:00 of repo/nightly claimed by the OS timer (600ms early)"]
    );
    // Two seconds early is no timer of this slot.
    let env = Env::new();
    nightly(&env, "0 9 * * *", "");
    at(&env, "2026-03-07T08:00:00Z", &["list"]).ok();
    let out = slot_run(&env, "2026-03-07T08:59:58Z");
    out.ok();
    assert_eq!(
        out.stdout,
        "no slot of repo/nightly has come due since tend first saw it (2026-03-07 08:00:00 +00:00); nothing to do\n"
    );
    assert_eq!(ledger(&env), []);
}

#[test]
fn older_slots_since_the_last_one_are_recorded_missed() {
    let env = Env::new();
    nightly(&env, "0 9 * * *", "");
    at(&env, "2026-03-07T08:00:00Z", &["list"]).ok();
    slot_run(&env, "2026-03-07T09:00:01Z").ok();
    // The machine was off from Saturday to Tuesday morning; systemd's Persistent=true fires
    // once at boot.
    let out = slot_run(&env, "2026-03-10T07:30:00Z");
    out.ok();
    assert_eq!(
        slot_lines(&out),
        [
            "1 earlier slot recorded missed",
            "slot 2026-03-09 09:00:00 +00:00 of repo/nightly claimed by the OS timer (22h 30m late)"
        ]
    );
    assert_eq!(
        ledger(&env),
        [
            ("2026-03-07T09:00:00Z".into(), "ran".into(), None, true),
            (
                "2026-03-08T09:00:00Z".into(),
                "missed".into(),
                Some("late by 1d 22h; catch_up = \"latest\" ran only the newest late slot".into()),
                false
            ),
            ("2026-03-09T09:00:00Z".into(), "ran".into(), None, true),
        ]
    );
    assert_eq!(runs(&env).len(), 2);
}

#[test]
fn late_slots_follow_catch_up() {
    // catch_up = "none": a slot fired 10 minutes late (the machine slept) is missed.
    let env = Env::new();
    nightly(&env, "0 9 * * *", "catch_up = \"none\"\n");
    at(&env, "2026-03-07T08:00:00Z", &["list"]).ok();
    let out = slot_run(&env, "2026-03-07T09:10:00Z");
    out.ok();
    assert_eq!(
        out.stdout,
        "slot 2026-03-07 09:00:00 +00:00 of repo/nightly: missed (late by 10m (the machine was off or asleep); catch_up = \"none\")\n"
    );
    assert_eq!(runs(&env), Vec::<Value>::new());
    // With a jitter, systemd may start the timer up to that much later: still on time.
    let env = Env::new();
    nightly(&env, "0 9 * * *", "catch_up = \"none\"\njitter = \"5m\"\n");
    at(&env, "2026-03-07T08:00:00Z", &["list"]).ok();
    let out = slot_run(&env, "2026-03-07T09:03:00Z");
    out.ok();
    assert_eq!(
        slot_lines(&out),
        ["slot 2026-03-07 09:00:00 +00:00 of repo/nightly claimed by the OS timer (3m late)"]
    );
    // Older than catch_up_window: missed whatever the policy.
    let env = Env::new();
    nightly(&env, "0 9 1 * *", "catch_up_window = \"1d\"\n");
    at(&env, "2026-03-01T08:00:00Z", &["list"]).ok();
    let out = slot_run(&env, "2026-03-03T09:00:00Z");
    out.ok();
    assert_eq!(
        out.stdout,
        "slot 2026-03-01 09:00:00 +00:00 of repo/nightly: missed (late by 2d, more than catch_up_window (1d))\n"
    );
}

#[test]
fn a_paused_task_records_its_slot_skipped() {
    let env = Env::new();
    nightly(&env, "0 9 * * *", "");
    at(&env, "2026-03-07T08:00:00Z", &["pause", "nightly"]).ok();
    let out = slot_run(&env, "2026-03-07T09:00:00Z");
    out.ok();
    assert_eq!(
        out.stdout,
        "slot 2026-03-07 09:00:00 +00:00 of repo/nightly: skipped (paused)\n"
    );
    assert_eq!(
        ledger(&env),
        [(
            "2026-03-07T09:00:00Z".into(),
            "skipped".into(),
            Some("paused".into()),
            false
        )]
    );
}

#[test]
fn an_explicit_instant_must_be_a_due_slot() {
    let env = Env::new();
    nightly(&env, "0 9 * * *", "");
    at(&env, "2026-03-06T08:00:00Z", &["list"]).ok();
    let now = "2026-03-07T12:00:00Z";
    let out = at(
        &env,
        now,
        &["run", "--slot", "2026-03-06T09:00:00Z", "-q", "nightly"],
    );
    out.ok();
    assert_eq!(
        slot_lines(&out),
        ["slot 2026-03-06 09:00:00 +00:00 of repo/nightly claimed by the OS timer (1d 3h late)"]
    );
    let again = at(
        &env,
        now,
        &["run", "--slot", "2026-03-06T09:00:00Z", "nightly"],
    );
    again.ok();
    assert!(
        again.stdout.contains("was already claimed"),
        "{}",
        again.transcript()
    );
    let not_a_slot = at(
        &env,
        now,
        &["run", "--slot", "2026-03-06T09:30:00Z", "nightly"],
    );
    not_a_slot.code(2);
    assert_eq!(
        not_a_slot.stderr,
        "error: 2026-03-06 09:30:00 +00:00 is not a slot of repo/nightly\n  hint: its slots around then: 2026-03-06 09:00:00 +00:00 and 2026-03-07 09:00:00 +00:00; `--slot latest` takes the newest due one\n"
    );
    let future = at(
        &env,
        now,
        &["run", "--slot", "2026-03-08T09:00:00Z", "nightly"],
    );
    future.code(2);
    assert_eq!(
        future.stderr,
        "error: slot 2026-03-08 09:00:00 +00:00 of repo/nightly is not due yet\n  hint: a slot runs when it is due; `tend run TASK` runs a task now\n"
    );
    let bad = at(&env, now, &["run", "--slot", "yesterday", "nightly"]);
    bad.code(2);
    assert_eq!(
        bad.stderr,
        "error: --slot yesterday: not `latest` nor an RFC 3339 instant\n  hint: OS timers use `--slot latest`; an instant looks like 2026-03-09T08:00:00Z\n"
    );
    assert_eq!(runs(&env).len(), 1);
}

//! A run's disk is bounded (`[sandbox] max_disk`): a shell command that fills the run's tmp or
//! its worktree past the budget is stopped with a tool error that names the budget, far less
//! than it tried to write stays on disk, and the run goes on (the agent can delete files, the
//! next command works, the run ends normally). Under bubblewrap and Landlock, as root and as an
//! ordinary user, with a replayed model and with `engine = "command"`.

use serde_json::{Value, json};

use crate::common::{Env, User};

const MB: u64 = 1_000_000;

/// What a stopped command's note starts with.
const STOPPED: &str = "[stopped: the run's disk budget ([sandbox] max_disk = 20MB) is used up: ";

/// Each writes 60 MB with dd, then would go on for a while: the budget must stop it (a command
/// that got to `echo` was not stopped).
const FILL_TMP: &str =
    "dd if=/dev/zero of=\"$TMPDIR/fill\" bs=1M count=60 status=none; sleep 20; echo not stopped";
const FILL_WORKTREE: &str =
    "dd if=/dev/zero of=fill.bin bs=1M count=60 status=none; sleep 20; echo not stopped";
/// Many files, each under the per-file cap: the watch has to catch them as they come.
const FILL_MANY: &str = "for i in $(seq 1 60); do dd if=/dev/zero of=\"$TMPDIR/part$i\" bs=1M \
                         count=1 status=none; sleep 0.05; done; sleep 20; echo not stopped";

/// The sizes of what a fill left: `du` in apparent bytes, as a number on its own line.
const SIZE_TMP: &str = "du -sb \"$TMPDIR\" | cut -f1";
const SIZE_WORKTREE: &str = "stat -c %s fill.bin";

fn usage() -> Value {
    json!({"input_tokens": 0, "output_tokens": 0, "cache_read_tokens": 0,
           "cache_write_tokens": 0})
}

/// A task with a 20 MB budget whose replayed model runs `commands` through bash, then reports.
fn budget_task(env: &Env, commands: &[&str]) {
    let mut turns: Vec<Value> = commands
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({"content": [{"type": "tool_use", "id": format!("t{i}"), "name": "bash",
                                "input": {"command": c, "timeout_ms": 120_000}}],
                   "stop": "tool_use", "usage": usage(), "request_id": format!("r{i}")})
        })
        .collect();
    turns.push(
        json!({"content": [{"type": "tool_use", "id": "end", "name": "report",
                                   "input": {"status": "nothing-to-do", "summary": "filled"}}],
                      "stop": "tool_use", "usage": usage(), "request_id": "end"}),
    );
    let recording = json!({"version": 1, "provider": "anthropic", "model": "m", "turns": turns});
    let recorded = env.root.join("fill.json");
    std::fs::write(&recorded, recording.to_string()).unwrap();
    env.hand_over(&recorded);
    env.write_task(
        "fill",
        &format!(
            "+++\nschedule = \"manual\"\nmodel = \"replay:{}\"\nmode = \"propose\"\n\
             [permissions]\nallow = [\"bash\"]\n[sandbox]\nmax_disk = \"20MB\"\n+++\n\
             Fill the disk.\n",
            recorded.display()
        ),
    );
}

/// The bash results of the last run, in order.
fn bash_results(env: &Env) -> Vec<Value> {
    env.newest_tool_results("bash")
}

fn content(result: &Value) -> &str {
    result["content"].as_str().unwrap_or_default()
}

#[track_caller]
fn assert_stopped(result: &Value, what: &str) {
    let text = content(result);
    assert_eq!(result["is_error"], json!(true), "{what}: {text}");
    assert!(text.contains(STOPPED), "{what}: {text}");
    assert!(
        text.contains("free space or raise max_disk"),
        "{what}: {text}"
    );
    assert!(!text.contains("not stopped"), "{what}: {text}");
}

/// The number a size command printed.
#[track_caller]
fn printed_size(result: &Value, what: &str) -> u64 {
    let text = content(result);
    text.lines()
        .find_map(|l| l.trim().parse::<u64>().ok())
        .unwrap_or_else(|| panic!("{what}: no size in {text}"))
}

#[track_caller]
fn assert_ok(result: &Value, what: &str) {
    assert_eq!(
        result["is_error"],
        json!(false),
        "{what}: {}",
        content(result)
    );
}

fn fill_and_recover(mechanism: &str, user: User) {
    let env = Env::as_user(user);
    let what = format!("{mechanism}, {user:?}");
    budget_task(
        &env,
        &[
            FILL_TMP,
            SIZE_TMP,
            "rm \"$TMPDIR/fill\" && echo freed tmp",
            FILL_WORKTREE,
            SIZE_WORKTREE,
            "rm fill.bin && echo freed worktree",
            FILL_MANY,
            SIZE_TMP,
            "rm \"$TMPDIR\"/part* && echo freed parts",
            "echo still working > \"$TMPDIR/note\" && cat \"$TMPDIR/note\"",
        ],
    );
    let mut cmd = env.command(&env.repo, &["run", "fill"]);
    cmd.env("TEND_SANDBOX", mechanism);
    let out = env.finish(&["run", "fill"], &mut cmd);
    out.ok();
    let results = bash_results(&env);
    assert_eq!(results.len(), 10, "{what}: {results:#?}");
    for r in &results {
        assert_eq!(r["detail"]["sandbox"], json!(mechanism), "{what}: {r:#?}");
    }

    assert_stopped(&results[0], &format!("{what}, tmp"));
    // The budget used up, a command still runs (it may free space) and says so.
    assert!(
        content(&results[1]).contains("commands may not make files grow until you free space"),
        "{what}: {}",
        content(&results[1])
    );
    let left_tmp = printed_size(&results[1], &what);
    assert!(
        left_tmp <= 20 * MB + MB,
        "{what}: {left_tmp} bytes left in tmp"
    );
    assert_ok(&results[2], &what);

    assert_stopped(&results[3], &format!("{what}, worktree"));
    let left_wt = printed_size(&results[4], &what);
    assert!(
        left_wt <= 20 * MB,
        "{what}: {left_wt} bytes left in the worktree"
    );
    assert_ok(&results[5], &what);

    assert_stopped(&results[6], &format!("{what}, many files"));
    let left_many = printed_size(&results[7], &what);
    assert!(
        left_many <= 40 * MB,
        "{what}: {left_many} bytes left in tmp"
    );
    println!(
        "{what}: 60 MB tried, left {left_tmp} (tmp), {left_wt} (worktree), {left_many} (many files)"
    );
    assert_ok(&results[8], &what);

    assert_ok(&results[9], &what);
    assert_eq!(content(&results[9]), "still working\n", "{what}");
    let runs = env.tend(&["runs", "--json"]).json();
    assert_eq!(
        runs[0]["status"],
        json!("nothing-to-do"),
        "{what}: {runs:#}"
    );
    assert!(!env.repo.join("fill.bin").exists());
}

#[test]
fn filling_the_disk_is_stopped_and_the_run_goes_on_under_bubblewrap_as_root() {
    fill_and_recover("bubblewrap", User::Current);
}

#[test]
fn filling_the_disk_is_stopped_and_the_run_goes_on_under_landlock_as_root() {
    fill_and_recover("landlock", User::Current);
}

#[test]
fn filling_the_disk_is_stopped_and_the_run_goes_on_under_bubblewrap_as_an_ordinary_user() {
    fill_and_recover("bubblewrap", User::Ordinary);
}

#[test]
fn filling_the_disk_is_stopped_and_the_run_goes_on_under_landlock_as_an_ordinary_user() {
    fill_and_recover("landlock", User::Ordinary);
}

/// `engine = "command"`: the task's one command is stopped the same way; the run fails (its
/// command did not succeed) and says why.
fn command_engine(mechanism: &str, user: User) {
    let env = Env::as_user(user);
    let what = format!("command engine, {mechanism}, {user:?}");
    env.write_task(
        "fill",
        &format!(
            "+++\nschedule = \"manual\"\nengine = \"command\"\ncommand = '{FILL_WORKTREE}'\n\
             [sandbox]\nmax_disk = \"20MB\"\n+++\nFill the disk.\n"
        ),
    );
    let mut cmd = env.command(&env.repo, &["run", "fill"]);
    cmd.env("TEND_SANDBOX", mechanism);
    let out = env.finish(&["run", "fill"], &mut cmd);
    let results = bash_results(&env);
    assert_eq!(results.len(), 1, "{what}: {}", out.transcript());
    assert_eq!(results[0]["detail"]["sandbox"], json!(mechanism), "{what}");
    assert_stopped(&results[0], &what);
    let runs = env.tend(&["runs", "--json"]).json();
    assert_eq!(runs[0]["status"], json!("failed"), "{what}: {runs:#}");
    // Whatever tend keeps of the run (its folder, its worktree) holds at most the budget.
    let state = env.home.join("state");
    let left = tend_tools::disk_usage(&[state.as_path()]);
    assert!(
        left <= 22 * MB,
        "{what}: {left} bytes in tend's state folder"
    );
}

#[test]
fn a_command_task_filling_the_disk_is_stopped_under_bubblewrap_as_root() {
    command_engine("bubblewrap", User::Current);
}

#[test]
fn a_command_task_filling_the_disk_is_stopped_under_landlock_as_an_ordinary_user() {
    command_engine("landlock", User::Ordinary);
}

#[test]
fn a_bad_max_disk_gets_its_place_and_a_hint() {
    let env = Env::new();
    env.write_task(
        "bad",
        "+++\nschedule = \"manual\"\n[sandbox]\nmax_disk = \"lots\"\n+++\nHi\n",
    );
    let out = env.tend(&["validate"]);
    assert_ne!(out.code, 0, "{}", out.transcript());
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains(".tend/tasks/bad.md:4:12: error: `lots` is not a size"),
        "{}",
        out.transcript()
    );
    assert!(
        all.contains("hint: write sizes like `200KB`, `1.5MB`, `512KiB` or a number of bytes"),
        "{}",
        out.transcript()
    );
}

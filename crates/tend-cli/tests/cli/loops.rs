//! `tend loop` through the binary, against the scripted model: the agent ends it (`--until`),
//! `--max` with a one-second interval and a shared conversation, Ctrl-C while waiting and
//! during a check (whose run ends `cancelled`), and a closing terminal (SIGHUP, through a real
//! pseudo-terminal). `tend ps` lists the loop while it lives and not after. Waits are for
//! conditions, bounded; the loops that must be stopped wait an hour, so nothing depends on
//! timing.

use std::os::fd::OwnedFd;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use tend_mock_model::{MockContent, MockModel, Reply, Script, Step};

use crate::common::{Env, TEND};

const DEADLINE: Duration = Duration::from_secs(30);

struct Live {
    _rt: tokio::runtime::Runtime,
    mock: MockModel,
}

fn live(script: Script) -> Live {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mock = rt.block_on(MockModel::start(script)).unwrap();
    Live { _rt: rt, mock }
}

const MODEL: &str = "anthropic:claude-sonnet-4-5";

/// `tend loop ARGS --model …` in the repository, against the mock.
fn command(env: &Env, live: &Live, args: &[&str]) -> Command {
    let mut all = vec!["loop"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--model", MODEL]);
    let mut cmd = env.command(&env.repo, &all);
    cmd.env("ANTHROPIC_BASE_URL", live.mock.base_url())
        .env("ANTHROPIC_API_KEY", "test-key");
    cmd
}

fn report(summary: &str) -> Step {
    Step::tool_use(
        "report",
        json!({"status": "nothing-to-do", "summary": summary}),
    )
}

/// Polls `check` every 20 ms until it gives a value, failing at [`DEADLINE`].
fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn ps(env: &Env) -> Vec<Value> {
    let out = env.tend(&["ps", "--json"]);
    out.ok();
    out.json().as_array().unwrap().clone()
}

fn loop_rows(env: &Env) -> Vec<Value> {
    ps(env)
        .into_iter()
        .filter(|r| r["trigger"] == "loop")
        .collect()
}

fn runs(env: &Env) -> Vec<Value> {
    let out = env.tend(&["runs", "--json"]);
    out.ok();
    out.json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("state").is_some())
        .cloned()
        .collect()
}

/// Loop records left in the state folder (a loop that ended properly leaves none).
fn records(env: &Env) -> Vec<String> {
    match std::fs::read_dir(env.home.join("state/loops")) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn signal(child: &Child, signal: rustix::process::Signal) {
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).unwrap()).unwrap();
    rustix::process::kill_process(pid, signal).unwrap();
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    wait_for("tend loop to exit", || child.try_wait().unwrap())
}

/// Waits until `tend ps` shows the loop in `state`; returns its row.
fn wait_for_loop(env: &Env, state: &str) -> Value {
    wait_for(&format!("the loop to be {state} in tend ps"), || {
        loop_rows(env).into_iter().find(|r| r["state"] == state)
    })
}

#[test]
fn the_agent_ends_the_loop_when_the_until_condition_is_met() {
    let env = Env::new();
    let live = live(Script::new([Step::Reply(
        Reply::new(vec![MockContent::tool_use(
            "loop_done",
            json!({"reason": "All checks are green."}),
        )])
        .expecting("The loop's stop condition: CI is green.")
        .expecting("Check whether CI is green."),
    )]));
    let mut cmd = command(
        &env,
        &live,
        &["Check whether CI is green.", "--until", "CI is green"],
    );
    let out = env.finish(&["loop"], &mut cmd);
    out.ok();
    let id = out.stdout.split_whitespace().nth(2).unwrap().to_owned();
    assert!(
        out.stdout.starts_with(&format!(
            "↻ loop {id} · the agent picks each delay · until CI is green · read-only · until "
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .ends_with(&format!("loop {id} done: All checks are green.\n")),
        "{}",
        out.stdout
    );
    let runs = runs(&env);
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (&runs[0]["task"], &runs[0]["trigger"], &runs[0]["state"]),
        (
            &Value::from(format!("loop-{id}")),
            &Value::from("loop"),
            &Value::from("succeeded")
        )
    );
    assert_eq!(ps(&env), Vec::<Value>::new());
    assert_eq!(records(&env), Vec::<String>::new());
}

#[test]
fn max_ends_the_loop_and_the_checks_share_one_conversation() {
    let env = Env::new();
    let live = live(Script::new([
        report("CI is running."),
        Step::Reply(
            Reply::new(vec![MockContent::tool_use(
                "report",
                json!({"status": "nothing-to-do", "summary": "Still running."}),
            )])
            .expecting("CI is running.")
            .expecting("Check 2 ("),
        ),
    ]));
    let mut cmd = command(
        &env,
        &live,
        &["1s", "Check whether CI is green.", "--max", "2"],
    );
    let out = env.finish(&["loop"], &mut cmd);
    out.ok();
    assert!(out.stdout.contains("── check 1 · run "), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("nothing-to-do: succeeded · CI is running."),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("next check in 1s at "),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("(every 1s)"), "{}", out.stdout);
    assert!(
        out.stdout.ends_with("ended after 2 checks (--max)\n"),
        "{}",
        out.stdout
    );
    assert_eq!(live.mock.requests().len(), 2);
    assert_eq!(runs(&env).len(), 2);
    assert_eq!(records(&env), Vec::<String>::new());
}

#[test]
fn ctrl_c_while_waiting_ends_the_loop_and_tend_ps_forgets_it() {
    let env = Env::new();
    let live = live(Script::new([report("CI is running.")]));
    let mut child = command(&env, &live, &["1h", "Check whether CI is green."])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let row = wait_for_loop(&env, "waiting");
    let task = row["task"].as_str().unwrap().to_owned();
    assert!(task.starts_with("loop-"), "{row}");
    assert_eq!(
        (
            &row["run"],
            &row["owner"],
            &row["waiting_for"],
            &row["loop"]["prompt"],
            &row["loop"]["checks"],
            &row["loop"]["interval_secs"],
        ),
        (
            &Value::from("-"),
            &Value::from(format!("pid {}", child.id())),
            &Value::from("next check in 1h"),
            &Value::from("Check whether CI is green."),
            &Value::from(1),
            &Value::from(3600),
        )
    );
    let table = env.tend(&["ps"]);
    assert!(table.stdout.contains(&task), "{}", table.stdout);
    signal(&child, rustix::process::Signal::INT);
    let status = wait_exit(&mut child);
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    assert_eq!(status.code(), Some(130), "{stdout}");
    assert!(stdout.ends_with("stopped (Ctrl-C)\n"), "{stdout}");
    assert_eq!(records(&env), Vec::<String>::new());
    assert_eq!(ps(&env), Vec::<Value>::new());
}

#[test]
fn ctrl_c_during_a_check_cancels_its_run() {
    let env = Env::new();
    // The model never answers in time: the check is in progress when Ctrl-C comes.
    let live = live(Script::new([Step::Hang { ms: 60_000 }]));
    let mut child = command(&env, &live, &["1h", "Check whether CI is green."])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let row = wait_for_loop(&env, "checking");
    let run = row["run"].as_str().unwrap().to_owned();
    wait_for("the model to be asked", || {
        (!live.mock.requests().is_empty()).then_some(())
    });
    signal(&child, rustix::process::Signal::INT);
    assert_eq!(wait_exit(&mut child).code(), Some(130));
    let runs = runs(&env);
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (&runs[0]["id"], &runs[0]["state"]),
        (&Value::from(run), &Value::from("cancelled"))
    );
    assert_eq!(records(&env), Vec::<String>::new());
    assert_eq!(ps(&env), Vec::<Value>::new());
}

/// A pseudo-terminal: the test keeps the master; the loop gets the slave as its terminal.
fn pty() -> (OwnedFd, OwnedFd) {
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    // CLOEXEC: a process another test spawns meanwhile must not inherit the master and keep
    // the terminal open after this test drops it.
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).unwrap();
    grantpt(&master).unwrap();
    unlockpt(&master).unwrap();
    let name = ptsname(&master, Vec::new()).unwrap();
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(name.to_str().unwrap())
        .unwrap();
    (master, OwnedFd::from(slave))
}

#[test]
fn closing_the_terminal_ends_the_loop_with_sighup() {
    let env = Env::new();
    let live = live(Script::new([report("CI is running.")]));
    let (master, slave) = pty();
    // `setsid --ctty`: tend leads a session of its own whose controlling terminal is the pty,
    // as a shell in a terminal window starts it.
    let base = command(&env, &live, &["1h", "Check whether CI is green."]);
    let mut cmd = Command::new("setsid");
    cmd.arg("--ctty")
        .arg(TEND)
        .args(base.get_args())
        .current_dir(&env.repo)
        .env_clear()
        .envs(
            base.get_envs()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
        )
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave));
    let mut child = cmd.spawn().unwrap();
    wait_for_loop(&env, "waiting");
    // The terminal window closes: its master side goes away, the kernel hangs the terminal up.
    drop(master);
    let status = wait_exit(&mut child);
    assert_eq!(status.code(), Some(129), "{status}");
    assert_eq!(records(&env), Vec::<String>::new());
    assert_eq!(ps(&env), Vec::<Value>::new());
    assert_eq!(runs(&env)[0]["state"], "succeeded");
}

#[test]
fn bad_arguments_are_explained() {
    let env = Env::new();
    let out = env.tend(&["loop", "soon", "Check CI.", "--model", MODEL]);
    out.code(2);
    assert!(
        out.stderr
            .contains("error: INTERVAL `soon` is not a duration"),
        "{}",
        out.stderr
    );
    let out = env.tend(&["loop", "Check CI."]);
    out.code(2);
    assert_eq!(
        out.stderr,
        "error: tend loop needs a model\n  hint: --model anthropic:claude-sonnet-4-5, or `[defaults] model` in tend's config\n"
    );
    let help = env.tend(&["loop", "--help"]);
    help.ok();
    assert!(
        help.stdout.contains("Mode: read-only by default"),
        "{}",
        help.stdout
    );
}

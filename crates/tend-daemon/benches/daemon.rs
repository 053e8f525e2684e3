//! The daemon's costs, each next to a baseline measured in the same run:
//!
//! - idle memory: VmRSS of a real `tend daemon` scheduling 1,000 tasks whose next slots are
//!   far away, against `sleep 1000` (target: under 20 MB);
//! - idle wake-ups: the daemon's loop counter (from `tend status`) and the context switches of
//!   all its threads over a minute (target: at most 2 loop wake-ups a minute);
//! - fire lateness: when the daemon claimed each of 100 slots of a `* * * * * *` task, as the
//!   store records it, against a tokio timer asked to wake at the same whole seconds (target:
//!   p99 under 50 ms);
//! - slot claims per second along the daemon's path (read the task's state, decide, claim
//!   with its run), against `claim_slot_with_run` alone (target: 2,000+/s).
//!
//! `cargo build --release -p tend-cli && cargo bench -p tend-daemon --bench daemon`.
//! TEND_BIN names the `tend` binary (default: `tend` in the bench's target folder);
//! TEND_BENCH_IDLE_SECS (default 60), TEND_BENCH_SLOTS (100), TEND_BENCH_CLAIMS (5,000).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use tend_config::{CatchUp, Overlap};
use tend_daemon::client::Client;
use tend_daemon::decide::{Outcome, PauseState, Policy, TaskView, decide};
use tend_daemon::protocol::{Reply, Request};
use tend_schedule::{Plan, Schedule};
use tend_store::{ClaimWithRun, NewSlot, SlotOutcome, Store, TaskKey, Trigger};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!("== slot claims per second (file database)");
    runtime.block_on(claims(env_number("TEND_BENCH_CLAIMS", 5_000)));
    let Some(tend) = tend_binary() else {
        println!(
            "(no `tend` binary: `cargo build --release -p tend-cli` first, or set TEND_BIN; \
             skipping the daemon process measurements)"
        );
        return;
    };
    let idle_secs = env_number("TEND_BENCH_IDLE_SECS", 60);
    let slots = env_number("TEND_BENCH_SLOTS", 100);
    // The idle daemon and the busy one run at the same time, in separate homes: the minute of
    // idling overlaps the hundred seconds of slots.
    let idle = std::thread::spawn({
        let tend = tend.clone();
        move || idle(&tend, idle_secs)
    });
    let lateness = lateness(&runtime, &tend, slots);
    let idle = idle.join().unwrap();
    println!("== idle daemon with 1,000 tasks (next slots a year away)");
    println!(
        "  VmRSS  tend daemon {:>6.1} MB (peak {:.1} MB)   baseline `sleep 1000` {:.1} MB   target < 20 MB: {}",
        idle.rss_kb as f64 / 1024.0,
        idle.hwm_kb as f64 / 1024.0,
        idle.sleep_rss_kb as f64 / 1024.0,
        met(idle.rss_kb < 20 * 1024)
    );
    println!(
        "  over {idle_secs} s: {} loop wake-ups ({:.1}/min; target <= 2/min: {}), {} context switches \
         in {} threads ({:.1}/min); baseline `sleep`: {} context switches",
        idle.wakeups,
        idle.wakeups as f64 * 60.0 / idle_secs as f64,
        met(idle.wakeups as f64 * 60.0 / idle_secs as f64 <= 2.0),
        idle.switches,
        idle.threads,
        idle.switches as f64 * 60.0 / idle_secs as f64,
        idle.sleep_switches
    );
    println!("== fire lateness over {slots} slots of `* * * * * *`");
    println!(
        "  tend daemon (store's lateness_ms)  p50 {} ms  p99 {} ms  max {} ms   target p99 < 50 ms: {}",
        lateness.daemon[lateness.daemon.len() / 2],
        percentile(&lateness.daemon, 99),
        lateness.daemon.last().unwrap(),
        met(percentile(&lateness.daemon, 99) < 50)
    );
    println!(
        "  baseline tokio timer at the same seconds  p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        lateness.timer_us[lateness.timer_us.len() / 2] as f64 / 1000.0,
        percentile(&lateness.timer_us, 99) as f64 / 1000.0,
        *lateness.timer_us.last().unwrap() as f64 / 1000.0
    );
}

fn met(yes: bool) -> &'static str {
    if yes { "met" } else { "NOT met" }
}

/// The value at or below which `p` percent of the sorted `values` lie.
fn percentile(values: &[i64], p: usize) -> i64 {
    let i = (values.len() * p).div_ceil(100).saturating_sub(1);
    values[i.min(values.len() - 1)]
}

fn tend_binary() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("TEND_BIN") {
        return Some(PathBuf::from(path));
    }
    // target/<profile>/deps/daemon-<hash> → target/<profile>/tend
    let exe = std::env::current_exe().ok()?;
    let candidate = exe.parent()?.parent()?.join("tend");
    candidate.is_file().then_some(candidate)
}

/// A tend home in a temp folder, and `tend` commands for it.
struct Home {
    _dir: tempfile::TempDir,
    home: PathBuf,
    tend: PathBuf,
}

impl Home {
    fn new(tend: &Path) -> Home {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(home.join("config/tasks")).unwrap();
        Home {
            _dir: dir,
            home,
            tend: tend.to_path_buf(),
        }
    }

    fn tasks(&self) -> PathBuf {
        self.home.join("config/tasks")
    }

    fn state(&self) -> PathBuf {
        self.home.join("state")
    }

    fn start(&self) -> Child {
        let child = Command::new(&self.tend)
            .arg("daemon")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("TEND_HOME", &self.home)
            .env("TEND_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        while self.status().is_none() {
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "the daemon did not come up"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        child
    }

    fn status(&self) -> Option<tend_daemon::protocol::Status> {
        let mut client = Client::connect(&self.state()).ok()??;
        match client.ask(&Request::Status).ok()? {
            Reply::Status(status) => Some(*status),
            _ => None,
        }
    }
}

fn stop(mut child: Child) {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();
}

/// `(VmRSS, VmHWM)` in kB.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Context switches of every thread of `pid`, and how many threads it has.
fn switches(pid: u32) -> (u64, usize) {
    let mut total = 0;
    let mut threads = 0;
    for entry in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let path = entry.unwrap().path().join("status");
        let Ok(status) = std::fs::read_to_string(path) else {
            continue;
        };
        threads += 1;
        for line in status.lines() {
            if line.starts_with("voluntary_ctxt_switches:")
                || line.starts_with("nonvoluntary_ctxt_switches:")
            {
                total += line
                    .split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
            }
        }
    }
    (total, threads)
}

struct Idle {
    rss_kb: u64,
    hwm_kb: u64,
    sleep_rss_kb: u64,
    wakeups: u64,
    switches: u64,
    threads: usize,
    sleep_switches: u64,
}

fn idle(tend: &Path, secs: u64) -> Idle {
    let home = Home::new(tend);
    std::fs::write(home.tasks().join("rec.json"), recording()).unwrap();
    for i in 0..1000 {
        let text = format!(
            "+++\ndescription = \"task {i}\"\nschedule = \"{} {} 1 1 *\"\nmodel = \"replay:rec.json\"\n+++\nLook after thing {i}.\n",
            i % 60,
            i % 24
        );
        std::fs::write(home.tasks().join(format!("t{i:04}.md")), text).unwrap();
    }
    // Every task fires once a year, on January 1st (on that day some fire during the run).
    let child = home.start();
    let pid = child.id();
    let mut sleep = Command::new("sleep").arg("1000").spawn().unwrap();
    // Settle: the start-up work (1,000 files, the store) is done.
    std::thread::sleep(Duration::from_secs(3));
    let before = home.status().unwrap();
    let (switches_before, _) = switches(pid);
    let (sleep_before, _) = switches(sleep.id());
    std::thread::sleep(Duration::from_secs(secs));
    let (switches_after, threads) = switches(pid);
    let (sleep_after, _) = switches(sleep.id());
    let after = home.status().unwrap();
    let (rss_kb, hwm_kb) = memory(pid);
    let (sleep_rss_kb, _) = memory(sleep.id());
    sleep.kill().unwrap();
    sleep.wait().unwrap();
    assert_eq!(after.tasks_scheduled, 1000, "{after:?}");
    stop(child);
    Idle {
        rss_kb,
        hwm_kb,
        sleep_rss_kb,
        // The first status request woke the loop once itself.
        wakeups: after.wakeups - before.wakeups - 1,
        switches: switches_after - switches_before,
        threads,
        sleep_switches: sleep_after - sleep_before,
    }
}

/// A session that reports at once: runs take milliseconds, so they never overlap.
fn recording() -> &'static str {
    r#"{"version":1,"provider":"anthropic","model":"m","turns":[{"content":[{"type":"tool_use","id":"t1","name":"report","input":{"status":"nothing-to-do","summary":"tick"}}],"stop":"tool_use","usage":{"input_tokens":0,"output_tokens":0,"cache_read_tokens":0,"cache_write_tokens":0},"request_id":"r1"}]}"#
}

struct Lateness {
    /// Milliseconds, sorted.
    daemon: Vec<i64>,
    /// Microseconds, sorted.
    timer_us: Vec<i64>,
}

fn lateness(runtime: &tokio::runtime::Runtime, tend: &Path, slots: u64) -> Lateness {
    let home = Home::new(tend);
    std::fs::write(home.tasks().join("rec.json"), recording()).unwrap();
    std::fs::write(
        home.tasks().join("tick.md"),
        "+++\nschedule = \"* * * * * *\"\nmodel = \"replay:rec.json\"\n+++\nTick.\n",
    )
    .unwrap();
    let child = home.start();
    // The baseline: a tokio timer asked for the same whole seconds, in this process.
    let timer_us = runtime.block_on(async {
        let mut late = Vec::new();
        for _ in 0..slots {
            let now = Timestamp::now();
            let target = Timestamp::from_second(now.as_second() + 1).unwrap();
            let wait = Duration::try_from(now.duration_until(target)).unwrap();
            tokio::time::sleep_until(tokio::time::Instant::now() + wait).await;
            late.push(target.duration_until(Timestamp::now()).as_micros() as i64);
        }
        late
    });
    let db = home.state().join("tend.db");
    let mut daemon = runtime.block_on(async {
        let store = Store::open(&db).await.unwrap();
        let task = store
            .task_state(&TaskKey::user("tick"))
            .await
            .unwrap()
            .unwrap();
        let t0 = Instant::now();
        loop {
            let slots_now = store.slots_for_task(task.id, 10_000).await.unwrap();
            let ran: Vec<i64> = slots_now
                .iter()
                .filter(|s| s.outcome == SlotOutcome::Ran)
                .filter_map(|s| s.lateness.map(|l| l.as_millis() as i64))
                .collect();
            if ran.len() as u64 >= slots || t0.elapsed() > Duration::from_secs(slots * 3) {
                store.close().await;
                break ran.into_iter().take(slots as usize).collect::<Vec<_>>();
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
    stop(child);
    let mut timer_us = timer_us;
    daemon.sort_unstable();
    timer_us.sort_unstable();
    Lateness { daemon, timer_us }
}

/// Claims along the daemon's path against the bare claim.
async fn claims(n: u64) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("tend.db")).await.unwrap();
    let start = Timestamp::from_second(1_795_636_800).unwrap();
    let bare = store
        .ensure_task(&TaskKey::user("bare"), start)
        .await
        .unwrap();
    let daemon = store
        .ensure_task(&TaskKey::user("daemon"), start)
        .await
        .unwrap();
    let n = i64::try_from(n).unwrap();

    let t0 = Instant::now();
    for i in 1..=n {
        let due = start + SignedDuration::from_secs(i);
        let slot = NewSlot {
            task: bare.id,
            due,
            fire_at: due,
            claimed_at: due + SignedDuration::from_millis(2),
            outcome: SlotOutcome::Ran,
            reason: None,
            lateness: Some(SignedDuration::from_millis(2)),
        };
        let claim = store
            .claim_slot_with_run(&slot, Trigger::Schedule)
            .await
            .unwrap();
        assert!(matches!(claim, ClaimWithRun::Claimed { .. }));
    }
    let bare_time = t0.elapsed();

    let plan = Plan::new(
        Schedule::parse("* * * * * *").unwrap(),
        jiff::tz::TimeZone::UTC,
        start,
    );
    let policy = Policy {
        catch_up: CatchUp::Latest,
        catch_up_window: Duration::from_secs(7 * 86_400),
        overlap: Overlap::Skip,
    };
    let t0 = Instant::now();
    for i in 1..=n {
        let now = start + SignedDuration::from_secs(i) + SignedDuration::from_millis(2);
        let state = store.task(daemon.id).await.unwrap().unwrap();
        let view = TaskView {
            plan: &plan,
            policy,
            cursor: state.last_slot_due,
            first_seen: state.first_seen_at,
            pause: PauseState::Active,
            active_runs: 0,
            waiting_runs: 0,
        };
        let outlook = decide(&view, now, Duration::from_secs(10));
        assert_eq!(outlook.decisions.len(), 1);
        let d = outlook.decisions[0];
        assert_eq!(d.outcome, Outcome::Run);
        let slot = NewSlot {
            task: daemon.id,
            due: d.slot.due,
            fire_at: d.slot.fire_at,
            claimed_at: now,
            outcome: SlotOutcome::Ran,
            reason: None,
            lateness: Some(now.duration_since(d.slot.fire_at)),
        };
        let claim = store
            .claim_slot_with_run(&slot, Trigger::Schedule)
            .await
            .unwrap();
        assert!(matches!(claim, ClaimWithRun::Claimed { .. }));
    }
    let daemon_time = t0.elapsed();
    store.close().await;
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "  baseline claim_slot_with_run alone         {:>8.0}/s",
        rate(bare_time)
    );
    println!(
        "  daemon path (read state, decide, claim)    {:>8.0}/s  ({:.2}x the baseline's time)   target 2,000+/s: {}",
        rate(daemon_time),
        daemon_time.as_secs_f64() / bare_time.as_secs_f64(),
        met(rate(daemon_time) >= 2000.0)
    );
}

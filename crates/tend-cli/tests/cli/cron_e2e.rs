//! The real thing: Debian's cron daemon runs a task that `tend sync --native --backend cron`
//! put in the real crontab, and tend records the run with trigger `os-timer`.
//!
//! Needs `cron` and `crontab` (Debian's `cron` package, which `scripts/test` installs) and,
//! unless a cron daemon already runs, root to start one (CI runs as root). The user's crontab
//! is restored afterwards, and the daemon this test started is stopped.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pretty_assertions::assert_eq;
use serde_json::Value;

use crate::common::{Env, Out};
use crate::slot::REPORT_ONLY;

/// A `* * * * *` job fires at the next minute, or the one after when cron reads the new
/// crontab just too late: at most two minutes, plus slack for a loaded machine.
const DEADLINE: Duration = Duration::from_secs(130);

/// Puts the crontab back as it was, and stops the cron daemon this test started.
struct Restore {
    crontab: Option<String>,
    daemon: Option<Child>,
}

impl Drop for Restore {
    fn drop(&mut self) {
        match &self.crontab {
            Some(text) => {
                let mut child = Command::new("crontab")
                    .arg("-")
                    .stdin(Stdio::piped())
                    .spawn()
                    .unwrap();
                use std::io::Write as _;
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(text.as_bytes())
                    .unwrap();
                child.wait().unwrap();
            }
            None => {
                let _ = Command::new("crontab").arg("-r").output();
            }
        }
        if let Some(mut daemon) = self.daemon.take() {
            let _ = daemon.kill();
            let _ = daemon.wait();
        }
    }
}

fn current_crontab() -> Option<String> {
    let out = Command::new("crontab")
        .arg("-l")
        .output()
        .expect("crontab is missing: install Debian's `cron` package (scripts/test does)");
    out.status
        .success()
        .then(|| String::from_utf8(out.stdout).unwrap())
}

/// A cron daemon already running: its pid file names a live process that is cron. A stale
/// pid file is common (a daemon this test stopped leaves it), and its number is soon another
/// process's or thread's (`/proc/TID` exists for threads too, listed or not).
fn cron_running() -> bool {
    ["/run/crond.pid", "/var/run/crond.pid"].iter().any(|f| {
        std::fs::read_to_string(f)
            .ok()
            .and_then(|pid| pid.trim().parse::<u32>().ok())
            .is_some_and(is_live_cron)
    })
}

/// Whether `pid` is a live (not zombie) process, not a thread, whose program is cron.
fn is_live_cron(pid: u32) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return false;
    };
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
            .unwrap_or("")
    };
    field("Name:") == "cron"
        && field("Tgid:") == pid.to_string()
        && !field("State:").starts_with('Z')
}

/// `tend ARGS` with the real clock: cron fires at real minutes.
fn tend(env: &Env, args: &[&str]) -> Out {
    let mut cmd = env.command(&env.repo, args);
    cmd.env_remove("TEND_NOW");
    env.finish(args, &mut cmd)
}

#[test]
fn the_cron_daemon_runs_a_registered_task_and_tend_records_it() {
    let env = Env::new();
    let dir = env.repo.join(".tend/recordings");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("done.json"), REPORT_ONLY).unwrap();
    env.write_task(
        "minutely",
        "+++\nschedule = \"* * * * *\"\ntimezone = \"UTC\"\nmodel = \"replay:.tend/recordings/done.json\"\nmode = \"read-only\"\n+++\nReport that there is nothing to do.\n",
    );

    let mut restore = Restore {
        crontab: current_crontab(),
        daemon: None,
    };
    if !cron_running() {
        // Foreground, in UTC like the task; stopped by `restore`.
        let daemon = Command::new("cron")
            .arg("-f")
            .env("TZ", "UTC")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "cannot start `cron -f` (install Debian's `cron` package; starting it needs root)",
            );
        restore.daemon = Some(daemon);
        std::thread::sleep(Duration::from_millis(300));
        if let Some(status) = restore.daemon.as_mut().unwrap().try_wait().unwrap() {
            panic!("`cron -f` exited at once ({status}): starting the cron daemon needs root");
        }
    }

    let sync = tend(&env, &["sync", "--native", "--backend", "cron"]);
    sync.ok();
    assert!(
        sync.stdout.contains("added  repo/minutely ["),
        "{}",
        sync.transcript()
    );
    let installed = current_crontab().unwrap();
    assert!(
        installed.ends_with("# END tend\n")
            && installed.starts_with(restore.crontab.as_deref().unwrap_or("")),
        "{installed}"
    );

    let started = Instant::now();
    let run = loop {
        let out = tend(&env, &["runs", "--json"]);
        out.ok();
        let done = out
            .json()
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["trigger"] == "os-timer" && r["state"] == "succeeded")
            .cloned();
        if let Some(run) = done {
            break run;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "cron did not run the task within {DEADLINE:?}; crontab:\n{installed}\ncron.log:\n{}",
            std::fs::read_to_string(env.home.join("state/logs/cron.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_secs(2));
    };
    eprintln!(
        "cron ran the task after {:.0?}: run {}",
        started.elapsed(),
        run["id"]
    );

    // The slot it claimed: a whole minute, run, a few seconds late at most.
    let ledger = tend(&env, &["runs", "--slots", "--json"]);
    ledger.ok();
    let slots: Vec<Value> = ledger
        .json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "slot" && r["run"] == run["id"])
        .cloned()
        .collect();
    assert_eq!(slots.len(), 1, "{}", ledger.stdout);
    let due: jiff::Timestamp = slots[0]["due"].as_str().unwrap().parse().unwrap();
    assert_eq!((due.as_second() % 60, due.subsec_nanosecond()), (0, 0));
    assert_eq!(slots[0]["outcome"], "ran");
    let late = slots[0]["lateness_ms"].as_i64().unwrap();
    assert!((0..30_000).contains(&late), "{late} ms late");
    let log = std::fs::read_to_string(env.home.join("state/logs/cron.log")).unwrap();
    assert!(
        log.contains("of repo/minutely claimed by the OS timer"),
        "{log}"
    );

    let removed = tend(&env, &["sync", "--native", "--backend", "cron", "--remove"]);
    removed.ok();
    // The crontab is as before the sync (an empty one where there was none).
    assert_eq!(
        current_crontab().unwrap_or_default(),
        restore.crontab.clone().unwrap_or_default()
    );
    drop(restore);
}

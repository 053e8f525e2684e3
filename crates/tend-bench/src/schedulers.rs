//! tend's daemon against Debian's cron and a tokio-cron-scheduler program, all measured in
//! the same window on the same machine:
//!
//! - idle: each scheduler holds 1,000 jobs due once a year; its VmRSS at the end of the
//!   window and its context switches (all threads) during it, against `sleep`;
//! - lateness: a job due every second (tend, tokio-cron-scheduler) and every minute (all
//!   three: cron has minute resolution), from the due instant until the scheduler acted:
//!   tend claimed the slot (the store's `lateness_ms`), cron's job ran `date`, the
//!   tokio-cron-scheduler closure started.
//!
//! cron runs in a private mount namespace (`unshare -m`, root) with its own spool, pid file
//! and an empty /etc/crontab and /etc/cron.d, so the machine's crontabs are not touched.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::procs::{status_field, switches};

pub const IDLE_JOBS: usize = 1000;

/// A session that reports at once, for tend's replayed runs.
const RECORDING: &str = r#"{"version":1,"provider":"anthropic","model":"m","turns":[{"content":[{"type":"tool_use","id":"t1","name":"report","input":{"status":"nothing-to-do","summary":"tick"}}],"stop":"tool_use","usage":{"input_tokens":0,"output_tokens":0,"cache_read_tokens":0,"cache_write_tokens":0},"request_id":"r1"}]}"#;

#[derive(Debug, Clone)]
pub struct Programs {
    pub tend: PathBuf,
    pub tcs: PathBuf,
}

/// One idle scheduler over the window.
#[derive(Debug, Clone)]
pub struct Idle {
    pub rss_kb: u64,
    pub switches: u64,
    pub threads: usize,
    /// tend's own loop counter, where there is one.
    pub loop_wakeups: Option<u64>,
}

/// Lateness samples in microseconds.
#[derive(Debug, Clone, Default)]
pub struct Lateness {
    pub seconds: Vec<u64>,
    pub minutes: Vec<u64>,
}

#[derive(Debug)]
pub struct Report {
    pub window: Duration,
    pub tend: Idle,
    pub cron: Result<Idle, String>,
    pub tcs: Idle,
    pub sleep: Idle,
    pub tend_late: Lateness,
    pub cron_late: Result<Lateness, String>,
    pub tcs_late: Lateness,
}

/// Kills a child when dropped, so an error never leaves a scheduler behind.
struct Guard(Option<Child>);

impl Guard {
    fn pid(&self) -> u32 {
        self.0.as_ref().map(Child::id).unwrap_or(0)
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.stop();
    }
}

fn tend_command(tend: &Path, home: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(tend);
    cmd.args(args)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", home)
        .env("TEND_HOME", home)
        .env("TEND_LOG", "warn")
        .stdin(Stdio::null());
    cmd
}

fn tend_status(tend: &Path, home: &Path) -> Option<Value> {
    let out = tend_command(tend, home, &["status", "--json"])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let json: Value = serde_json::from_slice(&out.stdout).ok()?;
    (json["running"] == Value::Bool(true)).then_some(json)
}

fn start_tend(tend: &Path, home: &Path) -> Result<Guard> {
    let child = tend_command(tend, home, &["daemon"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting tend daemon")?;
    let guard = Guard(Some(child));
    let t0 = Instant::now();
    while tend_status(tend, home).is_none() {
        if t0.elapsed() > Duration::from_secs(60) {
            bail!("tend daemon did not answer within 60 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(guard)
}

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text).with_context(|| path.display().to_string())
}

/// Minute and hour of idle job `i`: each fires once a year, on January 1st.
fn yearly(i: usize) -> (usize, usize) {
    (i % 60, i % 24)
}

fn tend_idle_home(home: &Path) -> Result<()> {
    let tasks = home.join("config/tasks");
    write(&tasks.join("rec.json"), RECORDING)?;
    for i in 0..IDLE_JOBS {
        let (m, h) = yearly(i);
        write(
            &tasks.join(format!("t{i:04}.md")),
            &format!(
                "+++\ndescription = \"task {i}\"\nschedule = \"{m} {h} 1 1 *\"\nmodel = \"replay:rec.json\"\n+++\nLook after thing {i}.\n"
            ),
        )?;
    }
    Ok(())
}

fn tend_busy_home(home: &Path) -> Result<()> {
    let tasks = home.join("config/tasks");
    write(&tasks.join("rec.json"), RECORDING)?;
    for (name, schedule) in [("second", "* * * * * *"), ("minute", "* * * * *")] {
        write(
            &tasks.join(format!("{name}.md")),
            &format!("+++\nschedule = \"{schedule}\"\nmodel = \"replay:rec.json\"\n+++\nTick.\n"),
        )?;
    }
    Ok(())
}

/// Lateness of every slot of `task` that ran, from the store, in microseconds.
fn tend_lateness(home: &Path, task: &str) -> Result<Vec<u64>> {
    let db = home.join("state/tend.db");
    let out = Command::new("sqlite3")
        .arg(&db)
        .arg(format!(
            "SELECT s.lateness_ms FROM slots s JOIN tasks t ON t.id = s.task_id \
             WHERE t.name = '{task}' AND s.outcome = 'ran' AND s.lateness_ms IS NOT NULL \
             ORDER BY s.due_at"
        ))
        .output()
        .context("sqlite3 (Debian package sqlite3)")?;
    if !out.status.success() {
        bail!("sqlite3: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse::<u64>().ok())
        .map(|ms| ms * 1000)
        .collect())
}

/// A cron daemon in its own mount namespace, with `crontab` as root's crontab.
fn start_cron(dir: &Path, crontab: &str) -> Result<Guard> {
    std::fs::create_dir_all(dir)?;
    write(&dir.join("root"), crontab)?;
    write(&dir.join("etc-crontab"), "")?;
    std::fs::create_dir_all(dir.join("cron.d"))?;
    let setup = format!(
        "set -e; mount -t tmpfs tmpfs /run; mount -t tmpfs tmpfs /var/spool/cron/crontabs; \
         mount --bind {d}/cron.d /etc/cron.d; mount --bind {d}/etc-crontab /etc/crontab; \
         install -m 600 -o root {d}/root /var/spool/cron/crontabs/root; \
         exec /usr/sbin/cron -f -L 0",
        d = dir.display()
    );
    let child = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &setup])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("cron.log"))?)
        .spawn()
        .context("unshare (util-linux) to start cron in its own mount namespace")?;
    let mut guard = Guard(Some(child));
    // Up when the shell has become cron.
    let t0 = Instant::now();
    loop {
        if let Some(child) = guard.0.as_mut()
            && let Ok(Some(status)) = child.try_wait()
        {
            guard.0 = None;
            bail!(
                "cron exited at once ({status}; it needs root, Debian's cron package and \
                 mount namespaces): {}",
                std::fs::read_to_string(dir.join("cron.log")).unwrap_or_default()
            );
        }
        let comm =
            std::fs::read_to_string(format!("/proc/{}/comm", guard.pid())).unwrap_or_default();
        if comm.trim() == "cron" {
            return Ok(guard);
        }
        if t0.elapsed() > Duration::from_secs(10) {
            bail!("cron did not start within 10 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Stamps in microseconds since the epoch (`date +%s%6N`, one a line) as lateness past the
/// start of their period.
fn late_from_stamps(text: &str, period_us: u64) -> Vec<u64> {
    text.lines()
        .filter_map(|l| l.trim().parse::<u64>().ok())
        .map(|us| us % period_us)
        .collect()
}

fn start_tcs(tcs: &Path, args: &[&str], out: &Path) -> Result<Guard> {
    let child = Command::new(tcs)
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(out)?)
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", tcs.display()))?;
    let guard = Guard(Some(child));
    let t0 = Instant::now();
    while !std::fs::read_to_string(out)
        .unwrap_or_default()
        .contains("ready")
    {
        if t0.elapsed() > Duration::from_secs(30) {
            bail!("tcs-baseline did not get ready");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(guard)
}

fn idle_of(pid: u32, before: u64, loop_wakeups: Option<u64>) -> Idle {
    let (after, threads) = switches(pid);
    Idle {
        rss_kb: status_field(pid, "VmRSS").unwrap_or(0),
        switches: after.saturating_sub(before),
        threads,
        loop_wakeups,
    }
}

fn wakeups(tend: &Path, home: &Path) -> Option<u64> {
    tend_status(tend, home)?["daemon"]["wakeups"].as_u64()
}

/// Everything, in one window of `window` (idle and lateness at the same time).
pub fn run(programs: &Programs, window: Duration) -> Result<Report> {
    let dir = tempfile::tempdir()?;
    let root = dir.path();
    // Idle schedulers.
    let idle_home = root.join("tend-idle");
    tend_idle_home(&idle_home)?;
    let mut tend_idle = start_tend(&programs.tend, &idle_home)?;
    let idle_lines: String = (0..IDLE_JOBS)
        .map(|i| {
            let (m, h) = yearly(i);
            format!("{m} {h} 1 1 * true\n")
        })
        .collect();
    let mut cron_idle = start_cron(&root.join("cron-idle"), &idle_lines);
    let mut tcs_idle = start_tcs(
        &programs.tcs,
        &["idle", &IDLE_JOBS.to_string()],
        &root.join("tcs-idle.out"),
    )?;
    let mut sleep = Guard(Some(
        Command::new("sleep")
            .arg("100000")
            .stdin(Stdio::null())
            .spawn()?,
    ));
    // Busy schedulers.
    let busy_home = root.join("tend-busy");
    tend_busy_home(&busy_home)?;
    let mut tend_busy = start_tend(&programs.tend, &busy_home)?;
    let stamps = root.join("cron-fires");
    let busy_lines: String = (0..5)
        .map(|_| format!("* * * * * date +\\%s\\%6N >> {}\n", stamps.display()))
        .collect();
    let mut cron_busy = start_cron(&root.join("cron-busy"), &busy_lines);
    let tcs_out = root.join("tcs-tick.out");
    let mut tcs_busy = start_tcs(&programs.tcs, &["tick"], &tcs_out)?;

    // Settle: start-up work (1,000 files, the store) is done.
    std::thread::sleep(Duration::from_secs(3));
    let wake_before = wakeups(&programs.tend, &idle_home);
    let tend_before = switches(tend_idle.pid()).0;
    let cron_before = cron_idle.as_ref().map(|g| switches(g.pid()).0).unwrap_or(0);
    let tcs_before = switches(tcs_idle.pid()).0;
    let sleep_before = switches(sleep.pid()).0;
    std::thread::sleep(window);
    let tend_switch_after = switches(tend_idle.pid()).0;
    let wake_after = wakeups(&programs.tend, &idle_home);
    let mut tend = idle_of(tend_idle.pid(), tend_before, None);
    tend.switches = tend_switch_after.saturating_sub(tend_before);
    // The status request before the window woke the loop once itself.
    tend.loop_wakeups = match (wake_before, wake_after) {
        (Some(b), Some(a)) => Some(a.saturating_sub(b).saturating_sub(1)),
        _ => None,
    };
    let cron = match &cron_idle {
        Ok(g) => Ok(idle_of(g.pid(), cron_before, None)),
        Err(e) => Err(format!("{e:#}")),
    };
    let tcs = idle_of(tcs_idle.pid(), tcs_before, None);
    let sleep_idle = idle_of(sleep.pid(), sleep_before, None);

    tend_idle.stop();
    tend_busy.stop();
    tcs_idle.stop();
    tcs_busy.stop();
    sleep.stop();
    if let Ok(g) = cron_idle.as_mut() {
        g.stop();
    }
    if let Ok(g) = cron_busy.as_mut() {
        g.stop();
    }
    let tend_late = Lateness {
        seconds: tend_lateness(&busy_home, "second")?,
        minutes: tend_lateness(&busy_home, "minute")?,
    };
    let cron_late = match &cron_busy {
        Ok(_) => {
            let text = std::fs::read_to_string(&stamps).unwrap_or_default();
            Ok(Lateness {
                seconds: Vec::new(),
                minutes: late_from_stamps(&text, 60_000_000),
            })
        }
        Err(e) => Err(format!("{e:#}")),
    };
    let tcs_text = std::fs::read_to_string(&tcs_out).unwrap_or_default();
    let tcs_field = |kind: &str| -> Vec<u64> {
        tcs_text
            .lines()
            .filter_map(|l| l.strip_prefix(kind)?.trim().parse().ok())
            .collect()
    };
    Ok(Report {
        window,
        tend,
        cron,
        tcs,
        sleep: sleep_idle,
        tend_late,
        cron_late,
        tcs_late: Lateness {
            seconds: tcs_field("second "),
            minutes: tcs_field("minute "),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn cron_stamps_become_lateness_within_the_minute() {
        let text = "1795636800001234\n1795636860000500\nnot a number\n";
        assert_eq!(late_from_stamps(text, 60_000_000), vec![1234, 500]);
    }

    #[test]
    fn idle_jobs_spread_over_minutes_and_hours() {
        assert_eq!(yearly(0), (0, 0));
        assert_eq!(yearly(61), (1, 13));
    }
}

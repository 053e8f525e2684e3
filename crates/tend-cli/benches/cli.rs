//! Wall time of whole `tend` commands, as a user feels it: `tend --version`, and `tend list`
//! over 1,000 and 10,000 task files.
//!
//! Every figure is printed next to a baseline measured in the same run, on the same machine:
//! spawning `/bin/true` (the floor for any process) and `cat` over every task file (the floor for
//! reading them). Each command and its baseline take turns, so a machine busy with other work
//! slows both alike. Targets: `tend list` with 1,000 tasks under 20 ms, `tend --version` under
//! 5 ms.
//!
//! Run: `cargo bench -p tend-cli --bench cli`

// A benchmark is test code: a failed setup step should stop it loudly.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TEND: &str = env!("CARGO_BIN_EXE_tend");

/// Schedules spread over the kinds a real task folder holds.
const SCHEDULES: [&str; 8] = [
    "0 */4 * * *",
    "*/15 * * * *",
    "0 9 * * 1-5",
    "every 30m",
    "@daily",
    "30 2 * * *",
    "0 12 * * 5#3",
    "manual",
];
const ZONES: [&str; 4] = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"];

fn main() {
    let (tend_version, true_spawn) = measure_pair(
        200,
        || run(Command::new(TEND).arg("--version")),
        || run(&mut Command::new("/bin/true")),
    );
    println!("spawn /bin/true (baseline)     {}", fmt_stats(&true_spawn));
    println!(
        "tend --version                 {}  ratio {:.2}x baseline  target < 5 ms",
        fmt_stats(&tend_version),
        ratio(&tend_version, &true_spawn)
    );

    for count in [1_000usize, 10_000] {
        let dir = tempdir();
        let project = dir.join("repo");
        let home = dir.join("home");
        let files = write_tasks(&project, count);
        let iterations = if count > 5_000 { 10 } else { 30 };
        let list = |cmd: &mut Command| {
            cmd.arg("list")
                .current_dir(&project)
                .env("TEND_HOME", &home)
                .env("TZ", "UTC");
        };
        // The first `list` registers every task in the store; a user sees that cost once.
        let first = measure(1, || {
            let mut cmd = Command::new(TEND);
            list(&mut cmd);
            run(&mut cmd)
        });
        let (timed, cat) = measure_pair(
            iterations,
            || {
                let mut cmd = Command::new(TEND);
                list(&mut cmd);
                run(&mut cmd)
            },
            || {
                let mut cmd = Command::new("cat");
                cmd.args(&files);
                run(&mut cmd)
            },
        );
        println!("cat {count} task files (baseline) {}", fmt_stats(&cat));
        println!(
            "tend list, {count} tasks, first   {:.2} ms (registers every task)",
            ms(first[0])
        );
        println!(
            "tend list, {count} tasks          {}  ratio {:.2}x cat{}",
            fmt_stats(&timed),
            ratio(&timed, &cat),
            if count == 1_000 {
                "  target < 20 ms"
            } else {
                ""
            }
        );
        let _ = fs::remove_dir_all(&dir);
    }
}

fn write_tasks(project: &Path, count: usize) -> Vec<PathBuf> {
    let tasks = project.join(".tend/tasks");
    fs::create_dir_all(&tasks).unwrap();
    (0..count)
        .map(|i| {
            let path = tasks.join(format!("task-{i:05}.md"));
            let text = format!(
                "+++\ndescription = \"benchmark task {i}\"\nschedule = \"{}\"\ntimezone = \"{}\"\n\
                 mode = \"propose\"\ntimeout = \"20m\"\n\n[permissions]\nallow = [\"bash(cargo test *)\"]\n+++\n\
                 Look at the new errors and propose a fix.\n",
                SCHEDULES[i % SCHEDULES.len()],
                ZONES[i % ZONES.len()]
            );
            fs::write(&path, text).unwrap();
            path
        })
        .collect()
}

fn run(cmd: &mut Command) -> Duration {
    let start = Instant::now();
    let status = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    let elapsed = start.elapsed();
    assert!(status.success(), "{cmd:?} failed: {status}");
    elapsed
}

fn measure(iterations: usize, mut f: impl FnMut() -> Duration) -> Vec<Duration> {
    let mut samples: Vec<Duration> = (0..iterations).map(|_| f()).collect();
    samples.sort();
    samples
}

/// Runs `a` and `b` in turns, `iterations` times each, after one unmeasured warm-up of each.
fn measure_pair(
    iterations: usize,
    mut a: impl FnMut() -> Duration,
    mut b: impl FnMut() -> Duration,
) -> (Vec<Duration>, Vec<Duration>) {
    a();
    b();
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for _ in 0..iterations {
        xs.push(a());
        ys.push(b());
    }
    xs.sort();
    ys.sort();
    (xs, ys)
}

fn median(samples: &[Duration]) -> Duration {
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn ratio(a: &[Duration], b: &[Duration]) -> f64 {
    ms(median(a)) / ms(median(b))
}

fn fmt_stats(samples: &[Duration]) -> String {
    let p90 = samples[(samples.len() * 9 / 10).min(samples.len() - 1)];
    format!(
        "median {:>8.2} ms  min {:>8.2} ms  p90 {:>8.2} ms  (n={})",
        ms(median(samples)),
        ms(samples[0]),
        ms(p90),
        samples.len()
    )
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tend-bench-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    dir
}

//! One measurement of a run's disk use (what the disk budget's watch does every poll) on a
//! worktree of 20,000 files in 400 folders, with `du` for comparison.
//!
//! `cargo bench -p tend-tools --bench disk`. Prints the median of several scans. The watch
//! spaces its scans to at least ten times the time one takes, so this is also a tenth of the
//! shortest interval between two scans of such a worktree.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tend_tools::disk_usage;

const DIRS: usize = 400;
const FILES_PER_DIR: usize = 50;
const RUNS: usize = 9;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("wt");
    for d in 0..DIRS {
        let sub = root.join(format!("src/mod{}/part{d}", d % 20));
        fs::create_dir_all(&sub).unwrap();
        for f in 0..FILES_PER_DIR {
            fs::write(
                sub.join(format!("file{f}.rs")),
                "fn main() {}\n".repeat(f % 40 + 1),
            )
            .unwrap();
        }
    }
    let files = DIRS * FILES_PER_DIR;
    // Warm the cache like a worktree in use would be.
    let bytes = disk_usage(&[root.as_path()]);
    let scans: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let again = disk_usage(&[root.as_path()]);
            let took = start.elapsed();
            assert_eq!(again, bytes);
            took
        })
        .collect();
    println!(
        "disk_usage: {files} files, {bytes} bytes allocated: median {:?} per scan",
        median(scans)
    );
    let du: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let status = Command::new("du")
                .arg("-s")
                .arg(&root)
                .stdout(Stdio::null())
                .status()
                .unwrap();
            assert!(status.success());
            start.elapsed()
        })
        .collect();
    println!("du -s:      median {:?} per scan", median(du));
}

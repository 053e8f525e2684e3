//! What a process (and the processes it starts) costs, read from `/proc`: wall time, peak
//! resident memory, context switches. A measured command is sampled every few milliseconds
//! while it runs, so no `time` binary or rusage call is needed.

use std::collections::BTreeMap;
use std::process::{Child, Command, ExitStatus};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How often a running command's process tree is read.
const SAMPLE_EVERY: Duration = Duration::from_millis(5);

/// A field of `/proc/PID/status` in kB (or a plain count), if the process is there.
pub fn status_field(pid: u32, name: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(':'))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// The pids of `pid`'s children (of all its threads).
fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            out.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    out
}

/// `pid` and everything below it.
pub fn tree(pid: u32) -> Vec<u32> {
    let mut all = vec![pid];
    let mut i = 0;
    while i < all.len() {
        let kids = children(all[i]);
        all.extend(kids);
        i += 1;
    }
    all
}

/// Context switches (voluntary and not) of every thread of `pid`, and how many threads.
pub fn switches(pid: u32) -> (u64, usize) {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return (0, 0);
    };
    let mut total = 0;
    let mut threads = 0;
    for task in tasks.flatten() {
        let Ok(status) = std::fs::read_to_string(task.path().join("status")) else {
            continue;
        };
        threads += 1;
        total += status
            .lines()
            .filter(|l| {
                l.starts_with("voluntary_ctxt_switches:")
                    || l.starts_with("nonvoluntary_ctxt_switches:")
            })
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum::<u64>();
    }
    (total, threads)
}

/// What one command cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Usage {
    pub status: ExitStatus,
    pub wall: Duration,
    /// The command's own process: its VmHWM as last read before it ended.
    pub peak_rss_kb: u64,
    /// The whole tree (the command and every process it started): the largest sum of VmRSS
    /// seen in one sample.
    pub peak_tree_rss_kb: u64,
    /// The largest VmHWM of any one process of the tree.
    pub peak_any_kb: u64,
    pub processes_seen: usize,
}

/// Runs `cmd`, sampling its process tree until it ends.
pub fn measure(cmd: &mut Command) -> std::io::Result<Usage> {
    let start = Instant::now();
    let child = cmd.spawn()?;
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let mut child: Child = child;
        let status = child.wait();
        let _ = tx.send(Instant::now());
        status
    });
    let mut hwm: BTreeMap<u32, u64> = BTreeMap::new();
    let mut peak_tree = 0;
    let ended = loop {
        let mut sum = 0;
        for p in tree(pid) {
            if let Some(rss) = status_field(p, "VmRSS") {
                sum += rss;
            }
            if let Some(h) = status_field(p, "VmHWM") {
                let e = hwm.entry(p).or_insert(0);
                *e = (*e).max(h);
            }
        }
        peak_tree = peak_tree.max(sum);
        match rx.recv_timeout(SAMPLE_EVERY) {
            Ok(at) => break at,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break Instant::now(),
        }
    };
    let status = waiter
        .join()
        .map_err(|_| std::io::Error::other("the waiting thread panicked"))??;
    Ok(Usage {
        status,
        wall: ended - start,
        peak_rss_kb: hwm.get(&pid).copied().unwrap_or(0),
        peak_tree_rss_kb: peak_tree,
        peak_any_kb: hwm.values().copied().max().unwrap_or(0),
        processes_seen: hwm.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shell_and_its_child_are_seen() {
        let usage = measure(Command::new("sh").args(["-c", "sleep 0.2; true"])).unwrap();
        assert!(usage.status.success());
        assert!(usage.wall >= Duration::from_millis(200), "{usage:?}");
        assert!(usage.processes_seen >= 2, "{usage:?}");
        assert!(usage.peak_rss_kb > 0 && usage.peak_tree_rss_kb >= usage.peak_rss_kb);
    }

    #[test]
    fn this_process_has_threads_and_memory() {
        let me = std::process::id();
        assert!(status_field(me, "VmRSS").unwrap() > 0);
        assert!(switches(me).1 >= 1);
        assert_eq!(tree(me)[0], me);
    }
}

//! A pids cgroup per command, where tend may make one: a hard cap on the command's processes
//! that also holds for root (whom `RLIMIT_NPROC` does not bind), and a way to find and kill
//! every process the command left, wherever it went.
//!
//! The command's first process joins the cgroup itself (the helper's `--join-cgroup`), so every
//! process it starts is inside from the start.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// One command's cgroup; removed (its processes killed first) when dropped.
#[derive(Debug)]
pub struct PidsCgroup {
    dir: PathBuf,
}

impl PidsCgroup {
    /// Makes a cgroup beside this process's own in a hierarchy with the pids controller, with
    /// `pids.max = max`.
    pub fn create(max: u64) -> io::Result<PidsCgroup> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let parent = pids_parent()?;
        let name = format!(
            "tend-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let dir = parent.join(name);
        fs::create_dir(&dir)?;
        let cgroup = PidsCgroup { dir };
        fs::write(cgroup.dir.join("pids.max"), max.to_string())?;
        Ok(cgroup)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Processes in the cgroup now.
    pub fn pids(&self) -> Vec<i32> {
        fs::read_to_string(self.dir.join("cgroup.procs"))
            .map(|text| text.lines().filter_map(|l| l.trim().parse().ok()).collect())
            .unwrap_or_default()
    }

    /// SIGKILLs everything in the cgroup until it is empty (a fork racing the kill is caught
    /// on the next round), for at most a second.
    pub fn kill_all(&self) {
        let deadline = Instant::now() + Duration::from_secs(1);
        loop {
            let pids = self.pids();
            if pids.is_empty() || Instant::now() > deadline {
                return;
            }
            for pid in pids {
                if let Some(pid) = rustix::process::Pid::from_raw(pid) {
                    let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for PidsCgroup {
    fn drop(&mut self) {
        self.kill_all();
        // A killed process leaves the cgroup as it exits; give the last ones a moment.
        let deadline = Instant::now() + Duration::from_secs(1);
        while fs::remove_dir(&self.dir).is_err() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// The directory of this process's own cgroup in a hierarchy that has the pids controller:
/// cgroup v1's `pids` hierarchy, or cgroup v2 where this cgroup delegates `pids` to children.
fn pids_parent() -> io::Result<PathBuf> {
    let cgroups = fs::read_to_string("/proc/self/cgroup")?;
    let mounts = fs::read_to_string("/proc/self/mountinfo")?;
    let unavailable = |why: &str| io::Error::new(io::ErrorKind::Unsupported, why.to_owned());
    for line in cgroups.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if controllers.split(',').any(|c| c == "pids") {
            if let Some(dir) = mount_for(&mounts, |fstype, opts| {
                fstype == "cgroup" && opts.split(',').any(|o| o == "pids")
            })
            .and_then(|(root, point)| join_under(&root, &point, path))
            {
                return Ok(dir);
            }
        } else if id == "0" && controllers.is_empty() {
            let Some(dir) = mount_for(&mounts, |fstype, _| fstype == "cgroup2")
                .and_then(|(root, point)| join_under(&root, &point, path))
            else {
                continue;
            };
            let delegated = fs::read_to_string(dir.join("cgroup.subtree_control"))
                .is_ok_and(|c| c.split_whitespace().any(|c| c == "pids"));
            if delegated {
                return Ok(dir);
            }
        }
    }
    Err(unavailable(
        "no cgroup hierarchy with the pids controller that tend may use",
    ))
}

/// `(root, mount point)` of the first mount whose file-system type and super options match.
fn mount_for(mounts: &str, matches: impl Fn(&str, &str) -> bool) -> Option<(String, PathBuf)> {
    mounts.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let fields: Vec<&str> = left.split(' ').collect();
        let mut right = right.split(' ');
        let fstype = right.next()?;
        let _source = right.next()?;
        let opts = right.next().unwrap_or("");
        (fields.len() >= 5 && matches(fstype, opts))
            .then(|| (fields[3].to_owned(), PathBuf::from(fields[4])))
    })
}

/// The cgroup `path` (relative to the hierarchy's root) as a directory under a mount of
/// `root` at `point`.
fn join_under(root: &str, point: &Path, path: &str) -> Option<PathBuf> {
    let rel = Path::new(path).strip_prefix(root).ok()?;
    Some(point.join(rel))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    const MOUNTS: &str = "\
30 24 0:26 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory
35 24 0:31 / /sys/fs/cgroup/pids rw,relatime shared:14 - cgroup cgroup rw,pids
37 24 0:33 /ctr /sys/fs/cgroup/unified rw,relatime shared:16 - cgroup2 cgroup2 rw
";

    #[test]
    fn finds_mounts_by_type_and_controller() {
        assert_eq!(
            mount_for(MOUNTS, |t, o| t == "cgroup"
                && o.split(',').any(|o| o == "pids")),
            Some(("/".to_owned(), PathBuf::from("/sys/fs/cgroup/pids")))
        );
        assert_eq!(
            mount_for(MOUNTS, |t, _| t == "cgroup2"),
            Some(("/ctr".to_owned(), PathBuf::from("/sys/fs/cgroup/unified")))
        );
        assert_eq!(mount_for(MOUNTS, |t, _| t == "tmpfs"), None);
    }

    #[test]
    fn cgroup_paths_are_relative_to_the_mounted_root() {
        assert_eq!(
            join_under("/", Path::new("/sys/fs/cgroup/pids"), "/user.slice"),
            Some(PathBuf::from("/sys/fs/cgroup/pids/user.slice"))
        );
        assert_eq!(
            join_under("/ctr", Path::new("/sys/fs/cgroup/unified"), "/ctr/app"),
            Some(PathBuf::from("/sys/fs/cgroup/unified/app"))
        );
        assert_eq!(join_under("/ctr", Path::new("/m"), "/elsewhere"), None);
    }
}

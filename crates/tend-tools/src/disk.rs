//! A run's disk budget (`[sandbox] max_disk`): what its private tmp holds plus what its
//! worktree grew by since the run started. Usage is allocated blocks (`st_blocks * 512`), so a
//! sparse file counts what it really takes, and a file with several hard links counts once.
//!
//! The shell tool measures before a command, watches while it runs and measures after it; the
//! file tools check a write before making it. Measuring is a walk of the two trees (one
//! `readdir` per folder, one `fstatat` per entry, no reads), see [`usage`].

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use tend_config::Size;

/// With less than this left, the budget counts as used up: the per-file size cap a command
/// gets stops a single file a few blocks short of the budget, and that is the budget reached.
const USED_UP_MARGIN: u64 = 64 * 1024;

/// What a run's budget covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskScope {
    /// The private tmp and the worktree's growth (a run in a worktree or a scratch folder).
    TmpAndWorktree,
    /// Only the private tmp: the root is the user's own folder, read-only to the run.
    TmpOnly,
}

/// The budget of one run and the worktree usage it started from.
#[derive(Debug, Clone)]
pub struct DiskBudget {
    max: Size,
    /// Folders measured, none inside another.
    roots: Vec<PathBuf>,
    /// Usage of the counted worktree when the budget was set (the run's start).
    baseline: u64,
}

impl DiskBudget {
    /// A budget of `max` over `tmp` and (by `scope`) the growth of `worktree` from now on.
    /// Measures the worktree, so it takes as long as one scan.
    pub fn new(max: Size, tmp: &Path, worktree: &Path, scope: DiskScope) -> DiskBudget {
        let (roots, baseline) = match scope {
            DiskScope::TmpOnly => (vec![tmp.to_path_buf()], 0),
            DiskScope::TmpAndWorktree if tmp.starts_with(worktree) => {
                (vec![worktree.to_path_buf()], usage(&[worktree]))
            }
            DiskScope::TmpAndWorktree => (
                vec![tmp.to_path_buf(), worktree.to_path_buf()],
                usage(&[worktree]),
            ),
        };
        DiskBudget {
            max,
            roots,
            baseline,
        }
    }

    pub fn max(&self) -> Size {
        self.max
    }

    /// Bytes the run uses now: its tmp plus its worktree's growth. Blocking (a scan).
    pub fn used(&self) -> u64 {
        let roots: Vec<&Path> = self.roots.iter().map(PathBuf::as_path).collect();
        usage(&roots).saturating_sub(self.baseline)
    }

    /// Bytes left before the budget is used up (0 when it is).
    pub fn remaining(&self, used: u64) -> u64 {
        self.max.bytes().saturating_sub(used)
    }

    pub fn is_used_up(&self, used: u64) -> bool {
        self.remaining(used) < USED_UP_MARGIN.min(self.max.bytes()) || self.remaining(used) == 0
    }

    /// Whether `more` bytes fit on top of `used`.
    pub fn fits(&self, used: u64, more: u64) -> bool {
        more <= self.remaining(used)
    }

    /// "the run's disk budget ([sandbox] max_disk = 1GB) is used up: 1.0 GB in its tmp and
    /// worktree"
    pub fn used_up_message(&self, used: u64) -> String {
        format!(
            "the run's disk budget ([sandbox] max_disk = {}) is used up: {} in its tmp and \
             worktree",
            self.max,
            human_bytes(used)
        )
    }
}

impl DiskBudget {
    /// Refuses a file write that would take the run past its budget: `bytes` replacing the
    /// file at `path` (shown to the model as `shown`). Shrinking a file is always fine.
    pub(crate) fn check_write(&self, path: &Path, shown: &str, bytes: u64) -> Result<(), String> {
        let before = fs::symlink_metadata(path).map_or(0, |m| allocated(&m));
        let after = bytes.div_ceil(BLOCK) * BLOCK;
        let growth = after.saturating_sub(before);
        if growth == 0 {
            return Ok(());
        }
        let used = self.used();
        if self.fits(used, growth) && !self.is_used_up(used + growth) {
            return Ok(());
        }
        Err(format!(
            "{shown} was not written: {} more would pass the run's disk budget ([sandbox] \
             max_disk = {}), {} is used in its tmp and worktree; free space or raise max_disk",
            human_bytes(growth),
            self.max,
            human_bytes(used)
        ))
    }
}

/// The block size files are assumed to be allocated in, for a write not made yet.
const BLOCK: u64 = 4096;

/// Allocated bytes of everything under `roots` (the roots themselves included), not following
/// symbolic links, each inode with several links counted once. Entries that vanish or cannot
/// be read while walking are skipped: a measurement of a tree that is being written.
pub fn usage(roots: &[&Path]) -> u64 {
    let mut linked: HashSet<(u64, u64)> = HashSet::new();
    let mut total: u64 = 0;
    let mut folders: Vec<PathBuf> = Vec::new();
    let mut count = |meta: &fs::Metadata, total: &mut u64| {
        // Folders cannot be hard-linked; a file with one link cannot be met twice.
        let first = meta.is_dir() || link_id(meta).is_none_or(|id| linked.insert(id));
        if first {
            *total = total.saturating_add(allocated(meta));
        }
    };
    for root in roots {
        if let Ok(meta) = fs::symlink_metadata(root) {
            count(&meta, &mut total);
            if meta.is_dir() {
                folders.push(root.to_path_buf());
            }
        }
    }
    while let Some(folder) = folders.pop() {
        let Ok(entries) = fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            // `DirEntry::metadata` does not follow symbolic links (fstatat on the open folder).
            let Ok(meta) = entry.metadata() else {
                continue;
            };
            count(&meta, &mut total);
            if meta.is_dir() {
                folders.push(entry.path());
            }
        }
    }
    total
}

/// The bytes a file takes on disk.
#[cfg(unix)]
pub(crate) fn allocated(meta: &fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.blocks().saturating_mul(512)
}

#[cfg(not(unix))]
pub(crate) fn allocated(meta: &fs::Metadata) -> u64 {
    meta.len()
}

/// The inode of a file with more than one link (which may be met again under another name).
#[cfg(unix)]
fn link_id(meta: &fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    (meta.nlink() > 1).then(|| (meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn link_id(_: &fs::Metadata) -> Option<(u64, u64)> {
    None
}

/// `512 bytes`, `20.0 MB`, `1.0 GB` (decimal units, like sizes in task files).
pub(crate) fn human_bytes(n: u64) -> String {
    let units = [(1_000_000_000_u64, "GB"), (1_000_000, "MB"), (1_000, "KB")];
    for (factor, unit) in units {
        if n >= factor {
            // Display only: the precision of f64 is plenty for one decimal.
            #[allow(clippy::cast_precision_loss)]
            let value = n as f64 / factor as f64;
            return format!("{value:.1} {unit}");
        }
    }
    format!("{n} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use std::io::Write;

    const MB: u64 = 1_000_000;

    fn write(path: &Path, bytes: u64) {
        let mut f = fs::File::create(path).unwrap();
        let chunk = vec![7u8; 64 * 1024];
        let mut left = bytes;
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            f.write_all(&chunk[..n]).unwrap();
            left -= n as u64;
        }
        f.sync_all().unwrap();
    }

    /// (tmp, worktree) under one temp folder.
    fn dirs() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let top = tempfile::tempdir().unwrap();
        let tmp = top.path().join("tmp");
        let wt = top.path().join("wt");
        fs::create_dir(&tmp).unwrap();
        fs::create_dir(&wt).unwrap();
        (top, tmp, wt)
    }

    fn near(actual: u64, expected: u64) -> bool {
        // Folders and the last partial block: a few KiB either way.
        actual.abs_diff(expected) <= 64 * 1024
    }

    #[test]
    fn tmp_counts_whole_and_the_worktree_by_its_growth() {
        let (_top, tmp, wt) = dirs();
        write(&wt.join("checked-out.bin"), 3 * MB);
        let budget = DiskBudget::new(Size(20 * MB), &tmp, &wt, DiskScope::TmpAndWorktree);
        assert!(near(budget.used(), 0), "{}", budget.used());
        write(&tmp.join("scratch.bin"), 2 * MB);
        assert!(near(budget.used(), 2 * MB), "{}", budget.used());
        write(&wt.join("new.bin"), 5 * MB);
        assert!(near(budget.used(), 7 * MB), "{}", budget.used());
        assert!(!budget.is_used_up(budget.used()));
        assert!(budget.fits(budget.used(), 12 * MB));
        assert!(!budget.fits(budget.used(), 14 * MB));
    }

    #[test]
    fn a_file_with_several_links_counts_once() {
        let (_top, tmp, wt) = dirs();
        let budget = DiskBudget::new(Size(20 * MB), &tmp, &wt, DiskScope::TmpAndWorktree);
        write(&tmp.join("a.bin"), 4 * MB);
        fs::hard_link(tmp.join("a.bin"), tmp.join("b.bin")).unwrap();
        fs::hard_link(tmp.join("a.bin"), wt.join("c.bin")).unwrap();
        std::os::unix::fs::symlink(tmp.join("a.bin"), wt.join("d.bin")).unwrap();
        assert!(near(budget.used(), 4 * MB), "{}", budget.used());
    }

    #[test]
    fn deleting_a_file_frees_budget() {
        let (_top, tmp, wt) = dirs();
        let budget = DiskBudget::new(Size(10 * MB), &tmp, &wt, DiskScope::TmpAndWorktree);
        write(&wt.join("big.bin"), 10 * MB);
        assert!(budget.is_used_up(budget.used()), "{}", budget.used());
        fs::remove_file(wt.join("big.bin")).unwrap();
        assert!(near(budget.used(), 0), "{}", budget.used());
        assert!(!budget.is_used_up(budget.used()));
        // Shrinking what the worktree started with frees nothing below zero.
        assert_eq!(budget.remaining(0), 10 * MB);
    }

    #[test]
    fn a_sparse_file_counts_what_it_takes() {
        let (_top, tmp, wt) = dirs();
        let budget = DiskBudget::new(Size(10 * MB), &tmp, &wt, DiskScope::TmpAndWorktree);
        let f = fs::File::create(tmp.join("sparse")).unwrap();
        f.set_len(50 * MB).unwrap();
        assert!(near(budget.used(), 0), "{}", budget.used());
    }

    #[test]
    fn tmp_only_ignores_the_root() {
        let (_top, tmp, wt) = dirs();
        let budget = DiskBudget::new(Size(10 * MB), &tmp, &wt, DiskScope::TmpOnly);
        write(&wt.join("big.bin"), 3 * MB);
        write(&tmp.join("t.bin"), MB);
        assert!(near(budget.used(), MB), "{}", budget.used());
    }

    #[test]
    fn a_tmp_inside_the_worktree_is_counted_once() {
        let top = tempfile::tempdir().unwrap();
        let wt = top.path().to_path_buf();
        let tmp = wt.join("tmp");
        fs::create_dir(&tmp).unwrap();
        let budget = DiskBudget::new(Size(10 * MB), &tmp, &wt, DiskScope::TmpAndWorktree);
        write(&tmp.join("t.bin"), 2 * MB);
        assert!(near(budget.used(), 2 * MB), "{}", budget.used());
    }

    #[test]
    fn messages_name_the_budget_and_the_use() {
        let (_top, tmp, wt) = dirs();
        let budget = DiskBudget::new(Size(1_000_000_000), &tmp, &wt, DiskScope::TmpOnly);
        assert_eq!(
            budget.used_up_message(1_000_400_000),
            "the run's disk budget ([sandbox] max_disk = 1GB) is used up: 1.0 GB in its tmp \
             and worktree"
        );
        assert_eq!(human_bytes(20_971_520), "21.0 MB");
        assert_eq!(human_bytes(512), "512 bytes");
    }
}

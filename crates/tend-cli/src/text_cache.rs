//! A cache of task files' texts, keyed by what `stat` says of each file, so that a command
//! over a thousand tasks reads one file instead of a thousand (on a virtual disk, opening and
//! reading many small files costs several times more than a `stat` of each).
//!
//! The texts are parsed and validated on every command as before: the cache only replaces the
//! reading, never the checking. An entry is trusted when the file's modification time, change
//! time, size and inode are those recorded, and the file was last modified well before the cache
//! was written (git's "racy clean" rule: a file changed within the same tick as the cache write
//! could differ with an equal timestamp, so such entries are read again).

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// Bumped when the file format changes; another version is ignored (and rewritten).
const VERSION: u32 = 1;
/// A file modified this close to (or after) the cache write is read again.
const RACY_NANOS: i128 = 2_000_000_000;

/// What `stat` says of a file, as far as telling a change goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    mtime_ns: i128,
    ctime_ns: i128,
    size: u64,
    ino: u64,
}

impl Stamp {
    pub fn of(meta: &std::fs::Metadata) -> Stamp {
        Stamp {
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            ctime_ns: i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
            size: meta.size(),
            ino: meta.ino(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    stamp: Stamp,
    text: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Stored {
    version: u32,
    /// When the cache was written, in nanoseconds since the epoch.
    written_ns: i128,
    entries: HashMap<PathBuf, Entry>,
}

/// The cache for one command: read once, consulted from many threads, written back at the end
/// if anything changed.
pub struct TextCache {
    path: PathBuf,
    written_ns: i128,
    old: HashMap<PathBuf, Entry>,
    /// What this command saw: the next cache.
    seen: Mutex<HashMap<PathBuf, Entry>>,
}

impl TextCache {
    /// Loads the cache at `path`; a missing, unreadable or other-version file is an empty cache
    /// (the cache can always be rebuilt from the files).
    pub fn open(path: &Path) -> TextCache {
        let stored = std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Stored>(&bytes).ok())
            .filter(|s| s.version == VERSION)
            .unwrap_or_default();
        TextCache {
            path: path.to_path_buf(),
            written_ns: stored.written_ns,
            old: stored.entries,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// The text of the task file at `path`: from the cache when its stamp matches, else read.
    pub fn read(&self, path: &Path) -> std::io::Result<String> {
        let meta = std::fs::metadata(path)?;
        let stamp = Stamp::of(&meta);
        let cached = self
            .old
            .get(path)
            .filter(|e| e.stamp == stamp && stamp.mtime_ns < self.written_ns - RACY_NANOS);
        let text = match cached {
            Some(entry) => entry.text.clone(),
            None => std::fs::read_to_string(path)?,
        };
        if let Ok(mut seen) = self.seen.lock() {
            seen.insert(
                path.to_path_buf(),
                Entry {
                    stamp,
                    text: text.clone(),
                },
            );
        }
        Ok(text)
    }

    /// Writes the cache back when what this command saw differs from what was stored, or when
    /// entries were too fresh to trust. Failing to write only costs speed next time.
    pub fn save(self, now_ns: i128) {
        let Ok(seen) = self.seen.into_inner() else {
            return;
        };
        let fresh = seen
            .values()
            .any(|e| e.stamp.mtime_ns >= self.written_ns - RACY_NANOS);
        if seen == self.old && !fresh {
            return;
        }
        let stored = Stored {
            version: VERSION,
            written_ns: now_ns,
            entries: seen,
        };
        let Ok(bytes) = serde_json::to_vec(&stored) else {
            return;
        };
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let tmp = self
            .path
            .with_extension(format!("tmp-{}", std::process::id()));
        if std::fs::write(&tmp, bytes).is_ok() && std::fs::rename(&tmp, &self.path).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

/// Now, in nanoseconds since the epoch, by the file system's clock (the one mtimes use).
pub fn now_ns() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i128::try_from(d.as_nanos()).unwrap_or(i128::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn serves_unchanged_files_from_the_cache_and_rereads_changed_ones() {
        let dir = tempfile::tempdir().unwrap();
        let cache_path = dir.path().join("cache/texts.json");
        let file = dir.path().join("a.md");
        std::fs::write(&file, "one").unwrap();
        let cache = TextCache::open(&cache_path);
        assert_eq!(cache.read(&file).unwrap(), "one");
        // Written "later" than the file by more than the racy window.
        cache.save(now_ns() + 10 * RACY_NANOS);

        // The cache now answers without the file's contents: prove it by a cache entry that
        // says something else for the same stamp.
        let mut stored: Stored =
            serde_json::from_slice(&std::fs::read(&cache_path).unwrap()).unwrap();
        stored.entries.get_mut(&file).unwrap().text = "from cache".into();
        std::fs::write(&cache_path, serde_json::to_vec(&stored).unwrap()).unwrap();
        let cache = TextCache::open(&cache_path);
        assert_eq!(cache.read(&file).unwrap(), "from cache");

        // A change of size (any change of stamp) is read from the file again.
        std::fs::write(&file, "two!").unwrap();
        let cache = TextCache::open(&cache_path);
        assert_eq!(cache.read(&file).unwrap(), "two!");
    }

    #[test]
    fn fresh_files_are_not_trusted_and_a_broken_cache_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cache_path = dir.path().join("texts.json");
        let file = dir.path().join("a.md");
        std::fs::write(&file, "one").unwrap();
        let cache = TextCache::open(&cache_path);
        cache.read(&file).unwrap();
        // Written at the same moment the file was: racy.
        cache.save(now_ns());
        let mut stored: Stored =
            serde_json::from_slice(&std::fs::read(&cache_path).unwrap()).unwrap();
        stored.entries.get_mut(&file).unwrap().text = "stale".into();
        std::fs::write(&cache_path, serde_json::to_vec(&stored).unwrap()).unwrap();
        assert_eq!(TextCache::open(&cache_path).read(&file).unwrap(), "one");

        std::fs::write(&cache_path, b"not json").unwrap();
        assert_eq!(TextCache::open(&cache_path).read(&file).unwrap(), "one");
    }
}

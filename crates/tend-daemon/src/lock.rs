//! One daemon per tend home: an exclusive lock on `<state>/daemon.lock`, held for the daemon's
//! whole life and released by the kernel when the process ends, however it ends. The file
//! holds the daemon's pid for messages; the lock, not the file's existence, is what counts.
//! A daemon that stops cleanly empties the file, so a pid found in it by the next daemon means
//! the last one did not (killed, crashed, the machine lost power).

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The held lock; dropping it releases it.
#[derive(Debug)]
pub struct DaemonLock {
    file: File,
    pub path: PathBuf,
    /// How the daemon before this one ended.
    pub previous: PreviousStop,
}

/// How the last daemon of this tend home ended, as its lock file tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreviousStop {
    /// It stopped cleanly, or there was none.
    Clean,
    /// It left its pid behind: killed, crashed, or the machine went down under it.
    Unclean { pid: u32 },
}

impl DaemonLock {
    /// A clean stop: empties the file (so the next daemon knows) and releases the lock.
    pub fn release(self) -> std::io::Result<()> {
        self.file.set_len(0)?;
        self.file.sync_all()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another tend daemon is running for this tend home{}; stop it first (`tend status` shows it)", pid_note(*.pid))]
    Held { pid: Option<u32> },
    #[error("cannot use the lock file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn pid_note(pid: Option<u32>) -> String {
    pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
}

/// The lock file of a state folder.
pub fn lock_path(state_dir: &Path) -> PathBuf {
    state_dir.join("daemon.lock")
}

/// Takes the lock, or says who holds it.
pub fn acquire(state_dir: &Path) -> Result<DaemonLock, LockError> {
    let path = lock_path(state_dir);
    let io = |source| LockError::Io {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(state_dir).map_err(io)?;
    let mut file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            return Err(LockError::Held {
                pid: read_pid(&mut file),
            });
        }
        Err(TryLockError::Error(e)) => return Err(io(e)),
    }
    let previous = match read_pid(&mut file) {
        Some(pid) => PreviousStop::Unclean { pid },
        None => PreviousStop::Clean,
    };
    file.set_len(0).map_err(io)?;
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    writeln!(file, "{}", std::process::id()).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(DaemonLock {
        file,
        path,
        previous,
    })
}

/// Who holds the lock of `state_dir`: `Some(pid)` (pid 0 when unreadable) while a daemon holds
/// it, `None` when nobody does.
pub fn holder(state_dir: &Path) -> Option<u32> {
    let path = lock_path(state_dir);
    let mut file = File::options().read(true).write(true).open(path).ok()?;
    match file.try_lock() {
        // Nobody held it: let go at once (dropping the file releases the lock).
        Ok(()) => None,
        Err(TryLockError::WouldBlock) => Some(read_pid(&mut file).unwrap_or(0)),
        Err(TryLockError::Error(_)) => None,
    }
}

fn read_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn one_holder_at_a_time_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(holder(dir.path()), None);
        let lock = acquire(dir.path()).unwrap();
        assert_eq!(holder(dir.path()), Some(std::process::id()));
        match acquire(dir.path()) {
            Err(LockError::Held { pid }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected Held, got {other:?}"),
        }
        drop(lock);
        assert_eq!(holder(dir.path()), None);
        // Dropped without `release`: as if the daemon had been killed.
        let again = acquire(dir.path()).unwrap();
        assert_eq!(again.path, lock_path(dir.path()));
        assert_eq!(
            again.previous,
            PreviousStop::Unclean {
                pid: std::process::id()
            }
        );
        again.release().unwrap();
        let clean = acquire(dir.path()).unwrap();
        assert_eq!(clean.previous, PreviousStop::Clean);
    }
}

//! The store's folder and file are the owner's alone, whatever the umask: other local users
//! must not read runs, transcripts' summaries or approvals from `tend.db`.

use std::fs::{DirBuilder, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

const DIR_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;

/// Creates `dir` and missing parents 0700 (an existing folder is left as it is; tend-config's
/// `Paths` tightens tend's own roots).
pub(crate) fn create_dir(dir: &Path) -> std::io::Result<()> {
    DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)
}

/// Creates an empty `path` 0600 unless it exists. SQLite turns an empty file into a database
/// and creates its `-wal`/`-shm` files with this file's mode.
pub(crate) fn create_file(path: &Path) -> std::io::Result<()> {
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

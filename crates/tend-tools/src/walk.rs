//! The directory walker `glob` and `grep` share: ripgrep's, with one difference in defaults.

use std::path::{Path, PathBuf};

use ignore::WalkBuilder;

use crate::confine::is_git_dir_name;

/// Respects `.gitignore` (also outside a git repository: the workspace root is the boundary),
/// `.ignore` and git's excludes; includes hidden files (`.github/` matters to an agent) but never
/// enters `.git` or a path hidden by `deny_read`; does not follow symbolic links, so nothing
/// outside the workspace is read.
pub(crate) fn walker(dir: &Path, deny_read: &[PathBuf]) -> WalkBuilder {
    let mut builder = WalkBuilder::new(dir);
    let deny = deny_read.to_vec();
    builder
        .hidden(false)
        .require_git(false)
        .follow_links(false)
        .filter_entry(move |entry| {
            !is_git_dir_name(entry.file_name()) && !deny.iter().any(|d| entry.path().starts_with(d))
        });
    builder
}

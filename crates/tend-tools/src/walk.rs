//! The directory walker `glob` and `grep` share: ripgrep's, with one difference in defaults.

use std::path::Path;

use ignore::WalkBuilder;

use crate::confine::is_git_dir_name;

/// Respects `.gitignore` (also outside a git repository: the workspace root is the boundary),
/// `.ignore` and git's excludes; includes hidden files (`.github/` matters to an agent) but never
/// enters `.git`; does not follow symbolic links, so nothing outside the workspace is read.
pub(crate) fn walker(dir: &Path) -> WalkBuilder {
    let mut builder = WalkBuilder::new(dir);
    builder
        .hidden(false)
        .require_git(false)
        .follow_links(false)
        .filter_entry(|entry| !is_git_dir_name(entry.file_name()));
    builder
}

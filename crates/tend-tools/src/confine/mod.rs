//! Path confinement: every path a file tool touches is resolved here.
//!
//! A path is resolved the way the kernel would walk it, component by component from the
//! canonical workspace root (or from `/` for an absolute path): symbolic links in the existing
//! part are followed (at most [`MAX_LINKS`]), `..` goes to the parent of what has been resolved
//! so far, and the part that does not exist yet is appended as written. The result must lie
//! inside the root and outside any `.git`; otherwise the path is refused.
//!
//! The check and the later open are two steps, so a process racing to swap a directory for a
//! symbolic link in between could still escape; the shell sandbox (issue 5) closes that for
//! commands the agent runs, and nothing else writes the worktree during a run.

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::ToolError;

#[cfg(test)]
mod tests;

/// How many symbolic links one resolution may follow, as Linux's `MAXSYMLINKS`.
const MAX_LINKS: usize = 40;

/// A path confined to the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedPath {
    abs: PathBuf,
    rel: PathBuf,
}

impl ResolvedPath {
    /// Absolute and canonical as far as the path exists.
    pub fn abs(&self) -> &Path {
        &self.abs
    }

    /// Relative to the workspace root; empty for the root itself.
    pub fn rel(&self) -> &Path {
        &self.rel
    }

    /// The relative path as shown to the model (`.` for the root).
    pub fn shown(&self) -> String {
        shown(&self.rel)
    }
}

/// A relative path as shown to the model and in transcripts.
pub(crate) fn shown(rel: &Path) -> String {
    if rel.as_os_str().is_empty() {
        ".".to_owned()
    } else {
        rel.to_string_lossy().into_owned()
    }
}

/// Resolves `input` against the canonical `root`. See the module docs for the rules.
pub(crate) fn resolve(root: &Path, input: &Path) -> Result<ResolvedPath, ToolError> {
    let given = || input.to_string_lossy().into_owned();
    let abs = walk(root, input).map_err(|err| match err {
        WalkError::Loop => ToolError::SymlinkLoop(given()),
        WalkError::Io(source) => ToolError::Resolve {
            path: given(),
            source,
        },
    })?;
    let rel = match abs.strip_prefix(root) {
        Ok(rel) => rel.to_path_buf(),
        Err(_) => return Err(ToolError::OutsideWorkspace(given())),
    };
    if rel.components().any(|c| is_git_dir_name(c.as_os_str())) {
        return Err(ToolError::InsideGit(given()));
    }
    Ok(ResolvedPath { abs, rel })
}

/// `.git` in any letter case: case-insensitive file systems (macOS) treat `.GIT` as `.git`.
pub(crate) fn is_git_dir_name(name: &OsStr) -> bool {
    name.as_encoded_bytes().eq_ignore_ascii_case(b".git")
}

enum WalkError {
    Loop,
    Io(io::Error),
}

/// One step still to take: a name to descend into, or `..`.
enum Step {
    Down(OsString),
    Up,
}

fn push_front_components(todo: &mut VecDeque<Step>, path: &Path) {
    for component in path.components().rev() {
        match component {
            Component::Normal(name) => todo.push_front(Step::Down(name.to_os_string())),
            Component::ParentDir => todo.push_front(Step::Up),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
}

/// The filesystem root that an absolute `path` starts from (`/`, or `C:\` on Windows).
fn start_of(path: &Path) -> PathBuf {
    path.components()
        .take_while(|c| matches!(c, Component::Prefix(_) | Component::RootDir))
        .collect()
}

fn walk(root: &Path, input: &Path) -> Result<PathBuf, WalkError> {
    let mut cur = if input.is_absolute() {
        start_of(input)
    } else {
        root.to_path_buf()
    };
    let mut todo = VecDeque::new();
    push_front_components(&mut todo, input);
    // Components appended after the first one that does not exist; they are lexical only.
    let mut missing = 0usize;
    let mut links = 0usize;
    while let Some(step) = todo.pop_front() {
        let name = match step {
            Step::Up => {
                // `cur` is canonical (or lexical past a missing component), so its parent is
                // the real `..`.
                cur.pop();
                missing = missing.saturating_sub(1);
                continue;
            }
            Step::Down(name) => name,
        };
        let next = cur.join(&name);
        if missing > 0 {
            cur = next;
            missing += 1;
            continue;
        }
        match fs::symlink_metadata(&next) {
            Ok(meta) if meta.file_type().is_symlink() => {
                links += 1;
                if links > MAX_LINKS {
                    return Err(WalkError::Loop);
                }
                let target = fs::read_link(&next).map_err(WalkError::Io)?;
                if target.is_absolute() {
                    cur = start_of(&target);
                }
                push_front_components(&mut todo, &target);
            }
            Ok(_) => cur = next,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                cur = next;
                missing = 1;
            }
            Err(err) => return Err(WalkError::Io(err)),
        }
    }
    Ok(cur)
}

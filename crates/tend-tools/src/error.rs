use std::io;
use std::path::PathBuf;

/// Errors of [`Workspace`](crate::Workspace) set-up and path confinement.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("workspace root {path}: {source}")]
    Root {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("workspace root {0} is not a directory")]
    RootNotADirectory(PathBuf),

    #[error("private tmp directory {path}: {source}")]
    Tmp {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// The path (as given) resolves outside the workspace root, directly, through `..` or
    /// through a symbolic link.
    #[error("path {0} is outside the workspace")]
    OutsideWorkspace(String),

    /// The path resolves into a `.git` directory (or is the worktree's `.git` file).
    #[error("path {0} is inside .git, which the file tools do not touch; use git commands instead")]
    InsideGit(String),

    /// The path is hidden by the task's sandbox settings (`deny_read`).
    #[error(
        "path {0} is hidden by the task's sandbox settings (deny_read); neither the file tools \
         nor shell commands may read it"
    )]
    Hidden(String),

    #[error("path {0}: too many levels of symbolic links")]
    SymlinkLoop(String),

    #[error("path {path}: {source}")]
    Resolve {
        path: String,
        #[source]
        source: io::Error,
    },
}

impl ToolError {
    /// A confinement refusal, as opposed to a path that merely cannot be resolved.
    pub fn is_refusal(&self) -> bool {
        match self {
            ToolError::OutsideWorkspace(_) | ToolError::InsideGit(_) | ToolError::Hidden(_) => true,
            ToolError::Root { .. }
            | ToolError::RootNotADirectory(_)
            | ToolError::Tmp { .. }
            | ToolError::SymlinkLoop(_)
            | ToolError::Resolve { .. } => false,
        }
    }
}

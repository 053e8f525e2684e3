//! What the shell analyser may look up about the world a command runs in: the files it runs
//! (scripts, copies of programs) and the git configuration that defines aliases.
//!
//! The analyser stays pure: every lookup goes through a [`ShellContext`] its caller injects.
//! [`NoContext`] knows nothing, so every answer that would need a lookup is unknown (and the
//! policy asks); tend's gate implements the trait over the run's workspace.

/// The answer to a file lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileLookup {
    /// The file's bytes (of a large binary file, its first bytes are enough: a file with a NUL
    /// byte is no script).
    Bytes(Vec<u8>),
    /// No such file (yet).
    Missing,
    /// Not a file the run can have written (outside the workspace and the run's temporary
    /// folder): judged like any installed program, not read.
    Outside,
    /// The file cannot be read or may not be looked at (outside the workspace, not a regular
    /// file, too large, no file access at all); the text says why.
    Unknown(String),
}

/// The answer to a git configuration lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigLookup {
    /// The value git would use.
    Value(String),
    /// No configuration file defines it.
    Absent,
    /// The configuration cannot be read; the text says why.
    Unknown(String),
}

/// How a git command was started, as far as it decides which configuration git reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GitScope {
    /// git's global options before the subcommand (`-C dir`, `--git-dir=…`, `-c
    /// include.path=…`, …), as written.
    pub options: Vec<String>,
    /// `GIT_*` variables set for the command (`GIT_CONFIG_GLOBAL`, `GIT_DIR`, …), in order.
    pub env: Vec<(String, String)>,
}

/// Lookups the analyser needs beyond the command's text. Paths are as the command names them:
/// relative to the workspace root (where commands start), or absolute.
pub trait ShellContext {
    /// The content of a file the command runs as a script.
    fn read_file(&self, path: &str) -> FileLookup;

    /// The well-known program the file at `path` is, by the name it has on the search path: a
    /// symbolic link to it, or a copy of it (`cp /usr/bin/git ./gg` makes `./gg` `git`).
    fn identify_program(&self, path: &str) -> Option<String>;

    /// `git config --get KEY` (with includes) as the git command in `scope` would see it.
    fn git_config(&self, key: &str, scope: &GitScope) -> ConfigLookup;
}

/// A context for callers without file access: nothing can be looked up, so a script file, a
/// program given by path or a git alias from configuration files is unknown.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoContext;

const NO_ACCESS: &str = "the policy was asked without access to the workspace";

impl ShellContext for NoContext {
    fn read_file(&self, _path: &str) -> FileLookup {
        FileLookup::Unknown(NO_ACCESS.to_owned())
    }

    fn identify_program(&self, _path: &str) -> Option<String> {
        None
    }

    fn git_config(&self, _key: &str, _scope: &GitScope) -> ConfigLookup {
        ConfigLookup::Unknown(NO_ACCESS.to_owned())
    }
}

//! Sandboxing of shell commands (bubblewrap, Landlock + seccomp, macOS `sandbox-exec`).
//!
//! Only the seam exists so far: [`Sandbox::wrap`] turns the plain shell invocation that a tool
//! wants to run into the one that is actually spawned. The real confinement lands in issue 5;
//! until then the only choice is [`Sandbox::None`], which runs the command unconfined.
//! Nothing else in the workspace may spawn an agent's shell command without going through here.

use std::ffi::OsString;
use std::path::PathBuf;

/// How an agent's shell commands are confined.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sandbox {
    /// No confinement: the command runs as the user, with the environment it is given.
    /// Explicit so that a caller has to say so; fail-closed selection is issue 5's job.
    #[default]
    None,
}

/// A shell command as a tool would run it without a sandbox: what the sandbox wraps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellCommand {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// Working directory: the workspace root.
    pub cwd: PathBuf,
    /// The complete environment (the caller has already scrubbed it).
    pub env: Vec<(OsString, OsString)>,
    /// Directories the command may write: the workspace root and its private tmp.
    pub writable: Vec<PathBuf>,
}

/// Why a command cannot be run inside the sandbox. No variant yet: [`Sandbox::None`] never fails.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {}

impl Sandbox {
    /// The command to spawn instead of `cmd`.
    pub fn wrap(&self, cmd: ShellCommand) -> Result<ShellCommand, SandboxError> {
        match self {
            Sandbox::None => Ok(cmd),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_runs_the_command_unchanged() {
        let cmd = ShellCommand {
            program: PathBuf::from("/bin/sh"),
            args: vec!["-c".into(), "true".into()],
            cwd: PathBuf::from("/w"),
            env: vec![("PATH".into(), "/usr/bin".into())],
            writable: vec![PathBuf::from("/w"), PathBuf::from("/tmp/x")],
        };
        assert_eq!(Sandbox::None.wrap(cmd.clone()).unwrap(), cmd);
    }
}

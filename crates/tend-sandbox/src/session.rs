//! What a confined command holds while it runs, and what the sandbox says about it after.

use std::path::{Path, PathBuf};

use crate::denial::{self, CommandOutput, DenialKind, SandboxDenial};
use crate::policy::Layout;
use crate::proxy::{self, ProxyDecision};
use crate::{Confined, ShellCommand};

/// A wrapped command and what must outlive it.
#[derive(Debug)]
pub struct Wrapped {
    pub command: ShellCommand,
    pub session: CommandSession,
}

/// What one confined command holds while it runs: its cgroup and proxy listener. Dropping it
/// kills whatever the command left in its cgroup and stops its listener.
#[derive(Debug, Default)]
pub struct CommandSession {
    pub(crate) inner: Option<SessionInner>,
}

#[derive(Debug)]
pub(crate) struct SessionInner {
    pub(crate) sandbox: Confined,
    pub(crate) layout: Layout,
    pub(crate) root: PathBuf,
    #[cfg(target_os = "linux")]
    pub(crate) cgroup: Option<crate::cgroup::PidsCgroup>,
    pub(crate) proxy: Option<proxy::ProxySession>,
    /// The protected `.git` files as they were before the command.
    pub(crate) git_files: Vec<(PathBuf, Vec<u8>)>,
}

/// The sandbox's part of a command's record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SandboxReport {
    /// The mechanism that confined the command; `None` when unconfined.
    pub mechanism: Option<&'static str>,
    pub denials: Vec<SandboxDenial>,
    pub proxy: Vec<ProxyDecision>,
}

impl CommandSession {
    pub fn mechanism(&self) -> Option<&'static str> {
        self.inner.as_ref().map(|s| s.sandbox.mechanism().name())
    }

    /// Ends the command's session (killing anything it left in its cgroup) and says what the
    /// sandbox refused it, judging by `output` and the proxy's decisions.
    pub fn finish(self, output: &CommandOutput<'_>) -> SandboxReport {
        let Some(inner) = self.inner else {
            return SandboxReport::default();
        };
        let proxy = inner
            .proxy
            .as_ref()
            .map(proxy::ProxySession::decisions)
            .unwrap_or_default();
        let confined = &inner.sandbox.inner;
        let ctx = denial::Context {
            mechanism: &confined.mechanism,
            layout: &inner.layout,
            workspace: confined.policy.workspace,
            root: &inner.root,
            limits: &confined.policy.limits,
            network: &confined.policy.network,
        };
        let mut denials = denial::explain(&ctx, output, &proxy);
        // Whatever the command left running (a daemon it started) ends with it.
        #[cfg(target_os = "linux")]
        if let Some(cgroup) = &inner.cgroup {
            cgroup.kill_all();
        }
        // Where the mechanism cannot keep a worktree's `.git` file read-only (Landlock), it is
        // put back: it tells tend's own git, run outside the sandbox, where the repository is.
        for (path, before) in &inner.git_files {
            if restore(path, before) {
                denials.push(SandboxDenial {
                    kind: DenialKind::Undone,
                    message: format!(
                        "{} belongs to tend (it says where the repository is); the command \
                         changed it and tend put it back",
                        path.display()
                    ),
                });
            }
        }
        SandboxReport {
            mechanism: Some(confined.mechanism.name()),
            denials,
            proxy,
        }
    }
}

/// Puts `path` back to the regular file `before` if it is anything else now; whether it had to.
fn restore(path: &Path, before: &[u8]) -> bool {
    let intact = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
        && std::fs::read(path).is_ok_and(|now| now == before);
    if intact {
        return false;
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => {
            let _ = std::fs::remove_dir_all(path);
        }
        Ok(_) => {
            let _ = std::fs::remove_file(path);
        }
        Err(_) => {}
    }
    let _ = std::fs::write(path, before);
    true
}

//! Sandboxing of shell commands: bubblewrap where it works, else Landlock + seccomp (Linux);
//! `sandbox-exec` (macOS).
//!
//! [`Sandbox::wrap`] turns the plain shell invocation that a tool wants to run into the one that
//! is actually spawned; nothing in tend may spawn an agent's shell command without going
//! through it. A run picks its [`Sandbox`] from its task and a [`probe`] of this machine:
//! [`Sandbox::Off`] only when the task says `sandbox = "off"`, a working mechanism otherwise,
//! and [`Sandbox::Unavailable`] (every command refused, saying why and how to fix it) when no
//! mechanism works: fail closed.
//!
//! What a confined command gets, whatever the mechanism:
//! - reads: everything but the hidden paths ([`SandboxPolicy::deny_read`], by default
//!   `~/.ssh`, `~/.aws`, `~/.gnupg`, other credential files and tend's own folders);
//! - writes: the workspace root (not in a read-only run), its private tmp, and the task's
//!   `allow_write`; a worktree's `.git` file stays read-only, and so does the repository's
//!   `.git` (tend commits itself, outside the sandbox);
//! - network: none, or the listed domains through tend's allowlist [`proxy`];
//! - rlimits (processes, file size, CPU time, open files, no core dumps), and a pids cgroup
//!   per command where one can be made;
//! - no tracing, mounts, new namespaces, keyrings, BPF or io_uring (seccomp).
//!
//! Mechanisms:
//! - **bubblewrap**: every namespace of its own (network: only `lo`; pid: nothing outlives the
//!   command), no capabilities, a read-only root with the writable paths bound back, empty
//!   unreadable mounts over hidden paths, a fresh `/run` (no host sockets), the private tmp as
//!   `/tmp`. The helper inside sets rlimits and seccomp and runs the proxy bridge
//!   (127.0.0.1:3128 inside → the proxy's Unix socket).
//! - **Landlock** (when bubblewrap cannot make namespaces): the helper restricts itself with
//!   Landlock (read all but hidden paths, as far as Landlock can say it: see
//!   [`linux::landlock`]; write only the writable paths; TCP only to the proxy's port; no
//!   signals to processes outside) and seccomp (no sockets at all without a proxy, TCP only
//!   with one; no `setsid`/`setpgid`, so nothing leaves the command's process group). The
//!   host's `/tmp` stays read-only (`$TMPDIR` is the private tmp), and a worktree's `.git` file
//!   is writable (Landlock cannot carve a file out of a writable folder; tend re-checks it).
//! - **sandbox-exec** (macOS): an SBPL profile ([`wrap::macos::profile`]); the helper sets the
//!   rlimits.
//!
//! The entry point inside every mechanism is the helper ([`helper::helper_main`], served by
//! `tend __sandbox-exec`): `unsafe` is forbidden in the workspace, so whatever must happen in
//! the command's process before it runs is done by that first process to itself.

#[cfg(target_os = "linux")]
mod cgroup;
mod denial;
pub mod helper;
#[cfg(target_os = "linux")]
pub mod linux;
mod policy;
mod probe;
pub mod proxy;
pub mod wrap;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use denial::{CommandOutput, DenialKind, SandboxDenial};
pub use policy::{
    HOME_SECRETS, Hidden, HiddenKind, Layout, ResourceLimits, SandboxPolicy, WorkspaceAccess,
    default_deny_read, expand_home,
};
pub use probe::{
    FORCE_ENV, MechanismKind, Probe, ProbeOptions, ProbeOutcome, ProbeReport, ProbeScope,
    ProcessLimit, probe,
};
pub use proxy::{Proxy, ProxyConfig, ProxyDecision, Verdict};

/// How an agent's shell commands are confined.
#[derive(Debug, Clone, Default)]
pub enum Sandbox {
    /// No confinement: the command runs as the user, with the environment it is given. Only
    /// for a task that says `sandbox = "off"` (and for embedding and tests).
    #[default]
    Off,
    /// Confinement is required but nothing works here: every command is refused with `reason`
    /// (which says how to fix it).
    Unavailable {
        reason: String,
    },
    Confined(Confined),
    /// Chosen when the first command needs it: probing a mechanism costs tens of
    /// milliseconds, which a run that never uses the shell should not wait for.
    Lazy(Lazy),
}

/// A sandbox chosen on first use. Cheap to clone; clones share the choice.
#[derive(Clone)]
pub struct Lazy {
    inner: Arc<LazyInner>,
}

struct LazyInner {
    choose: Box<dyn Fn() -> Sandbox + Send + Sync>,
    chosen: std::sync::OnceLock<Sandbox>,
}

impl std::fmt::Debug for Lazy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.inner.chosen.get() {
            Some(sandbox) => f.debug_tuple("Lazy").field(sandbox).finish(),
            None => f.write_str("Lazy(not chosen yet)"),
        }
    }
}

impl Lazy {
    /// The sandbox, chosen now if it was not yet.
    pub fn get(&self) -> &Sandbox {
        self.inner
            .chosen
            .get_or_init(|| match (self.inner.choose)() {
                // A choice that defers again would never end.
                Sandbox::Lazy(_) => Sandbox::Unavailable {
                    reason: "internal error: the sandbox choice was deferred twice".to_owned(),
                },
                other => other,
            })
    }
}

/// A working mechanism with the run's policy. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Confined {
    inner: Arc<ConfinedInner>,
}

#[derive(Debug)]
struct ConfinedInner {
    mechanism: Mechanism,
    policy: SandboxPolicy,
    helper: PathBuf,
    proxy: Option<Proxy>,
}

/// A sandboxing mechanism that works on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mechanism {
    Bubblewrap {
        bwrap: PathBuf,
    },
    /// The Landlock ABI the kernel supports (and the helper will require).
    Landlock {
        abi: u8,
    },
    MacOs {
        sandbox_exec: PathBuf,
    },
}

impl Mechanism {
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }

    pub fn kind(&self) -> MechanismKind {
        match self {
            Mechanism::Bubblewrap { .. } => MechanismKind::Bubblewrap,
            Mechanism::Landlock { .. } => MechanismKind::Landlock,
            Mechanism::MacOs { .. } => MechanismKind::SandboxExec,
        }
    }
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
    /// The private tmp (`$TMPDIR`), one of `writable`.
    pub tmp: PathBuf,
}

/// Why a command cannot be run inside the sandbox.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("shell commands are refused: {0}")]
    Unavailable(String),
    #[error("cannot start tend's network proxy for this command: {0}")]
    Proxy(std::io::Error),
    #[error("cannot prepare the sandbox: {0}")]
    Prepare(std::io::Error),
    #[error(
        "this task lists [sandbox] network domains, but {0} cannot limit connections to tend's \
         proxy on this kernel; remove the domains or use a machine where bubblewrap works"
    )]
    NetworkUnsupported(&'static str),
}

impl SandboxError {
    /// A refusal by policy (fail closed), as opposed to a failure to set up.
    pub fn is_refusal(&self) -> bool {
        match self {
            SandboxError::Unavailable(_) | SandboxError::NetworkUnsupported(_) => true,
            SandboxError::Proxy(_) | SandboxError::Prepare(_) => false,
        }
    }
}

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
    inner: Option<SessionInner>,
}

#[derive(Debug)]
struct SessionInner {
    sandbox: Confined,
    layout: Layout,
    root: PathBuf,
    #[cfg(target_os = "linux")]
    cgroup: Option<cgroup::PidsCgroup>,
    proxy: Option<proxy::ProxySession>,
    /// The protected `.git` files as they were before the command.
    git_files: Vec<(PathBuf, Vec<u8>)>,
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

impl Sandbox {
    /// `mechanism` with `policy`; `helper` is the sandbox entry point (the `tend` binary);
    /// `proxy` serves the policy's network domains (required when there are any).
    pub fn confined(
        mechanism: Mechanism,
        policy: SandboxPolicy,
        helper: PathBuf,
        proxy: Option<Proxy>,
    ) -> Sandbox {
        Sandbox::Confined(Confined {
            inner: Arc::new(ConfinedInner {
                mechanism,
                policy,
                helper,
                proxy,
            }),
        })
    }

    /// The mechanism the probe chose, or a fail-closed refusal that says why none works.
    pub fn select(
        report: &ProbeReport,
        policy: SandboxPolicy,
        helper: PathBuf,
        proxy: Option<Proxy>,
    ) -> Sandbox {
        match report.chosen() {
            Some(mechanism) => Sandbox::confined(mechanism.clone(), policy, helper, proxy),
            None => Sandbox::Unavailable {
                reason: report.refusal(),
            },
        }
    }

    /// A sandbox that `choose` picks when the first command needs it.
    pub fn lazy(choose: impl Fn() -> Sandbox + Send + Sync + 'static) -> Sandbox {
        Sandbox::Lazy(Lazy {
            inner: Arc::new(LazyInner {
                choose: Box::new(choose),
                chosen: std::sync::OnceLock::new(),
            }),
        })
    }

    /// The mechanism that confines commands (choosing a lazy sandbox now).
    pub fn mechanism(&self) -> Option<&Mechanism> {
        match self {
            Sandbox::Confined(c) => Some(c.mechanism()),
            Sandbox::Lazy(lazy) => lazy.get().mechanism(),
            Sandbox::Off | Sandbox::Unavailable { .. } => None,
        }
    }

    /// The command to spawn instead of `cmd`, and its session (keep it until the command has
    /// ended, then [`CommandSession::finish`] it). Must be called within a tokio runtime when
    /// the policy lists network domains (the proxy listens on it).
    pub fn wrap(&self, cmd: ShellCommand) -> Result<Wrapped, SandboxError> {
        match self {
            Sandbox::Off => Ok(Wrapped {
                command: cmd,
                session: CommandSession::default(),
            }),
            Sandbox::Unavailable { reason } => Err(SandboxError::Unavailable(reason.clone())),
            Sandbox::Confined(confined) => confined.wrap(cmd),
            Sandbox::Lazy(lazy) => lazy.get().wrap(cmd),
        }
    }
}

impl Confined {
    pub fn mechanism(&self) -> &Mechanism {
        &self.inner.mechanism
    }

    pub fn policy(&self) -> &SandboxPolicy {
        &self.inner.policy
    }

    fn wrap(&self, cmd: ShellCommand) -> Result<Wrapped, SandboxError> {
        let inner = &self.inner;
        let policy = &inner.policy;
        let layout = Layout::new(policy, &cmd.cwd, &cmd.tmp, &cmd.writable);
        let network = !policy.network.is_empty();
        let proxy = match (&inner.proxy, network) {
            (Some(proxy), true) => Some(proxy),
            (None, true) => {
                return Err(SandboxError::Proxy(std::io::Error::other(
                    "the run has no proxy for its listed domains",
                )));
            }
            (_, false) => None,
        };
        if proxy.is_some() && tokio::runtime::Handle::try_current().is_err() {
            return Err(SandboxError::Proxy(std::io::Error::other(
                "no async runtime to run the proxy on",
            )));
        }
        #[cfg(target_os = "linux")]
        let cgroup = cgroup::PidsCgroup::create(policy.limits.processes).ok();
        let mut env = cmd.env.clone();
        let (command, proxy_session) = match &inner.mechanism {
            Mechanism::Bubblewrap { bwrap } => {
                #[cfg(unix)]
                let session = match proxy {
                    Some(p) => Some(
                        p.listen_unix(&std::env::temp_dir())
                            .map_err(SandboxError::Proxy)?,
                    ),
                    None => None,
                };
                #[cfg(not(unix))]
                let session: Option<proxy::ProxySession> = None;
                let socket = session.as_ref().and_then(|s| match s.endpoint() {
                    proxy::Endpoint::Unix(path) => Some(path.clone()),
                    proxy::Endpoint::Tcp(_) => None,
                });
                if socket.is_some() {
                    let url = format!("http://127.0.0.1:{}", helper::BRIDGE_PORT);
                    wrap::set_env(&mut env, wrap::proxy_env(&url));
                }
                let helper_args = wrap::bwrap_helper(
                    &policy.limits,
                    socket
                        .as_ref()
                        .map(|_| PathBuf::from(wrap::bwrap::PROXY_INSIDE)),
                    &cmd.program,
                    &cmd.args,
                )
                .to_args();
                let unreadable = wrap::unreadable_file().map_err(SandboxError::Prepare)?;
                let bwrap_args = wrap::bwrap::args(&wrap::bwrap::Bwrap {
                    layout: &layout,
                    cwd: &cmd.cwd,
                    helper: &inner.helper,
                    helper_args,
                    proxy_socket: socket.as_deref(),
                    unreadable_file: unreadable,
                    host_has_run: Path::new("/run").is_dir(),
                });
                #[cfg(target_os = "linux")]
                let joined = cgroup.as_ref().map(|c| c.dir().to_path_buf());
                #[cfg(not(target_os = "linux"))]
                let joined: Option<PathBuf> = None;
                let (program, args) = match joined {
                    // The cgroup is joined before bubblewrap starts, so the sandbox's every
                    // process is in it.
                    Some(dir) => {
                        let mut args: Vec<OsString> = vec![
                            helper::HELPER_SUBCOMMAND.into(),
                            "--join-cgroup".into(),
                            dir.into_os_string(),
                            "--".into(),
                            bwrap.as_os_str().to_owned(),
                        ];
                        args.extend(bwrap_args);
                        (inner.helper.clone(), args)
                    }
                    None => (bwrap.clone(), bwrap_args),
                };
                (
                    ShellCommand {
                        program,
                        args,
                        env,
                        ..cmd.clone()
                    },
                    session,
                )
            }
            Mechanism::Landlock { abi } => {
                if network && *abi < 4 {
                    return Err(SandboxError::NetworkUnsupported("Landlock"));
                }
                let session = match proxy {
                    Some(p) => Some(p.listen_tcp().map_err(SandboxError::Proxy)?),
                    None => None,
                };
                let port = session.as_ref().and_then(|s| match s.endpoint() {
                    proxy::Endpoint::Tcp(addr) => Some(addr.port()),
                    proxy::Endpoint::Unix(_) => None,
                });
                if let Some(port) = port {
                    wrap::set_env(
                        &mut env,
                        wrap::proxy_env(&format!("http://127.0.0.1:{port}")),
                    );
                }
                #[cfg(target_os = "linux")]
                let joined = cgroup.as_ref().map(|c| c.dir().to_path_buf());
                #[cfg(not(target_os = "linux"))]
                let joined: Option<PathBuf> = None;
                let args = wrap::landlock_helper(
                    *abi,
                    &layout,
                    &policy.limits,
                    port,
                    joined,
                    &cmd.program,
                    &cmd.args,
                )
                .to_args();
                (
                    ShellCommand {
                        program: inner.helper.clone(),
                        args,
                        env,
                        ..cmd.clone()
                    },
                    session,
                )
            }
            Mechanism::MacOs { sandbox_exec } => {
                let session = match proxy {
                    Some(p) => Some(p.listen_tcp().map_err(SandboxError::Proxy)?),
                    None => None,
                };
                let port = session.as_ref().and_then(|s| match s.endpoint() {
                    proxy::Endpoint::Tcp(addr) => Some(addr.port()),
                    proxy::Endpoint::Unix(_) => None,
                });
                if let Some(port) = port {
                    wrap::set_env(
                        &mut env,
                        wrap::proxy_env(&format!("http://127.0.0.1:{port}")),
                    );
                }
                let profile = wrap::macos::profile(&layout, port);
                let helper_args = helper::HelperArgs {
                    rlimits: wrap::rlimits(&policy.limits),
                    nproc: helper::NprocScope::AboveCurrent,
                    program: cmd.program.as_os_str().to_owned(),
                    args: cmd.args.clone(),
                    ..helper::HelperArgs::default()
                };
                let mut args: Vec<OsString> = vec![
                    "-p".into(),
                    profile.into(),
                    inner.helper.as_os_str().to_owned(),
                ];
                args.extend(helper_args.to_args());
                (
                    ShellCommand {
                        program: sandbox_exec.clone(),
                        args,
                        env,
                        ..cmd.clone()
                    },
                    session,
                )
            }
        };
        let git_files = layout
            .protected
            .iter()
            .filter_map(|p| std::fs::read(p).ok().map(|bytes| (p.clone(), bytes)))
            .collect();
        Ok(Wrapped {
            command,
            session: CommandSession {
                inner: Some(SessionInner {
                    sandbox: self.clone(),
                    layout,
                    root: cmd.cwd,
                    #[cfg(target_os = "linux")]
                    cgroup,
                    proxy: proxy_session,
                    git_files,
                }),
            },
        })
    }
}

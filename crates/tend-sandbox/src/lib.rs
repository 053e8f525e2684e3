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
//!   `~/.ssh`, `~/.aws`, `~/.gnupg`, other credential files and tend's own folders) and the
//!   host's shared temp folders ([`HOST_TMP`]: other users' and programs' files), of which
//!   only the folders the command needs are there, read-only;
//! - writes: the workspace root (not in a read-only run), its private tmp, and the task's
//!   `allow_write`; a worktree's `.git` file stays read-only, and so does the repository's
//!   `.git` (tend commits itself, outside the sandbox);
//! - network: none, or the listed domains through tend's allowlist [`proxy`];
//! - no Unix sockets at all (seccomp refuses `socket(AF_UNIX, …)`; `socketpair` works): a
//!   pathname socket (ssh-agent, X11, tmux, docker.sock, a D-Bus bus) would be reachable
//!   through any folder the command can read, so none is, wherever it lives;
//! - no privileges, whatever the uid (tend may run as root): every capability dropped
//!   (effective, permitted, inheritable, ambient), the bounding set emptied where the helper
//!   may (it holds `CAP_SETPCAP`: tend runs as root; bubblewrap empties it always), and
//!   no_new_privs (setuid bits and file capabilities give nothing). tend's own processes are
//!   not dumpable ([`protect_this_process`]), so without `CAP_SYS_PTRACE` a command can read
//!   neither their `/proc/PID/environ`, `mem` nor `fd/`, nor trace them. Their `cmdline` stays
//!   world-readable, as for every process, so tend never puts a secret on a command line;
//! - rlimits (processes, file size, CPU time, open files, no core dumps), and a pids cgroup
//!   per command where one can be made;
//! - no tracing, mounts, new namespaces, keyrings, BPF or io_uring, no `TIOCSTI` (seccomp).
//!
//! Mechanisms:
//! - **bubblewrap**: every namespace of its own (network: only `lo`, so no abstract socket or
//!   port of the host; pid: nothing outlives the command, no host process is visible), no
//!   capabilities, a read-only root with the writable paths bound back, empty unreadable
//!   mounts over hidden paths, its own `/proc` read-only (as root, the sandbox's uid is the
//!   host's root, whose uid alone may write `/proc/sys`), a fresh `/run`, `/var/tmp` and
//!   `/dev/shm`, and the private tmp
//!   as `/tmp` always (folders of the host's /tmp, /var/tmp or /dev/shm that hold the
//!   workspace, tend's state or the repository's git folder, [`Layout::host_tmp`], are bound
//!   back read-only; the rest of them is not there). With listed domains the helper stays as a first stage that runs the proxy bridge
//!   (127.0.0.1:3128 inside → the proxy's Unix socket; that stage is not dumpable) and starts
//!   a second stage of itself, which installs seccomp and becomes the command.
//! - **Landlock** (when bubblewrap cannot make namespaces): the helper restricts itself with
//!   Landlock (read all but hidden paths, as far as Landlock can say it: see
//!   [`linux::landlock`]; write only the writable paths; TCP only to the proxy's port; from
//!   ABI 6 no abstract Unix sockets and no signals to processes outside, and from ABI 1 no
//!   ptrace of a process outside) and seccomp (no sockets at all without a proxy, TCP only
//!   with one; no `setsid`/`setpgid`, so nothing leaves the command's process group). The
//!   host's `/tmp`, `/var/tmp` and `/dev/shm` are hidden like `~/.ssh` (no file in them can
//!   be read, no folder listed; `$TMPDIR` is the private tmp), except their folders that hold
//!   the workspace, tend's state or the repository's git folder, which are readable with the
//!   hidden paths in them still hidden (the same folders bubblewrap binds back, from
//!   [`Layout::host_tmp`]); without a mount namespace a path there can still be `stat`ed
//!   (Landlock does not govern lookups). Host processes stay visible in `/proc`
//!   (their `cmdline` and `status` readable, nothing of tend's more), and a worktree's `.git`
//!   file is writable (Landlock cannot carve a file out of a writable folder; tend re-checks
//!   it).
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
mod lazy;
#[cfg(target_os = "linux")]
pub mod linux;
mod policy;
mod probe;
pub mod proxy;
mod session;
pub mod wrap;

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;

pub use denial::{CommandOutput, DenialKind, SandboxDenial};
pub use lazy::Lazy;
pub use policy::{
    HOME_SECRETS, HOST_TMP, Hidden, HiddenKind, Layout, ResourceLimits, SandboxPolicy,
    WorkspaceAccess, default_deny_read, expand_home,
};
pub use probe::{
    FORCE_ENV, MechanismKind, Probe, ProbeOptions, ProbeOutcome, ProbeReport, ProbeScope,
    ProcessLimit, probe,
};
pub use proxy::{Proxy, ProxyConfig, ProxyDecision, Verdict};
pub use session::{CommandSession, SandboxReport, Wrapped};

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
}

/// Makes this process non-dumpable, so that its `/proc/PID/environ`, `mem` and `fd/` (and
/// ptrace) need `CAP_SYS_PTRACE`, which no sandboxed command holds (the helper drops every
/// capability), whatever its uid. Every tend process but the sandbox helper calls this first:
/// tend holds provider keys in its environment and memory. Also no core dumps of tend.
pub fn protect_this_process() -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)?;
    Ok(())
}

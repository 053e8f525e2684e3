//! Which sandbox works here: each mechanism is tried once for real (a command that writes its
//! workspace and must fail to write next to it), and the report says what each one found.

use std::ffi::OsString;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::{Mechanism, Sandbox, SandboxPolicy, ShellCommand, WorkspaceAccess};

/// The environment variable that picks a mechanism instead of the first that works.
pub const FORCE_ENV: &str = "TEND_SANDBOX";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MechanismKind {
    Bubblewrap,
    Landlock,
    SandboxExec,
}

impl MechanismKind {
    pub const ALL: [MechanismKind; 3] = [
        MechanismKind::Bubblewrap,
        MechanismKind::Landlock,
        MechanismKind::SandboxExec,
    ];

    pub fn name(self) -> &'static str {
        match self {
            MechanismKind::Bubblewrap => "bubblewrap",
            MechanismKind::Landlock => "landlock",
            MechanismKind::SandboxExec => "sandbox-exec",
        }
    }

    pub fn parse(text: &str) -> Option<MechanismKind> {
        match text {
            "bubblewrap" | "bwrap" => Some(MechanismKind::Bubblewrap),
            "landlock" => Some(MechanismKind::Landlock),
            "sandbox-exec" | "macos" => Some(MechanismKind::SandboxExec),
            _ => None,
        }
    }
}

/// What to probe with.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// The sandbox helper (`tend`, run as `tend __sandbox-exec`).
    pub helper: PathBuf,
    /// Use this mechanism or none (from [`FORCE_ENV`]).
    pub force: Option<MechanismKind>,
    pub scope: ProbeScope,
}

/// How much to probe: everything (`tend doctor`), or until a mechanism works (a run, which
/// needs one and should not wait for the others).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeScope {
    All,
    UntilOneWorks,
}

impl ProbeOptions {
    /// `helper`, with the choice of [`FORCE_ENV`] if it names a mechanism.
    pub fn from_env(helper: PathBuf, scope: ProbeScope) -> ProbeOptions {
        ProbeOptions {
            helper,
            force: std::env::var(FORCE_ENV)
                .ok()
                .and_then(|v| MechanismKind::parse(v.trim())),
            scope,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ProbeReport {
    pub probes: Vec<Probe>,
    pub forced: Option<MechanismKind>,
    /// How a command's process count is capped.
    pub processes: ProcessLimit,
}

#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    pub mechanism: MechanismKind,
    #[serde(flatten)]
    pub outcome: ProbeOutcome,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ProbeOutcome {
    Works {
        #[serde(skip)]
        mechanism: Mechanism,
        detail: String,
    },
    Fails {
        reason: String,
        fix: String,
    },
    NotApplicable {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum ProcessLimit {
    /// A pids cgroup per command (and `RLIMIT_NPROC`).
    Cgroup,
    /// `RLIMIT_NPROC` alone.
    Rlimit,
    /// Nothing caps it; the command's timeout ends a fork bomb.
    Unlimited { reason: String },
}

impl ProbeReport {
    /// The mechanism to use: the forced one if it works, else the first that works.
    pub fn chosen(&self) -> Option<&Mechanism> {
        self.probes
            .iter()
            .filter(|p| self.forced.is_none_or(|f| f == p.mechanism))
            .find_map(|p| match &p.outcome {
                ProbeOutcome::Works { mechanism, .. } => Some(mechanism),
                ProbeOutcome::Fails { .. } | ProbeOutcome::NotApplicable { .. } => None,
            })
    }

    /// Why no mechanism can be used, and how to fix it: the text of a fail-closed refusal.
    pub fn refusal(&self) -> String {
        let mut parts = Vec::new();
        let mut fixes = Vec::new();
        for probe in &self.probes {
            match &probe.outcome {
                ProbeOutcome::Works { .. } => parts.push(format!(
                    "{} works but was not chosen",
                    probe.mechanism.name()
                )),
                ProbeOutcome::Fails { reason, fix } => {
                    parts.push(format!("{}: {reason}", probe.mechanism.name()));
                    fixes.push(fix.clone());
                }
                ProbeOutcome::NotApplicable { .. } => {}
            }
        }
        let forced = match self.forced {
            Some(kind) => format!(
                " ({FORCE_ENV}={} asks for that mechanism only)",
                kind.name()
            ),
            None => String::new(),
        };
        fixes.push(
            "or, to run this task's commands without any confinement, set `sandbox = \"off\"` \
             in its task file"
                .to_owned(),
        );
        format!(
            "no sandbox works on this machine{forced}, so shell commands are refused \
             (fail closed). {}. To fix: {}",
            parts.join("; "),
            fixes.join("; ")
        )
    }
}

/// Tries every mechanism once. Takes a few milliseconds per mechanism; callers keep the
/// report (it does not change while the process runs).
pub fn probe(options: &ProbeOptions) -> ProbeReport {
    let mut probes = Vec::new();
    for kind in MechanismKind::ALL {
        if options.force.is_some_and(|f| f != kind) && options.scope == ProbeScope::UntilOneWorks {
            continue;
        }
        let outcome = probe_one(kind, &options.helper);
        let works = matches!(outcome, ProbeOutcome::Works { .. });
        probes.push(Probe {
            mechanism: kind,
            outcome,
        });
        if works && options.scope == ProbeScope::UntilOneWorks {
            break;
        }
    }
    ProbeReport {
        probes,
        forced: options.force,
        processes: process_limit(),
    }
}

fn probe_one(kind: MechanismKind, helper: &Path) -> ProbeOutcome {
    let mechanism = match find(kind) {
        Ok(m) => m,
        Err(outcome) => return outcome,
    };
    let detail = match &mechanism {
        Mechanism::Bubblewrap { bwrap } => {
            format!("{} (user, pid and network namespaces)", bwrap.display())
        }
        Mechanism::Landlock { abi } => format!("Landlock ABI {abi} with seccomp"),
        Mechanism::MacOs { sandbox_exec } => sandbox_exec.display().to_string(),
    };
    match try_it(&mechanism, helper) {
        Ok(()) => ProbeOutcome::Works { mechanism, detail },
        Err(reason) => ProbeOutcome::Fails {
            fix: fix_for(kind),
            reason,
        },
    }
}

fn fix_for(kind: MechanismKind) -> String {
    match kind {
        MechanismKind::Bubblewrap => "make bubblewrap work (install it: `apt-get install \
             bubblewrap`; it needs unprivileged user namespaces: sysctl \
             kernel.unprivileged_userns_clone=1, or on Ubuntu an AppArmor profile for bwrap)"
            .to_owned(),
        MechanismKind::Landlock => {
            "use a Linux kernel of 5.13 or newer with Landlock enabled (`lsm=landlock,…` on the \
             kernel command line)"
                .to_owned()
        }
        MechanismKind::SandboxExec => "sandbox-exec ships with macOS".to_owned(),
    }
}

/// The mechanism's program or kernel support, before trying it.
fn find(kind: MechanismKind) -> Result<Mechanism, ProbeOutcome> {
    let not_here = |what: &str| {
        Err(ProbeOutcome::NotApplicable {
            reason: format!("{what} only"),
        })
    };
    match kind {
        MechanismKind::Bubblewrap => {
            if !cfg!(target_os = "linux") {
                return not_here("Linux");
            }
            match which("bwrap") {
                Some(bwrap) => Ok(Mechanism::Bubblewrap { bwrap }),
                None => Err(ProbeOutcome::Fails {
                    reason: "bwrap is not installed".to_owned(),
                    fix: fix_for(kind),
                }),
            }
        }
        MechanismKind::Landlock => {
            #[cfg(target_os = "linux")]
            {
                match crate::linux::landlock::supported_abi() {
                    0 => Err(ProbeOutcome::Fails {
                        reason: "this kernel has no Landlock (or it is not enabled)".to_owned(),
                        fix: fix_for(kind),
                    }),
                    abi => Ok(Mechanism::Landlock { abi }),
                }
            }
            #[cfg(not(target_os = "linux"))]
            not_here("Linux")
        }
        MechanismKind::SandboxExec => {
            if !cfg!(target_os = "macos") {
                return not_here("macOS");
            }
            let path = PathBuf::from(crate::wrap::macos::SANDBOX_EXEC);
            if path.exists() {
                Ok(Mechanism::MacOs { sandbox_exec: path })
            } else {
                Err(ProbeOutcome::Fails {
                    reason: format!("{} is missing", path.display()),
                    fix: fix_for(kind),
                })
            }
        }
    }
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Runs a command in the mechanism that must be able to write its workspace and must not be
/// able to write beside it.
fn try_it(mechanism: &Mechanism, helper: &Path) -> Result<(), String> {
    let dir = ProbeDir::new().map_err(|e| format!("cannot make a probe folder: {e}"))?;
    let ws = dir.0.join("ws");
    let tmp = dir.0.join("tmp");
    let outside = dir.0.join("outside");
    for d in [&ws, &tmp, &outside] {
        std::fs::create_dir_all(d).map_err(|e| format!("cannot make a probe folder: {e}"))?;
    }
    let sandbox = Sandbox::confined(
        mechanism.clone(),
        SandboxPolicy {
            workspace: WorkspaceAccess::ReadWrite,
            ..SandboxPolicy::default()
        },
        helper.to_path_buf(),
        None,
    );
    let script = "echo ok > inside && { (echo escaped > ../outside/x) 2>/dev/null; \
                  test ! -e ../outside/x; } && cat inside";
    let plain = ShellCommand {
        program: PathBuf::from("/bin/sh"),
        args: vec![OsString::from("-c"), OsString::from(script)],
        cwd: ws.clone(),
        env: vec![("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into())],
        writable: vec![ws.clone(), tmp.clone()],
        tmp,
    };
    let wrapped = sandbox.wrap(plain).map_err(|e| e.to_string())?;
    let cmd = &wrapped.command;
    let mut child = Command::new(&cmd.program)
        .args(&cmd.args)
        .current_dir(&cmd.cwd)
        .env_clear()
        .envs(cmd.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", cmd.program.display()))?;
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            Ok(None) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("the probe command did not finish within 20 s".to_owned());
            }
        }
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut stdout);
    }
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    drop(wrapped);
    if outside.join("x").exists() {
        return Err("a write outside the workspace was NOT blocked".to_owned());
    }
    if status.success() && stdout.trim() == "ok" {
        return Ok(());
    }
    let said = stderr
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("no message");
    Err(format!("the probe command failed ({status}): {said}"))
}

/// A private folder for one probe, removed afterwards.
struct ProbeDir(PathBuf);

impl ProbeDir {
    fn new() -> std::io::Result<ProbeDir> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "tend-probe-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)?;
        Ok(ProbeDir(std::fs::canonicalize(&dir)?))
    }
}

impl Drop for ProbeDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn process_limit() -> ProcessLimit {
    #[cfg(target_os = "linux")]
    if crate::cgroup::PidsCgroup::create(1).is_ok() {
        return ProcessLimit::Cgroup;
    }
    #[cfg(unix)]
    if rustix::process::getuid().is_root() {
        return ProcessLimit::Unlimited {
            reason: "tend runs as root, whom RLIMIT_NPROC does not bind, and no pids cgroup \
                     can be made: a fork bomb is ended only by the command's timeout"
                .to_owned(),
        };
    }
    ProcessLimit::Rlimit
}

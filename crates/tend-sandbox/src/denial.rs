//! Telling the model (and the transcript) when the sandbox was why a command failed. The kernel
//! only says "Read-only file system" or "Permission denied"; this names the rule behind it and
//! what to do instead. Detection is by the command's output and status, so it can miss a
//! denial a program reports in its own words; proxy refusals are always recorded.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Mechanism;
use crate::helper::{MESSAGE_PREFIX, SETUP_FAILED};
use crate::policy::{Layout, ResourceLimits, WorkspaceAccess};
use crate::proxy::{ProxyDecision, Verdict};

/// One thing the sandbox refused, for the model and the transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxDenial {
    pub kind: DenialKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DenialKind {
    /// A write outside the writable paths.
    Write,
    /// The repository's `.git` (read-only inside the sandbox).
    Git,
    /// A hidden (`deny_read`) path.
    Read,
    /// Network access without the proxy, or with no domains listed.
    Network,
    /// The proxy refused a host.
    Proxy,
    Processes,
    FileSize,
    CpuTime,
    /// A forbidden system call (tracing, mounts, namespaces).
    Syscall,
    /// The sandbox could not be set up; the command did not run.
    Setup,
    /// The command changed something it must not (a worktree's `.git` file, where the
    /// mechanism cannot keep it read-only), and tend undid it.
    Undone,
}

/// What a command printed and how it ended (the rendered, possibly cut, output is enough).
#[derive(Debug, Clone, Copy)]
pub struct CommandOutput<'a> {
    pub stdout: &'a str,
    pub stderr: &'a str,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
}

const SIGXCPU: i32 = 24;
const SIGXFSZ: i32 = 25;

pub(crate) struct Context<'a> {
    pub mechanism: &'a Mechanism,
    pub layout: &'a Layout,
    pub workspace: WorkspaceAccess,
    pub root: &'a std::path::Path,
    pub limits: &'a ResourceLimits,
    pub network: &'a [String],
}

pub(crate) fn explain(
    ctx: &Context<'_>,
    out: &CommandOutput<'_>,
    proxy: &[ProxyDecision],
) -> Vec<SandboxDenial> {
    let mut found = Found::default();
    let text = format!("{}\n{}", out.stderr, out.stdout);
    let lower = text.to_lowercase();
    let has = |needle: &str| lower.contains(needle);

    if out.exit_code == Some(i32::from(SETUP_FAILED))
        && let Some(line) = text.lines().find(|l| l.starts_with(MESSAGE_PREFIX))
    {
        found.add(
            DenialKind::Setup,
            format!(
                "the sandbox ({}) could not start the command: {}",
                ctx.mechanism.name(),
                line.trim_start_matches(MESSAGE_PREFIX).trim()
            ),
        );
    }

    let landlock = matches!(ctx.mechanism, Mechanism::Landlock { .. });
    for path in refused_paths(&text, ctx.root) {
        if ctx.layout.is_hidden(&path) {
            let hidden = ctx
                .layout
                .hidden
                .iter()
                .filter(|h| path.starts_with(&h.path))
                .max_by_key(|h| h.path.components().count())
                .map_or(path.as_path(), |h| h.path.as_path());
            found.add(
                DenialKind::Read,
                format!(
                    "{} is hidden from commands by the sandbox (deny_read); it cannot be read \
                     or listed",
                    hidden.display()
                ),
            );
        } else if landlock
            && path.parent().is_some()
            && ctx
                .layout
                .hidden
                .iter()
                .any(|h| h.path.starts_with(&path) && h.path != path)
        {
            found.add(
                DenialKind::Read,
                format!(
                    "{} holds paths hidden from commands (deny_read); under Landlock such a \
                     folder cannot be listed, but its other files can be read by name",
                    path.display()
                ),
            );
        }
    }

    for decision in proxy {
        if decision.verdict == Verdict::Denied {
            found.add(
                DenialKind::Proxy,
                format!(
                    "tend's proxy refused {}:{}: {}",
                    decision.host,
                    decision.port,
                    decision.reason.as_deref().unwrap_or("not allowed")
                ),
            );
        }
    }

    let refused = has("permission denied") || has("operation not permitted");
    let network_failed = [
        "could not resolve host",
        "temporary failure in name resolution",
        "name or service not known",
        "no address associated with hostname",
        "network is unreachable",
        "couldn't connect to server",
        "failed to connect to",
        "connection refused",
        "failed to resolve",
        "dns error",
        "unable to resolve host",
    ]
    .iter()
    .any(|n| has(n))
        || (refused && (has("socket") || has("connect:") || has("/dev/tcp/")));
    if network_failed && !found.has(DenialKind::Proxy) {
        let message = if ctx.network.is_empty() {
            "the sandbox has no network: the task's [sandbox] network lists no domains (and \
             127.0.0.1 inside the sandbox is not this machine's)"
                .to_owned()
        } else {
            format!(
                "the sandbox reaches only {} and only through tend's proxy (HTTP_PROXY and \
                 HTTPS_PROXY are set); direct connections, other hosts and this machine's \
                 127.0.0.1 are unreachable",
                ctx.network.join(", ")
            )
        };
        found.add(DenialKind::Network, message);
    }

    let syscall_words = [
        "unshare", "mount", "ptrace", "strace", "gdb", "chroot", "nsenter", "keyctl", "pivot",
    ];
    if refused && syscall_words.iter().any(|w| has(w)) {
        found.add(
            DenialKind::Syscall,
            "the sandbox forbids tracing (ptrace), mounts, new namespaces and similar system \
             calls"
                .to_owned(),
        );
    }

    let git_named = has(".git/") || has("index.lock") || has(".git'") || has(".git:");
    let busy_git = has("device or resource busy") && has(".git");
    let write_refused = has("read-only file system")
        || (landlock && has("permission denied") && found.0.is_empty());
    if (write_refused && git_named) || busy_git {
        found.add(
            DenialKind::Git,
            "the repository's .git (and the worktree's .git file) are read-only inside the \
             sandbox: tend commits the workspace's changes itself when the run ends, so leave \
             git add/commit/stash alone"
                .to_owned(),
        );
    } else if write_refused {
        let tmp = ctx.layout.tmp.display();
        let message = match ctx.workspace {
            WorkspaceAccess::ReadWrite => format!(
                "the sandbox lets commands write only the workspace ({}) and its tmp ({tmp}, \
                 also $TMPDIR); everything else is read-only",
                ctx.root.display()
            ),
            WorkspaceAccess::ReadOnly => format!(
                "this run is read-only: commands may write only their tmp ({tmp}, also \
                 $TMPDIR)"
            ),
        };
        found.add(DenialKind::Write, message);
    }

    let exit_signal = |sig: i32| out.signal == Some(sig) || out.exit_code == Some(128 + sig);
    if has("fork: retry")
        || has("fork: resource temporarily unavailable")
        || has("cannot fork")
        || has("can't fork")
        || (has("resource temporarily unavailable") && (has("fork") || has("thread")))
    {
        found.add(
            DenialKind::Processes,
            format!(
                "the sandbox allows at most {} processes and threads at once",
                ctx.limits.processes
            ),
        );
    }
    if has("file too large") || has("file size limit exceeded") || exit_signal(SIGXFSZ) {
        found.add(
            DenialKind::FileSize,
            format!(
                "the sandbox limits a file to {} (RLIMIT_FSIZE); the process writing past it \
                 was stopped",
                human_bytes(ctx.limits.file_size)
            ),
        );
    }
    if has("cpu time limit exceeded") || exit_signal(SIGXCPU) {
        found.add(
            DenialKind::CpuTime,
            format!(
                "the sandbox limits a process to {} s of CPU time",
                ctx.limits.cpu_seconds
            ),
        );
    }
    found.0
}

/// Paths named on lines that report a refused or missing file (as `cat: ~/x: Permission
/// denied` does), resolved against `cwd` and through symbolic links as the command saw them.
/// At most a few dozen lines are looked at.
fn refused_paths(text: &str, cwd: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    let lines = text
        .lines()
        .filter(|l| {
            let l = l.to_lowercase();
            l.contains("permission denied") || l.contains("no such file")
        })
        .take(40);
    for line in lines {
        let tokens = line
            .split(|c: char| c.is_whitespace() || matches!(c, '\'' | '"' | '`' | '‘' | '’'))
            .map(|t| t.trim_matches(|c: char| matches!(c, ':' | ',' | ';' | '(' | ')')))
            .filter(|t| !t.is_empty() && !t.starts_with('-'))
            .take(12);
        for token in tokens {
            let path = cwd.join(token);
            // A path as far as it exists, canonical; a lexical one beyond that. Another
            // process's root (`/proc/1/root/…`) is, as far as tend can tell, this root.
            let resolved = std::fs::canonicalize(&path).unwrap_or_else(|_| {
                match token
                    .strip_prefix("/proc/")
                    .and_then(|t| t.split_once("/root/"))
                {
                    Some((pid, rest)) if pid.chars().all(|c| c.is_ascii_digit()) => {
                        Path::new("/").join(rest)
                    }
                    _ => path,
                }
            });
            if resolved.is_absolute() && !out.contains(&resolved) {
                out.push(resolved);
            }
        }
    }
    out
}

/// `64 MiB`, `1 GiB`, `1000 bytes`.
fn human_bytes(n: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (size, unit) in UNITS {
        if n >= size && n.is_multiple_of(size) {
            return format!("{} {unit}", n / size);
        }
    }
    format!("{n} bytes")
}

/// Denials so far, at most one per kind (the first, most specific, message wins), except
/// proxy refusals, one per host.
#[derive(Default)]
struct Found(Vec<SandboxDenial>);

impl Found {
    fn add(&mut self, kind: DenialKind, message: String) {
        let repeat = match kind {
            DenialKind::Proxy => self.0.iter().any(|d| d.message == message),
            _ => self.has(kind),
        };
        if !repeat {
            self.0.push(SandboxDenial { kind, message });
        }
    }

    fn has(&self, kind: DenialKind) -> bool {
        self.0.iter().any(|d| d.kind == kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Hidden, HiddenKind};
    use pretty_assertions::assert_eq;

    fn layout() -> Layout {
        Layout {
            writable: vec![PathBuf::from("/w"), PathBuf::from("/t")],
            readable: vec![],
            protected: vec![],
            hidden: vec![Hidden {
                path: PathBuf::from("/home/u/.ssh"),
                kind: HiddenKind::Dir,
            }],
            tmp: PathBuf::from("/t"),
        }
    }

    fn kinds(
        mechanism: Mechanism,
        stderr: &str,
        code: Option<i32>,
        proxy: &[ProxyDecision],
    ) -> Vec<DenialKind> {
        let layout = layout();
        let limits = ResourceLimits::default();
        let ctx = Context {
            mechanism: &mechanism,
            layout: &layout,
            workspace: WorkspaceAccess::ReadWrite,
            root: Path::new("/w"),
            limits: &limits,
            network: &[],
        };
        let out = CommandOutput {
            stdout: "",
            stderr,
            exit_code: code,
            signal: None,
        };
        explain(&ctx, &out, proxy)
            .into_iter()
            .map(|d| d.kind)
            .collect()
    }

    fn bwrap() -> Mechanism {
        Mechanism::Bubblewrap {
            bwrap: PathBuf::from("/usr/bin/bwrap"),
        }
    }

    #[test]
    fn recognises_each_kind() {
        let cases: &[(&str, Option<i32>, &[DenialKind])] = &[
            (
                "touch: cannot touch '/etc/x': Read-only file system",
                Some(1),
                &[DenialKind::Write],
            ),
            (
                "fatal: Unable to create '/r/.git/worktrees/1/index.lock': Read-only file system",
                Some(128),
                &[DenialKind::Git],
            ),
            (
                "cat: /home/u/.ssh/id_ed25519: Permission denied",
                Some(1),
                &[DenialKind::Read],
            ),
            (
                "curl: (6) Could not resolve host: example.com",
                Some(6),
                &[DenialKind::Network],
            ),
            (
                "bash: fork: retry: Resource temporarily unavailable",
                Some(254),
                &[DenialKind::Processes],
            ),
            (
                "dd: error writing 'big': File too large",
                Some(1),
                &[DenialKind::FileSize],
            ),
            ("", Some(153), &[DenialKind::FileSize]),
            ("", Some(152), &[DenialKind::CpuTime]),
            (
                "unshare: unshare failed: Operation not permitted",
                Some(1),
                &[DenialKind::Syscall],
            ),
            (
                "tend sandbox: cannot run \"nope\": No such file",
                Some(125),
                &[DenialKind::Setup],
            ),
            (
                "ls: cannot access 'x': No such file or directory",
                Some(2),
                &[],
            ),
            ("cat: /etc/shadow: Permission denied", Some(1), &[]),
        ];
        for (stderr, code, expected) in cases {
            assert_eq!(&kinds(bwrap(), stderr, *code, &[]), expected, "{stderr}");
        }
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_bytes(1 << 30), "1 GiB");
        assert_eq!(human_bytes(64 << 20), "64 MiB");
        assert_eq!(human_bytes(1000), "1000 bytes");
    }

    #[test]
    fn landlock_reports_permission_denied_writes() {
        assert_eq!(
            kinds(
                Mechanism::Landlock { abi: 6 },
                "touch: cannot touch '/etc/x': Permission denied",
                Some(1),
                &[]
            ),
            [DenialKind::Write]
        );
    }

    #[test]
    fn proxy_refusals_are_named_and_replace_the_generic_network_note() {
        let refused = ProxyDecision {
            method: "CONNECT".into(),
            host: "evil.example".into(),
            port: 443,
            verdict: Verdict::Denied,
            reason: Some("evil.example is not in the task's [sandbox] network (crates.io)".into()),
        };
        let layout = layout();
        let limits = ResourceLimits::default();
        let mechanism = bwrap();
        let network = ["crates.io".to_owned()];
        let ctx = Context {
            mechanism: &mechanism,
            layout: &layout,
            workspace: WorkspaceAccess::ReadWrite,
            root: Path::new("/w"),
            limits: &limits,
            network: &network,
        };
        let out = CommandOutput {
            stdout: "",
            stderr: "curl: (56) CONNECT tunnel failed, response 403",
            exit_code: Some(56),
            signal: None,
        };
        assert_eq!(
            explain(&ctx, &out, &[refused]),
            vec![SandboxDenial {
                kind: DenialKind::Proxy,
                message: "tend's proxy refused evil.example:443: evil.example is not in the \
                          task's [sandbox] network (crates.io)"
                    .into()
            }]
        );
    }
}

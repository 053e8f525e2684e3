//! Turning a plain shell command into the confined one, per mechanism.

pub mod bwrap;
mod confine;
pub mod macos;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::helper::{
    HelperArgs, LandlockArgs, NprocScope, Privileges, Rlimit, SeccompArgs, SessionRule, SocketRule,
};
use crate::policy::{HOST_TMP, Layout, ResourceLimits};

/// The rlimits every sandboxed process gets.
pub(crate) fn rlimits(limits: &ResourceLimits) -> Vec<(Rlimit, u64)> {
    vec![
        (Rlimit::Processes, limits.processes),
        (Rlimit::FileSize, limits.file_size),
        (Rlimit::CpuSeconds, limits.cpu_seconds),
        (Rlimit::OpenFiles, limits.open_files),
        (Rlimit::CoreSize, 0),
    ]
}

/// The helper's arguments inside bubblewrap: rlimits (counted per sandbox: bubblewrap's user
/// namespace), seccomp (every socket but a Unix one: the network namespace has only `lo`), the
/// bridge.
pub(crate) fn bwrap_helper(
    limits: &ResourceLimits,
    bridge: Option<PathBuf>,
    program: &Path,
    args: &[OsString],
) -> HelperArgs {
    HelperArgs {
        join_cgroup: None,
        rlimits: rlimits(limits),
        nproc: NprocScope::Sandbox,
        privileges: Privileges::Drop,
        landlock: None,
        seccomp: Some(SeccompArgs {
            sockets: SocketRule::AllButUnix,
            sessions: SessionRule::Allow,
        }),
        bridge,
        program: program.as_os_str().to_owned(),
        args: args.to_vec(),
    }
}

/// The helper's arguments for Landlock: it is the whole sandbox. No pid namespace, so the
/// command may not leave its process group; no network namespace, so sockets are limited. No
/// mount namespace either, so the host's shared temp folders ([`HOST_TMP`]) are hidden like
/// `~/.ssh` (other users' and programs' files are there), and only `host_tmp` (see
/// [`Layout::host_tmp`]) is readable in them, as far as no hidden path lies beneath.
#[allow(clippy::too_many_arguments)]
pub(crate) fn landlock_helper(
    abi: u8,
    layout: &Layout,
    host_tmp: &[PathBuf],
    limits: &ResourceLimits,
    proxy_port: Option<u16>,
    cgroup: Option<PathBuf>,
    program: &Path,
    args: &[OsString],
) -> HelperArgs {
    let sockets = match proxy_port {
        Some(_) => SocketRule::InetStream,
        None => SocketRule::Nothing,
    };
    HelperArgs {
        join_cgroup: cgroup,
        rlimits: rlimits(limits),
        nproc: NprocScope::AboveCurrent,
        privileges: Privileges::Drop,
        landlock: Some(LandlockArgs {
            abi,
            rw: layout.writable.clone(),
            ro: layout
                .readable
                .iter()
                .chain(host_tmp.iter())
                .cloned()
                .collect(),
            deny: landlock_deny(layout),
            connect_tcp: proxy_port.into_iter().collect(),
        }),
        seccomp: Some(SeccompArgs {
            sockets,
            sessions: SessionRule::Deny,
        }),
        bridge: None,
        program: program.as_os_str().to_owned(),
        args: args.to_vec(),
    }
}

/// What Landlock keeps unreadable: the hidden paths, and the host's shared temp folders
/// (canonical; one that a writable or readable path contains, or is, stays as it is: that
/// path is granted anyway).
fn landlock_deny(layout: &Layout) -> Vec<PathBuf> {
    let mut deny: Vec<PathBuf> = layout.hidden.iter().map(|h| h.path.clone()).collect();
    for root in HOST_TMP {
        let Ok(root) = std::fs::canonicalize(root) else {
            continue;
        };
        let granted = layout
            .writable
            .iter()
            .chain(layout.readable.iter())
            .any(|p| root.starts_with(p));
        if !granted && !deny.contains(&root) {
            deny.push(root);
        }
    }
    deny
}

/// Environment variables that send HTTP clients to the proxy at `url`.
pub(crate) fn proxy_env(url: &str) -> Vec<(OsString, OsString)> {
    let no_proxy = "localhost,127.0.0.1,::1";
    [
        ("HTTP_PROXY", url),
        ("HTTPS_PROXY", url),
        ("ALL_PROXY", url),
        ("http_proxy", url),
        ("https_proxy", url),
        ("all_proxy", url),
        ("NO_PROXY", no_proxy),
        ("no_proxy", no_proxy),
    ]
    .iter()
    .map(|(k, v)| (OsString::from(k), OsString::from(v)))
    .collect()
}

/// Sets (or replaces) variables in a sorted environment.
pub(crate) fn set_env(env: &mut Vec<(OsString, OsString)>, vars: Vec<(OsString, OsString)>) {
    for (key, value) in vars {
        match env.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => env.push((key, value)),
        }
    }
    env.sort();
}

/// An empty file nobody may read (mode 000), bound over hidden files; made once in a private
/// folder of the system's temp dir that belongs to this user.
pub(crate) fn unreadable_file() -> std::io::Result<&'static Path> {
    static FILE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let made = FILE.get_or_init(|| make_unreadable_file().map_err(|e| e.to_string()));
    match made {
        Ok(path) => Ok(path.as_path()),
        Err(e) => Err(std::io::Error::other(e.clone())),
    }
}

#[cfg(unix)]
fn make_unreadable_file() -> std::io::Result<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
    let uid = rustix::process::getuid().as_raw();
    let dir = std::env::temp_dir().join(format!("tend-sandbox-{uid}"));
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    // Someone else's folder (or a link) in a shared temp dir is not ours to trust.
    let meta = std::fs::symlink_metadata(&dir)?;
    if !meta.is_dir() || meta.uid() != uid || meta.permissions().mode() & 0o077 != 0 {
        return Err(std::io::Error::other(format!(
            "{} is not a private folder of this user",
            dir.display()
        )));
    }
    let path = dir.join("unreadable");
    match std::fs::symlink_metadata(&path) {
        Ok(meta) if meta.is_file() && meta.len() == 0 && meta.permissions().mode() & 0o777 == 0 => {
        }
        _ => {
            let _ = std::fs::remove_file(&path);
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o000)
                .open(&path)?;
        }
    }
    Ok(path)
}

#[cfg(not(unix))]
fn make_unreadable_file() -> std::io::Result<PathBuf> {
    Err(std::io::Error::other("not supported here"))
}

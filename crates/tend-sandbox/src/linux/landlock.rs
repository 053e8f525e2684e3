//! Landlock, applied by the helper to itself before it runs the command.
//!
//! Landlock only grants: there is no "read everything except `~/.ssh`". So read access is
//! granted on `/` where no hidden path lies beneath, and otherwise on each child of the
//! directory that holds one, recursively (see [`read_roots`]). The approximation: a directory
//! on the way to a hidden path (say `$HOME`) cannot be listed, its files and other children can
//! be read, and a file created there after the rules were made cannot be read.
//!
//! The host's `/tmp`, `/var/tmp` and `/dev/shm` are among the hidden paths (no mount namespace
//! can give the command its own); the folders of them that the command needs (the workspace's,
//! tend's state's, the repository's) are read roots of their own, carved the same way, so a
//! hidden path inside one of them stays hidden.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, NetPort, PathBeneath,
    PathFd, Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus, Scope,
};

use crate::helper::LandlockArgs;

/// Character devices every command may write (shell redirections use them).
const DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
];

#[derive(Debug, thiserror::Error)]
pub enum LandlockError {
    #[error("Landlock: {0}")]
    Ruleset(#[from] landlock::RulesetError),
    #[error("Landlock could not enforce every rule on this kernel ({0:?})")]
    NotEnforced(RulesetStatus),
}

/// The highest Landlock ABI this kernel supports fully, 0 when it has none.
pub fn supported_abi() -> u8 {
    for (n, abi) in [
        (7, ABI::V7),
        (6, ABI::V6),
        (5, ABI::V5),
        (4, ABI::V4),
        (3, ABI::V3),
        (2, ABI::V2),
        (1, ABI::V1),
    ] {
        let created = Ruleset::default()
            .set_compatibility(CompatLevel::HardRequirement)
            .handle_access(AccessFs::from_all(abi))
            .and_then(|r| r.create());
        if created.is_ok() {
            return n;
        }
    }
    0
}

/// Restricts this process (and what it executes) as `args` say.
pub fn restrict_self(args: &LandlockArgs) -> Result<(), LandlockError> {
    let abi = ABI::from(i32::from(args.abi));
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(AccessFs::from_all(abi))?;
    if args.abi >= 4 {
        ruleset = ruleset.handle_access(AccessNet::BindTcp | AccessNet::ConnectTcp)?;
    }
    if args.abi >= 6 {
        ruleset = ruleset.scope(Scope::AbstractUnixSocket | Scope::Signal)?;
    }
    let mut created = ruleset.create()?;
    let read = AccessFs::from_read(abi);
    let all = AccessFs::from_all(abi);
    for root in read_roots(&args.ro, &args.deny, &mut list_dir) {
        created = add_path(created, &root, read, abi)?;
    }
    for dev in DEVICES {
        if Path::new(dev).exists() {
            created = add_path(created, Path::new(dev), AccessFs::from_file(abi), abi)?;
        }
    }
    for dir in &args.rw {
        created = add_path(created, dir, all, abi)?;
    }
    for port in &args.connect_tcp {
        created = created.add_rule(NetPort::new(*port, AccessNet::ConnectTcp))?;
    }
    let status = created.restrict_self()?;
    match status.ruleset {
        RulesetStatus::FullyEnforced => Ok(()),
        other => Err(LandlockError::NotEnforced(other)),
    }
}

/// One path rule; a file gets only the rights that apply to files. A path that vanished since
/// the listing is skipped.
fn add_path(
    created: landlock::RulesetCreated,
    path: &Path,
    access: BitFlags<AccessFs>,
    abi: ABI,
) -> Result<landlock::RulesetCreated, LandlockError> {
    let Ok(meta) = fs::metadata(path) else {
        return Ok(created);
    };
    let access = if meta.is_dir() {
        access
    } else {
        access & AccessFs::from_file(abi)
    };
    let Ok(fd) = PathFd::new(path) else {
        return Ok(created);
    };
    Ok(created.add_rule(PathBeneath::new(fd, access))?)
}

/// Canonical children of a directory (nothing for a file or an unreadable directory).
fn list_dir(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| fs::canonicalize(e.path()).ok())
        .collect()
}

/// The paths to grant read access beneath so that everything under `/` and under each of
/// `extra` is readable except `deny` (all canonical). A path is denied when the deepest denied
/// path that holds it is at least as deep as the deepest start (`/` or one of `extra`) that
/// holds it: a start inside a denied folder (a folder of the host's `/tmp`) is readable, a
/// denied path inside a start is not. Grants `/` itself when nothing is denied, else the
/// children of each directory on the way to a denied path. Symbolic links among the children
/// are followed (`list` canonicalises), so a link into a denied folder is not a way in.
pub fn read_roots(
    extra: &[PathBuf],
    deny: &[PathBuf],
    list: &mut dyn FnMut(&Path) -> Vec<PathBuf>,
) -> Vec<PathBuf> {
    let mut starts = vec![PathBuf::from("/")];
    starts.extend(extra.iter().cloned());
    let deepest = |set: &[PathBuf], path: &Path| {
        set.iter()
            .filter(|p| path.starts_with(p))
            .map(|p| p.components().count())
            .max()
    };
    let denied = |dir: &Path| match deepest(deny, dir) {
        Some(hidden) => hidden >= deepest(&starts, dir).unwrap_or(0),
        None => false,
    };
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut todo = starts.clone();
    while let Some(dir) = todo.pop() {
        if !seen.insert(dir.clone()) || denied(&dir) {
            continue;
        }
        if deny.iter().any(|d| d.starts_with(&dir) && d != &dir) {
            todo.extend(list(&dir));
        } else {
            out.push(dir);
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn fake_fs(dir: &Path) -> Vec<PathBuf> {
        let children: &[&str] = match dir.to_str().unwrap() {
            "/" => &["/bin", "/home", "/usr", "/etc"],
            "/home" => &["/home/u", "/home/v"],
            // Canonical children: `/home/u/up` is a link to `/home`, which must not loop.
            "/home/u" => &["/home/u/.ssh", "/home/u/src", "/home/u/.netrc", "/home"],
            _ => &[],
        };
        children.iter().map(PathBuf::from).collect()
    }

    #[test]
    fn nothing_denied_grants_the_root() {
        assert_eq!(read_roots(&[], &[], &mut fake_fs), vec![PathBuf::from("/")]);
    }

    #[test]
    fn denied_paths_are_carved_out_of_their_parents() {
        let deny = [
            PathBuf::from("/home/u/.ssh"),
            PathBuf::from("/home/u/.netrc"),
        ];
        let roots: Vec<String> = read_roots(&[], &deny, &mut fake_fs)
            .into_iter()
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(roots, ["/bin", "/etc", "/home/u/src", "/home/v", "/usr"]);
    }

    #[test]
    fn a_folder_of_the_hidden_tmp_is_readable_but_what_is_hidden_in_it() {
        let mut fs = |dir: &Path| -> Vec<PathBuf> {
            let children: &[&str] = match dir.to_str().unwrap() {
                "/" => &["/bin", "/tmp"],
                "/tmp" => &["/tmp/other", "/tmp/t"],
                // `link` points at another user's folder of /tmp: not a way in.
                "/tmp/t" => &["/tmp/t/state", "/tmp/t/repo", "/tmp/other"],
                _ => &[],
            };
            children.iter().map(PathBuf::from).collect()
        };
        let deny = [PathBuf::from("/tmp/t/state"), PathBuf::from("/tmp")];
        let roots: Vec<String> = read_roots(&[PathBuf::from("/tmp/t")], &deny, &mut fs)
            .into_iter()
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(roots, ["/bin", "/tmp/t/repo"]);
    }
}

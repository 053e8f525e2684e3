//! What a sandboxed command may do: the policy a run derives from its task, and the concrete
//! file-system layout one command gets from it.

use std::fs;
use std::path::{Path, PathBuf};

/// What shell commands of one run may touch, beyond the workspace root and its private tmp
/// (which every command gets from the tool that runs it, see [`crate::ShellCommand`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SandboxPolicy {
    /// Whether commands may write the workspace root: not in a read-only run, which works in
    /// the user's own folder.
    pub workspace: WorkspaceAccess,
    /// More writable paths (the task's `[sandbox] allow_write`), absolute.
    pub allow_write: Vec<PathBuf>,
    /// Paths hidden from commands (defaults from [`default_deny_read`] plus the task's
    /// `[sandbox] deny_read`), absolute. Hidden wins over writable.
    pub deny_read: Vec<PathBuf>,
    /// Domains reachable through tend's allowlist proxy (`crates.io`, `*.github.com`); empty:
    /// no network at all.
    pub network: Vec<String>,
    pub limits: ResourceLimits,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WorkspaceAccess {
    #[default]
    ReadWrite,
    ReadOnly,
}

/// Kernel resource limits (rlimits) of every process of a command, and of the command as a
/// whole where a pids cgroup can be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceLimits {
    /// Processes and threads at once (`RLIMIT_NPROC`, and `pids.max` of the command's cgroup).
    pub processes: u64,
    /// Largest file a process may write, in bytes (`RLIMIT_FSIZE`).
    pub file_size: u64,
    /// CPU seconds per process (`RLIMIT_CPU`).
    pub cpu_seconds: u64,
    /// Open file descriptors per process (`RLIMIT_NOFILE`).
    pub open_files: u64,
}

impl Default for ResourceLimits {
    fn default() -> ResourceLimits {
        ResourceLimits {
            processes: 1024,
            file_size: 1 << 30,
            cpu_seconds: 1200,
            open_files: 8192,
        }
    }
}

/// Files and folders under `$HOME` that hold credentials: hidden from every command.
pub const HOME_SECRETS: &[&str] = &[
    ".ssh",
    ".aws",
    ".gnupg",
    ".azure",
    ".kube",
    ".docker/config.json",
    ".netrc",
    ".git-credentials",
    ".npmrc",
    ".pypirc",
    ".cargo/credentials",
    ".cargo/credentials.toml",
    ".config/gcloud",
    ".config/gh",
    ".config/hub",
    ".config/glab-cli",
    ".config/tea",
    ".cache/git/credential",
    ".vault-token",
    ".config/git/credentials",
    ".password-store",
    ".local/share/keyrings",
    ".terraform.d/credentials.tfrc.json",
];

/// The default `deny_read`: [`HOME_SECRETS`] under `home`, and tend's own folders (its config
/// with provider keys, its state with the store, transcripts and other runs' worktrees).
///
/// tend's state folder holds the run's own worktree and tmp; those stay visible because a
/// deeper writable path wins over a hidden ancestor (see [`Layout`]).
pub fn default_deny_read(home: Option<&Path>, tend_dirs: &[&Path]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = home
        .map(|home| HOME_SECRETS.iter().map(|rel| home.join(rel)).collect())
        .unwrap_or_default();
    out.extend(tend_dirs.iter().map(|dir| dir.to_path_buf()));
    out
}

/// `~/x` → `<home>/x`; other paths unchanged. `None` when the path needs a home that is not
/// known.
pub fn expand_home(path: &Path, home: Option<&Path>) -> Option<PathBuf> {
    match path.strip_prefix("~") {
        Ok(rest) => home.map(|home| home.join(rest)),
        Err(_) => Some(path.to_path_buf()),
    }
}

/// The host's shared temp folders: other programs and users keep files and sockets there, so
/// a command sees none of it but what [`Layout::host_tmp`] brings back.
pub const HOST_TMP: [&str; 3] = ["/tmp", "/var/tmp", "/dev/shm"];

/// The concrete view one command gets: every path canonical, nonexistent hidden paths dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Read-write, in the order given (workspace root, tmp, `allow_write`).
    pub writable: Vec<PathBuf>,
    /// Readable even inside a hidden path: the workspace root of a read-only run.
    pub readable: Vec<PathBuf>,
    /// Inside a writable path but kept read-only: a worktree's `.git` file, which tells tend's
    /// own git commands (run outside the sandbox) where the repository is.
    pub protected: Vec<PathBuf>,
    /// Hidden paths that exist, canonical.
    pub hidden: Vec<Hidden>,
    /// The private tmp, also mounted at `/tmp` where the mechanism can.
    pub tmp: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hidden {
    pub path: PathBuf,
    pub kind: HiddenKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HiddenKind {
    Dir,
    File,
}

impl Layout {
    /// The layout for a command whose workspace is `root` (with private `tmp`), writable as
    /// `writable` says (from the tool), under `policy`.
    pub fn new(policy: &SandboxPolicy, root: &Path, tmp: &Path, writable: &[PathBuf]) -> Layout {
        let mut rw: Vec<PathBuf> = writable
            .iter()
            .filter(|p| match policy.workspace {
                WorkspaceAccess::ReadWrite => true,
                WorkspaceAccess::ReadOnly => p.as_path() != root,
            })
            .cloned()
            .collect();
        for extra in &policy.allow_write {
            if let Ok(canonical) = fs::canonicalize(extra)
                && !rw.contains(&canonical)
            {
                rw.push(canonical);
            }
        }
        let protected = rw
            .iter()
            .map(|dir| dir.join(".git"))
            .filter(|git| fs::symlink_metadata(git).is_ok())
            .collect();
        let mut hidden = Vec::new();
        for path in &policy.deny_read {
            let Ok(canonical) = fs::canonicalize(path) else {
                continue;
            };
            let Ok(meta) = fs::metadata(&canonical) else {
                continue;
            };
            let kind = if meta.is_dir() {
                HiddenKind::Dir
            } else {
                HiddenKind::File
            };
            if !hidden.iter().any(|h: &Hidden| h.path == canonical) {
                hidden.push(Hidden {
                    path: canonical,
                    kind,
                });
            }
        }
        let readable = match policy.workspace {
            WorkspaceAccess::ReadWrite => Vec::new(),
            WorkspaceAccess::ReadOnly => vec![root.to_path_buf()],
        };
        Layout {
            writable: rw,
            readable,
            protected,
            hidden,
            tmp: tmp.to_path_buf(),
        }
    }

    /// Where the worktrees' `.git` files point: a worktree's git folder inside its repository
    /// (a relative `gitdir:` is taken from the file's folder).
    pub fn gitdirs(&self) -> Vec<PathBuf> {
        self.protected
            .iter()
            .filter_map(|file| {
                let text = fs::read_to_string(file).ok()?;
                let dir = text.lines().find_map(|l| l.strip_prefix("gitdir:"))?.trim();
                let dir = file.parent()?.join(dir);
                Some(fs::canonicalize(&dir).unwrap_or(dir))
            })
            .collect()
    }

    /// The entries of the host's shared temp folders ([`HOST_TMP`]) that hold something the
    /// command needs: a path of this layout, or a repository's git folder (`gitdirs`, see
    /// [`Layout::gitdirs`]). Every mechanism hides the rest of those folders (other programs'
    /// and users' files and sockets) and brings only these back, read-only, with the hidden
    /// paths in them still hidden. The private tmp itself is not one (it is writable).
    pub fn host_tmp(&self, gitdirs: &[PathBuf]) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = self
            .writable
            .iter()
            .chain(self.readable.iter())
            .chain(self.protected.iter())
            .chain(gitdirs.iter())
            .filter_map(|p| {
                HOST_TMP.iter().find_map(|root| {
                    let first = p.strip_prefix(root).ok()?.components().next()?;
                    Some(Path::new(root).join(first))
                })
            })
            .filter(|p| p != &self.tmp)
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Whether `path` (canonical) is hidden: it is or lies under a hidden path, and no deeper
    /// writable or readable path (which wins over a hidden ancestor) contains it.
    pub fn is_hidden(&self, path: &Path) -> bool {
        let Some(hidden) = self
            .hidden
            .iter()
            .filter(|h| path.starts_with(&h.path))
            .map(|h| h.path.components().count())
            .max()
        else {
            return false;
        };
        let writable = self
            .writable
            .iter()
            .chain(self.readable.iter())
            .filter(|w| path.starts_with(w))
            .map(|w| w.components().count())
            .max();
        !matches!(writable, Some(depth) if depth > hidden)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn defaults_cover_the_design_list_and_tends_folders() {
        let home = Path::new("/home/u");
        let deny = default_deny_read(Some(home), &[Path::new("/home/u/.local/state/tend")]);
        for must in [".ssh", ".aws", ".gnupg", ".netrc", ".config/gh"] {
            assert!(deny.contains(&home.join(must)), "{must}");
        }
        assert_eq!(
            deny.last(),
            Some(&PathBuf::from("/home/u/.local/state/tend"))
        );
        assert_eq!(default_deny_read(None, &[]), Vec::<PathBuf>::new());
    }

    #[test]
    fn tilde_expands_against_home() {
        let home = Some(Path::new("/home/u"));
        assert_eq!(
            expand_home(Path::new("~/secrets"), home),
            Some(PathBuf::from("/home/u/secrets"))
        );
        assert_eq!(
            expand_home(Path::new("/etc/x"), None),
            Some(PathBuf::from("/etc/x"))
        );
        assert_eq!(expand_home(Path::new("~/x"), None), None);
    }

    #[test]
    fn layout_resolves_paths_and_protects_git_files() {
        let dir = tempfile::tempdir().unwrap();
        let base = fs::canonicalize(dir.path()).unwrap();
        let state = base.join("state");
        let root = state.join("worktrees/t/1");
        let tmp = state.join("runs/r/tmp");
        let secret = base.join("home/.ssh");
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(&tmp).unwrap();
        fs::create_dir_all(&secret).unwrap();
        fs::write(root.join(".git"), "gitdir: /x\n").unwrap();
        fs::write(base.join("home/.netrc"), "machine x").unwrap();
        std::os::unix::fs::symlink(&secret, base.join("home/ssh-link")).unwrap();
        let policy = SandboxPolicy {
            deny_read: vec![
                base.join("home/ssh-link"),
                base.join("home/.netrc"),
                base.join("home/.aws"),
                state.clone(),
            ],
            ..SandboxPolicy::default()
        };
        let layout = Layout::new(&policy, &root, &tmp, &[root.clone(), tmp.clone()]);
        assert_eq!(
            layout,
            Layout {
                writable: vec![root.clone(), tmp.clone()],
                readable: vec![],
                protected: vec![root.join(".git")],
                hidden: vec![
                    Hidden {
                        path: secret.clone(),
                        kind: HiddenKind::Dir
                    },
                    Hidden {
                        path: base.join("home/.netrc"),
                        kind: HiddenKind::File
                    },
                    Hidden {
                        path: state.clone(),
                        kind: HiddenKind::Dir
                    },
                ],
                tmp: tmp.clone(),
            }
        );
        assert!(layout.is_hidden(&secret.join("id_ed25519")));
        assert!(layout.is_hidden(&state.join("tend.db")));
        assert!(!layout.is_hidden(&root.join("src/main.rs")));
        assert!(!layout.is_hidden(&base.join("home/notes")));
    }

    #[test]
    fn the_host_tmp_folders_a_command_needs() {
        let dir = tempfile::tempdir().unwrap();
        let base = fs::canonicalize(dir.path()).unwrap();
        let ws = base.join("ws");
        fs::create_dir_all(base.join("repo/.git/worktrees/1")).unwrap();
        fs::create_dir_all(&ws).unwrap();
        // A relative gitdir (git's worktree.useRelativePaths) is taken from the file's folder.
        fs::write(ws.join(".git"), "gitdir: ../repo/.git/worktrees/1\n").unwrap();
        let layout = Layout {
            writable: vec![ws.clone(), PathBuf::from("/var/tmp/t/tmp")],
            readable: vec![PathBuf::from("/home/u/src")],
            protected: vec![ws.join(".git")],
            hidden: vec![],
            tmp: PathBuf::from("/var/tmp/t/tmp"),
        };
        let gitdirs = layout.gitdirs();
        assert_eq!(gitdirs, [base.join("repo/.git/worktrees/1")]);
        let first = |p: &Path| {
            let rest = p.strip_prefix("/tmp").unwrap();
            Path::new("/tmp").join(rest.components().next().unwrap())
        };
        let mut want = vec![PathBuf::from("/var/tmp/t")];
        if base.starts_with("/tmp") {
            want.insert(0, first(&base));
        }
        assert_eq!(layout.host_tmp(&gitdirs), want);
        let elsewhere = [PathBuf::from("/dev/shm/r/.git/worktrees/2")];
        assert!(
            layout
                .host_tmp(&elsewhere)
                .contains(&PathBuf::from("/dev/shm/r"))
        );
    }

    #[test]
    fn a_read_only_workspace_is_not_writable() {
        let dir = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(dir.path()).unwrap();
        let tmp = root.join("tmp");
        let policy = SandboxPolicy {
            workspace: WorkspaceAccess::ReadOnly,
            ..SandboxPolicy::default()
        };
        let layout = Layout::new(&policy, &root, &tmp, &[root.clone(), tmp.clone()]);
        assert_eq!(layout.writable, vec![tmp]);
        assert_eq!(layout.readable, vec![root]);
    }
}

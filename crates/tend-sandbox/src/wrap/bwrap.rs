//! The bubblewrap command line: every namespace of its own (network: only `lo`), no
//! capabilities, the whole file system read-only, the private tmp as `/tmp`, empty `/run`,
//! `/var/tmp` and `/dev/shm`, the writable paths bound back read-write, hidden paths covered by
//! empty unreadable ones, and the helper as the entry point.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::policy::{HiddenKind, Layout};

/// Where the helper and the proxy socket appear inside the sandbox (`/run` is a fresh tmpfs
/// there: no host sockets such as the D-Bus session bus or docker.sock are reachable).
pub const RUN_DIR: &str = "/run/tend";
pub const HELPER_INSIDE: &str = "/run/tend/sandbox-exec";
pub const PROXY_INSIDE: &str = "/run/tend/proxy.sock";

/// What bubblewrap needs besides the layout.
#[derive(Debug)]
pub struct Bwrap<'a> {
    pub layout: &'a Layout,
    pub cwd: &'a Path,
    /// The helper binary on the host.
    pub helper: &'a Path,
    /// The helper's own arguments (from `__sandbox-exec` through the command).
    pub helper_args: Vec<OsString>,
    /// The proxy's Unix socket on the host, when the task lists domains.
    pub proxy_socket: Option<&'a Path>,
    /// An empty file of mode 000 on the host, bound over hidden files.
    pub unreadable_file: &'a Path,
    /// Whether the host has `/run` (to hide it and mount the helper there).
    pub host_has_run: bool,
    /// Whether the host has `/var/tmp` (to cover it with an empty one).
    pub host_has_var_tmp: bool,
    /// Folders of the host's `/tmp`, `/var/tmp` and `/dev/shm` brought back read-only (see
    /// [`Layout::host_tmp`]); the rest of them is not in the sandbox.
    pub host_tmp: Vec<PathBuf>,
}

enum Mount {
    Hidden {
        path: PathBuf,
        kind: HiddenKind,
        traversable: bool,
    },
    Writable(PathBuf),
    Readable(PathBuf),
    Protected(PathBuf),
}

impl Mount {
    fn path(&self) -> &Path {
        match self {
            Mount::Hidden { path, .. }
            | Mount::Writable(path)
            | Mount::Readable(path)
            | Mount::Protected(path) => path,
        }
    }

    /// At the same depth a hidden path goes last: hiding wins.
    fn order(&self) -> u8 {
        match self {
            Mount::Writable(_) | Mount::Readable(_) => 0,
            Mount::Protected(_) => 1,
            Mount::Hidden { .. } => 2,
        }
    }
}

/// The arguments of `bwrap` (after its program name).
pub fn args(b: &Bwrap<'_>) -> Vec<OsString> {
    let mut out: Vec<OsString> = [
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        // Read-only: the sandbox's uid may be the host's root (tend as root), and root's uid
        // alone, without capabilities, may write /proc/sys (core_pattern: a program the kernel
        // runs as root on the host), /proc/sysrq-trigger and the like. The processes' own
        // files stay readable.
        "--remount-ro",
        "/proc",
        "--tmpfs",
        "/dev/shm",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    let mut push = |items: &[&std::ffi::OsStr]| out.extend(items.iter().map(OsString::from));
    if b.host_has_run {
        push(&["--tmpfs".as_ref(), "/run".as_ref()]);
    }
    if b.host_has_var_tmp {
        push(&["--tmpfs".as_ref(), "/var/tmp".as_ref()]);
    }
    let layout = b.layout;
    // The private tmp is `/tmp`, always: the host's /tmp holds other programs' files and
    // sockets (ssh-agent, X11, tmux). It goes first, so that whatever the layout mounts under
    // /tmp (tend's state, in tests and some set-ups) is bound on top of it, from the host.
    push(&["--bind".as_ref(), layout.tmp.as_ref(), "/tmp".as_ref()]);
    let mut mounts: Vec<Mount> = Vec::new();
    mounts.extend(b.host_tmp.iter().cloned().map(Mount::Readable));
    mounts.extend(layout.writable.iter().cloned().map(Mount::Writable));
    mounts.extend(layout.readable.iter().cloned().map(Mount::Readable));
    mounts.extend(layout.protected.iter().cloned().map(Mount::Protected));
    for hidden in &layout.hidden {
        let traversable = layout
            .writable
            .iter()
            .chain(layout.readable.iter())
            .chain(layout.protected.iter())
            .any(|w| w.starts_with(&hidden.path) && w != &hidden.path);
        mounts.push(Mount::Hidden {
            path: hidden.path.clone(),
            kind: hidden.kind,
            traversable,
        });
    }
    mounts.sort_by_key(|m| (m.path().components().count(), m.order()));
    for mount in &mounts {
        match mount {
            Mount::Writable(p) => push(&["--bind".as_ref(), p.as_ref(), p.as_ref()]),
            Mount::Readable(p) | Mount::Protected(p) => {
                push(&["--ro-bind".as_ref(), p.as_ref(), p.as_ref()])
            }
            Mount::Hidden {
                path,
                kind: HiddenKind::Dir,
                traversable,
            } => {
                // Mode 0111 lets a deeper writable path (a worktree in tend's state folder) be
                // reached without the folder being listable.
                let perms = if *traversable { "0111" } else { "0000" };
                push(&[
                    "--perms".as_ref(),
                    perms.as_ref(),
                    "--tmpfs".as_ref(),
                    path.as_ref(),
                ]);
            }
            Mount::Hidden {
                path,
                kind: HiddenKind::File,
                ..
            } => push(&[
                "--ro-bind".as_ref(),
                b.unreadable_file.as_ref(),
                path.as_ref(),
            ]),
        }
    }
    // The empty folders over hidden paths would be writable scratch space (for the owner)
    // otherwise; read-only, a write there fails like everywhere else. Not recursive: paths
    // bound inside them stay as they are.
    for hidden in &layout.hidden {
        if hidden.kind == HiddenKind::Dir {
            push(&["--remount-ro".as_ref(), hidden.path.as_ref()]);
        }
    }
    let helper: &Path = if b.host_has_run {
        push(&[
            "--ro-bind".as_ref(),
            b.helper.as_ref(),
            HELPER_INSIDE.as_ref(),
        ]);
        Path::new(HELPER_INSIDE)
    } else {
        b.helper
    };
    if let Some(socket) = b.proxy_socket {
        push(&["--bind".as_ref(), socket.as_ref(), PROXY_INSIDE.as_ref()]);
    }
    push(&[
        "--chdir".as_ref(),
        b.cwd.as_ref(),
        "--".as_ref(),
        helper.as_ref(),
    ]);
    out.extend(b.helper_args.iter().cloned());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Hidden;
    use pretty_assertions::assert_eq;

    fn strings(args: &[OsString]) -> Vec<String> {
        args.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn a_worktree_in_tends_hidden_state_folder() {
        let layout = Layout {
            writable: vec![
                PathBuf::from("/home/u/.local/state/tend/worktrees/t/1"),
                PathBuf::from("/home/u/.local/state/tend/runs/r/tmp"),
            ],
            readable: vec![],
            protected: vec![PathBuf::from(
                "/home/u/.local/state/tend/worktrees/t/1/.git",
            )],
            hidden: vec![
                Hidden {
                    path: PathBuf::from("/home/u/.ssh"),
                    kind: HiddenKind::Dir,
                },
                Hidden {
                    path: PathBuf::from("/home/u/.netrc"),
                    kind: HiddenKind::File,
                },
                Hidden {
                    path: PathBuf::from("/home/u/.local/state/tend"),
                    kind: HiddenKind::Dir,
                },
            ],
            tmp: PathBuf::from("/home/u/.local/state/tend/runs/r/tmp"),
        };
        let b = Bwrap {
            layout: &layout,
            cwd: Path::new("/home/u/.local/state/tend/worktrees/t/1"),
            helper: Path::new("/usr/bin/tend"),
            helper_args: vec!["__sandbox-exec".into(), "--".into(), "true".into()],
            proxy_socket: Some(Path::new("/tmp/tend-proxy-1-0/proxy.sock")),
            unreadable_file: Path::new("/tmp/tend-sandbox-0/unreadable"),
            host_has_run: true,
            host_has_var_tmp: true,
            host_tmp: vec![],
        };
        assert_eq!(
            strings(&args(&b)).join(" "),
            [
                "--unshare-all --unshare-user --disable-userns --die-with-parent --new-session",
                "--cap-drop ALL --ro-bind / / --dev /dev --proc /proc --remount-ro /proc",
                "--tmpfs /dev/shm --tmpfs /run",
                "--tmpfs /var/tmp --bind /home/u/.local/state/tend/runs/r/tmp /tmp",
                "--perms 0000 --tmpfs /home/u/.ssh",
                "--ro-bind /tmp/tend-sandbox-0/unreadable /home/u/.netrc",
                "--perms 0111 --tmpfs /home/u/.local/state/tend",
                "--bind /home/u/.local/state/tend/worktrees/t/1 /home/u/.local/state/tend/worktrees/t/1",
                "--bind /home/u/.local/state/tend/runs/r/tmp /home/u/.local/state/tend/runs/r/tmp",
                "--ro-bind /home/u/.local/state/tend/worktrees/t/1/.git /home/u/.local/state/tend/worktrees/t/1/.git",
                "--remount-ro /home/u/.ssh --remount-ro /home/u/.local/state/tend",
                "--ro-bind /usr/bin/tend /run/tend/sandbox-exec",
                "--bind /tmp/tend-proxy-1-0/proxy.sock /run/tend/proxy.sock",
                "--chdir /home/u/.local/state/tend/worktrees/t/1",
                "-- /run/tend/sandbox-exec __sandbox-exec -- true",
            ]
            .join(" ")
        );
    }

    #[test]
    fn the_private_tmp_covers_tmp_when_nothing_lives_there() {
        let layout = Layout {
            writable: vec![PathBuf::from("/w"), PathBuf::from("/s/tmp")],
            readable: vec![],
            protected: vec![],
            hidden: vec![],
            tmp: PathBuf::from("/s/tmp"),
        };
        let b = Bwrap {
            layout: &layout,
            cwd: Path::new("/w"),
            helper: Path::new("/bin/tend"),
            helper_args: vec!["x".into()],
            proxy_socket: None,
            unreadable_file: Path::new("/u"),
            host_has_run: false,
            host_has_var_tmp: false,
            host_tmp: vec![],
        };
        let args = strings(&args(&b)).join(" ");
        assert!(
            args.ends_with(
                "--bind /s/tmp /tmp --bind /w /w --bind /s/tmp /s/tmp --chdir /w -- /bin/tend x"
            ),
            "{args}"
        );
    }

    #[test]
    fn the_private_tmp_is_tmp_even_when_tends_state_lives_under_tmp() {
        let layout = Layout {
            writable: vec![
                PathBuf::from("/tmp/t/state/worktrees/1"),
                PathBuf::from("/tmp/t/state/runs/1/tmp"),
            ],
            readable: vec![],
            protected: vec![],
            hidden: vec![Hidden {
                path: PathBuf::from("/tmp/t/state"),
                kind: HiddenKind::Dir,
            }],
            tmp: PathBuf::from("/tmp/t/state/runs/1/tmp"),
        };
        let gitdirs = [PathBuf::from("/tmp/repo/.git/worktrees/1")];
        let host_tmp = layout.host_tmp(&gitdirs);
        assert_eq!(
            host_tmp,
            [PathBuf::from("/tmp/repo"), PathBuf::from("/tmp/t")]
        );
        let b = Bwrap {
            layout: &layout,
            cwd: Path::new("/tmp/t/state/worktrees/1"),
            helper: Path::new("/bin/tend"),
            helper_args: vec!["x".into()],
            proxy_socket: None,
            unreadable_file: Path::new("/u"),
            host_has_run: true,
            host_has_var_tmp: true,
            host_tmp,
        };
        let args = strings(&args(&b)).join(" ");
        let tmp = args.find("--bind /tmp/t/state/runs/1/tmp /tmp ").unwrap();
        let back = args
            .find("--ro-bind /tmp/repo /tmp/repo --ro-bind /tmp/t /tmp/t ")
            .unwrap();
        let state = args.find("--perms 0111 --tmpfs /tmp/t/state ").unwrap();
        let worktree = args.find("--bind /tmp/t/state/worktrees/1 ").unwrap();
        assert!(tmp < back && back < state && state < worktree, "{args}");
        assert!(args.contains("--tmpfs /run --tmpfs /var/tmp "), "{args}");
    }
}

//! tend's files are the owner's alone, whatever the umask: transcripts, the store, worktrees
//! and tokens must not be readable by other local users.
//!
//! Two mechanisms, set once before any command runs:
//! - tend's roots (config and state folders) are 0700: created so, and an existing looser one
//!   is tightened with a warning. That alone keeps other users out of everything inside.
//! - the process umask is 077 for commands that write only into tend's own folders (and the
//!   git processes and sandboxed commands they start: worktree checkouts, a run's tmp), so
//!   every file and folder there is 0600/0700 too. Commands that write into the user's own
//!   files (a repository's `.tend/`, an applied proposal, a service unit) keep the user's
//!   umask, so those files get the modes the user chose.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use rustix::fs::Mode;
use tend_config::{PRIVATE_DIR_MODE, Paths, Privacy};

use crate::cli::{Command, InitArgs, ScopeArg};
use crate::commands::mcp::{McpArgs, McpCommand};

/// Whom a command's writes are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writes {
    /// Only tend's state and config (and worktrees in its state folder).
    TendsOwn,
    /// The user's files too: they keep the modes the user's umask gives.
    UsersFiles,
}

fn writes(command: &Command) -> Writes {
    match command {
        // A user task goes into tend's config folder.
        Command::Init(InitArgs {
            scope: ScopeArg::User,
        }) => Writes::TendsOwn,
        Command::Add(args) if args.scope == ScopeArg::User => Writes::TendsOwn,
        // Only `tend mcp import --scope project` writes a project's file.
        Command::Mcp(McpArgs {
            command: McpCommand::Import(args),
        }) if args.scope == ScopeArg::Project => Writes::UsersFiles,
        Command::Mcp(_) => Writes::TendsOwn,
        // `.tend/tasks`, `.tend/config.toml`, an applied proposal, a task
        // file's allow list, a branch deleted from the repository, service units, synced files.
        Command::Init(_)
        | Command::Add(_)
        | Command::Apply(_)
        | Command::Discard(_)
        | Command::Approve(_)
        | Command::Deny(_)
        | Command::Sync(_)
        | Command::Service(_) => Writes::UsersFiles,
        Command::List(_)
        | Command::Show(_)
        | Command::Pause(_)
        | Command::Resume(_)
        | Command::Validate(_)
        | Command::Next(_)
        | Command::Run(_)
        | Command::Loop(_)
        | Command::Runs(_)
        | Command::Logs(_)
        | Command::Review(_)
        | Command::Approvals(_)
        | Command::Completions(_)
        | Command::Daemon
        | Command::Status(_)
        | Command::Ps(_)
        | Command::Cancel(_)
        | Command::Doctor(_)
        | Command::Ui(_) => Writes::TendsOwn,
    }
}

/// tend's roots that did not exist before the command, to be made private after it.
pub struct NewRoots(Vec<PathBuf>);

/// Sets the umask for `command` and tightens tend's roots, warning on stderr about each one
/// it changed. Where the roots are cannot be told (no HOME), the command itself says so.
pub fn prepare(command: &Command) -> NewRoots {
    let writes = writes(command);
    match writes {
        Writes::TendsOwn => {
            rustix::process::umask(Mode::from_raw_mode(0o077));
        }
        Writes::UsersFiles => {}
    }
    let Ok(paths) = Paths::from_env() else {
        return NewRoots(Vec::new());
    };
    for change in paths.tighten_roots() {
        match change {
            Privacy::Tightened { .. } | Privacy::Stuck { .. } => eprintln!("warning: {change}"),
        }
    }
    match writes {
        // The umask makes whatever the command creates private.
        Writes::TendsOwn => NewRoots(Vec::new()),
        // A root such a command creates on the way (`tend service install` makes the logs
        // folder) would get the user's umask.
        Writes::UsersFiles => NewRoots(
            paths
                .roots()
                .into_iter()
                .filter(|root| !root.exists())
                .map(Path::to_path_buf)
                .collect(),
        ),
    }
}

impl NewRoots {
    /// Makes the roots the command created 0700, silently: they are new, not loosened.
    pub fn settle(self) {
        for root in self.0 {
            if root.is_dir() {
                let _ = std::fs::set_permissions(
                    &root,
                    std::fs::Permissions::from_mode(PRIVATE_DIR_MODE),
                );
            }
        }
    }
}

//! Where tend keeps its files, and where a project is.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// tend's folders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// `config.toml` and `tasks/` live here.
    pub config_dir: PathBuf,
    pub config_file: PathBuf,
    pub user_tasks_dir: PathBuf,
    pub state_dir: PathBuf,
    /// The SQLite store.
    pub db_path: PathBuf,
    /// `runs/<run-id>/` with transcript, report, diff.
    pub runs_dir: PathBuf,
    pub logs_dir: PathBuf,
}

/// The environment says nothing usable about where tend's files go.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathsError {
    #[error("TEND_HOME must be an absolute path, not `{0}`")]
    RelativeTendHome(String),
    #[error(
        "cannot tell where tend's files go: HOME is not set (set TEND_HOME or XDG_CONFIG_HOME and XDG_STATE_HOME)"
    )]
    NoHome,
}

impl Paths {
    /// From the process environment: `TEND_HOME`, else the XDG base directories.
    pub fn from_env() -> Result<Paths, PathsError> {
        Paths::from_lookup(|name| std::env::var_os(name))
    }

    /// From an explicit environment, for tests.
    pub fn from_env_map(env: &HashMap<String, String>) -> Result<Paths, PathsError> {
        Paths::from_lookup(|name| env.get(name).map(OsString::from))
    }

    /// From any way of looking variables up. Empty variables count as unset, and relative XDG
    /// paths are ignored, as the XDG base directory spec asks.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<OsString>) -> Result<Paths, PathsError> {
        let var = |name: &str| lookup(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        if let Some(home) = var("TEND_HOME") {
            if home.is_relative() {
                return Err(PathsError::RelativeTendHome(home.display().to_string()));
            }
            return Ok(Paths::under(home.join("config"), home.join("state")));
        }
        let xdg = |name: &str| var(name).filter(|p| p.is_absolute());
        let home = var("HOME");
        let config_base = match (xdg("XDG_CONFIG_HOME"), &home) {
            (Some(p), _) => p,
            (None, Some(h)) => h.join(".config"),
            (None, None) => return Err(PathsError::NoHome),
        };
        let state_base = match (xdg("XDG_STATE_HOME"), &home) {
            (Some(p), _) => p,
            (None, Some(h)) => h.join(".local").join("state"),
            (None, None) => return Err(PathsError::NoHome),
        };
        Ok(Paths::under(
            config_base.join("tend"),
            state_base.join("tend"),
        ))
    }

    /// Creates the folders that tend writes into (config, tasks, state, runs, logs), each
    /// the owner's alone (0700) whatever the umask. Folders that exist are left as they are:
    /// [`Paths::tighten_roots`] deals with loose ones.
    pub fn create_dirs(&self) -> std::io::Result<()> {
        for dir in [
            &self.config_dir,
            &self.user_tasks_dir,
            &self.state_dir,
            &self.runs_dir,
            &self.logs_dir,
        ] {
            create_private_dir(dir)?;
        }
        Ok(())
    }

    /// tend's two roots: the config folder and the state folder. Everything tend keeps
    /// (transcripts, the store, worktrees, tokens, logs) is inside one of them, so their being
    /// 0700 alone keeps other local users out.
    pub fn roots(&self) -> [&Path; 2] {
        [&self.config_dir, &self.state_dir]
    }

    /// Makes each existing root that others could enter (any group or other bit) 0700, and
    /// says which it changed and from what, for a warning. Creates nothing, so read-only
    /// commands leave no folders behind. A root that cannot be changed (another user's) is
    /// reported as [`Privacy::Stuck`].
    pub fn tighten_roots(&self) -> Vec<Privacy> {
        self.roots().into_iter().filter_map(tighten).collect()
    }

    /// Everything laid out under a config dir and a state dir.
    pub fn under(config_dir: PathBuf, state_dir: PathBuf) -> Paths {
        Paths {
            config_file: config_dir.join("config.toml"),
            user_tasks_dir: config_dir.join("tasks"),
            config_dir,
            db_path: state_dir.join("tend.db"),
            runs_dir: state_dir.join("runs"),
            logs_dir: state_dir.join("logs"),
            state_dir,
        }
    }
}

/// Folders tend creates are the owner's alone.
pub const PRIVATE_DIR_MODE: u32 = 0o700;
/// Files tend creates in its folders are the owner's alone.
pub const PRIVATE_FILE_MODE: u32 = 0o600;

/// What [`Paths::tighten_roots`] did to a root that was open to other users.
#[derive(Debug)]
pub enum Privacy {
    /// The folder was `old_mode` and is now 0700.
    Tightened { dir: PathBuf, old_mode: u32 },
    /// The folder is `mode` and could not be changed.
    Stuck {
        dir: PathBuf,
        mode: u32,
        error: std::io::Error,
    },
}

impl std::fmt::Display for Privacy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Privacy::Tightened { dir, old_mode } => write!(
                f,
                "{} was open to other users (mode {old_mode:04o}); tend made it {PRIVATE_DIR_MODE:04o} \
                 (yours alone), as it keeps transcripts, worktrees and the store there",
                dir.display()
            ),
            Privacy::Stuck { dir, mode, error } => write!(
                f,
                "{} is open to other users (mode {mode:04o}) and tend cannot change that ({error}); \
                 run `chmod 700 {}`",
                dir.display(),
                dir.display()
            ),
        }
    }
}

/// Creates `dir` and any missing parents 0700, whatever the umask.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(PRIVATE_DIR_MODE)
        .create(dir)
}

fn tighten(dir: &Path) -> Option<Privacy> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir).ok()?.permissions().mode() & 0o7777;
    if mode & 0o077 == 0 {
        return None;
    }
    let private = std::fs::Permissions::from_mode(PRIVATE_DIR_MODE);
    Some(match std::fs::set_permissions(dir, private) {
        Ok(()) => Privacy::Tightened {
            dir: dir.to_owned(),
            old_mode: mode,
        },
        Err(error) => Privacy::Stuck {
            dir: dir.to_owned(),
            mode,
            error,
        },
    })
}

/// A project's tend folders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectPaths {
    pub root: PathBuf,
    /// `<root>/.tend`.
    pub tend_dir: PathBuf,
    pub tasks_dir: PathBuf,
    pub config_file: PathBuf,
    /// `<root>/.tend/memory/<task>.md` files.
    pub memory_dir: PathBuf,
}

impl ProjectPaths {
    pub fn new(root: &Path) -> ProjectPaths {
        let tend_dir = root.join(".tend");
        ProjectPaths {
            root: root.to_path_buf(),
            tasks_dir: tend_dir.join("tasks"),
            config_file: tend_dir.join("config.toml"),
            memory_dir: tend_dir.join("memory"),
            tend_dir,
        }
    }
}

/// The project that `start` is in: the nearest ancestor (or `start` itself) with a `.tend/`
/// folder, else the nearest git root (a `.git` folder, or a `.git` file in a worktree).
///
/// Pure file-system checks, no git process.
pub fn find_project(start: &Path) -> Option<PathBuf> {
    let ancestors = || start.ancestors();
    ancestors()
        .find(|dir| dir.join(".tend").is_dir())
        .or_else(|| ancestors().find(|dir| dir.join(".git").exists()))
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn tend_home_holds_everything() {
        let p = Paths::from_env_map(&env(&[
            ("TEND_HOME", "/t"),
            ("HOME", "/home/u"),
            ("XDG_CONFIG_HOME", "/x"),
        ]))
        .unwrap();
        assert_eq!(
            p,
            Paths {
                config_dir: "/t/config".into(),
                config_file: "/t/config/config.toml".into(),
                user_tasks_dir: "/t/config/tasks".into(),
                state_dir: "/t/state".into(),
                db_path: "/t/state/tend.db".into(),
                runs_dir: "/t/state/runs".into(),
                logs_dir: "/t/state/logs".into(),
            }
        );
    }

    #[test]
    fn create_dirs_makes_every_folder() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().to_str().unwrap();
        let p = Paths::from_env_map(&env(&[("TEND_HOME", home)])).unwrap();
        p.create_dirs().unwrap();
        for d in [
            &p.config_dir,
            &p.user_tasks_dir,
            &p.state_dir,
            &p.runs_dir,
            &p.logs_dir,
        ] {
            assert!(d.is_dir(), "{}", d.display());
        }
    }

    #[test]
    fn folders_are_private_and_loose_roots_are_tightened_once() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |d: &Path| std::fs::metadata(d).unwrap().permissions().mode() & 0o7777;
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let p = Paths::from_env_map(&env(&[("TEND_HOME", home.to_str().unwrap())])).unwrap();
        assert!(p.tighten_roots().is_empty());
        assert!(!home.exists(), "tighten_roots creates nothing");
        p.create_dirs().unwrap();
        for d in [&home, &p.config_dir, &p.state_dir, &p.runs_dir, &p.logs_dir] {
            assert_eq!(mode(d), 0o700, "{}", d.display());
        }
        std::fs::set_permissions(&p.state_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let changed = p.tighten_roots();
        assert_eq!(changed.len(), 1, "{changed:?}");
        assert_eq!(
            changed[0].to_string(),
            format!(
                "{} was open to other users (mode 0755); tend made it 0700 (yours alone), as it \
                 keeps transcripts, worktrees and the store there",
                p.state_dir.display()
            )
        );
        assert_eq!(mode(&p.state_dir), 0o700);
        assert!(p.tighten_roots().is_empty(), "said once");
    }

    #[test]
    fn xdg_and_home_defaults() {
        let p = Paths::from_env_map(&env(&[("HOME", "/home/u")])).unwrap();
        assert_eq!(p.config_dir, PathBuf::from("/home/u/.config/tend"));
        assert_eq!(p.state_dir, PathBuf::from("/home/u/.local/state/tend"));
        let p = Paths::from_env_map(&env(&[
            ("HOME", "/home/u"),
            ("XDG_CONFIG_HOME", "/cfg"),
            ("XDG_STATE_HOME", "/st"),
        ]))
        .unwrap();
        assert_eq!(p.user_tasks_dir, PathBuf::from("/cfg/tend/tasks"));
        assert_eq!(p.db_path, PathBuf::from("/st/tend/tend.db"));
    }

    #[test]
    fn empty_and_relative_values_are_ignored_or_refused() {
        let p = Paths::from_env_map(&env(&[
            ("HOME", "/home/u"),
            ("TEND_HOME", ""),
            ("XDG_CONFIG_HOME", "relative/cfg"),
        ]))
        .unwrap();
        assert_eq!(p.config_dir, PathBuf::from("/home/u/.config/tend"));
        assert_eq!(
            Paths::from_env_map(&env(&[("TEND_HOME", "rel")])),
            Err(PathsError::RelativeTendHome("rel".into()))
        );
        assert_eq!(Paths::from_env_map(&env(&[])), Err(PathsError::NoHome));
    }

    #[test]
    fn finds_tend_folder_before_git_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let repo = root.join("repo");
        let deep = repo.join("sub/deeper");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(find_project(&deep), None);

        std::fs::create_dir(repo.join(".git")).unwrap();
        assert_eq!(find_project(&deep), Some(repo.clone()));

        // A `.tend/` further up wins over the nearer git root.
        std::fs::create_dir(root.join(".tend")).unwrap();
        assert_eq!(find_project(&deep), Some(root.to_path_buf()));

        std::fs::create_dir(repo.join("sub/.tend")).unwrap();
        assert_eq!(find_project(&deep), Some(repo.join("sub")));
    }

    #[test]
    fn git_file_marks_a_worktree_root() {
        let dir = tempfile::tempdir().unwrap();
        let wt = dir.path().join("wt");
        std::fs::create_dir_all(wt.join("src")).unwrap();
        std::fs::write(wt.join(".git"), "gitdir: /elsewhere\n").unwrap();
        assert_eq!(find_project(&wt.join("src")), Some(wt.clone()));
        assert_eq!(ProjectPaths::new(&wt).tasks_dir, wt.join(".tend/tasks"));
    }
}

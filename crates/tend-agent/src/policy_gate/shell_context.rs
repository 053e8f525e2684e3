//! The policy's lookups for a run's shell commands, over the run's workspace: the scripts a
//! command runs, what a program given by its path is, and git's configuration (aliases).
//!
//! Reads only files the run can have written (the workspace and its tmp), git's configuration
//! files (through `git config`, which knows where they are and what they include) and the
//! programs in the system's program directories (to recognise a copy of one).

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tend_policy::{ConfigLookup, FileLookup, GitScope, ShellContext};
use tend_tools::Workspace;

/// The largest script read; anything larger is unknown (and asked).
const MAX_SCRIPT_BYTES: u64 = 1 << 20;
/// The largest file compared with the system's programs.
const MAX_PROGRAM_BYTES: u64 = 256 << 20;
/// How long `git config` may take before the lookup gives up (a config file could be a FIFO).
const GIT_CONFIG_TIMEOUT: Duration = Duration::from_secs(5);
/// `O_NONBLOCK` on Linux (x86, arm, aarch64, riscv): opening a FIFO must not hang the gate.
const O_NONBLOCK: i32 = 0o4000;

/// Where programs live, searched in this order for a copy's original.
const PROGRAM_DIRS: [&str; 8] = [
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
    "/usr/lib/git-core",
    "/usr/libexec/git-core",
];

/// Folders a sandboxed command sees as its own private ones: the host's are not the run's.
const PRIVATE_DIRS: [&str; 3] = ["/tmp", "/var/tmp", "/dev/shm"];

pub struct WorkspaceContext<'a> {
    workspace: &'a Workspace,
}

impl<'a> WorkspaceContext<'a> {
    pub fn new(workspace: &'a Workspace) -> WorkspaceContext<'a> {
        WorkspaceContext { workspace }
    }

    fn absolute(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.workspace.root().join(p)
        }
    }

    /// Whether a canonical path is one the run can write: the workspace or its tmp.
    fn the_runs(&self, canonical: &Path) -> bool {
        canonical.starts_with(self.workspace.root()) || canonical.starts_with(self.workspace.tmp())
    }
}

fn private_dir(path: &Path) -> bool {
    PRIVATE_DIRS.iter().any(|d| path.starts_with(d))
}

/// Opens a regular file for reading without blocking on FIFOs or devices.
fn open_regular(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK)
        .open(path)
        .map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("it is not a regular file".to_owned());
    }
    if meta.len() > max {
        return Err(format!("it is larger than {max} bytes"));
    }
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// The first bytes of a regular file.
fn open_head(path: &Path) -> Option<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK)
        .open(path)
        .ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut head = Vec::new();
    file.take(4096).read_to_end(&mut head).ok()?;
    Some(head)
}

impl ShellContext for WorkspaceContext<'_> {
    fn read_file(&self, path: &str) -> FileLookup {
        let abs = self.absolute(path);
        let canonical = match fs::canonicalize(&abs) {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return if private_dir(&abs) {
                    FileLookup::Unknown(
                        "the run's private temporary folder is not looked at".into(),
                    )
                } else if Path::new(path).is_absolute() && !self.the_runs(&abs) {
                    FileLookup::Outside
                } else {
                    FileLookup::Missing
                };
            }
            Err(e) => return FileLookup::Unknown(e.to_string()),
        };
        if !self.the_runs(&canonical) {
            return if private_dir(&abs) || private_dir(&canonical) {
                FileLookup::Unknown("the run's private temporary folder is not looked at".into())
            } else {
                FileLookup::Outside
            };
        }
        if self
            .workspace
            .deny_read()
            .iter()
            .any(|d| canonical.starts_with(d))
        {
            return FileLookup::Unknown("it is hidden from the run's tools".into());
        }
        match open_regular(&canonical, MAX_SCRIPT_BYTES) {
            Ok(bytes) => FileLookup::Bytes(bytes),
            Err(e) => match open_head(&canonical) {
                // A large binary (a build's output): its first bytes show it is no script.
                Some(head) if head.contains(&0) => FileLookup::Bytes(head),
                Some(_) | None => FileLookup::Unknown(e),
            },
        }
    }

    fn identify_program(&self, path: &str) -> Option<String> {
        let canonical = fs::canonicalize(self.absolute(path)).ok()?;
        // A link into a program directory: the program it points to.
        if let Some(parent) = canonical.parent()
            && PROGRAM_DIRS.iter().any(|d| Path::new(d) == parent)
        {
            return canonical.file_name()?.to_str().map(str::to_owned);
        }
        if !self.the_runs(&canonical) {
            return None;
        }
        // A copy: a program of the same size and the same bytes.
        let size = fs::metadata(&canonical).ok()?.len();
        if size == 0 || size > MAX_PROGRAM_BYTES {
            return None;
        }
        let mut bytes: Option<Vec<u8>> = None;
        for dir in PROGRAM_DIRS {
            let Ok(entries) = fs::read_dir(dir) else {
                continue;
            };
            let mut same_size: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| fs::metadata(p).is_ok_and(|m| m.is_file() && m.len() == size))
                .collect();
            same_size.sort();
            for candidate in same_size {
                let mine = match &bytes {
                    Some(b) => b,
                    None => bytes.insert(open_regular(&canonical, MAX_PROGRAM_BYTES).ok()?),
                };
                if open_regular(&candidate, MAX_PROGRAM_BYTES).is_ok_and(|theirs| &theirs == mine) {
                    return candidate.file_name()?.to_str().map(str::to_owned);
                }
            }
        }
        None
    }

    fn git_config(&self, key: &str, scope: &GitScope) -> ConfigLookup {
        let mut command = Command::new("git");
        command
            .args(&scope.options)
            .args(["config", "--includes", "--get", key])
            .current_dir(self.workspace.root())
            // Only what picks git's configuration files: nothing of tend's own environment
            // (`--config-env=include.path=SOME_KEY` must not turn a secret into a file name
            // in an error message).
            .env_clear()
            .envs(
                ["PATH", "HOME", "XDG_CONFIG_HOME", "GIT_CONFIG_NOSYSTEM"]
                    .iter()
                    .filter_map(|name| std::env::var_os(name).map(|v| (*name, v))),
            )
            .env("GIT_PAGER", "cat")
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in &scope.env {
            command.env(name, value);
        }
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => return ConfigLookup::Unknown(format!("git could not be started: {e}")),
        };
        let deadline = Instant::now() + GIT_CONFIG_TIMEOUT;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return ConfigLookup::Unknown("`git config` did not answer in time".into());
                }
                Err(e) => return ConfigLookup::Unknown(e.to_string()),
            }
        };
        let mut out = String::new();
        let mut err = String::new();
        if let Some(mut s) = child.stdout.take() {
            let _ = s.read_to_string(&mut out);
        }
        if let Some(mut s) = child.stderr.take() {
            let _ = s.read_to_string(&mut err);
        }
        match status.code() {
            Some(0) => ConfigLookup::Value(out.strip_suffix('\n').unwrap_or(&out).to_owned()),
            Some(1) => ConfigLookup::Absent,
            _ => ConfigLookup::Unknown(format!(
                "`git config` failed: {}",
                err.lines().next().unwrap_or("no message")
            )),
        }
    }
}

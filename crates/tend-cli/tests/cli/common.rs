//! A sandbox for driving the real `tend` binary: a temp `TEND_HOME`, a temp git repository,
//! a fixed clock and zone, and output with the temp paths replaced by `[TMP]`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

pub const TEND: &str = env!("CARGO_BIN_EXE_tend");

/// The instant every test runs at unless it says otherwise: a Saturday, the day before
/// New York springs forward (2026-03-08).
pub const NOW: &str = "2026-03-07T12:00:00Z";

pub struct Env {
    // Kept for its Drop: the folder goes away with the test.
    _dir: TempDir,
    /// The temp folder, canonical (the binary sees canonical paths through `current_dir`).
    pub root: PathBuf,
    pub home: PathBuf,
    /// A real git repository (`git init`), where commands run by default.
    pub repo: PathBuf,
    pub now: String,
    /// Who the binary runs as: the test's own user, or an ordinary one (see [`User`]).
    pub user: User,
}

/// Who runs `tend` in a test. Tests that check a barrier run both ways: as the test's own user
/// (root on CI) and as an ordinary user without privileges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum User {
    /// Whoever runs the tests.
    Current,
    /// Not root: `nobody` (uid 65534) when the tests run as root (the temp folder is then
    /// handed to it, and every command, `tend` and `git` alike, runs through `setpriv`);
    /// the test's own user when that is not root already.
    Ordinary,
}

/// The uid and gid an ordinary-user test runs as when the tests run as root.
pub const NOBODY: (u32, u32) = (65534, 65534);

/// Whether the tests run as root.
pub fn running_as_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// What one run of `tend` did.
pub struct Out {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Env {
    pub fn new() -> Env {
        Env::at(NOW)
    }

    /// An environment whose clock reads `now` (RFC 3339).
    pub fn at(now: &str) -> Env {
        Env::as_user_at(User::Current, now)
    }

    /// An environment whose binary runs as `user` (see [`User`]).
    pub fn as_user(user: User) -> Env {
        Env::as_user_at(user, NOW)
    }

    fn as_user_at(user: User, now: &str) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let home = root.join("home");
        let repo = root.join("repo");
        std::fs::create_dir_all(&home).unwrap();
        let env = Env {
            _dir: dir,
            root,
            home,
            repo,
            now: now.to_owned(),
            user,
        };
        if env.switches_user() {
            // The temp folder is 0700 root's; the ordinary user gets it (and everything the
            // test puts there through this kit).
            env.hand_over(&env.root);
        }
        env.git_repo(&env.repo);
        env
    }

    /// Whether commands switch to [`NOBODY`].
    pub fn switches_user(&self) -> bool {
        self.user == User::Ordinary && running_as_root()
    }

    /// A command that runs `program` as this environment's user.
    pub fn command_as(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        if !self.switches_user() {
            return Command::new(program);
        }
        let mut cmd = Command::new("setpriv");
        cmd.args([
            format!("--reuid={}", NOBODY.0),
            format!("--regid={}", NOBODY.1),
            "--clear-groups".to_owned(),
            "--".to_owned(),
        ])
        .arg(program);
        cmd
    }

    /// Gives `path` (recursively) to the ordinary user, when commands switch to it: call it
    /// after writing files by hand that `tend` must own.
    pub fn hand_over(&self, path: &Path) {
        if !self.switches_user() {
            return;
        }
        let status = Command::new("chown")
            .args(["-R", &format!("{}:{}", NOBODY.0, NOBODY.1)])
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success(), "chown {}", path.display());
    }

    /// Makes `dir` a git repository with one commit, as a user's project would be.
    pub fn git_repo(&self, dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        self.hand_over(dir);
        self.git(dir, &["init", "-q", "-b", "main"]);
        std::fs::write(dir.join("README.md"), "a project\n").unwrap();
        self.hand_over(&dir.join("README.md"));
        self.git(dir, &["add", "README.md"]);
        self.git(dir, &["commit", "-q", "-m", "first"]);
    }

    pub fn git(&self, dir: &Path, args: &[&str]) {
        let status = self
            .command_as("git")
            .args(args)
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
            .env("GIT_COMMITTER_NAME", "Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
            .env("GIT_AUTHOR_DATE", "2026-03-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-03-01T00:00:00Z")
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?} failed in {}", dir.display());
    }

    /// Runs `tend ARGS` in the repository.
    pub fn tend(&self, args: &[&str]) -> Out {
        self.tend_in(&self.repo, args)
    }

    /// Runs `tend ARGS` in `cwd`, with nothing from the caller's environment but `PATH`.
    pub fn tend_in(&self, cwd: &Path, args: &[&str]) -> Out {
        let mut cmd = self.command(cwd, args);
        self.finish(args, &mut cmd)
    }

    /// Runs `tend ARGS` in the repository with `input` on standard input.
    pub fn tend_with_stdin(&self, args: &[&str], input: &str) -> Out {
        let mut cmd = assert_cmd::Command::from_std(self.command(&self.repo, args));
        cmd.write_stdin(input);
        let output = cmd.output().unwrap();
        self.out(args, &output)
    }

    /// The command `tend_in` runs, for tests that need to change its environment.
    pub fn command(&self, cwd: &Path, args: &[&str]) -> Command {
        let mut cmd = self.command_as(TEND);
        cmd.args(args)
            .current_dir(cwd)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("TEND_HOME", &self.home)
            .env("TEND_NOW", &self.now)
            .env("TZ", "UTC");
        cmd
    }

    pub fn finish(&self, args: &[&str], cmd: &mut Command) -> Out {
        let output = cmd.output().unwrap();
        self.out(args, &output)
    }

    fn out(&self, args: &[&str], output: &std::process::Output) -> Out {
        Out {
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            code: output.status.code().unwrap_or(-1),
            stdout: self.redact(&String::from_utf8_lossy(&output.stdout)),
            stderr: self.redact(&String::from_utf8_lossy(&output.stderr)),
        }
    }

    /// Replaces the temp folder's path with `[TMP]`, so snapshots do not change run to run.
    pub fn redact(&self, text: &str) -> String {
        text.replace(&self.root.display().to_string(), "[TMP]")
    }

    pub fn task_path(&self, name: &str) -> PathBuf {
        self.repo.join(".tend/tasks").join(format!("{name}.md"))
    }

    pub fn user_task_path(&self, name: &str) -> PathBuf {
        self.home.join("config/tasks").join(format!("{name}.md"))
    }

    pub fn read(&self, path: &Path) -> String {
        std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    }

    /// Writes a task file by hand, creating its folder.
    pub fn write_task(&self, name: &str, text: &str) -> PathBuf {
        let path = self.task_path(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        self.hand_over(&self.repo.join(".tend"));
        path
    }

    pub fn db_path(&self) -> PathBuf {
        self.home.join("state/tend.db")
    }

    /// The `tool_result` events of `tool` in the newest run's transcript, in order.
    pub fn newest_tool_results(&self, tool: &str) -> Vec<serde_json::Value> {
        let runs = self.tend(&["runs", "--json"]).json();
        let id = runs[0]["id"].as_str().unwrap().to_owned();
        let path = self.home.join(format!("state/runs/{id}/transcript.jsonl"));
        self.read(&path)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|e| e["type"] == "tool_result" && e["name"] == tool)
            .collect()
    }
}

impl Out {
    /// Asserts the exit code, showing the whole run when it is not the expected one.
    #[track_caller]
    pub fn code(&self, want: i32) -> &Out {
        assert_eq!(
            self.code,
            want,
            "unexpected exit code\n{}",
            self.transcript()
        );
        self
    }

    #[track_caller]
    pub fn ok(&self) -> &Out {
        self.code(0)
    }

    /// The run as a reader would like to see it in a snapshot: command, exit code, stdout,
    /// and stderr when there is any.
    pub fn transcript(&self) -> String {
        let mut text = String::from("$ tend");
        for arg in &self.args {
            if arg.is_empty() || arg.contains([' ', '*', '"', '(', '$']) {
                write!(text, " '{arg}'").unwrap();
            } else {
                write!(text, " {arg}").unwrap();
            }
        }
        writeln!(text, "\n[exit {}]", self.code).unwrap();
        text.push_str(&self.stdout);
        if !self.stderr.is_empty() {
            text.push_str("[stderr]\n");
            text.push_str(&self.stderr);
        }
        text
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.transcript()))
    }
}

/// Transcripts of several runs, a blank line apart, for one snapshot.
pub fn transcripts<'a>(outs: impl IntoIterator<Item = &'a Out>) -> String {
    outs.into_iter()
        .map(Out::transcript)
        .collect::<Vec<_>>()
        .join("\n")
}

//! The mechanisms for real, through the helper binary: what a confined command can and cannot
//! do. (The escape battery through tend's real `bash` tool lives in tend-cli's tests.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::new_without_default
)]

mod mechanisms;
mod proxy;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use tend_sandbox::{
    CommandOutput, Mechanism, MechanismKind, ProbeOptions, Proxy, Sandbox, SandboxPolicy,
    SandboxReport, ShellCommand, probe,
};

pub const HELPER: &str = env!("CARGO_BIN_EXE_tend-sandbox-exec");

/// A home with secrets, a repository with a worktree (the workspace), a private tmp.
pub struct Fx {
    _dir: tempfile::TempDir,
    pub base: PathBuf,
    pub home: PathBuf,
    pub repo: PathBuf,
    pub ws: PathBuf,
    pub tmp: PathBuf,
}

impl Fx {
    pub fn new() -> Fx {
        let dir = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(dir.path()).unwrap();
        let home = base.join("home");
        std::fs::create_dir_all(home.join(".ssh")).unwrap();
        std::fs::write(home.join(".ssh/id_ed25519"), "PRIVATE KEY\n").unwrap();
        std::fs::write(home.join(".netrc"), "machine x password y\n").unwrap();
        std::fs::write(home.join("notes.txt"), "public notes\n").unwrap();
        let repo = base.join("repo");
        std::fs::create_dir_all(&repo).unwrap();
        std::fs::write(repo.join("README"), "hello\n").unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-qm", "init"]);
        let ws = base.join("state/worktrees/t/1");
        std::fs::create_dir_all(ws.parent().unwrap()).unwrap();
        git(
            &repo,
            &[
                "worktree",
                "add",
                "-q",
                "-b",
                "tend/t/1",
                ws.to_str().unwrap(),
            ],
        );
        let tmp = base.join("state/runs/1/tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        Fx {
            _dir: dir,
            base,
            home,
            repo,
            ws,
            tmp,
        }
    }

    /// The default policy of a run: secrets and tend's state hidden.
    pub fn policy(&self) -> SandboxPolicy {
        SandboxPolicy {
            deny_read: tend_sandbox::default_deny_read(
                Some(&self.home),
                &[&self.base.join("state")],
            ),
            ..SandboxPolicy::default()
        }
    }

    pub fn sandbox(&self, mechanism: Mechanism, policy: SandboxPolicy) -> Sandbox {
        Sandbox::confined(mechanism, policy, PathBuf::from(HELPER), None)
    }

    pub fn sandbox_with_proxy(
        &self,
        mechanism: Mechanism,
        policy: SandboxPolicy,
        proxy: Proxy,
    ) -> Sandbox {
        Sandbox::confined(mechanism, policy, PathBuf::from(HELPER), Some(proxy))
    }

    /// Runs `script` with bash in the workspace, blocking.
    pub fn run(&self, sandbox: &Sandbox, script: &str) -> Ran {
        let plain = ShellCommand {
            program: PathBuf::from("/bin/bash"),
            args: vec![OsString::from("-c"), OsString::from(script)],
            cwd: self.ws.clone(),
            env: vec![
                ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
                ("HOME".into(), self.home.clone().into()),
                ("TMPDIR".into(), self.tmp.clone().into()),
            ],
            writable: vec![self.ws.clone(), self.tmp.clone()],
            tmp: self.tmp.clone(),
        };
        let wrapped = sandbox.wrap(plain).unwrap();
        let cmd = &wrapped.command;
        let out = Command::new(&cmd.program)
            .args(&cmd.args)
            .current_dir(&cmd.cwd)
            .env_clear()
            .envs(cmd.env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        use std::os::unix::process::ExitStatusExt;
        let report = wrapped.session.finish(&CommandOutput {
            stdout: &stdout,
            stderr: &stderr,
            exit_code: out.status.code(),
            signal: out.status.signal(),
        });
        Ran {
            code: out.status.code(),
            stdout,
            stderr,
            report,
        }
    }
}

#[derive(Debug)]
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub report: SandboxReport,
}

impl Ran {
    pub fn denial_kinds(&self) -> Vec<tend_sandbox::DenialKind> {
        self.report.denials.iter().map(|d| d.kind).collect()
    }
}

pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The mechanism the probe found, which must work on the test machines (bubblewrap is
/// installed by scripts/test; the kernel has Landlock).
pub fn working(kind: MechanismKind) -> Mechanism {
    let report = probe(&ProbeOptions {
        helper: PathBuf::from(HELPER),
        force: Some(kind),
        scope: tend_sandbox::ProbeScope::UntilOneWorks,
    });
    match report.chosen() {
        Some(m) => m.clone(),
        None => panic!("{} does not work here: {report:#?}", kind.name()),
    }
}

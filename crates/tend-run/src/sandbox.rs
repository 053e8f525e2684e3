//! A run's sandbox: the task's `[sandbox]` settings on top of the defaults (credentials and
//! tend's own folders hidden, no network), and the mechanism that works on this machine,
//! probed once per process. No working mechanism and no `sandbox = "off"` in the task: the
//! run's shell commands are refused (fail closed) and the run goes on with its file tools.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tend_config::{Paths, ResolvedTask, SandboxMode};
use tend_sandbox::{
    ProbeOptions, ProbeReport, ProbeScope, Proxy, ProxyConfig, ResourceLimits, Sandbox,
    SandboxPolicy, WorkspaceAccess, default_deny_read, expand_home, probe,
};

use tend_tools::DiskScope;

use crate::RunError;

static HELPER: OnceLock<PathBuf> = OnceLock::new();
static PROBE: OnceLock<ProbeReport> = OnceLock::new();
static PROBE_FOR_RUNS: OnceLock<ProbeReport> = OnceLock::new();

/// Names the sandbox helper for this process's runs: a program that serves `__sandbox-exec`
/// (the `tend` binary does, and so does tend-sandbox's `tend-sandbox-exec`). Without it runs
/// use this program itself, which is right for `tend`; a test binary must name one. Only the
/// first call counts, and only before the first run; returns whether this call counted.
pub fn set_sandbox_helper(helper: PathBuf) -> bool {
    HELPER.set(helper).is_ok()
}

/// The sandbox helper runs use (see [`set_sandbox_helper`]).
pub fn sandbox_helper() -> PathBuf {
    HELPER
        .get_or_init(|| std::env::current_exe().unwrap_or_else(|_| PathBuf::from("tend")))
        .clone()
}

/// What the sandbox probe found on this machine, every mechanism tried (once per process;
/// `TEND_SANDBOX` may force a mechanism): for `tend doctor`.
pub fn sandbox_probe() -> &'static ProbeReport {
    PROBE.get_or_init(|| probe(&ProbeOptions::from_env(sandbox_helper(), ProbeScope::All)))
}

/// The probe runs choose by: it stops at the first mechanism that works.
fn probe_for_runs() -> &'static ProbeReport {
    PROBE_FOR_RUNS.get_or_init(|| {
        probe(&ProbeOptions::from_env(
            sandbox_helper(),
            ProbeScope::UntilOneWorks,
        ))
    })
}

/// What a run's tools get: the shell commands' sandbox, and the paths the file tools refuse.
pub struct RunSandbox {
    pub sandbox: Sandbox,
    pub deny_read: Vec<PathBuf>,
}

/// The sandbox of `task`'s run, working at `root` (read-only for a run in the user's own
/// folder), with tend's folders from `paths` hidden.
pub fn run_sandbox(task: &ResolvedTask, paths: &Paths, access: WorkspaceAccess) -> RunSandbox {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let home = home.as_deref();
    let policy = policy(task, paths, access, home);
    let deny_read = policy.deny_read.clone();
    let sandbox = match task.sandbox.mode {
        SandboxMode::Off => Sandbox::Off,
        SandboxMode::Auto => {
            let proxy = (!policy.network.is_empty())
                .then(|| Proxy::new(ProxyConfig::new(policy.network.clone())));
            // Chosen when the first shell command runs: a run that never uses the shell does
            // not wait for the probe.
            Sandbox::lazy(move || {
                Sandbox::select(
                    probe_for_runs(),
                    policy.clone(),
                    sandbox_helper(),
                    proxy.clone(),
                )
            })
        }
    };
    RunSandbox { sandbox, deny_read }
}

fn policy(
    task: &ResolvedTask,
    paths: &Paths,
    access: WorkspaceAccess,
    home: Option<&Path>,
) -> SandboxPolicy {
    let mut deny_read = default_deny_read(home, &[&paths.config_dir, &paths.state_dir]);
    if let Some(home) = home {
        deny_read.extend(crate::credentials::store_files(home));
    }
    deny_read.extend(
        task.sandbox
            .deny_read
            .iter()
            .filter_map(|p| expand_home(p, home)),
    );
    SandboxPolicy {
        workspace: access,
        allow_write: task
            .sandbox
            .allow_write
            .iter()
            .filter_map(|p| expand_home(p, home))
            .collect(),
        deny_read,
        network: task
            .sandbox
            .network
            .iter()
            .map(|d| d.as_str().to_owned())
            .collect(),
        // No one file larger than the run's whole disk budget (the shell tool lowers this to
        // what is left of it for each command).
        limits: ResourceLimits {
            file_size: task.sandbox.max_disk.bytes(),
            ..ResourceLimits::default()
        },
    }
}

/// The tools' workspace for a run at `dir` with private `tmp`, confined as the task says.
pub(crate) fn tools_workspace(
    task: &ResolvedTask,
    paths: &Paths,
    ws: &crate::Workspace,
    tmp: &Path,
) -> Result<tend_tools::Workspace, RunError> {
    // A run in the user's own folder cannot write it; its budget is its tmp.
    let (access, disk) = match ws {
        crate::Workspace::InPlace { .. } => (WorkspaceAccess::ReadOnly, DiskScope::TmpOnly),
        crate::Workspace::Worktree { .. } | crate::Workspace::Scratch { .. } => {
            (WorkspaceAccess::ReadWrite, DiskScope::TmpAndWorktree)
        }
    };
    let confined = run_sandbox(task, paths, access);
    Ok(tend_tools::Workspace::new(ws.dir(), tmp)
        .map_err(|e| RunError::Model(e.to_string()))?
        .with_sandbox(confined.sandbox)
        .with_deny_read(&confined.deny_read)
        // The baseline is the worktree as the run found it.
        .with_disk_budget(task.sandbox.max_disk, disk))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use tend_config::{Config, MachineZone, Scope, TaskFile, ZoneName};

    fn task(front_matter: &str) -> ResolvedTask {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.md");
        std::fs::write(&path, format!("+++\n{front_matter}\n+++\nHi\n")).unwrap();
        let file = TaskFile::load(&path, Scope::User).unwrap();
        ResolvedTask::resolve(
            &file,
            &Config::default(),
            &MachineZone::fixed(ZoneName::utc()),
        )
        .unwrap()
    }

    #[test]
    fn the_task_adds_to_the_defaults() {
        let task = task(
            "schedule = \"manual\"\n[sandbox]\nnetwork = [\"crates.io\"]\n\
             deny_read = [\"~/secrets\", \"/srv/keys\"]\nallow_write = [\"~/.cache/x\"]",
        );
        let paths = Paths::under("/h/.config/tend".into(), "/h/.local/state/tend".into());
        let policy = policy(
            &task,
            &paths,
            WorkspaceAccess::ReadWrite,
            Some(Path::new("/h")),
        );
        assert_eq!(policy.network, ["crates.io"]);
        assert_eq!(policy.limits.file_size, 1_000_000_000);
        assert_eq!(policy.allow_write, [PathBuf::from("/h/.cache/x")]);
        assert!(policy.deny_read.contains(&PathBuf::from("/h/.ssh")));
        assert_eq!(
            policy.deny_read[policy.deny_read.len() - 4..],
            [
                PathBuf::from("/h/.config/tend"),
                PathBuf::from("/h/.local/state/tend"),
                PathBuf::from("/h/secrets"),
                PathBuf::from("/srv/keys"),
            ]
        );
    }

    /// This test binary is no sandbox helper, so no mechanism works for it: fail closed, with
    /// the reasons and the fixes (including the task's way out).
    #[test]
    fn without_a_working_mechanism_commands_are_refused() {
        let task = task("schedule = \"manual\"");
        let paths = Paths::under("/c".into(), "/s".into());
        let run = run_sandbox(&task, &paths, WorkspaceAccess::ReadWrite);
        let Sandbox::Lazy(lazy) = &run.sandbox else {
            panic!("{:?}", run.sandbox);
        };
        let Sandbox::Unavailable { reason } = lazy.get() else {
            panic!("{:?}", run.sandbox);
        };
        assert!(
            reason.starts_with("no sandbox works on this machine"),
            "{reason}"
        );
        assert!(
            reason.contains("bubblewrap: the probe command failed"),
            "{reason}"
        );
        assert!(
            reason.contains("set `sandbox = \"off\"` in its task file"),
            "{reason}"
        );
    }

    #[test]
    fn off_means_unconfined_whatever_the_machine() {
        let task = task("schedule = \"manual\"\nsandbox = \"off\"");
        let paths = Paths::under("/c".into(), "/s".into());
        let run = run_sandbox(&task, &paths, WorkspaceAccess::ReadWrite);
        assert!(matches!(run.sandbox, Sandbox::Off));
        assert!(run.deny_read.contains(&PathBuf::from("/s")));
    }
}

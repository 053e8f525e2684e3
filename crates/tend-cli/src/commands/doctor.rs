//! `tend doctor`: what tend needs from this machine. For now the sandbox: which mechanism runs
//! the agents' shell commands, what each probe found, and how a fork bomb is capped.

use std::process::ExitCode;

use serde::Serialize;
use tend_sandbox::{ProbeOutcome, ProbeReport, ProcessLimit};

use crate::cli::JsonArg;
use crate::output::{Table, print_json, say};

#[derive(Debug, Serialize)]
struct Doctor<'a> {
    sandbox: SandboxSection<'a>,
}

#[derive(Debug, Serialize)]
struct SandboxSection<'a> {
    /// The mechanism runs use; `null`: none works, so shell commands are refused unless a task
    /// says `sandbox = "off"`.
    mechanism: Option<&'static str>,
    /// The program that is the sandbox's entry point (`<helper> __sandbox-exec`).
    helper: String,
    #[serde(flatten)]
    report: &'a ProbeReport,
}

/// Exit status 1 when no sandbox works here.
pub fn run(args: &JsonArg) -> anyhow::Result<ExitCode> {
    let report = tend_run::sandbox_probe();
    let helper = tend_run::sandbox_helper();
    let mechanism = report.chosen().map(|m| m.name());
    let code = match mechanism {
        Some(_) => ExitCode::SUCCESS,
        None => ExitCode::FAILURE,
    };
    if args.json {
        print_json(&Doctor {
            sandbox: SandboxSection {
                mechanism,
                helper: helper.display().to_string(),
                report,
            },
        })?;
        return Ok(code);
    }
    match report.chosen() {
        Some(m) => say!(
            "sandbox: {} (shell commands of every run are confined by it)",
            m.name()
        ),
        None => say!(
            "sandbox: NONE works here: shell commands are refused in every run whose task does \
             not say `sandbox = \"off\"`"
        ),
    }
    if let Some(forced) = report.forced {
        say!(
            "  ({}={} asks for this mechanism only)",
            tend_sandbox::FORCE_ENV,
            forced.name()
        );
    }
    let mut table = Table::new(vec!["  MECHANISM", "STATUS", "DETAIL"]);
    for probe in &report.probes {
        let (status, detail) = match &probe.outcome {
            ProbeOutcome::Works { detail, .. } => ("works", detail.clone()),
            ProbeOutcome::Fails { reason, fix } => ("fails", format!("{reason}; fix: {fix}")),
            ProbeOutcome::NotApplicable { reason } => ("n/a", reason.clone()),
        };
        table.push(vec![
            format!("  {}", probe.mechanism.name()),
            status.to_owned(),
            detail,
        ]);
    }
    table.write(&mut std::io::stdout().lock())?;
    let processes = match &report.processes {
        ProcessLimit::Cgroup => "a pids cgroup per command (and RLIMIT_NPROC)".to_owned(),
        ProcessLimit::Rlimit => "RLIMIT_NPROC".to_owned(),
        ProcessLimit::Unlimited { reason } => format!("NOT capped: {reason}"),
    };
    say!("processes: {processes}");
    say!("helper: {} __sandbox-exec", helper.display());
    Ok(code)
}

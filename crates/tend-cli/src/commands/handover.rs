//! `tend run TASK` while a daemon runs: the daemon executes the run (under its limit on
//! concurrent runs, with its environment's API keys) and streams the events back, so the
//! terminal shows the same progress as a run in this process. Closing the terminal leaves the
//! run going in the daemon.

use std::io::Write;
use std::process::ExitCode;

use tend_agent::AgentEvent;
use tend_config::{Provider, ResolvedTask, Scope};
use tend_daemon::client::Client;
use tend_daemon::protocol::{Reply, Request, RunEnded, TaskRef};
use tend_run::branch_name;

use crate::catalog::Entry;
use crate::cli::RunArgs;
use crate::context::Context;
use crate::output::say;
use crate::progress::{self, Text};

/// Runs the task in the daemon if one listens; `None` when there is none (or the run must
/// happen here: `--record`, `--local`), so the caller runs it itself.
pub fn try_daemon(
    ctx: &Context,
    entry: &Entry,
    task: &ResolvedTask,
    args: &RunArgs,
) -> anyhow::Result<Option<ExitCode>> {
    if args.record.is_some() || args.local {
        return Ok(None);
    }
    let Some(mut client) = Client::connect(&ctx.paths.state_dir)? else {
        return Ok(None);
    };
    let project = match &task.scope {
        Scope::Project { root } => Some(root.clone()),
        Scope::User => None,
    };
    client.send(&Request::Run {
        task: TaskRef {
            project,
            name: task.name.clone(),
        },
    })?;
    client.wait_without_limit()?;
    let mut printer = Printer::new(args.quiet);
    let mut run_id = None;
    while let Some(reply) = client.read_reply()? {
        match reply {
            Reply::RunCreated { run, queued } => {
                let branch = match task.mode {
                    tend_policy::Mode::ReadOnly => "none (read-only)".to_owned(),
                    tend_policy::Mode::Propose | tend_policy::Mode::Auto => {
                        branch_name(&task.name, &run)
                    }
                };
                say!(
                    "▶ {} · run {run} · branch {branch} · in the daemon",
                    entry.qualified()
                );
                if let Some(model) = task
                    .model
                    .as_ref()
                    .filter(|m| m.provider == Provider::Replay)
                {
                    say!(
                        "  replaying the recorded session {} (no model is called; the tools run for real)",
                        model.model
                    );
                }
                if queued {
                    say!(
                        "  queued: waiting for a free worker (max_concurrent_runs); `tend ps` shows the queue"
                    );
                }
                run_id = Some(run);
            }
            Reply::Event { event } => printer.event(&event)?,
            Reply::RunEnded(ended) => return finish(ctx, &ended).map(Some),
            Reply::Error { message } => anyhow::bail!("the daemon cannot run it: {message}"),
            other => anyhow::bail!("unexpected answer from the daemon: {other:?}"),
        }
    }
    match run_id {
        Some(run) => anyhow::bail!(
            "the daemon stopped before run {run} ended; `tend runs` and `tend logs {run}` show what it did"
        ),
        None => anyhow::bail!("the daemon closed the connection without starting the run"),
    }
}

fn finish(ctx: &Context, ended: &RunEnded) -> anyhow::Result<ExitCode> {
    if let Some(error) = &ended.error {
        anyhow::bail!("run {} failed: {error}", ended.run);
    }
    say!("");
    say!(
        "{}: {}",
        ended.status.as_deref().unwrap_or("-"),
        ended.state
    );
    for line in ended.summary.trim().lines() {
        say!("  {line}");
    }
    say!(
        "  report  {}",
        ctx.display_path(&ended.run_dir.join("report.md"))
    );
    if let Some(branch) = &ended.branch {
        say!("  branch  {branch}");
        crate::commands::review::say_next(&ended.run_dir, &ended.run)?;
    }
    Ok(if ended.state == "succeeded" {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::exit::FAILURE)
    })
}

/// Prints events as `tend run` does in the foreground.
struct Printer {
    quiet: bool,
    at_line_start: bool,
}

impl Printer {
    fn new(quiet: bool) -> Printer {
        Printer {
            quiet,
            at_line_start: true,
        }
    }

    fn event(&mut self, event: &AgentEvent) -> std::io::Result<()> {
        if self.quiet {
            return Ok(());
        }
        let Some(text) = progress::render(event, Text::Streamed) else {
            return Ok(());
        };
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        match event {
            AgentEvent::TextDelta { .. } => {
                self.at_line_start = text.ends_with('\n');
                write!(out, "{text}")?;
            }
            _ => {
                let lead = if self.at_line_start { "" } else { "\n" };
                self.at_line_start = true;
                writeln!(out, "{lead}{text}")?;
            }
        }
        out.flush()
    }
}

//! `tend status`: whether a daemon runs for this tend home, what it schedules, what runs.

use serde::Serialize;
use tend_daemon::client::Client;
use tend_daemon::protocol::{Reply, Request, Status};
use tend_store::{RunFilter, RunState};

use crate::cli::JsonArg;
use crate::context::Context;
use crate::output::{local_time, print_json, relative, say};

#[derive(Debug, Serialize)]
struct Report {
    /// A daemon answered on the control socket.
    running: bool,
    /// A daemon holds the lock but did not answer (starting, or stuck).
    lock_holder: Option<u32>,
    /// What the daemon said.
    daemon: Option<Status>,
    /// Without a daemon: runs not ended, from the store.
    runs_active: Option<usize>,
}

pub fn run(ctx: &Context, args: &JsonArg) -> anyhow::Result<()> {
    let status = match Client::connect(&ctx.paths.state_dir)? {
        Some(mut client) => match client.ask(&Request::Status)? {
            Reply::Status(status) => Some(*status),
            other => anyhow::bail!("unexpected answer from the daemon: {other:?}"),
        },
        None => None,
    };
    let report = match status {
        Some(status) => Report {
            running: true,
            lock_holder: None,
            daemon: Some(status),
            runs_active: None,
        },
        None => {
            // Read-only: a status look creates no database.
            let active = match ctx.block_on(tend_store::Store::open_existing(&ctx.paths.db_path))? {
                Some(store) => {
                    let runs = ctx.block_on(store.runs(&RunFilter {
                        states: RunState::ACTIVE.to_vec(),
                        ..RunFilter::default()
                    }))?;
                    ctx.block_on(store.close());
                    runs.len()
                }
                None => 0,
            };
            Report {
                running: false,
                lock_holder: tend_daemon::lock::holder(&ctx.paths.state_dir),
                daemon: None,
                runs_active: Some(active),
            }
        }
    };
    if args.json {
        return print_json(&report);
    }
    let Some(status) = &report.daemon else {
        match report.lock_holder {
            Some(pid) => {
                say!("daemon   not answering (pid {pid} holds the lock: starting up, or stuck)")
            }
            None => say!(
                "daemon   not running: start it with `tend daemon` (or `tend service install`)"
            ),
        }
        say!(
            "runs     {} not ended (`tend ps`)",
            report.runs_active.unwrap_or(0)
        );
        return Ok(());
    };
    let now = ctx.now();
    let up = crate::commands::ps::human_ms(status.uptime_ms);
    say!(
        "daemon   running (pid {}, up {up}, tend {})",
        status.pid,
        status.version
    );
    let broken = match status.broken.len() {
        0 => String::new(),
        1 => ", 1 broken task file (`tend validate`)".to_owned(),
        n => format!(", {n} broken task files (`tend validate`)"),
    };
    say!("tasks    {} scheduled{broken}", status.tasks_scheduled);
    match &status.next {
        Some(next) => {
            let tz = ctx.machine_zone().zone.tz().clone();
            say!(
                "next     {} at {} ({})",
                next.task,
                local_time(next.fire_at, &tz),
                relative(next.fire_at, now)
            );
        }
        None => say!("next     nothing scheduled"),
    }
    say!(
        "runs     {} running, {} queued (at most {} at once)",
        status.runs_active,
        status.runs_queued,
        status.max_concurrent_runs
    );
    say!("log      {}", ctx.display_path(&status.log_dir));
    Ok(())
}

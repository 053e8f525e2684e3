//! One module per subcommand; `dispatch` picks it.

mod add;
mod approvals;
mod cancel;
mod daemon;
mod doctor;
mod handover;
mod init;
mod list;
mod logs;
mod looping;
pub(crate) mod mcp;
pub(crate) mod native;
mod next;
mod pause;
pub(crate) mod ps;
pub(crate) mod review;
mod run;
mod runs;
pub(crate) mod service;
mod show;
mod slot;
mod status;
pub(crate) mod sync;
mod ui;
mod validate;

use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::{Cli, Command};
use crate::context::Context;

pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    // Commands that need no folders, clock or store come first: they stay instant and work
    // even where the environment is broken.
    match &cli.command {
        Command::Completions(args) => {
            let mut command = Cli::command();
            clap_complete::generate(args.shell, &mut command, "tend", &mut std::io::stdout());
            return Ok(ExitCode::SUCCESS);
        }
        Command::Next(args) => return next::run(args).map(|()| ExitCode::SUCCESS),
        Command::Doctor(args) => return doctor::run(args),
        _ => {}
    }
    let ctx = Context::new(cli.project.as_deref())?;
    match &cli.command {
        Command::Init(args) => init::run(&ctx, args)?,
        Command::Add(args) => add::run(&ctx, args)?,
        Command::List(args) => list::run(&ctx, args)?,
        Command::Show(args) => show::run(&ctx, args)?,
        Command::Pause(args) => pause::run(&ctx, args, pause::Action::Pause)?,
        Command::Resume(args) => pause::run(&ctx, args, pause::Action::Resume)?,
        Command::Validate(args) => return validate::run(&ctx, args),
        Command::Run(args) => return run::run(&ctx, args),
        Command::Loop(args) => return looping::run(&ctx, args),
        Command::Runs(args) => runs::run(&ctx, args)?,
        Command::Logs(args) => logs::run(&ctx, args)?,
        Command::Review(args) => review::review(&ctx, args)?,
        Command::Apply(args) => review::apply(&ctx, args)?,
        Command::Discard(args) => review::discard(&ctx, args)?,
        Command::Approvals(args) => approvals::list(&ctx, args)?,
        Command::Approve(args) => return approvals::approve(&ctx, args),
        Command::Deny(args) => return approvals::deny(&ctx, args),
        Command::Service(args) => service::run(&ctx, args)?,
        Command::Sync(args) => return sync::run(&ctx, args),
        Command::Mcp(args) => return mcp::run(&ctx, args),
        Command::Daemon => daemon::run(&ctx)?,
        Command::Status(args) => status::run(&ctx, args)?,
        Command::Ui(args) => ui::run(&ctx, args)?,
        Command::Ps(args) => ps::run(&ctx, args)?,
        Command::Cancel(args) => cancel::run(&ctx, args)?,
        Command::Completions(_) | Command::Next(_) | Command::Doctor(_) => {}
    }
    Ok(ExitCode::SUCCESS)
}

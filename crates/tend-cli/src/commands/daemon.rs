//! `tend daemon`: the scheduler in the foreground (a service manager runs this same command).

use crate::context::Context;

pub fn run(ctx: &Context) -> anyhow::Result<()> {
    tend_daemon::run(ctx.paths.clone())?;
    Ok(())
}

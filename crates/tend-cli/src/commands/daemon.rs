//! `tend daemon`: the scheduler in the foreground (a service manager runs this same command),
//! serving the dashboard beside it unless the config's `[ui] enabled = false`.

use crate::context::Context;

pub fn run(ctx: &Context) -> anyhow::Result<()> {
    // A config that does not load is the daemon's to report (it logs it and keeps the tasks
    // it can); the dashboard then starts with its defaults.
    let ui = ctx.user_config().map(|c| c.ui).unwrap_or_default();
    let mut addons = Vec::new();
    if ui.enabled() {
        addons.push(tend_ui::addon(tend_ui::UiOptions { port: ui.port }));
    }
    tend_daemon::run_with(ctx.paths.clone(), addons)?;
    Ok(())
}

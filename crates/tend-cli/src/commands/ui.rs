//! `tend ui`: opens the dashboard the daemon serves, with a link that carries the install's key.

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::bail;

use crate::cli::UiArgs;
use crate::context::Context;
use crate::output::say;

pub fn run(ctx: &Context, args: &UiArgs) -> anyhow::Result<()> {
    let state = &ctx.paths.state_dir;
    let Some(info) = tend_ui::read_info(state)? else {
        bail!(
            "the dashboard is not being served: the daemon serves it, and {}\n  \
             hint: start it with `tend daemon` (or `tend service install`); \
             `[ui] enabled = false` in config.toml turns the dashboard off",
            if matches!(tend_daemon::client::Client::connect(state), Ok(Some(_))) {
                "it runs without one (see its log for why)"
            } else {
                "it is not running"
            }
        );
    };
    // `ui.json` outlives a daemon killed with SIGKILL: see that something answers there.
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, info.port));
    if TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err() {
        bail!(
            "nothing answers at 127.0.0.1:{} where the daemon said the dashboard is: \
             the daemon has stopped\n  hint: start it with `tend daemon`",
            info.port
        );
    }
    let token = tend_ui::load_or_create_token(state)?;
    let url = info.url_with_token(&token);
    if args.print || !open_in_browser(&url) {
        say!("{url}");
    } else {
        say!("Opened the dashboard in your browser (`tend ui --print` prints its link).");
    }
    Ok(())
}

/// Hands the link to the desktop's opener; `false` when there is none.
fn open_in_browser(url: &str) -> bool {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    Command::new(opener)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

//! Which targets a notification goes to, and delivering it to all of them at once.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tend_config::Channel;

use crate::desktop::{Os, desktop_command, find_program};
use crate::message::Notification;
use crate::slack::slack_body;
use crate::{command, process, webhook};

/// A webhook's timeout unless its channel says `timeout = …`.
pub const DEFAULT_WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
/// A command's (and the desktop tool's) timeout unless its channel says otherwise.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(10);
/// The wait before a webhook's one retry.
pub const DEFAULT_RETRY_DELAY: Duration = Duration::from_secs(1);

/// One place a notification goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The channel's name in the config (`desktop` for the implicit default).
    pub name: String,
    pub via: Via,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    Desktop,
    Webhook {
        /// May hold `${VAR}` references.
        url: String,
        timeout: Option<Duration>,
    },
    Command {
        command: String,
        timeout: Option<Duration>,
    },
}

impl Via {
    pub fn kind(&self) -> &'static str {
        match self {
            Via::Desktop => "desktop",
            Via::Webhook { .. } => "webhook",
            Via::Command { .. } => "command",
        }
    }
}

impl From<&Channel> for Via {
    fn from(c: &Channel) -> Via {
        match c {
            Channel::Desktop => Via::Desktop,
            Channel::Webhook { url, timeout } => Via::Webhook {
                url: url.clone(),
                timeout: *timeout,
            },
            Channel::Command { command, timeout } => Via::Command {
                command: command.clone(),
                timeout: *timeout,
            },
        }
    }
}

/// Looks up an environment variable (tend's own environment, or a test's).
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// What delivery needs from its surroundings.
#[derive(Clone)]
pub struct Settings {
    /// Where desktop tools are looked for (tend's `PATH`).
    pub search_path: OsString,
    /// Which desktop tool this system has (`None`: no desktop notifications).
    pub os: Option<Os>,
    /// Fills `${VAR}` in webhook URLs.
    pub env: EnvLookup,
    pub retry_delay: Duration,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("search_path", &self.search_path)
            .field("os", &self.os)
            .field("retry_delay", &self.retry_delay)
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// This process's `PATH` and environment, this system's desktop tool.
    pub fn from_process() -> Settings {
        Settings {
            search_path: std::env::var_os("PATH").unwrap_or_default(),
            os: Os::current(),
            env: Arc::new(|name: &str| std::env::var(name).ok()),
            retry_delay: DEFAULT_RETRY_DELAY,
        }
    }

    /// The desktop tool, when this system has one on the search path.
    pub fn desktop_tool(&self) -> Option<std::path::PathBuf> {
        self.os
            .and_then(|os| find_program(os.program(), &self.search_path))
    }
}

/// Where a task's notifications go: its channels; with none configured, the desktop when
/// there is a desktop tool here, else nowhere (the run's own record is then all there is).
pub fn targets(channels: &BTreeMap<String, Channel>, settings: &Settings) -> Vec<Target> {
    if channels.is_empty() {
        return match settings.desktop_tool() {
            Some(_) => vec![Target {
                name: "desktop".to_owned(),
                via: Via::Desktop,
            }],
            None => Vec::new(),
        };
    }
    channels
        .iter()
        .map(|(name, channel)| Target {
            name: name.clone(),
            via: channel.into(),
        })
        .collect()
}

/// How one delivery went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub channel: String,
    pub kind: &'static str,
    /// What the receiver answered (`HTTP 200`, `exit 0`), or why it failed.
    pub result: Result<String, DeliveryError>,
    /// Requests sent (webhooks retry once; 1 for the others, 0 if nothing was sent).
    pub attempts: u32,
    pub duration: Duration,
}

/// Why a delivery failed. Messages never hold a webhook's URL beyond its host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    #[error("desktop notifications need `{0}`, which is not on PATH")]
    NoDesktopTool(&'static str),
    #[error("this system has no desktop notification tool tend knows")]
    NoDesktop,
    #[error("the webhook URL needs ${{{0}}}, which is not set in tend's environment")]
    MissingVar(String),
    #[error("the webhook URL `{0}` is not an http(s) URL")]
    BadUrl(String),
    #[error("{url} answered HTTP {status}{}", if body.is_empty() { String::new() } else { format!(": {body}") })]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("{url}: {reason}")]
    Http { url: String, reason: String },
    #[error("{url} did not answer within {after}")]
    Timeout { url: String, after: String },
    #[error("cannot run `{program}`: {reason}")]
    Spawn { program: String, reason: String },
    #[error("`{program}` ended with {status}{}", if stderr.is_empty() { String::new() } else { format!(": {stderr}") })]
    Exited {
        program: String,
        status: String,
        stderr: String,
    },
    #[error("`{program}` did not finish within {after} and was killed")]
    CommandTimeout { program: String, after: String },
}

/// Sends `n` to every target at once; one result per target, in the targets' order. Never
/// fails as a whole: a channel that cannot be reached is a failed [`Delivery`].
pub async fn deliver(n: &Notification, targets: &[Target], settings: &Settings) -> Vec<Delivery> {
    let body = slack_body(n);
    let sends = targets.iter().map(|t| one(n, &body, t, settings));
    futures_util::future::join_all(sends).await
}

async fn one(
    n: &Notification,
    body: &serde_json::Value,
    target: &Target,
    settings: &Settings,
) -> Delivery {
    let started = Instant::now();
    let (result, attempts) = match &target.via {
        Via::Desktop => (desktop(n, settings).await, 1),
        Via::Webhook { url, timeout } => {
            webhook::post(
                url,
                body,
                timeout.unwrap_or(DEFAULT_WEBHOOK_TIMEOUT),
                settings,
            )
            .await
        }
        Via::Command { command, timeout } => (
            command::run(command, n, timeout.unwrap_or(DEFAULT_COMMAND_TIMEOUT)).await,
            1,
        ),
    };
    let attempts = match &result {
        Err(DeliveryError::NoDesktopTool(_) | DeliveryError::NoDesktop) => 0,
        _ => attempts,
    };
    Delivery {
        channel: target.name.clone(),
        kind: target.via.kind(),
        result,
        attempts,
        duration: started.elapsed(),
    }
}

async fn desktop(n: &Notification, settings: &Settings) -> Result<String, DeliveryError> {
    let os = settings.os.ok_or(DeliveryError::NoDesktop)?;
    let program = find_program(os.program(), &settings.search_path)
        .ok_or(DeliveryError::NoDesktopTool(os.program()))?;
    let args = desktop_command(os, n);
    process::run(&program, &args, &[], None, DEFAULT_COMMAND_TIMEOUT).await?;
    Ok("shown".to_owned())
}

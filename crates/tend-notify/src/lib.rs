//! Delivering notifications about runs. The run decides *what* happened (a [`Notification`]);
//! this crate only carries it to the task's channels and says how each delivery went.
//!
//! - `desktop`: `notify-send` (Linux and other Unix desktops) or `osascript` (macOS), looked up
//!   on tend's `PATH`; a missing tool is a failed delivery, never an error of the run.
//! - `webhook`: one HTTP POST of a JSON body that Slack's incoming webhooks accept (`text` and
//!   `blocks`) and that carries tend's own fields under `tend`; `${VAR}` references in the URL
//!   come from tend's environment, and the URL never appears in messages past its host (it
//!   often is the secret). A 5xx answer or a connection error is retried once.
//! - `command`: `sh -c COMMAND` with the event in `TEND_*` variables and as JSON on stdin;
//!   killed with its process group at its timeout.
//!
//! [`deliver`] sends to every target at once, so the slowest channel bounds the wait.

mod command;
mod deliver;
mod desktop;
mod message;
mod process;
mod slack;
mod webhook;

pub use deliver::{
    DEFAULT_COMMAND_TIMEOUT, DEFAULT_RETRY_DELAY, DEFAULT_WEBHOOK_TIMEOUT, Delivery, DeliveryError,
    EnvLookup, Settings, Target, Via, deliver, targets,
};
pub use desktop::{Os, desktop_command, find_program};
pub use message::{ApprovalNote, Notification};
pub use slack::slack_body;
pub use webhook::{expand_url, redact_url};

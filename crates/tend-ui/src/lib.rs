//! The dashboard: a local web page, served by the daemon, to see and steer background work.
//!
//! - Pages ([`pages`]): tasks (schedule in words, next run, last outcome; pause, resume, run
//!   now), a timeline of slots and runs, a run (report, diff, transcript streamed live while it
//!   runs; apply, discard, cancel), the approvals inbox (approve, approve always, deny),
//!   what is alive (the daemon, runs, loops), and costs per task over time.
//! - Server-rendered: askama templates checked at compile time, a small script of our own for
//!   live updates (server-sent events), assets embedded in the binary.
//! - Guarded ([`auth`]): 127.0.0.1 only, the install's key from `tend ui`'s link, an HttpOnly
//!   SameSite=Strict session cookie, a CSRF token on every action, the `Host` and `Origin`
//!   checked, a strict Content-Security-Policy; settings shown through the same redacting
//!   serialization as `tend show`.
//! - [`addon`] mounts it in the daemon; [`install`] holds what `tend ui` reads to open it.

mod auth;
mod fmt;
pub mod install;
mod live;
mod pages;
pub mod render;
mod server;

pub use install::{InstallError, UiInfo, load_or_create_token, read_info};
pub use server::{UiError, UiOptions, addon, router, serve};

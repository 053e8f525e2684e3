//! End-to-end tests of the `tend` binary: each drives the real executable in a temp `TEND_HOME`
//! and a temp git repository, with `TEND_NOW` and `TZ` fixed so output is the same every run.

// Tests may unwrap and panic (TEAM.md); clippy only knows that inside #[test] functions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

mod add;
mod approvals;
mod completions;
mod corruption;
mod cron_e2e;
mod disk_budget;
mod exit_codes;
mod init;
mod inputs;
mod list;
mod loops;
mod mcp;
mod native;
mod next;
mod outputs;
mod pause;
mod private_state;
mod runs;
mod sandbox;
mod secrets_proc;
mod sensitive;
mod show;
mod slot;
mod smuggling;
mod store;
mod validate;

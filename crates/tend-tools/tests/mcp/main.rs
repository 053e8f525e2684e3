//! The MCP client against real servers: the reference servers from npm (installed by
//! `scripts/test` into `test-support/npm`, never fetched here), over stdio and streamable
//! HTTP, and a misbehaving fake server for crashes, hangs and leftover processes.
// Helpers outside #[test] fns unwrap too; a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod everything;
mod faults;
mod filesystem;

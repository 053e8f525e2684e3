//! The tools end to end: real files in temp dirs, real bash, real git.
// Helpers outside #[test] fns unwrap too; a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bash;
mod common;
mod disk;
mod edit;
mod glob;
mod grep;
mod read;
mod run_tool;
mod sandbox;
mod write;

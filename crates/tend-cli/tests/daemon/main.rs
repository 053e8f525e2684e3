//! The daemon through the real `tend` binary: scheduling, file watching, the control socket,
//! and crash recovery (SIGKILL at random moments, and aborts at chosen points through
//! `TEND_FAILPOINT`). Slots come every second (`* * * * * *` schedules), so every wait is for
//! a condition in the store, bounded by a deadline; nothing sleeps for a fixed time to let
//! something happen.

// Tests may unwrap and panic (TEAM.md); clippy only knows that inside #[test] functions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../cli/common.rs"]
#[allow(dead_code)]
mod common;

mod crash;
mod faults;
mod features;
mod gates;
mod harness;
mod ui;

//! One run: the worktree, the session, the report and the proposal.
//!
//! Boundary only for now (issue 3).

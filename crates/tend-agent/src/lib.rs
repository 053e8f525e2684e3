//! tend's own agent loop (the `builtin` engine): streams typed events from `tend-model` and
//! executes tool calls through `tend-tools`.
//!
//! Boundary only for now (issue 3).

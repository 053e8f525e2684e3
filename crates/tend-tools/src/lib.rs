//! The agent's tools (`read`, `write`, `edit`, `glob`, `grep`, `bash`) and MCP tools.
//!
//! Boundary only for now (issue 3, issue 6). Shell commands go through `tend-sandbox`.

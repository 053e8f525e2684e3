//! Sandboxing of the shell commands a background run executes.
//!
//! Boundary only for now: bubblewrap, Landlock + seccomp and macOS `sandbox-exec` land here
//! (issue 5). Nothing else in the workspace may spawn an agent's shell command directly.

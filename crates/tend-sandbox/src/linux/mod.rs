//! The Linux kernel's own sandboxing, applied by the helper to itself.

pub mod landlock;
pub mod seccomp;

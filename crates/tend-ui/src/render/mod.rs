//! Turning run files and numbers into HTML.

pub mod chart;
pub mod diff;
pub mod markdown;
pub mod syntax;
pub mod transcript;

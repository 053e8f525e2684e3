//! The scheduler daemon: claims slots in `tend-store`, starts runs through `tend-run`.
//!
//! Boundary only for now (issue 4).

//! Crash points for tests: `TEND_FAILPOINT=NAME` (or `NAME:N`, the N-th time the point is
//! reached) makes the process `abort()` exactly there, as a power cut or `kill -9` would, so
//! crash-recovery tests can stop tend at a chosen step instead of hoping a timed kill lands on
//! it. A testing aid only: unset (always, in normal use) it costs one relaxed atomic load per
//! point after the first read of the variable.
//!
//! Points: `before-claim`, `after-claim` and `mid-run` (the daemon), `writing-report`
//! (a run, after `report.md` is written and before the store records the end).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

struct Armed {
    name: String,
    /// Abort on this hit (1-based).
    at: u64,
    hits: AtomicU64,
}

fn armed() -> Option<&'static Armed> {
    static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
    ARMED
        .get_or_init(|| parse(std::env::var("TEND_FAILPOINT").ok()?.as_str()))
        .as_ref()
}

fn parse(value: &str) -> Option<Armed> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let (name, at) = match value.split_once(':') {
        Some((name, n)) => (name, n.trim().parse().ok().filter(|n| *n >= 1)?),
        None => (value, 1),
    };
    Some(Armed {
        name: name.trim().to_owned(),
        at,
        hits: AtomicU64::new(0),
    })
}

/// Aborts the process if `TEND_FAILPOINT` names this point (and this is the hit it names).
pub fn hit(name: &str) {
    let Some(armed) = armed() else { return };
    if armed.name != name {
        return;
    }
    let n = armed.hits.fetch_add(1, Ordering::Relaxed) + 1;
    if n == armed.at {
        eprintln!("tend: failpoint {name} (hit {n}): aborting");
        std::process::abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn parses_name_and_hit_number() {
        let a = parse("after-claim").unwrap();
        assert_eq!((a.name.as_str(), a.at), ("after-claim", 1));
        let a = parse(" mid-run:3 ").unwrap();
        assert_eq!((a.name.as_str(), a.at), ("mid-run", 3));
        assert!(parse("").is_none());
        assert!(parse("x:0").is_none());
        assert!(parse("x:many").is_none());
    }
}

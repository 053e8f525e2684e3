//! "Now", passed in rather than read, so that tests never sleep.

use std::sync::{Arc, Mutex};

use jiff::Timestamp;

/// A source of the current instant.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Timestamp;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that says what it is told: fixed, until moved with [`FixedClock::set`] or
/// [`FixedClock::advance`].
#[derive(Debug)]
pub struct FixedClock {
    now: Mutex<Timestamp>,
}

impl FixedClock {
    pub fn new(now: Timestamp) -> Self {
        FixedClock {
            now: Mutex::new(now),
        }
    }

    pub fn set(&self, now: Timestamp) {
        *self.lock() = now;
    }

    /// Moves the clock forward (or back, with a negative span).
    pub fn advance(&self, by: jiff::SignedDuration) {
        let mut now = self.lock();
        *now = now.saturating_add(by).unwrap_or(*now);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Timestamp> {
        // A poisoned lock still holds a valid timestamp: keep going with it.
        self.now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *self.lock()
    }
}

/// `TEND_NOW` is set but is not an RFC 3339 instant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("TEND_NOW=`{value}` is not an RFC 3339 instant like `2026-05-01T09:00:00Z`: {reason}")]
pub struct ClockError {
    pub value: String,
    pub reason: String,
}

/// The clock the process should use: fixed at `TEND_NOW` when that is set (integration tests),
/// else the system clock.
pub fn clock_from_env() -> Result<Arc<dyn Clock>, ClockError> {
    clock_from_value(std::env::var("TEND_NOW").ok().as_deref())
}

/// [`clock_from_env`] with the variable's value passed in.
pub fn clock_from_value(tend_now: Option<&str>) -> Result<Arc<dyn Clock>, ClockError> {
    match tend_now {
        None | Some("") => Ok(Arc::new(SystemClock)),
        Some(value) => match value.trim().parse::<Timestamp>() {
            Ok(ts) => Ok(Arc::new(FixedClock::new(ts))),
            Err(e) => Err(ClockError {
                value: value.to_owned(),
                reason: e.to_string(),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn tend_now_fixes_the_clock() {
        let clock = clock_from_value(Some("2026-05-01T09:00:00+02:00")).unwrap();
        assert_eq!(
            clock.now(),
            "2026-05-01T07:00:00Z".parse::<Timestamp>().unwrap()
        );
    }

    #[test]
    fn invalid_tend_now_is_an_error() {
        for bad in ["yesterday", "2026-05-01 09:00", "2026-13-01T00:00:00Z"] {
            let e = clock_from_value(Some(bad)).unwrap_err();
            assert_eq!(e.value, bad);
        }
    }

    #[test]
    fn unset_means_system_clock() {
        let before = Timestamp::now();
        let now = clock_from_value(None).unwrap().now();
        assert!(now >= before);
    }

    #[test]
    fn fixed_clock_moves_only_when_told() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let clock = FixedClock::new(t0);
        assert_eq!(clock.now(), t0);
        clock.advance(jiff::SignedDuration::from_mins(90));
        assert_eq!(
            clock.now(),
            "2026-01-01T01:30:00Z".parse::<Timestamp>().unwrap()
        );
        clock.set(t0);
        assert_eq!(clock.now(), t0);
    }
}

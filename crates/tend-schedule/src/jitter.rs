//! Deterministic jitter: the same task name gets the same offset on every machine and release.

use std::time::Duration;

/// 64-bit FNV-1a. Stable by definition, unlike std's `DefaultHasher`, whose algorithm may
/// change between Rust releases.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// An offset in `[0, max)` derived from `seed`: whole seconds, zero when `max` is under a second.
pub(crate) fn jitter(max: Duration, seed: &str) -> Duration {
    if max < Duration::from_secs(1) {
        return Duration::ZERO;
    }
    // The whole seconds below `max`: 0..=4 for 5s, 0..=1 for 1.5s.
    let choices = max.as_secs() + u64::from(max.subsec_nanos() > 0);
    Duration::from_secs(fnv1a(seed.as_bytes()) % choices)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn fnv1a_known_vectors() {
        // Published FNV-1a 64-bit test vectors.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn jitter_is_stable_and_bounded() {
        let max = Duration::from_secs(300);
        // 0xe0115c147e82ec03 % 300, worked out outside this crate.
        assert_eq!(jitter(max, "triage-api-log"), Duration::from_secs(143));
        assert_eq!(jitter(max, "nightly"), jitter(max, "nightly"));
        assert_ne!(jitter(max, "nightly"), jitter(max, "weekly-deps"));
        for i in 0..1000 {
            assert!(jitter(max, &format!("task-{i}")) < max);
        }
        assert_eq!(jitter(Duration::ZERO, "x"), Duration::ZERO);
        assert_eq!(jitter(Duration::from_millis(999), "x"), Duration::ZERO);
        for i in 0..100 {
            assert!(
                jitter(Duration::from_millis(1500), &format!("t{i}")) <= Duration::from_secs(1)
            );
        }
    }
}

use std::fmt;
use std::hash::BuildHasher;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use jiff::Timestamp;

use crate::StoreError;

macro_rules! row_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// Wraps an id read back from the store (or typed by a user, for approvals).
            pub const fn new(id: i64) -> Self {
                Self(id)
            }

            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

row_id!(
    /// A row of `tasks`.
    TaskId
);
row_id!(
    /// A row of `slots`.
    SlotId
);
row_id!(
    /// A row of `approvals`; what `tend approve ID` takes.
    ApprovalId
);

/// A run's id: `YYYYMMDD-HHMMSS-xxxxxx` (UTC creation second, then 30 random bits in a base-32
/// alphabet without i, l, o, u). Sorts by creation second; only `[a-z0-9-]`, so it can be part of
/// the branch name `tend/<task>/<run-id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct RunId(String);

const RUN_ID_MAX_LEN: usize = 64;
const SUFFIX_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const SUFFIX_LEN: usize = 6;

impl RunId {
    /// Validates an id typed by a user or read from elsewhere.
    pub fn parse(text: &str) -> Result<RunId, StoreError> {
        let valid = !text.is_empty()
            && text.len() <= RUN_ID_MAX_LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if valid {
            Ok(RunId(text.to_owned()))
        } else {
            Err(StoreError::InvalidRunId(text.to_owned()))
        }
    }

    /// A fresh id for a run created at `now`. Collisions are unlikely (2^30 per second) and the
    /// store retries on one anyway.
    pub fn generate(now: Timestamp) -> RunId {
        let mut bits = random_u64();
        let mut text = now.strftime("%Y%m%d-%H%M%S-").to_string();
        for _ in 0..SUFFIX_LEN {
            let index = usize::try_from(bits % 32).unwrap_or_default();
            text.push(char::from(SUFFIX_ALPHABET[index]));
            bits /= 32;
        }
        RunId(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for RunId {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RunId::parse(s)
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Random enough for ids: std's hasher keys come from the OS once per thread, and the counter
/// makes consecutive calls differ. Avoids a dependency for 30 bits.
fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    std::collections::hash_map::RandomState::new().hash_one((count, std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn generated_ids_have_the_documented_shape() {
        let now: Timestamp = "2026-11-25T20:14:00.123Z".parse().unwrap();
        let id = RunId::generate(now);
        let (prefix, suffix) = id.as_str().split_at("20261125-201400-".len());
        assert_eq!(prefix, "20261125-201400-");
        assert_eq!(suffix.len(), SUFFIX_LEN);
        assert!(suffix.bytes().all(|b| SUFFIX_ALPHABET.contains(&b)), "{id}");
        assert_eq!(RunId::parse(id.as_str()).unwrap(), id);
    }

    #[test]
    fn generated_ids_differ() {
        let now = Timestamp::UNIX_EPOCH;
        let ids: std::collections::HashSet<RunId> =
            (0..200).map(|_| RunId::generate(now)).collect();
        assert_eq!(ids.len(), 200);
    }

    #[test]
    fn parse_rejects_what_cannot_be_in_a_branch_name() {
        for bad in ["", "Abc", "a b", "a/b", "a_b", "ü", &"a".repeat(65)] {
            assert!(
                matches!(RunId::parse(bad), Err(StoreError::InvalidRunId(ref t)) if t == bad),
                "{bad:?}"
            );
        }
        assert_eq!(RunId::parse("manual-1").unwrap().as_str(), "manual-1");
    }
}

//! Retry decisions and the waits between attempts.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::error::ModelError;
use crate::settings::RetryPolicy;

/// Where retry waits go: a real timer in production, an instant recording one in tests.
#[derive(Debug, Clone, Default)]
pub enum Sleeper {
    #[default]
    Tokio,
    /// Returns at once and records the requested wait.
    Instant(SleepLog),
}

impl Sleeper {
    /// An instant sleeper and the log it writes to.
    pub fn instant() -> (Sleeper, SleepLog) {
        let log = SleepLog::default();
        (Sleeper::Instant(log.clone()), log)
    }

    pub async fn sleep(&self, wait: Duration) {
        match self {
            Sleeper::Tokio => tokio::time::sleep(wait).await,
            Sleeper::Instant(log) => log.push(wait),
        }
    }
}

/// The waits an instant [`Sleeper`] was asked for, in order.
#[derive(Debug, Clone, Default)]
pub struct SleepLog(Arc<Mutex<Vec<Duration>>>);

impl SleepLog {
    pub fn waits(&self) -> Vec<Duration> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn push(&self, wait: Duration) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(wait);
    }
}

/// How one attempt failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Worth another attempt (after `retry_after` when the server named a wait).
    Transient {
        error: ModelError,
        retry_after: Option<Duration>,
    },
    /// Will fail the same way again.
    Permanent(ModelError),
}

impl Failure {
    pub fn transient(error: ModelError) -> Failure {
        Failure::Transient {
            error,
            retry_after: None,
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, PartialEq)]
pub(crate) enum Decision {
    Wait(Duration),
    GiveUp(ModelError),
}

/// Decides after attempt number `attempt` (from 1) failed. `random` is uniform in [0, 1).
pub(crate) fn decide(
    policy: &RetryPolicy,
    attempt: u32,
    failure: Failure,
    random: f64,
) -> (Decision, String) {
    match failure {
        Failure::Permanent(error) => {
            let reason = error.to_string();
            (Decision::GiveUp(error), reason)
        }
        Failure::Transient { error, retry_after } => {
            let reason = error.to_string();
            if attempt >= policy.max_attempts {
                let decision = if policy.max_attempts <= 1 {
                    Decision::GiveUp(error)
                } else {
                    Decision::GiveUp(ModelError::GaveUp {
                        attempts: attempt,
                        last: Box::new(error),
                    })
                };
                return (decision, reason);
            }
            let wait = match retry_after {
                Some(wait) if wait > policy.max_retry_after => {
                    let provider = provider_of(&error);
                    return (
                        Decision::GiveUp(ModelError::RetryAfterTooLong {
                            provider,
                            wait,
                            limit: policy.max_retry_after,
                            last: Box::new(error),
                        }),
                        reason,
                    );
                }
                Some(wait) => wait,
                None => policy.backoff_with_jitter(attempt, random),
            };
            (Decision::Wait(wait), reason)
        }
    }
}

fn provider_of(error: &ModelError) -> crate::settings::Provider {
    use crate::settings::Provider;
    match error {
        ModelError::MissingApiKey { provider, .. }
        | ModelError::NoSettings { provider, .. }
        | ModelError::Setup { provider, .. }
        | ModelError::InvalidRequest { provider, .. }
        | ModelError::Api { provider, .. }
        | ModelError::Connection { provider, .. }
        | ModelError::Interrupted { provider, .. }
        | ModelError::Decode { provider, .. }
        | ModelError::RetryAfterTooLong { provider, .. } => *provider,
        ModelError::GaveUp { last, .. } => provider_of(last),
        ModelError::RecordingExhausted { .. }
        | ModelError::ToolSetMismatch { .. }
        | ModelError::RecordingFile { .. } => Provider::Replay,
    }
}

/// Statuses worth retrying: timeouts, conflicts, rate limits, overload (529) and server errors,
/// as the official SDKs do.
pub(crate) fn status_is_transient(status: u16) -> bool {
    matches!(status, 408 | 409 | 429) || (500..=599).contains(&status)
}

/// The wait a response asks for: `retry-after-ms` (milliseconds, Anthropic and OpenAI send it),
/// else `retry-after` in seconds or as an HTTP date.
pub(crate) fn retry_after(
    retry_after_ms: Option<&str>,
    retry_after: Option<&str>,
    now: SystemTime,
) -> Option<Duration> {
    if let Some(millis) = retry_after_ms
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
    {
        return Some(Duration::from_secs_f64(millis / 1000.0));
    }
    let value = retry_after?.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Provider;
    use pretty_assertions::assert_eq;

    #[test]
    fn retry_after_forms() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        let cases: [(Option<&str>, Option<&str>, Option<Duration>); 8] = [
            (None, Some("7"), Some(Duration::from_secs(7))),
            (None, Some(" 1.5 "), Some(Duration::from_millis(1500))),
            (Some("250"), Some("7"), Some(Duration::from_millis(250))),
            (Some("junk"), Some("3"), Some(Duration::from_secs(3))),
            (
                None,
                Some("Sun, 06 Nov 1994 08:50:07 GMT"),
                Some(Duration::from_secs(30)),
            ),
            (
                None,
                Some("Sun, 06 Nov 1994 08:00:00 GMT"),
                Some(Duration::ZERO),
            ),
            (None, Some("-3"), None),
            (None, Some("soon"), None),
        ];
        for (ms, header, expected) in cases {
            assert_eq!(retry_after(ms, header, now), expected, "{ms:?} {header:?}");
        }
    }

    #[test]
    fn statuses() {
        let transient: Vec<u16> = [
            400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 529, 600,
        ]
        .into_iter()
        .filter(|s| status_is_transient(*s))
        .collect();
        assert_eq!(transient, vec![408, 409, 429, 500, 502, 503, 529]);
    }

    fn overloaded() -> ModelError {
        ModelError::Api {
            provider: Provider::Anthropic,
            status: 529,
            kind: Some("overloaded_error".into()),
            message: "Overloaded".into(),
            request_id: None,
        }
    }

    #[test]
    fn decisions() {
        let policy = RetryPolicy {
            jitter_percent: 0,
            ..RetryPolicy::default()
        };
        let (decision, reason) = decide(&policy, 2, Failure::transient(overloaded()), 0.3);
        assert_eq!(decision, Decision::Wait(Duration::from_secs(2)));
        assert_eq!(
            reason,
            "anthropic API error 529 (overloaded_error): Overloaded"
        );

        let with_retry_after = Failure::Transient {
            error: overloaded(),
            retry_after: Some(Duration::from_secs(7)),
        };
        assert_eq!(
            decide(&policy, 1, with_retry_after, 0.3).0,
            Decision::Wait(Duration::from_secs(7))
        );

        let too_long = Failure::Transient {
            error: overloaded(),
            retry_after: Some(Duration::from_secs(3600)),
        };
        assert_eq!(
            decide(&policy, 1, too_long, 0.3).0.to_string_for_test(),
            "anthropic asked to retry after 3600s, longer than the 300s this client waits; last error: anthropic API error 529 (overloaded_error): Overloaded"
        );

        assert_eq!(
            decide(&policy, 5, Failure::transient(overloaded()), 0.3)
                .0
                .to_string_for_test(),
            "gave up after 5 attempts; last error: anthropic API error 529 (overloaded_error): Overloaded"
        );
        assert_eq!(
            decide(&policy, 1, Failure::Permanent(overloaded()), 0.3).0,
            Decision::GiveUp(overloaded())
        );
    }

    impl Decision {
        fn to_string_for_test(&self) -> String {
            match self {
                Decision::Wait(wait) => format!("wait {wait:?}"),
                Decision::GiveUp(error) => error.to_string(),
            }
        }
    }
}

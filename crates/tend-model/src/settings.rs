//! Where a provider lives and how to reach it: base URL, key, timeout, retries.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::ModelError;
use crate::secret::Secret;

/// The model providers tend speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// The Anthropic Messages API.
    Anthropic,
    /// OpenAI Chat Completions, and servers that speak it (Ollama, vLLM, llama.cpp, LM Studio).
    #[serde(rename = "openai")]
    OpenAi,
    /// A recorded session played back.
    Replay,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Anthropic => "anthropic",
            Provider::OpenAi => "openai",
            Provider::Replay => "replay",
        }
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

pub const ANTHROPIC_DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
pub const OPENAI_DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// Explicit settings from tend's config (`[providers.<name>]`); each wins over the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderOverrides {
    pub base_url: Option<String>,
    /// The NAME of the environment variable that holds the key (never the key).
    pub api_key_env: Option<String>,
}

/// How failed requests are retried: exponential backoff with jitter, or the server's
/// `retry-after` when it sends one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// All attempts, the first one included.
    pub max_attempts: u32,
    /// The wait before the first retry.
    pub base: Duration,
    /// Each further retry waits this many times longer…
    pub factor: u32,
    /// …but never longer than this.
    pub max_wait: Duration,
    /// Each backoff wait is shortened by a random part of up to this many percent, so that
    /// clients that failed together do not retry together. `retry-after` waits are exact.
    pub jitter_percent: u32,
    /// A `retry-after` longer than this is not waited for: the request fails at once.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            base: Duration::from_secs(1),
            factor: 2,
            max_wait: Duration::from_secs(60),
            jitter_percent: 25,
            max_retry_after: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// The backoff before retry number `retry` (1 for the first retry), before jitter.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exponent = retry.saturating_sub(1);
        let multiplier = self.factor.max(1).checked_pow(exponent).unwrap_or(u32::MAX);
        self.base
            .checked_mul(multiplier)
            .unwrap_or(self.max_wait)
            .min(self.max_wait)
    }

    /// The backoff with jitter applied; `random` is uniform in [0, 1).
    pub fn backoff_with_jitter(&self, retry: u32, random: f64) -> Duration {
        let full = self.backoff(retry);
        let jitter = f64::from(self.jitter_percent.min(100)) / 100.0;
        full.mul_f64(1.0 - jitter * random.clamp(0.0, 1.0))
    }
}

/// How to reach one provider.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderSettings {
    /// Anthropic: without `/v1` (`https://api.anthropic.com`); OpenAI: with it
    /// (`https://api.openai.com/v1`), as their SDKs and CLIs take it.
    pub base_url: String,
    pub api_key: Option<Secret>,
    /// The longest silence tolerated while connecting or between two chunks of a response.
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

impl ProviderSettings {
    /// Settings from the process environment (`ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`,
    /// `OPENAI_API_KEY`, `OPENAI_BASE_URL`) and the config's overrides.
    pub fn from_env(
        provider: Provider,
        overrides: &ProviderOverrides,
    ) -> Result<ProviderSettings, ModelError> {
        ProviderSettings::from_lookup(provider, overrides, &|name| std::env::var(name).ok())
    }

    /// Like [`ProviderSettings::from_env`] with the environment given as a lookup function, so
    /// that tests need not change the process environment.
    pub fn from_lookup(
        provider: Provider,
        overrides: &ProviderOverrides,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ProviderSettings, ModelError> {
        let (url_var, key_var, default_url) = match provider {
            Provider::Anthropic => (
                "ANTHROPIC_BASE_URL",
                "ANTHROPIC_API_KEY",
                ANTHROPIC_DEFAULT_BASE_URL,
            ),
            Provider::OpenAi => ("OPENAI_BASE_URL", "OPENAI_API_KEY", OPENAI_DEFAULT_BASE_URL),
            Provider::Replay => {
                return Err(ModelError::NoSettings {
                    provider,
                    reason: "a replay plays a recording file and calls no API".into(),
                });
            }
        };
        let non_empty = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
        let base_url = non_empty(overrides.base_url.clone())
            .or_else(|| non_empty(env(url_var)))
            .unwrap_or_else(|| default_url.to_owned());
        let key_env = overrides.api_key_env.as_deref().unwrap_or(key_var);
        let api_key = non_empty(env(key_env)).map(Secret::new);
        // A local OpenAI-compatible server (Ollama, llama.cpp, …) usually wants no key; a key
        // variable named explicitly in the config must exist, though.
        let key_required = match provider {
            Provider::Anthropic => true,
            Provider::OpenAi => overrides.api_key_env.is_some() || is_openai_host(&base_url),
            Provider::Replay => false,
        };
        if api_key.is_none() && key_required {
            return Err(ModelError::MissingApiKey {
                provider,
                env_var: key_env.to_owned(),
            });
        }
        Ok(ProviderSettings {
            base_url,
            api_key,
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
        })
    }
}

/// The host part of a URL, without user info or port.
pub(crate) fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if let Some(bracketed) = host_port.strip_prefix('[') {
        return bracketed.split(']').next().unwrap_or(bracketed);
    }
    host_port.split(':').next().unwrap_or(host_port)
}

/// Whether the URL is OpenAI's own API (or Azure's), which takes `max_completion_tokens` and
/// needs a key.
pub(crate) fn is_openai_host(url: &str) -> bool {
    let host = url_host(url).to_ascii_lowercase();
    host == "openai.com" || host.ends_with(".openai.com") || host.ends_with(".openai.azure.com")
}

pub(crate) fn is_loopback_host(url: &str) -> bool {
    let host = url_host(url).to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use std::collections::BTreeMap;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn anthropic_from_env() {
        let env = lookup(&[("ANTHROPIC_API_KEY", "sk-ant-1")]);
        let settings =
            ProviderSettings::from_lookup(Provider::Anthropic, &ProviderOverrides::default(), &env)
                .unwrap();
        assert_eq!(
            settings,
            ProviderSettings {
                base_url: "https://api.anthropic.com".into(),
                api_key: Some(Secret::new("sk-ant-1")),
                timeout: DEFAULT_TIMEOUT,
                retry: RetryPolicy::default(),
            }
        );
    }

    #[test]
    fn overrides_win_over_env() {
        let env = lookup(&[
            ("ANTHROPIC_API_KEY", "sk-default"),
            ("ANTHROPIC_BASE_URL", "http://env.example"),
            ("WORK_KEY", "sk-work"),
        ]);
        let overrides = ProviderOverrides {
            base_url: Some("http://config.example".into()),
            api_key_env: Some("WORK_KEY".into()),
        };
        let settings =
            ProviderSettings::from_lookup(Provider::Anthropic, &overrides, &env).unwrap();
        assert_eq!(
            (settings.base_url.as_str(), settings.api_key),
            ("http://config.example", Some(Secret::new("sk-work")))
        );
        let env_only =
            ProviderSettings::from_lookup(Provider::Anthropic, &ProviderOverrides::default(), &env)
                .unwrap();
        assert_eq!(env_only.base_url, "http://env.example");
    }

    #[test]
    fn missing_keys_name_the_variable() {
        let env = lookup(&[("ANTHROPIC_API_KEY", "  ")]);
        let cases = [
            (
                Provider::Anthropic,
                ProviderOverrides::default(),
                "no API key for anthropic: set the environment variable `ANTHROPIC_API_KEY`",
            ),
            (
                Provider::OpenAi,
                ProviderOverrides::default(),
                "no API key for openai: set the environment variable `OPENAI_API_KEY`",
            ),
            (
                Provider::OpenAi,
                ProviderOverrides {
                    base_url: Some("http://localhost:11434/v1".into()),
                    api_key_env: Some("OLLAMA_KEY".into()),
                },
                "no API key for openai: set the environment variable `OLLAMA_KEY`",
            ),
            (
                Provider::Replay,
                ProviderOverrides::default(),
                "replay has no HTTP settings: a replay plays a recording file and calls no API",
            ),
        ];
        for (provider, overrides, message) in cases {
            let error = ProviderSettings::from_lookup(provider, &overrides, &env).unwrap_err();
            assert_eq!(error.to_string(), message);
        }
    }

    #[test]
    fn local_openai_compatible_servers_need_no_key() {
        let env = lookup(&[("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1")]);
        let settings =
            ProviderSettings::from_lookup(Provider::OpenAi, &ProviderOverrides::default(), &env)
                .unwrap();
        assert_eq!(
            (settings.base_url.as_str(), settings.api_key),
            ("http://127.0.0.1:8080/v1", None)
        );
    }

    #[test]
    fn hosts() {
        let cases = [
            ("https://api.openai.com/v1", "api.openai.com", true, false),
            (
                "https://me.openai.azure.com/openai",
                "me.openai.azure.com",
                true,
                false,
            ),
            ("http://localhost:11434/v1", "localhost", false, true),
            ("http://user:pw@127.0.0.1:8080", "127.0.0.1", false, true),
            ("http://[::1]:9000/v1", "::1", false, true),
            (
                "https://openai.com.evil.example/v1",
                "openai.com.evil.example",
                false,
                false,
            ),
        ];
        for (url, host, openai, loopback) in cases {
            assert_eq!(
                (url_host(url), is_openai_host(url), is_loopback_host(url)),
                (host, openai, loopback),
                "{url}"
            );
        }
    }

    #[test]
    fn backoff_grows_and_caps() {
        let policy = RetryPolicy::default();
        let waits: Vec<u64> = (1..=8).map(|n| policy.backoff(n).as_secs()).collect();
        assert_eq!(waits, vec![1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(policy.backoff(200), Duration::from_secs(60));
        assert_eq!(policy.backoff_with_jitter(3, 0.0), Duration::from_secs(4));
        assert_eq!(
            policy.backoff_with_jitter(3, 0.5),
            Duration::from_millis(3500)
        );
        assert_eq!(
            policy.backoff_with_jitter(3, 0.999_999),
            Duration::from_secs(4).mul_f64(1.0 - 0.25 * 0.999_999)
        );
    }
}

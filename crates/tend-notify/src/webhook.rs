//! Webhooks: one POST of JSON, retried once after a 5xx answer or a failed connection. The
//! URL is filled from the environment at delivery and shown only up to its host.

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderValue};

use crate::deliver::{DeliveryError, Settings};
use crate::message::cut;
use crate::process::human;

/// Fills `${VAR}` references from `env`; a variable that is not set is an error naming it.
pub fn expand_url(
    template: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, DeliveryError> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let Some(close) = rest[i..].find('}') else {
            return Err(DeliveryError::BadUrl(redact_url(template)));
        };
        let name = &rest[i + 2..i + close];
        match env(name) {
            Some(value) if !value.is_empty() => out.push_str(&value),
            _ => return Err(DeliveryError::MissingVar(name.to_owned())),
        }
        rest = &rest[i + close + 1..];
    }
    out.push_str(rest);
    if out.starts_with("https://") || out.starts_with("http://") {
        Ok(out)
    } else {
        Err(DeliveryError::BadUrl(redact_url(&out)))
    }
}

/// `https://hooks.slack.com/…`: scheme and host only (no credentials, path or query), since
/// a webhook's path is often its secret.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (s, r),
        None => return "[redacted]".to_owned(),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let host = authority.rsplit('@').next().unwrap_or(authority);
    if host.contains("${") {
        return "[redacted]".to_owned();
    }
    let tail = if end < rest.len() { "/…" } else { "" };
    format!("{scheme}://{host}{tail}")
}

/// One attempt's result.
enum Attempt {
    Done(u16),
    /// Worth one more try: a 5xx answer, or no connection at all.
    Retry(DeliveryError),
    Failed(DeliveryError),
}

/// POSTs `body`; returns `HTTP 200` (or whichever 2xx) and the number of attempts.
pub(crate) async fn post(
    url_template: &str,
    body: &serde_json::Value,
    timeout: Duration,
    settings: &Settings,
) -> (Result<String, DeliveryError>, u32) {
    let url = match expand_url(url_template, settings.env.as_ref()) {
        Ok(url) => url,
        Err(e) => return (Err(e), 0),
    };
    let shown = redact_url(&url);
    rustls::crypto::ring::default_provider()
        .install_default()
        .ok();
    let client = match reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("tend/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            return (
                Err(DeliveryError::Http {
                    url: shown,
                    reason: reason(&e),
                }),
                0,
            );
        }
    };
    let bytes = match serde_json::to_vec(body) {
        Ok(b) => b,
        Err(e) => {
            return (
                Err(DeliveryError::Http {
                    url: shown,
                    reason: e.to_string(),
                }),
                0,
            );
        }
    };
    let mut attempts = 0;
    loop {
        attempts += 1;
        let attempt = once(&client, &url, &shown, bytes.clone(), timeout).await;
        match attempt {
            Attempt::Done(status) => return (Ok(format!("HTTP {status}")), attempts),
            Attempt::Retry(e) if attempts < 2 => {
                let _ = e;
                tokio::time::sleep(settings.retry_delay).await;
            }
            Attempt::Retry(e) | Attempt::Failed(e) => return (Err(e), attempts),
        }
    }
}

async fn once(
    client: &reqwest::Client,
    url: &str,
    shown: &str,
    body: Vec<u8>,
    timeout: Duration,
) -> Attempt {
    let sent = client
        .post(url)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .body(body)
        .send()
        .await;
    let response = match sent {
        Ok(r) => r,
        Err(e) if e.is_timeout() => {
            // The receiver may have taken it: sending again could post twice.
            return Attempt::Failed(DeliveryError::Timeout {
                url: shown.to_owned(),
                after: human(timeout),
            });
        }
        Err(e) => {
            let error = DeliveryError::Http {
                url: shown.to_owned(),
                reason: reason(&e),
            };
            return if e.is_connect() || e.is_request() {
                Attempt::Retry(error)
            } else {
                Attempt::Failed(error)
            };
        }
    };
    let status = response.status().as_u16();
    // The body is read so the connection ends cleanly, and shown when it explains a refusal
    // (Slack answers `invalid_payload`, `no_service`).
    let text = match response.bytes().await {
        Ok(b) => String::from_utf8_lossy(&b).trim().to_owned(),
        Err(e) if e.is_timeout() => {
            return Attempt::Failed(DeliveryError::Timeout {
                url: shown.to_owned(),
                after: human(timeout),
            });
        }
        Err(_) => String::new(),
    };
    if (200..300).contains(&status) {
        return Attempt::Done(status);
    }
    let error = DeliveryError::Status {
        url: shown.to_owned(),
        status,
        body: cut(&text, 200),
    };
    if status >= 500 {
        Attempt::Retry(error)
    } else {
        Attempt::Failed(error)
    }
}

/// reqwest's error and its causes, without the URL (which may hold a token).
fn reason(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    let head = if e.is_connect() {
        "cannot connect".to_owned()
    } else if e.is_request() {
        "the request failed".to_owned()
    } else if e.is_body() || e.is_decode() {
        "the answer could not be read".to_owned()
    } else {
        "the request failed".to_owned()
    };
    if parts.is_empty() {
        head
    } else {
        format!("{head}: {}", parts.join(": "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn urls_are_filled_from_the_environment() {
        let env = |name: &str| match name {
            "HOOK" => Some("https://hooks.slack.com/services/T0/B0/secret".to_owned()),
            "TOKEN" => Some("s3cr3t".to_owned()),
            _ => None,
        };
        assert_eq!(
            expand_url("${HOOK}", &env).unwrap(),
            "https://hooks.slack.com/services/T0/B0/secret"
        );
        assert_eq!(
            expand_url("http://127.0.0.1:9/hook?t=${TOKEN}", &env).unwrap(),
            "http://127.0.0.1:9/hook?t=s3cr3t"
        );
        assert_eq!(
            expand_url("${MISSING}", &env),
            Err(DeliveryError::MissingVar("MISSING".into()))
        );
        assert_eq!(
            expand_url("${TOKEN}", &env),
            Err(DeliveryError::BadUrl("[redacted]".into()))
        );
    }

    #[test]
    fn urls_are_shown_up_to_their_host() {
        assert_eq!(
            redact_url("https://hooks.slack.com/services/T0/B0/secret"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            redact_url("http://user:pw@127.0.0.1:8080?token=x"),
            "http://127.0.0.1:8080/…"
        );
        assert_eq!(redact_url("http://localhost:1"), "http://localhost:1");
        assert_eq!(redact_url("s3cr3t"), "[redacted]");
    }
}

//! The HTTP side shared by both API providers: one POST of a JSON body, a streamed
//! `text/event-stream` answer, and whole-request retries.

use std::time::SystemTime;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::error::ModelError;
use crate::retry::{Decision, Failure, Sleeper, decide, retry_after, status_is_transient};
use crate::settings::{Provider, ProviderSettings, RetryPolicy, is_loopback_host};
use crate::sse::{SseEvent, SseParser};
use crate::types::{ModelEvent, ModelResponse};
use crate::{anthropic, openai};

/// Error bodies longer than this are cut when read (they are shown to people).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Installs ring as rustls's process-wide crypto provider, unless one is installed already.
///
/// reqwest is built with rustls but without a provider of its own (aws-lc-rs is too slow to
/// build), and cargo unifies features: every `reqwest::Client` in a process that links
/// tend-model panics at `build()` unless this ran first. tend-model's clients call it
/// themselves; other code that builds a `reqwest::Client` should call it too.
pub fn install_tls_provider() {
    // An error means another provider was installed first, which serves just as well.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[derive(Debug, Clone)]
pub(crate) struct Transport {
    pub provider: Provider,
    http: reqwest::Client,
    pub url: String,
    headers: HeaderMap,
    pub retry: RetryPolicy,
    pub sleeper: Sleeper,
    request_id_header: &'static str,
}

/// Whether more events are expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Progress {
    More,
    Done,
}

/// How the body ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The final event arrived.
    Complete,
    /// The connection closed cleanly, but maybe early.
    Eof,
}

/// The per-provider accumulation of one streamed response.
#[derive(Debug)]
pub(crate) enum Decoder {
    Anthropic(anthropic::StreamState),
    OpenAi(openai::StreamState),
}

impl Decoder {
    fn event(
        &mut self,
        event: SseEvent,
        on_event: &mut (dyn FnMut(ModelEvent) + Send),
    ) -> Result<Progress, Failure> {
        match self {
            Decoder::Anthropic(state) => state.event(event, on_event),
            Decoder::OpenAi(state) => state.event(event, on_event),
        }
    }

    fn finish(self, ending: Ending, request_id: Option<String>) -> Result<ModelResponse, Failure> {
        match self {
            Decoder::Anthropic(state) => state.finish(ending, request_id),
            Decoder::OpenAi(state) => state.finish(ending, request_id),
        }
    }
}

impl Transport {
    pub fn new(
        provider: Provider,
        settings: &ProviderSettings,
        path: &str,
        headers: HeaderMap,
        request_id_header: &'static str,
    ) -> Result<Transport, ModelError> {
        let setup = |detail: String| ModelError::Setup { provider, detail };
        install_tls_provider();
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("tend/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(settings.timeout)
            .read_timeout(settings.timeout);
        // A local model server must not be sent through an HTTP(S)_PROXY from the environment.
        if is_loopback_host(&settings.base_url) {
            builder = builder.no_proxy();
        }
        let http = builder.build().map_err(|e| setup(error_chain(&e)))?;
        let base = settings.base_url.trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(setup(format!(
                "the base URL `{base}` must start with http:// or https://"
            )));
        }
        Ok(Transport {
            provider,
            http,
            url: format!("{base}{path}"),
            headers,
            retry: settings.retry.clone(),
            sleeper: Sleeper::default(),
            request_id_header,
        })
    }

    /// Sends `body`, retrying the whole request on transient failures.
    pub async fn send(
        &self,
        body: &[u8],
        new_decoder: &(dyn Fn() -> Decoder + Sync),
        on_event: &mut (dyn FnMut(ModelEvent) + Send),
    ) -> Result<ModelResponse, ModelError> {
        let mut attempt = 1;
        loop {
            let failure = match self.attempt(body, new_decoder(), on_event).await {
                Ok(response) => return Ok(response),
                Err(failure) => failure,
            };
            match decide(&self.retry, attempt, failure, fastrand::f64()) {
                (Decision::GiveUp(error), _) => return Err(error),
                (Decision::Wait(wait), reason) => {
                    on_event(ModelEvent::Retrying {
                        attempt,
                        wait,
                        reason,
                    });
                    self.sleeper.sleep(wait).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn attempt(
        &self,
        body: &[u8],
        mut decoder: Decoder,
        on_event: &mut (dyn FnMut(ModelEvent) + Send),
    ) -> Result<ModelResponse, Failure> {
        let connection = |detail: String| {
            Failure::transient(ModelError::Connection {
                provider: self.provider,
                url: self.url.clone(),
                detail,
            })
        };
        let mut response = self
            .http
            .post(&self.url)
            .headers(self.headers.clone())
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| connection(error_chain(&e)))?;
        let status = response.status().as_u16();
        let request_id = header(response.headers(), self.request_id_header);
        if !response.status().is_success() {
            return Err(self.api_failure(response, request_id).await);
        }
        let mut parser = SseParser::default();
        let interrupted = |detail: String| {
            Failure::transient(ModelError::Interrupted {
                provider: self.provider,
                detail,
            })
        };
        let content_type = header(response.headers(), "content-type").unwrap_or_default();
        if !content_type.starts_with("text/event-stream") {
            return Err(Failure::Permanent(ModelError::Decode {
                provider: self.provider,
                context: format!("HTTP {status} from {}", self.url),
                detail: format!(
                    "expected an event stream (text/event-stream), got `{content_type}`; the server may not support streaming"
                ),
            }));
        }
        loop {
            let chunk = response
                .chunk()
                .await
                .map_err(|e| interrupted(error_chain(&e)))?;
            let Some(chunk) = chunk else {
                return decoder.finish(Ending::Eof, request_id);
            };
            let events = parser.push(&chunk).map_err(|e| {
                Failure::Permanent(ModelError::Decode {
                    provider: self.provider,
                    context: "event stream".into(),
                    detail: e.to_string(),
                })
            })?;
            for event in events {
                match decoder.event(event, on_event)? {
                    Progress::More => {}
                    Progress::Done => return decoder.finish(Ending::Complete, request_id),
                }
            }
        }
    }

    async fn api_failure(
        &self,
        mut response: reqwest::Response,
        request_id: Option<String>,
    ) -> Failure {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let wait = retry_after(
            header(&headers, "retry-after-ms").as_deref(),
            header(&headers, "retry-after").as_deref(),
            SystemTime::now(),
        );
        let mut body = Vec::new();
        while let Ok(Some(chunk)) = response.chunk().await {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_ERROR_BODY {
                body.truncate(MAX_ERROR_BODY);
                break;
            }
        }
        let (kind, message, body_request_id) = api_error_parts(&String::from_utf8_lossy(&body));
        let error = ModelError::Api {
            provider: self.provider,
            status,
            kind,
            message,
            request_id: request_id.or(body_request_id),
        };
        // Anthropic's and OpenAI's servers may say outright whether a retry can help.
        let transient = match header(&headers, "x-should-retry").as_deref() {
            Some("true") => true,
            Some("false") => false,
            _ => status_is_transient(status),
        };
        if transient {
            Failure::Transient {
                error,
                retry_after: wait,
            }
        } else {
            Failure::Permanent(error)
        }
    }
}

pub(crate) fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Builds a header map; values marked sensitive are hidden from `Debug`.
pub(crate) fn headers(
    provider: Provider,
    entries: &[(&'static str, &str, Sensitivity)],
) -> Result<HeaderMap, ModelError> {
    let mut map = HeaderMap::new();
    for (name, value, sensitivity) in entries {
        let mut value = HeaderValue::from_str(value).map_err(|_| ModelError::Setup {
            provider,
            // Never echo the value: it may be the key.
            detail: format!("the value for the `{name}` header has characters HTTP does not allow"),
        })?;
        match sensitivity {
            Sensitivity::Secret => value.set_sensitive(true),
            Sensitivity::Plain => {}
        }
        map.insert(HeaderName::from_static(name), value);
    }
    Ok(map)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sensitivity {
    Plain,
    Secret,
}

/// The type, message and request id of an error body: Anthropic's
/// `{"type":"error","error":{"type","message"},"request_id"}`, OpenAI's
/// `{"error":{"message","type","code"}}`, Ollama's `{"error":"…"}`, or plain text.
pub(crate) fn api_error_parts(body: &str) -> (Option<String>, String, Option<String>) {
    let trimmed = body.trim();
    let Ok(value) = serde_json::from_str::<serde_json::Value>(trimmed) else {
        let message = if trimmed.is_empty() {
            "(empty response body)".to_owned()
        } else {
            truncate(trimmed, 500)
        };
        return (None, message, None);
    };
    let request_id = value
        .get("request_id")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let error = value.get("error").unwrap_or(&value);
    if let Some(text) = error.as_str() {
        return (None, text.to_owned(), request_id);
    }
    let kind = error
        .get("type")
        .and_then(|v| v.as_str())
        .or_else(|| error.get("code").and_then(|v| v.as_str()))
        .map(str::to_owned);
    let message = error
        .get("message")
        .and_then(|v| v.as_str())
        .map_or_else(|| truncate(trimmed, 500), str::to_owned);
    (kind, message, request_id)
}

pub(crate) fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// An error and its sources on one line (reqwest's own message is often just "error sending
/// request").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn error_bodies() {
        let cases = [
            (
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}"#,
                (Some("overloaded_error"), "Overloaded", Some("req_1")),
            ),
            (
                r#"{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#,
                (Some("requests"), "Rate limit reached", None),
            ),
            (
                r#"{"error":{"message":"bad","code":"context_length_exceeded"}}"#,
                (Some("context_length_exceeded"), "bad", None),
            ),
            (
                r#"{"error":"model 'x' not found"}"#,
                (None, "model 'x' not found", None),
            ),
            (
                "<html>502 Bad Gateway</html>",
                (None, "<html>502 Bad Gateway</html>", None),
            ),
            ("", (None, "(empty response body)", None)),
        ];
        for (body, (kind, message, request_id)) in cases {
            assert_eq!(
                api_error_parts(body),
                (
                    kind.map(str::to_owned),
                    message.to_owned(),
                    request_id.map(str::to_owned)
                ),
                "{body}"
            );
        }
    }

    #[test]
    fn truncates_on_char_boundaries() {
        assert_eq!(truncate("äöü", 2), "äö…");
        assert_eq!(truncate("äöü", 3), "äöü");
    }
}

//! The one error type of the crate. No variant ever holds an API key.

use std::time::Duration;

use crate::settings::Provider;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("no API key for {provider}: set the environment variable `{env_var}`")]
    MissingApiKey { provider: Provider, env_var: String },

    #[error("{provider} has no HTTP settings: {reason}")]
    NoSettings { provider: Provider, reason: String },

    #[error("cannot set up the {provider} client: {detail}")]
    Setup { provider: Provider, detail: String },

    #[error("cannot send this conversation to {provider}: {detail}")]
    InvalidRequest { provider: Provider, detail: String },

    /// The API answered with an error status (or an `error` event in the stream).
    #[error("{provider} API error {status}{kind}: {message}{request}",
        kind = kind.as_deref().map(|k| format!(" ({k})")).unwrap_or_default(),
        request = request_id.as_deref().map(|id| format!(" [request id {id}]")).unwrap_or_default())]
    Api {
        provider: Provider,
        /// The HTTP status; 200 for an `error` event inside a stream.
        status: u16,
        /// The API's error type, like `overloaded_error` or `invalid_request_error`.
        kind: Option<String>,
        message: String,
        request_id: Option<String>,
    },

    #[error("cannot reach {provider} at {url}: {detail}")]
    Connection {
        provider: Provider,
        url: String,
        detail: String,
    },

    /// The response stream stopped before its final event.
    #[error("the {provider} response stream broke off: {detail}")]
    Interrupted { provider: Provider, detail: String },

    #[error("cannot decode the {provider} response ({context}): {detail}")]
    Decode {
        provider: Provider,
        context: String,
        detail: String,
    },

    #[error("{provider} asked to retry after {}s, longer than the {}s this client waits; last error: {last}", wait.as_secs(), limit.as_secs())]
    RetryAfterTooLong {
        provider: Provider,
        wait: Duration,
        limit: Duration,
        last: Box<ModelError>,
    },

    #[error("gave up after {attempts} attempts; last error: {last}")]
    GaveUp {
        attempts: u32,
        last: Box<ModelError>,
    },

    #[error(
        "the recording has {turns} turns; the run asked for turn {asked} — re-record with `tend run --record`"
    )]
    RecordingExhausted { turns: usize, asked: usize },

    #[error(
        "turn {turn} of the recording was made with the tools [{}], but the run offers [{}] — re-record with `tend run --record`",
        recorded.join(", "), requested.join(", ")
    )]
    ToolSetMismatch {
        turn: usize,
        recorded: Vec<String>,
        requested: Vec<String>,
    },

    #[error("recording {path}: {detail}")]
    RecordingFile { path: String, detail: String },
}

impl ModelError {
    /// The provider's request id, where the error carries one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            ModelError::Api { request_id, .. } => request_id.as_deref(),
            ModelError::GaveUp { last, .. } | ModelError::RetryAfterTooLong { last, .. } => {
                last.request_id()
            }
            ModelError::MissingApiKey { .. }
            | ModelError::NoSettings { .. }
            | ModelError::Setup { .. }
            | ModelError::InvalidRequest { .. }
            | ModelError::Connection { .. }
            | ModelError::Interrupted { .. }
            | ModelError::Decode { .. }
            | ModelError::RecordingExhausted { .. }
            | ModelError::ToolSetMismatch { .. }
            | ModelError::RecordingFile { .. } => None,
        }
    }
}

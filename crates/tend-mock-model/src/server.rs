//! The HTTP server: routes, the shared script position, and turning steps into responses.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::post;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::script::{CutEnding, ErrorReply, Reply, Script, Step};
use crate::{anthropic, openai, responses};

/// Which API a request spoke, from its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireFormat {
    /// `POST /v1/messages`
    Anthropic,
    /// `POST /v1/chat/completions` or `POST /chat/completions`
    #[serde(rename = "openai")]
    OpenAi,
    /// `POST /v1/responses` or `POST /responses` (OpenAI's Responses API, which Codex speaks)
    #[serde(rename = "openai_responses")]
    Responses,
}

/// A request the mock received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    pub path: String,
    /// Lower-case names; repeated headers joined with `, `.
    pub headers: BTreeMap<String, String>,
    /// The JSON body, or the raw text as a JSON string when it was not JSON.
    pub body: Value,
    pub format: WireFormat,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

#[derive(Debug)]
struct Progress {
    next: usize,
    requests: Vec<RecordedRequest>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    script: Script,
    progress: Mutex<Progress>,
    shutdown: watch::Receiver<bool>,
}

impl Shared {
    pub(crate) fn new(script: Script, shutdown: watch::Receiver<bool>) -> Shared {
        Shared {
            script,
            progress: Mutex::new(Progress {
                next: 0,
                requests: Vec::new(),
            }),
            shutdown,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    pub(crate) fn steps_left(&self) -> usize {
        self.script.steps.len().saturating_sub(self.lock().next)
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/messages", post(anthropic_route))
        .route("/v1/chat/completions", post(openai_route))
        .route("/chat/completions", post(openai_route))
        .route("/v1/responses", post(responses_route))
        .route("/responses", post(responses_route))
        .fallback(not_found)
        .with_state(shared)
}

async fn anthropic_route(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(shared, WireFormat::Anthropic, uri, headers, body).await
}

async fn openai_route(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(shared, WireFormat::OpenAi, uri, headers, body).await
}

async fn responses_route(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(shared, WireFormat::Responses, uri, headers, body).await
}

async fn not_found(method: Method, uri: Uri) -> Response {
    let message = format!(
        "tend-mock-model serves POST /v1/messages (Anthropic), POST /v1/chat/completions or /chat/completions (OpenAI) and POST /v1/responses or /responses (OpenAI Responses), not {method} {}",
        uri.path()
    );
    json_response(
        StatusCode::NOT_FOUND,
        &[],
        &json!({"type": "error", "error": {"type": "not_found_error", "message": message}}),
    )
}

/// What one request gets.
enum Answer {
    Step(Step),
    Refused { status: u16, message: String },
}

async fn handle(
    shared: Arc<Shared>,
    format: WireFormat,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&raw)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&raw).into_owned()));
    let header_map = collect_headers(&headers);
    let header = |name: &str| header_map.get(name).cloned();
    let refusal = match format {
        WireFormat::Anthropic => anthropic::validate(&header, &body),
        WireFormat::OpenAi => openai::validate(&body),
        WireFormat::Responses => responses::validate(&body),
    };
    let (number, answer) = {
        let mut progress = shared.lock();
        progress.requests.push(RecordedRequest {
            path: uri.path().to_owned(),
            headers: header_map.clone(),
            body: body.clone(),
            format,
        });
        let number = progress.requests.len();
        let answer = match refusal {
            // The real API refuses these before any model runs, so no step is used up.
            Some((status, message)) => Answer::Refused { status, message },
            None => match shared.script.steps.get(progress.next) {
                Some(step) => {
                    progress.next += 1;
                    Answer::Step(step.clone())
                }
                None => Answer::Refused {
                    status: 500,
                    message: format!(
                        "tend-mock-model: the script has {} steps; request {number} (POST {}) has none left",
                        shared.script.steps.len(),
                        uri.path()
                    ),
                },
            },
        };
        (number, answer)
    };
    let reply_to = Request {
        format,
        number,
        model: body
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or("mock-model")
            .to_owned(),
        stream: body.get("stream").and_then(Value::as_bool) == Some(true),
        include_usage: openai::include_usage(&body),
        chunk_chars: shared.script.chunk_chars,
    };
    match answer {
        Answer::Refused { status, message } => {
            reply_to.error(&ErrorReply::new(status).message(message))
        }
        Answer::Step(Step::Reply(reply)) => match missing_text(&reply, &body) {
            Some(needle) => reply_to.error(&ErrorReply::new(400).message(format!(
                "tend-mock-model: request {number} was expected to contain `{needle}`"
            ))),
            None => reply_to.reply(&reply, None),
        },
        Answer::Step(Step::Error(error)) => reply_to.error(&error),
        Answer::Step(Step::Cut {
            reply,
            after_events,
            ending,
        }) => reply_to.reply(&reply, Some((after_events, ending))),
        Answer::Step(Step::Malformed { body: garbage }) => reply_to.malformed(garbage),
        Answer::Step(Step::Hang { ms }) => {
            let mut shutdown = shared.shutdown.clone();
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(ms)) => {}
                _ = shutdown.wait_for(|stop| *stop) => {}
            }
            reply_to
                .error(&ErrorReply::new(500).message(format!("tend-mock-model: hung for {ms} ms")))
        }
    }
}

fn collect_headers(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        map.entry(name.as_str().to_owned())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    map
}

/// The first expected text that no string in the body contains.
fn missing_text<'a>(reply: &'a Reply, body: &Value) -> Option<&'a str> {
    fn contains(value: &Value, needle: &str) -> bool {
        match value {
            Value::String(text) => text.contains(needle),
            Value::Array(items) => items.iter().any(|v| contains(v, needle)),
            Value::Object(map) => map.values().any(|v| contains(v, needle)),
            Value::Null | Value::Bool(_) | Value::Number(_) => false,
        }
    }
    reply
        .expect_contains
        .iter()
        .map(String::as_str)
        .find(|needle| !contains(body, needle))
}

struct Request {
    format: WireFormat,
    number: usize,
    model: String,
    stream: bool,
    include_usage: openai::IncludeUsage,
    chunk_chars: usize,
}

impl Request {
    fn request_id_header(&self) -> (&'static str, String) {
        let name = match self.format {
            WireFormat::Anthropic => "request-id",
            WireFormat::OpenAi | WireFormat::Responses => "x-request-id",
        };
        (name, format!("req_mock_{}", self.number))
    }

    fn error(&self, error: &ErrorReply) -> Response {
        let message = error.message.clone().unwrap_or_else(|| {
            match self.format {
                WireFormat::Anthropic => anthropic::default_message(error.status),
                WireFormat::OpenAi | WireFormat::Responses => openai::default_message(error.status),
            }
            .to_owned()
        });
        let body = error.body.clone().unwrap_or_else(|| match self.format {
            WireFormat::Anthropic => anthropic::error_body(error.status, &message, self.number),
            WireFormat::OpenAi | WireFormat::Responses => {
                openai::error_body(error.status, &message)
            }
        });
        let (id_name, id) = self.request_id_header();
        let mut headers = vec![(id_name.to_owned(), id)];
        if let Some(retry_after) = &error.retry_after {
            headers.push(("retry-after".to_owned(), retry_after.clone()));
        }
        headers.extend(error.headers.iter().map(|(k, v)| (k.clone(), v.clone())));
        let status =
            StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        json_response(status, &headers, &body)
    }

    fn reply(&self, reply: &Reply, cut: Option<(usize, CutEnding)>) -> Response {
        let (id_name, id) = self.request_id_header();
        let headers = [(id_name.to_owned(), id)];
        if !self.stream {
            let body = match self.format {
                WireFormat::Anthropic => anthropic::body(reply, &self.model, self.number),
                WireFormat::OpenAi => openai::body(reply, &self.model, self.number),
                WireFormat::Responses => responses::body(reply, &self.model, self.number),
            };
            return match cut {
                None => json_response(StatusCode::OK, &headers, &body),
                Some((_, _)) => {
                    // Half a body, then a broken connection.
                    let text = body.to_string();
                    let half = text.len() / 2;
                    let pieces = vec![Piece::Data(text.as_bytes()[..half].to_vec()), Piece::Break];
                    streamed(StatusCode::OK, "application/json", &headers, pieces)
                }
            };
        }
        let events = match self.format {
            WireFormat::Anthropic => {
                anthropic::events(reply, &self.model, self.number, self.chunk_chars)
            }
            WireFormat::OpenAi => openai::events(
                reply,
                &self.model,
                self.number,
                self.chunk_chars,
                self.include_usage,
            ),
            WireFormat::Responses => {
                responses::events(reply, &self.model, self.number, self.chunk_chars)
            }
        };
        let mut pieces: Vec<Piece> = Vec::new();
        let ending = match cut {
            None => {
                pieces.extend(events.into_iter().map(|e| Piece::Data(e.into_bytes())));
                CutEnding::Eof
            }
            Some((after, ending)) => {
                pieces.extend(
                    events
                        .into_iter()
                        .take(after)
                        .map(|e| Piece::Data(e.into_bytes())),
                );
                ending
            }
        };
        match ending {
            CutEnding::Eof => {}
            CutEnding::Abort => pieces.push(Piece::Break),
            CutEnding::Error {
                error_type,
                message,
            } => {
                let event = match self.format {
                    WireFormat::Anthropic => anthropic::error_event(&error_type, &message),
                    WireFormat::OpenAi => openai::error_event(&error_type, &message),
                    WireFormat::Responses => responses::error_event(&error_type, &message),
                };
                pieces.push(Piece::Data(event.into_bytes()));
            }
        }
        streamed(StatusCode::OK, "text/event-stream", &headers, pieces)
    }

    fn malformed(&self, garbage: Option<String>) -> Response {
        let (id_name, id) = self.request_id_header();
        let headers = [(id_name.to_owned(), id)];
        if !self.stream {
            let body =
                garbage.unwrap_or_else(|| "{\"id\": \"msg_mock\", \"content\": [".to_owned());
            return streamed(
                StatusCode::OK,
                "application/json",
                &headers,
                vec![Piece::Data(body.into_bytes())],
            );
        }
        let body = garbage.unwrap_or_else(|| match self.format {
            WireFormat::Anthropic => {
                "event: message_start\ndata: {\"type\": \"message_start\", \"message\": {oops\n\n"
                    .to_owned()
            }
            WireFormat::OpenAi => {
                "data: {\"id\": \"chatcmpl-mock\", \"choices\": [oops\n\n".to_owned()
            }
            WireFormat::Responses => {
                "event: response.created\ndata: {\"type\": \"response.created\", oops\n\n"
                    .to_owned()
            }
        });
        streamed(
            StatusCode::OK,
            "text/event-stream",
            &headers,
            vec![Piece::Data(body.into_bytes())],
        )
    }
}

/// A part of a streamed body.
enum Piece {
    Data(Vec<u8>),
    /// Breaks the connection: hyper aborts a body whose stream yields an error.
    Break,
}

#[derive(Debug, thiserror::Error)]
#[error("tend-mock-model cut the connection as scripted")]
struct ScriptedCut;

fn streamed(
    status: StatusCode,
    content_type: &str,
    headers: &[(String, String)],
    pieces: Vec<Piece>,
) -> Response {
    use futures_util::StreamExt;
    let items = futures_util::stream::iter(pieces).then(|piece| async move {
        match piece {
            Piece::Data(bytes) => Ok::<Bytes, ScriptedCut>(Bytes::from(bytes)),
            Piece::Break => {
                // hyper flushes what it has buffered only when the body is not ready; without
                // this pause it would drop the connection before the events went out.
                tokio::task::yield_now().await;
                Err(ScriptedCut)
            }
        }
    });
    let mut response = Response::new(Body::from_stream(items));
    *response.status_mut() = status;
    set_headers(&mut response, content_type, headers);
    response
}

fn json_response(status: StatusCode, headers: &[(String, String)], body: &Value) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    set_headers(&mut response, "application/json", headers);
    response
}

fn set_headers(response: &mut Response, content_type: &str, headers: &[(String, String)]) {
    let map = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(content_type) {
        map.insert(axum::http::header::CONTENT_TYPE, value);
    }
    if content_type == "text/event-stream" {
        map.insert(
            axum::http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        );
    }
    for (name, value) in headers {
        // A script with a header name or value HTTP cannot carry just leaves it out.
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            map.insert(name, value);
        }
    }
}

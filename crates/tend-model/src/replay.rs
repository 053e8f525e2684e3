//! Recorded sessions: saved from live runs, played back without a model.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::error::ModelError;
use crate::types::{Content, ModelEvent, ModelRequest, ModelResponse};

pub const RECORDING_VERSION: u32 = 1;

/// A recorded session: the responses of each turn, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    pub version: u32,
    /// Where the responses came from (`anthropic`, `openai`).
    pub provider: String,
    pub model: String,
    pub turns: Vec<RecordedTurn>,
}

/// One response, and the names of the tools the request offered (sorted), so a replay can
/// tell when the run's tool set no longer matches the recording. Requests themselves are not
/// kept: a replay must not depend on the exact prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedTurn {
    #[serde(flatten)]
    pub response: ModelResponse,
    /// `None` (no `tools` key, as in a hand-written recording): any tool set is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<String>>,
}

impl Recording {
    pub fn new(provider: impl Into<String>, model: impl Into<String>) -> Recording {
        Recording {
            version: RECORDING_VERSION,
            provider: provider.into(),
            model: model.into(),
            turns: Vec::new(),
        }
    }

    pub fn from_json(text: &str) -> Result<Recording, serde_json::Error> {
        serde_json::from_str(text)
    }

    pub fn to_json(&self) -> String {
        // Serializing plain data into a String cannot fail; an empty string would be caught by
        // the reader.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn load(path: &Path) -> Result<Recording, ModelError> {
        let file_error = |detail: String| ModelError::RecordingFile {
            path: path.display().to_string(),
            detail,
        };
        let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
        let recording = Recording::from_json(&text).map_err(|e| file_error(e.to_string()))?;
        if recording.version != RECORDING_VERSION {
            return Err(file_error(format!(
                "version {} is not supported (this tend reads version {RECORDING_VERSION})",
                recording.version
            )));
        }
        Ok(recording)
    }

    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        std::fs::write(path, self.to_json() + "\n").map_err(|e| ModelError::RecordingFile {
            path: path.display().to_string(),
            detail: e.to_string(),
        })
    }
}

pub(crate) fn tool_names(req: &ModelRequest) -> Vec<String> {
    let mut names: Vec<String> = req.tools.iter().map(|t| t.name.clone()).collect();
    names.sort();
    names
}

/// Plays a [`Recording`] back, one turn per call.
#[derive(Debug, Clone)]
pub struct ReplayClient {
    recording: Arc<Recording>,
    next: Arc<AtomicUsize>,
}

impl ReplayClient {
    pub fn new(recording: Recording) -> ReplayClient {
        ReplayClient {
            recording: Arc::new(recording),
            next: Arc::new(AtomicUsize::new(0)),
        }
    }

    pub fn load(path: &Path) -> Result<ReplayClient, ModelError> {
        Recording::load(path).map(ReplayClient::new)
    }

    pub fn recording(&self) -> &Recording {
        &self.recording
    }

    /// How many turns were played.
    pub fn turns_played(&self) -> usize {
        self.next
            .load(Ordering::SeqCst)
            .min(self.recording.turns.len())
    }

    pub async fn complete(
        &self,
        req: &ModelRequest,
        on_event: &mut (dyn FnMut(ModelEvent) + Send),
    ) -> Result<ModelResponse, ModelError> {
        let index = self.next.fetch_add(1, Ordering::SeqCst);
        let Some(turn) = self.recording.turns.get(index) else {
            return Err(ModelError::RecordingExhausted {
                turns: self.recording.turns.len(),
                asked: index + 1,
            });
        };
        let requested = tool_names(req);
        if let Some(recorded) = turn.tools.as_ref().filter(|tools| **tools != requested) {
            return Err(ModelError::ToolSetMismatch {
                turn: index + 1,
                recorded: recorded.clone(),
                requested,
            });
        }
        for block in &turn.response.content {
            match block {
                Content::Text { text } => on_event(ModelEvent::TextDelta(text.clone())),
                Content::ToolUse { id, name, input } => {
                    on_event(ModelEvent::ToolUseStart {
                        id: id.clone(),
                        name: name.clone(),
                    });
                    on_event(ModelEvent::ToolInputDelta {
                        id: id.clone(),
                        partial_json: input.to_string(),
                    });
                }
                Content::ToolResult { .. } => {}
            }
        }
        Ok(turn.response.clone())
    }
}

/// Wraps a client and appends every successful response to a [`Recording`] that the caller
/// saves (see [`crate::Client::recording`]).
#[derive(Debug, Clone)]
pub struct Recorder {
    pub(crate) inner: Box<crate::Client>,
    pub(crate) log: Arc<Mutex<Recording>>,
}

impl Recorder {
    /// The recording so far.
    pub fn recording(&self) -> Recording {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The shared log, to save after the run.
    pub fn log(&self) -> Arc<Mutex<Recording>> {
        Arc::clone(&self.log)
    }

    pub(crate) fn append(&self, req: &ModelRequest, response: &ModelResponse) {
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .turns
            .push(RecordedTurn {
                response: response.clone(),
                tools: Some(tool_names(req)),
            });
    }
}

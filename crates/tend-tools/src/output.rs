//! Turning failures into outputs the model can act on.

use std::io;

use serde::de::DeserializeOwned;

use crate::{ToolDetail, ToolError, ToolOutput};

/// Why a tool did nothing. Refusals (confinement) and failures are recorded differently.
#[derive(Debug)]
pub(crate) struct Failure {
    message: String,
    kind: FailureKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FailureKind {
    Refused,
    Failed,
}

impl Failure {
    pub(crate) fn failed(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            kind: FailureKind::Failed,
        }
    }

    pub(crate) fn refused(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            kind: FailureKind::Refused,
        }
    }

    /// An IO error on `shown` (a path as the model should see it), phrased for the model.
    pub(crate) fn io(shown: &str, err: &io::Error) -> Failure {
        match err.kind() {
            io::ErrorKind::NotFound => Failure::failed(format!("{shown} does not exist")),
            io::ErrorKind::PermissionDenied => {
                Failure::failed(format!("permission denied: {shown}"))
            }
            io::ErrorKind::IsADirectory => Failure::failed(format!("{shown} is a directory")),
            io::ErrorKind::NotADirectory => Failure::failed(format!(
                "{shown}: a part of the path is a file, not a directory"
            )),
            _ => Failure::failed(format!("{shown}: {err}")),
        }
    }

    /// A FIFO, socket or device: reading or writing one could block the tool forever.
    pub(crate) fn not_regular(shown: &str) -> Failure {
        Failure::failed(format!(
            "{shown} is not a regular file (a pipe, socket or device); use bash if you must"
        ))
    }

    pub(crate) fn into_output(self) -> ToolOutput {
        let detail = match self.kind {
            FailureKind::Refused => ToolDetail::Refused {
                reason: self.message.clone(),
            },
            FailureKind::Failed => ToolDetail::Failed {
                reason: self.message.clone(),
            },
        };
        ToolOutput {
            content: self.message,
            is_error: true,
            detail,
        }
    }
}

impl From<ToolError> for Failure {
    fn from(err: ToolError) -> Failure {
        let refused = err.is_refusal();
        let message = err.to_string();
        if refused {
            Failure::refused(message)
        } else {
            Failure::failed(message)
        }
    }
}

/// Parses a tool's input, with serde's message (it names the missing or unknown field).
pub(crate) fn parse_input<T: DeserializeOwned>(
    tool: &str,
    input: &serde_json::Value,
) -> Result<T, Failure> {
    T::deserialize(input).map_err(|err| Failure::failed(format!("invalid input for {tool}: {err}")))
}

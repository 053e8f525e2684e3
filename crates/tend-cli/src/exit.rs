//! Errors that reach the user, and the exit code each one gets.

use std::fmt;
use std::process::ExitCode;

/// Bad input the user has to fix (exit code 2). The message is already complete: it names the
/// file, line and column, or the offending flag, and carries a hint.
#[derive(Debug)]
pub struct InvalidInput(pub String);

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidInput {}

/// Builds an [`InvalidInput`] error from a message and an optional hint, formatted the way task
/// file errors are: `error: …` then `  hint: …`.
pub fn invalid(message: impl fmt::Display, hint: Option<&str>) -> anyhow::Error {
    let mut text = format!("error: {message}");
    if let Some(hint) = hint {
        text.push_str("\n  hint: ");
        text.push_str(hint);
    }
    anyhow::Error::new(InvalidInput(text))
}

pub const INVALID_INPUT: u8 = 2;
pub const FAILURE: u8 = 1;

/// Prints an error to stderr and picks the exit code.
pub fn report(error: &anyhow::Error) -> ExitCode {
    // The reader of our output went away (`tend list | head -1`): nothing left to say.
    if is_broken_pipe(error) {
        return ExitCode::SUCCESS;
    }
    if let Some(invalid) = error.downcast_ref::<InvalidInput>() {
        eprintln!("{invalid}");
        return ExitCode::from(INVALID_INPUT);
    }
    let mut said = error.to_string();
    eprintln!("error: {said}");
    for cause in error.chain().skip(1) {
        // Many errors repeat their source in their own message; say each thing once.
        let text = cause.to_string();
        if !said.contains(&text) {
            eprintln!("  caused by: {text}");
            said.push_str(&text);
        }
    }
    ExitCode::from(FAILURE)
}

/// A write to a closed pipe, whether it came straight from `std::io` or through serde_json
/// (`tend list --json | head`).
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        let kind = if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            Some(io.kind())
        } else {
            cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
        };
        kind == Some(std::io::ErrorKind::BrokenPipe)
    })
}

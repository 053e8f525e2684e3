//! `write`, and the file writing that `edit` shares.

use std::fs;
use std::io;

use serde::Deserialize;

use crate::output::{Failure, parse_input};
use crate::text::plural;
use crate::{ResolvedPath, ToolDetail, ToolOutput, Workspace};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    path: String,
    content: String,
}

pub(crate) fn write(ws: &Workspace, input: &serde_json::Value) -> Result<ToolOutput, Failure> {
    let input: Input = parse_input("write", input)?;
    let path = ws.resolve(&input.path)?;
    let shown = path.shown();
    let created = match fs::metadata(path.abs()) {
        Ok(meta) if meta.is_dir() => {
            return Err(Failure::failed(format!("{shown} is a directory")));
        }
        Ok(meta) if !meta.is_file() => return Err(Failure::not_regular(&shown)),
        Ok(_) => false,
        Err(err) if err.kind() == io::ErrorKind::NotFound => true,
        Err(err) => return Err(Failure::io(&shown, &err)),
    };
    if let Some(parent) = path.abs().parent() {
        fs::create_dir_all(parent).map_err(|e| Failure::io(&shown, &e))?;
    }
    write_file(ws, &path, input.content.as_bytes())?;
    let lines = input.content.lines().count() as u64;
    let verb = if created { "Created" } else { "Overwrote" };
    Ok(ToolOutput {
        content: format!(
            "{verb} {shown} ({}, {})",
            plural(lines, "line", "lines"),
            plural(input.content.len() as u64, "byte", "bytes")
        ),
        is_error: false,
        detail: ToolDetail::Write {
            path: shown,
            bytes: input.content.len() as u64,
            created,
        },
    })
}

/// Writes in place, so an existing file keeps its permissions and hard links; refused when it
/// would take the run past its disk budget.
pub(crate) fn write_file(ws: &Workspace, path: &ResolvedPath, bytes: &[u8]) -> Result<(), Failure> {
    if let Some(budget) = ws.disk_budget() {
        budget
            .check_write(path.abs(), &path.shown(), bytes.len() as u64)
            .map_err(Failure::failed)?;
    }
    fs::write(path.abs(), bytes).map_err(|e| Failure::io(&path.shown(), &e))
}

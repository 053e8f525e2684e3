//! `glob`: files by name pattern, newest first.

use std::fs;
use std::path::Path;
use std::time::SystemTime;

use globset::GlobBuilder;
use serde::Deserialize;

use crate::confine::shown;
use crate::output::{Failure, parse_input};
use crate::walk::walker;
use crate::{Cancel, Limits, ToolDetail, ToolOutput, Workspace};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    pattern: String,
    #[serde(default)]
    path: Option<String>,
}

/// Matches are sorted newest first (by modification time), ties by path: recently touched files
/// are usually what the agent is after, and the order is stable.
pub(crate) fn run(
    ws: &Workspace,
    input: &serde_json::Value,
    limits: &Limits,
    cancel: &Cancel,
) -> Result<ToolOutput, Failure> {
    let input: Input = parse_input("glob", input)?;
    let dir = ws.resolve(input.path.as_deref().unwrap_or("."))?;
    let dir_shown = dir.shown();
    let meta = fs::metadata(dir.abs()).map_err(|e| Failure::io(&dir_shown, &e))?;
    if !meta.is_dir() {
        return Err(Failure::failed(format!("{dir_shown} is not a directory")));
    }
    let pattern = relative_pattern(&input.pattern, dir.abs())?;
    let matcher = GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| Failure::failed(format!("invalid glob pattern: {e}")))?
        .compile_matcher();

    let mut found: Vec<(SystemTime, String)> = Vec::new();
    for entry in walker(dir.abs(), ws.deny_read()).build() {
        if cancel.is_cancelled() {
            return Err(Failure::failed("glob was cancelled"));
        }
        // Unreadable directories are skipped, as ripgrep does.
        let Ok(entry) = entry else { continue };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Ok(in_dir) = entry.path().strip_prefix(dir.abs()) else {
            continue;
        };
        if !matcher.is_match(in_dir) {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(ws.root()) else {
            continue;
        };
        let modified = entry
            .metadata()
            .ok()
            .and_then(|m| m.modified().ok())
            .unwrap_or(SystemTime::UNIX_EPOCH);
        found.push((modified, shown(rel)));
    }
    found.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));

    let total = found.len();
    let truncated = total > limits.max_results;
    let mut content = String::new();
    for (_, path) in found.iter().take(limits.max_results) {
        content.push_str(path);
        content.push('\n');
    }
    if total == 0 {
        content = format!("No files match {} in {dir_shown}\n", input.pattern);
    } else if truncated {
        content.push_str(&format!(
            "[… {} more; narrow the pattern or path]\n",
            total - limits.max_results
        ));
    }
    Ok(ToolOutput {
        content,
        is_error: false,
        detail: ToolDetail::Glob {
            pattern: input.pattern,
            matches: total,
            truncated,
        },
    })
}

/// Patterns are relative to the searched directory; `./` is dropped and an absolute pattern
/// inside that directory is made relative.
fn relative_pattern<'p>(pattern: &'p str, dir: &Path) -> Result<&'p str, Failure> {
    let mut pattern = pattern;
    while let Some(rest) = pattern.strip_prefix("./") {
        pattern = rest;
    }
    if !pattern.starts_with('/') {
        return Ok(pattern);
    }
    let dir = dir.to_string_lossy();
    match pattern.strip_prefix(dir.as_ref()) {
        Some(rest) if rest.starts_with('/') => Ok(rest.trim_start_matches('/')),
        _ => Err(Failure::failed(format!(
            "glob pattern {pattern} is absolute; give a pattern relative to path, e.g. **/*.rs"
        ))),
    }
}

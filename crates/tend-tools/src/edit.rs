//! `edit`: exact string replacement.

use std::fs;

use serde::Deserialize;

use crate::fsops::write_file;
use crate::output::{Failure, parse_input};
use crate::text::{cut_line, looks_binary, plural};
use crate::{Limits, ToolDetail, ToolOutput, Workspace};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    path: String,
    old_string: String,
    new_string: String,
    #[serde(default)]
    replace_all: bool,
}

/// Lines of context shown around a single replacement, and the most lines shown at all.
const SNIPPET_CONTEXT: usize = 2;
const SNIPPET_MAX_LINES: usize = 20;
/// Line numbers listed when `old_string` is not unique.
const LISTED_LINES: usize = 10;

pub(crate) fn run(
    ws: &Workspace,
    input: &serde_json::Value,
    limits: &Limits,
) -> Result<ToolOutput, Failure> {
    let input: Input = parse_input("edit", input)?;
    if input.old_string.is_empty() {
        return Err(Failure::failed(
            "old_string is empty; to create or overwrite a whole file use write",
        ));
    }
    if input.old_string == input.new_string {
        return Err(Failure::failed(
            "old_string and new_string are the same; nothing to change",
        ));
    }
    let path = ws.resolve(&input.path)?;
    let shown = path.shown();
    match fs::metadata(path.abs()) {
        Ok(meta) if meta.is_dir() => {
            return Err(Failure::failed(format!("{shown} is a directory")));
        }
        Ok(meta) if !meta.is_file() => return Err(Failure::not_regular(&shown)),
        // Not found and friends: reading says it best.
        Ok(_) | Err(_) => {}
    }
    let bytes = fs::read(path.abs()).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            Failure::failed(format!("{shown} does not exist; use write to create it"))
        }
        _ => Failure::io(&shown, &e),
    })?;
    if looks_binary(&bytes) {
        return Err(Failure::failed(format!(
            "{shown} looks like a binary file; edit only changes text files"
        )));
    }
    let Ok(text) = String::from_utf8(bytes) else {
        return Err(Failure::failed(format!(
            "{shown} is not valid UTF-8 text; edit it with bash instead"
        )));
    };

    let (old, new) = match_line_endings(&text, &input.old_string, &input.new_string);
    let starts: Vec<usize> = text.match_indices(old.as_str()).map(|(i, _)| i).collect();
    let lines = line_numbers(&text, &starts);
    match starts.len() {
        0 => return Err(not_found(&text, &old, &shown)),
        1 => {}
        n if !input.replace_all => {
            let mut listed: Vec<String> = lines
                .iter()
                .take(LISTED_LINES)
                .map(ToString::to_string)
                .collect();
            if n > LISTED_LINES {
                listed.push("…".to_owned());
            }
            return Err(Failure::failed(format!(
                "old_string occurs {n} times in {shown} (lines {}); add surrounding context to \
                 make it unique or set replace_all",
                listed.join(", ")
            )));
        }
        _ => {}
    }
    let edited = text.replace(old.as_str(), &new);
    write_file(ws, &path, edited.as_bytes())?;

    let replacements = starts.len();
    let mut content = format!(
        "Edited {shown}: {}",
        plural(replacements as u64, "replacement", "replacements")
    );
    match lines.as_slice() {
        [line] => {
            let new_lines = new.matches('\n').count();
            content.push('\n');
            content.push_str(&snippet(&edited, *line, *line + new_lines, limits));
        }
        _ => {
            let listed: Vec<String> = lines
                .iter()
                .take(LISTED_LINES)
                .map(ToString::to_string)
                .collect();
            let more = if lines.len() > LISTED_LINES {
                ", …"
            } else {
                ""
            };
            content.push_str(&format!(" at lines {}{more}", listed.join(", ")));
        }
    }
    Ok(ToolOutput {
        content,
        is_error: false,
        detail: ToolDetail::Edit {
            path: shown,
            replacements,
        },
    })
}

/// Models write `\n`; a file with CRLF line endings would never match. Converts both strings to
/// CRLF when only that form matches.
fn match_line_endings(text: &str, old: &str, new: &str) -> (String, String) {
    if !text.contains(old) && old.contains('\n') && !old.contains("\r\n") && text.contains("\r\n") {
        let crlf_old = old.replace('\n', "\r\n");
        if text.contains(&crlf_old) {
            return (crlf_old, new.replace("\r\n", "\n").replace('\n', "\r\n"));
        }
    }
    (old.to_owned(), new.to_owned())
}

/// 1-based line numbers of byte offsets `starts` (ascending) in `text`.
fn line_numbers(text: &str, starts: &[usize]) -> Vec<usize> {
    let mut line = 1;
    let mut at = 0;
    starts
        .iter()
        .map(|&start| {
            line += memchr::memchr_iter(b'\n', &text.as_bytes()[at..start]).count();
            at = start;
            line
        })
        .collect()
}

fn not_found(text: &str, old: &str, shown: &str) -> Failure {
    match similar_block(text, old) {
        Some(line) => Failure::failed(format!(
            "old_string not found in {shown}; a similar block with different whitespace or \
             indentation exists at line {line}: re-read the file and copy the text exactly"
        )),
        None => Failure::failed(format!(
            "old_string not found in {shown}; re-read the file to get its current text"
        )),
    }
}

/// Where `old` would match if whitespace did not count: the 1-based line it starts on.
fn similar_block(text: &str, old: &str) -> Option<usize> {
    fn squeeze(line: &str) -> String {
        line.chars().filter(|c| !c.is_whitespace()).collect()
    }
    let mut wanted: Vec<String> = old.lines().map(squeeze).collect();
    while wanted.last().is_some_and(String::is_empty) {
        wanted.pop();
    }
    let blank_start = wanted.iter().take_while(|l| l.is_empty()).count();
    wanted.drain(..blank_start);
    let lines: Vec<String> = text.lines().map(squeeze).collect();
    match wanted.as_slice() {
        [] => None,
        [one] => lines.iter().position(|l| l.contains(one.as_str())),
        [first, middle @ .., last] => {
            (0..lines.len().saturating_sub(wanted.len() - 1)).find(|&i| {
                let window = &lines[i..i + wanted.len()];
                window[0].ends_with(first.as_str())
                    && window[1..window.len() - 1] == *middle
                    && window[window.len() - 1].starts_with(last.as_str())
            })
        }
    }
    .map(|i| i + 1)
}

/// Numbered lines `first..=last` of `text` (1-based) with a little context.
fn snippet(text: &str, first: usize, last: usize, limits: &Limits) -> String {
    let from = first.saturating_sub(SNIPPET_CONTEXT).max(1);
    let to = last + SNIPPET_CONTEXT;
    let mut out = String::new();
    for (i, line) in text.lines().enumerate().skip(from - 1) {
        let n = i + 1;
        if n > to {
            break;
        }
        if n - from == SNIPPET_MAX_LINES {
            out.push_str("  …\n");
            break;
        }
        out.push_str(&format!(
            "{n:>5}\t{}\n",
            cut_line(line, limits.line_max_chars)
        ));
    }
    out
}

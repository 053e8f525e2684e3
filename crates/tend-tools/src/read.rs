//! `read`: a file as numbered lines, or a directory's entries.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read};

use serde::Deserialize;

use crate::output::{Failure, parse_input};
use crate::text::{cut_line, looks_binary, plural, strip_eol};
use crate::{Limits, ResolvedPath, ToolDetail, ToolOutput, Workspace};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    path: String,
    #[serde(default)]
    offset: Option<u64>,
    #[serde(default)]
    limit: Option<u64>,
}

pub(crate) fn run(
    ws: &Workspace,
    input: &serde_json::Value,
    limits: &Limits,
) -> Result<ToolOutput, Failure> {
    let input: Input = parse_input("read", input)?;
    let path = ws.resolve(&input.path)?;
    let shown = path.shown();
    let meta = fs::metadata(path.abs()).map_err(|e| Failure::io(&shown, &e))?;
    if meta.is_dir() {
        return list_dir(&path, limits);
    }
    if !meta.is_file() {
        return Err(Failure::not_regular(&shown));
    }
    let file = File::open(path.abs()).map_err(|e| Failure::io(&shown, &e))?;
    let window = Window {
        first: input.offset.unwrap_or(1).max(1),
        limit: match input.limit {
            Some(0) => return Err(Failure::failed("limit must be at least 1")),
            Some(n) => n,
            None => limits.read_max_lines as u64,
        },
    };
    read_lines(file, &shown, window, limits).map_err(|e| Failure::io(&shown, &e))?
}

/// Which lines to show: `limit` lines from line `first` (1-based).
#[derive(Debug, Clone, Copy)]
struct Window {
    first: u64,
    limit: u64,
}

/// Outer `Err` is an IO error while reading; inner is the tool's answer.
fn read_lines(
    reader: impl Read,
    shown: &str,
    window: Window,
    limits: &Limits,
) -> io::Result<Result<ToolOutput, Failure>> {
    let mut reader = BufReader::with_capacity(64 * 1024, reader);
    let start = reader.fill_buf()?;
    if start.is_empty() {
        return Ok(Ok(ToolOutput {
            content: format!("({shown} is empty)"),
            is_error: false,
            detail: ToolDetail::Read {
                path: shown.to_owned(),
                lines: 0,
                truncated: false,
            },
        }));
    }
    if looks_binary(start) {
        return Ok(Err(Failure::failed(format!(
            "{shown} looks like a binary file (it contains NUL bytes); not shown. \
             Inspect it with bash (e.g. file, xxd) if needed"
        ))));
    }

    // A line longer than this is not kept whole: enough bytes for `line_max_chars` characters.
    let keep_bytes = limits.line_max_chars.saturating_mul(4).max(64);
    let mut line = Vec::new();
    let mut out = String::new();
    let mut lineno = 0u64;
    let mut shown_lines = 0u64;
    let mut capped = false;
    while let Some(full_len) = read_line_bounded(&mut reader, &mut line, keep_bytes)? {
        lineno += 1;
        if lineno < window.first {
            continue;
        }
        let text = String::from_utf8_lossy(strip_eol(&line));
        let entry = if full_len > line.len() {
            // Only the start of the line was kept: say how long it really was.
            let head = match text.char_indices().nth(limits.line_max_chars) {
                Some((end, _)) => &text[..end],
                None => &text[..],
            };
            format!("{lineno:>5}\t{head}… [line cut, {full_len} bytes in all]\n")
        } else {
            format!("{lineno:>5}\t{}\n", cut_line(&text, limits.line_max_chars))
        };
        if shown_lines > 0 && out.len() + entry.len() > limits.output_cap {
            capped = true;
            // This line was read but is not shown: count it with the rest.
            lineno -= 1;
            break;
        }
        out.push_str(&entry);
        shown_lines += 1;
        if shown_lines == window.limit {
            break;
        }
    }
    let last_shown = lineno;
    let total = if capped {
        // The unshown line is still in `line`, followed by the rest of the file.
        lineno + 1 + count_lines(&mut reader)?
    } else {
        lineno + count_lines(&mut reader)?
    };
    if shown_lines == 0 {
        return Ok(Err(Failure::failed(format!(
            "offset {} is past the end of {shown} ({})",
            window.first,
            plural(total, "line", "lines")
        ))));
    }
    let truncated = last_shown < total;
    if truncated {
        let why = if capped { "output cap reached; " } else { "" };
        out.push_str(&format!(
            "[{why}lines {}-{last_shown} of {total}; use offset={} to read on]\n",
            window.first,
            last_shown + 1
        ));
    }
    Ok(Ok(ToolOutput {
        content: out,
        is_error: false,
        detail: ToolDetail::Read {
            path: shown.to_owned(),
            lines: usize::try_from(shown_lines).unwrap_or(usize::MAX),
            truncated,
        },
    }))
}

/// Reads one line into `line` (cleared first), keeping at most `keep` bytes of it. Returns the
/// line's full length including its newline, or `None` at the end of the input.
fn read_line_bounded(
    reader: &mut impl BufRead,
    line: &mut Vec<u8>,
    keep: usize,
) -> io::Result<Option<usize>> {
    line.clear();
    let mut full_len = 0usize;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok((full_len > 0).then_some(full_len));
        }
        let (take, done) = match memchr::memchr(b'\n', buf) {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        let room = keep.saturating_sub(line.len());
        line.extend_from_slice(&buf[..take.min(room)]);
        full_len += take;
        reader.consume(take);
        if done {
            return Ok(Some(full_len));
        }
    }
}

/// Lines left in `reader`: newlines, plus one for a last line without a newline.
fn count_lines(reader: &mut impl BufRead) -> io::Result<u64> {
    let mut lines = 0u64;
    let mut ends_open = false;
    loop {
        let buf = reader.fill_buf()?;
        let Some(&last) = buf.last() else {
            return Ok(lines + u64::from(ends_open));
        };
        lines += memchr::memchr_iter(b'\n', buf).count() as u64;
        ends_open = last != b'\n';
        let n = buf.len();
        reader.consume(n);
    }
}

fn list_dir(path: &ResolvedPath, limits: &Limits) -> Result<ToolOutput, Failure> {
    let shown = path.shown();
    let io_err = |e: io::Error| Failure::io(&shown, &e);
    let mut entries = Vec::new();
    for entry in fs::read_dir(path.abs()).map_err(io_err)? {
        let entry = entry.map_err(io_err)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry.file_type().map_err(io_err)?;
        entries.push(if kind.is_dir() {
            format!("{name}/")
        } else if kind.is_symlink() {
            match fs::read_link(entry.path()) {
                Ok(target) => format!("{name} -> {}", target.to_string_lossy()),
                Err(_) => format!("{name} -> ?"),
            }
        } else {
            name
        });
    }
    entries.sort();
    let total = entries.len();
    let truncated = total > limits.max_results;
    let mut content = if total == 0 {
        format!("({shown} is an empty directory)\n")
    } else {
        let mut listed = entries[..total.min(limits.max_results)].join("\n");
        listed.push('\n');
        listed
    };
    if truncated {
        content.push_str(&format!(
            "[… {} more entries]\n",
            total - limits.max_results
        ));
    }
    Ok(ToolOutput {
        content,
        is_error: false,
        detail: ToolDetail::List {
            path: shown,
            entries: total,
            truncated,
        },
    })
}

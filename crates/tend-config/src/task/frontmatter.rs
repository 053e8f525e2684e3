//! Splitting a task file into its TOML front matter and its prompt.

use std::ops::Range;

/// Where the parts of a task file are, as byte ranges of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Parts {
    /// The TOML between the `+++` lines (without them).
    pub toml: Range<usize>,
    /// Everything after the closing `+++` line.
    pub body: Range<usize>,
}

/// Why a file has no usable front matter: a byte offset, a message, a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SplitError {
    pub offset: usize,
    pub message: String,
    pub hint: String,
}

const SHAPE: &str = "a task file starts with a line `+++`, then TOML settings, then another `+++` line, then the prompt";

fn is_fence(line: &str) -> bool {
    line.trim_end() == "+++"
}

/// Lines with the byte offset where each starts; the line text excludes its `\n`.
fn lines_with_offsets(text: &str, from: usize) -> impl Iterator<Item = (usize, &str)> {
    let mut pos = from;
    std::iter::from_fn(move || {
        if pos >= text.len() {
            return None;
        }
        let start = pos;
        let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        pos = end + 1;
        Some((start, &text[start..end]))
    })
}

pub(crate) fn split(text: &str) -> Result<Parts, SplitError> {
    let start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut lines = lines_with_offsets(text, start);
    let first = lines.next();
    match first {
        Some((_, line)) if is_fence(line) => {}
        Some((offset, line)) if line.trim_end() == "---" => {
            return Err(SplitError {
                offset,
                message: "task files use TOML front matter between `+++` lines, not YAML `---`"
                    .to_owned(),
                hint: SHAPE.to_owned(),
            });
        }
        _ => {
            return Err(SplitError {
                offset: start,
                message: "missing front matter: the file does not start with `+++`".to_owned(),
                hint: SHAPE.to_owned(),
            });
        }
    }
    let toml_start = text[start..]
        .find('\n')
        .map_or(text.len(), |i| start + i + 1);
    for (offset, line) in lines {
        if is_fence(line) {
            let body_start = (offset + line.len() + 1).min(text.len());
            return Ok(Parts {
                toml: toml_start..offset,
                body: body_start..text.len(),
            });
        }
    }
    Err(SplitError {
        offset: start,
        message: "the front matter is never closed".to_owned(),
        hint: "add a line `+++` after the settings; the prompt follows it".to_owned(),
    })
}

/// The prompt: the body without its leading blank lines and trailing whitespace.
pub(crate) fn prompt(body: &str) -> &str {
    let mut rest = body;
    loop {
        let line_end = rest.find('\n').map_or(rest.len(), |i| i + 1);
        if line_end > 0 && rest[..line_end].trim().is_empty() && line_end < rest.len() {
            rest = &rest[line_end..];
        } else {
            break;
        }
    }
    rest.trim_end()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn splits_front_matter_and_body() {
        let text = "+++\na = 1\n+++\n\nHello\n";
        let parts = split(text).unwrap();
        assert_eq!(&text[parts.toml.clone()], "a = 1\n");
        assert_eq!(&text[parts.body.clone()], "\nHello\n");
        assert_eq!(prompt(&text[parts.body]), "Hello");
    }

    #[test]
    fn accepts_crlf_trailing_spaces_and_no_final_newline() {
        let text = "+++ \r\na = 1\r\n+++\r\nHi";
        let parts = split(text).unwrap();
        assert_eq!(&text[parts.toml], "a = 1\r\n");
        assert_eq!(prompt(&text[parts.body]), "Hi");
        let closed_at_eof = "+++\na = 1\n+++";
        let parts = split(closed_at_eof).unwrap();
        assert_eq!(&closed_at_eof[parts.body], "");
    }

    #[test]
    fn keeps_inner_blank_lines_and_indentation() {
        assert_eq!(prompt("\n\n  indented\n\nmore\n\n"), "  indented\n\nmore");
        assert_eq!(prompt("\n \n"), "");
    }

    #[test]
    fn reports_missing_yaml_and_unterminated() {
        assert_eq!(split("hello\n").unwrap_err().offset, 0);
        assert!(
            split("---\na: 1\n---\n")
                .unwrap_err()
                .message
                .contains("YAML")
        );
        assert_eq!(
            split("+++\na = 1\n").unwrap_err().message,
            "the front matter is never closed"
        );
        assert!(split("").is_err());
    }
}

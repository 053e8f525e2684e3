//! The one error type for everything read from a file, and the helpers that give it a position
//! and a suggestion.

use std::fmt;
use std::path::PathBuf;

/// A problem in a task file or a config file, at a position a human can jump to.
///
/// `line` and `col` are 1-based; `col` counts characters (not bytes) from the start of the line.
/// Positions count the whole file, including a task file's opening `+++` line. A problem that
/// has no place in the file (it cannot be read, or its name is wrong) has `line == 0` and
/// `col == 0`, and renders without a position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct TaskFileError {
    pub path: PathBuf,
    pub line: usize,
    pub col: usize,
    pub message: String,
    pub hint: Option<String>,
}

/// Config files report their problems exactly like task files do.
pub type ConfigError = TaskFileError;

impl TaskFileError {
    /// A problem about the file as a whole (unreadable, badly named).
    pub fn whole_file(path: impl Into<PathBuf>, message: String, hint: Option<String>) -> Self {
        TaskFileError {
            path: path.into(),
            line: 0,
            col: 0,
            message,
            hint,
        }
    }
}

impl fmt::Display for TaskFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.path.display())?;
        if self.line > 0 {
            write!(f, "{}:{}:", self.line, self.col)?;
        }
        write!(f, " error: {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Reads a task or config file as text. A file that is not UTF-8 is refused with the line and
/// column of its first bad byte (counted over the valid text before it), so the user can find
/// the character an editor or a copy-paste saved in another encoding.
pub(crate) fn read_text(
    path: &std::path::Path,
    what: &str,
) -> std::io::Result<Result<String, TaskFileError>> {
    let bytes = std::fs::read(path)?;
    Ok(match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(e) => {
            let bad = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            Err(not_utf8(path, what, &bytes, bad))
        }
    })
}

fn not_utf8(path: &std::path::Path, what: &str, bytes: &[u8], bad: usize) -> TaskFileError {
    // Everything before `bad` is valid UTF-8 by definition.
    let before = std::str::from_utf8(&bytes[..bad]).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    let shown: Vec<String> = bytes[bad..]
        .iter()
        .take(4)
        .map(|b| format!("0x{b:02x}"))
        .collect();
    TaskFileError {
        path: path.to_path_buf(),
        line,
        col,
        message: format!(
            "the {what} is not valid UTF-8: byte {} (at byte offset {bad})",
            shown.first().map_or("?", String::as_str)
        ),
        hint: Some(
            "tend reads task and config files as UTF-8; save the file as UTF-8 \
             (e.g. `iconv -f latin1 -t utf-8 FILE`) or remove the character"
                .to_owned(),
        ),
    }
}

/// Renders a list of errors the way the CLI prints them: one after another, a blank line apart.
pub fn render_errors(errors: &[TaskFileError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Turns a byte offset in `text` into a 1-based (line, column-in-characters) pair.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// Edit distance between two strings, counted in characters.
pub(crate) fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The closest candidate to `word`, if one is close enough to be what was meant.
///
/// Case is ignored when measuring, so `utc` finds `UTC`; the threshold grows with the length of
/// the word so that long names tolerate a couple of typos but short ones do not match anything.
pub(crate) fn suggest<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let lower = word.to_lowercase();
    let limit = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| (levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn not_utf8_names_the_first_bad_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.md");
        std::fs::write(
            &path,
            b"+++\nschedule = \"daily\"\n# caf\xc3\xa9 \xe9t\xe9\n",
        )
        .unwrap();
        let e = read_text(&path, "task file").unwrap().unwrap_err();
        assert_eq!((e.line, e.col), (3, 8));
        assert!(
            e.message.contains("not valid UTF-8: byte 0xe9"),
            "{}",
            e.message
        );
        assert!(e.hint.unwrap().contains("UTF-8"));
        std::fs::write(&path, "fine = 1\n").unwrap();
        assert_eq!(
            read_text(&path, "task file").unwrap().unwrap(),
            "fine = 1\n"
        );
    }

    #[test]
    fn line_col_counts_characters() {
        let text = "ab\nçd = 1\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 3), (2, 1));
        // `ç` is two bytes but one column.
        assert_eq!(line_col(text, 5), (2, 2));
        assert_eq!(line_col(text, 100), (3, 1));
    }

    #[test]
    fn levenshtein_basics() {
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("Berln", "Berlin"), 1);
        assert_eq!(levenshtein("same", "same"), 0);
    }

    #[test]
    fn suggests_only_close_words() {
        let keys = ["timeout", "timezone", "schedule"];
        assert_eq!(suggest("timeot", keys), Some("timeout"));
        assert_eq!(suggest("TIMEZONE", keys), Some("timezone"));
        assert_eq!(suggest("banana", keys), None);
        assert_eq!(suggest("x", ["y"]), Some("y"));
        assert_eq!(suggest("ab", ["xy"]), None);
    }

    #[test]
    fn display_with_and_without_position() {
        let e = TaskFileError {
            path: ".tend/tasks/triage.md".into(),
            line: 4,
            col: 12,
            message: "unknown time zone `Europe/Berln`".into(),
            hint: Some("did you mean `Europe/Berlin`?".into()),
        };
        assert_eq!(
            e.to_string(),
            ".tend/tasks/triage.md:4:12: error: unknown time zone `Europe/Berln`\n  hint: did you mean `Europe/Berlin`?"
        );
        let w = TaskFileError::whole_file("x.md", "cannot read".into(), None);
        assert_eq!(w.to_string(), "x.md: error: cannot read");
    }
}

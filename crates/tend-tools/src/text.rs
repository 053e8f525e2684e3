//! Small text helpers shared by the tools.

use std::borrow::Cow;

/// How much of a file's start is checked for NUL bytes, as git and ripgrep do.
pub(crate) const BINARY_SNIFF: usize = 8 * 1024;

/// A NUL byte in the start of a file marks it binary.
pub(crate) fn looks_binary(start: &[u8]) -> bool {
    start[..start.len().min(BINARY_SNIFF)].contains(&0)
}

/// Cuts `line` to `max_chars` characters, saying how many were cut.
pub(crate) fn cut_line(line: &str, max_chars: usize) -> Cow<'_, str> {
    // Fast path: no more bytes than allowed characters.
    if line.len() <= max_chars {
        return Cow::Borrowed(line);
    }
    match line.char_indices().nth(max_chars) {
        None => Cow::Borrowed(line),
        Some((end, _)) => {
            let rest = line[end..].chars().count();
            Cow::Owned(format!("{}… [{rest} more chars]", &line[..end]))
        }
    }
}

/// Strips one trailing `\n` or `\r\n`.
pub(crate) fn strip_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The largest index `<= at` that is a char boundary of `s`.
pub(crate) fn floor_boundary(s: &str, at: usize) -> usize {
    let mut at = at.min(s.len());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// `1 line` / `2 lines`.
pub(crate) fn plural(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn cut_line_counts_characters_not_bytes() {
        assert_eq!(cut_line("héllo", 5), "héllo");
        assert_eq!(cut_line("héllo wörld", 5), "héllo… [6 more chars]");
        assert_eq!(cut_line("", 0), "");
    }

    #[test]
    fn strip_eol_handles_crlf_and_missing_newline() {
        assert_eq!(strip_eol(b"a\r\n"), b"a");
        assert_eq!(strip_eol(b"a\n"), b"a");
        assert_eq!(strip_eol(b"a"), b"a");
        assert_eq!(strip_eol(b"a\r"), b"a");
    }

    #[test]
    fn binary_means_a_nul_in_the_first_8_kib() {
        assert!(looks_binary(b"PK\x03\x04\0\0"));
        assert!(!looks_binary("plain text ü".as_bytes()));
        let mut late = vec![b'a'; BINARY_SNIFF];
        late.push(0);
        assert!(!looks_binary(&late));
    }

    #[test]
    fn floor_boundary_never_splits_a_char() {
        let s = "aé";
        assert_eq!(floor_boundary(s, 2), 1);
        assert_eq!(floor_boundary(s, 3), 3);
        assert_eq!(floor_boundary(s, 9), 3);
    }
}

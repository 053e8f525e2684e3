//! A proposal's diff as lines coloured by what they are (file headers, hunk headers, added and
//! removed lines), their code coloured by its syntax ([`super::syntax`]) where the file's
//! language is known.

use super::syntax::{self, Lang, Token, push_piece};

/// One line of a diff and its kind (a CSS class).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    pub class: &'static str,
    /// The line in coloured pieces (one plain piece where there is no colouring).
    pub parts: Vec<Token>,
}

/// A file's part of the diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffFile {
    pub name: String,
    /// The language its code lines are coloured as, from its name.
    lang: Option<Lang>,
    pub added: usize,
    pub removed: usize,
    pub lines: Vec<DiffLine>,
}

/// Lines past this many are not shown (the diff file has them all).
pub const MAX_LINES: usize = 20_000;

pub struct Diff {
    pub files: Vec<DiffFile>,
    /// Lines left out past [`MAX_LINES`].
    pub cut: usize,
}

pub fn parse(text: &str) -> Diff {
    let mut files: Vec<DiffFile> = Vec::new();
    let mut shown = 0usize;
    let mut cut = 0usize;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("diff --git ") {
            let name = rest.rsplit_once(" b/").map_or(rest, |(_, b)| b).to_owned();
            files.push(DiffFile {
                lang: Lang::of(&name),
                name,
                added: 0,
                removed: 0,
                lines: Vec::new(),
            });
        }
        if files.is_empty() {
            files.push(DiffFile {
                name: String::new(),
                lang: None,
                added: 0,
                removed: 0,
                lines: Vec::new(),
            });
        }
        let Some(file) = files.last_mut() else {
            continue;
        };
        let class = if line.starts_with("diff ")
            || line.starts_with("index ")
            || line.starts_with("--- ")
            || line.starts_with("+++ ")
            || line.starts_with("new file")
            || line.starts_with("deleted file")
            || line.starts_with("similarity")
            || line.starts_with("rename ")
            || line.starts_with("old mode")
            || line.starts_with("new mode")
        {
            "meta"
        } else if line.starts_with("@@") {
            "hunk"
        } else if line.starts_with('+') {
            file.added += 1;
            "add"
        } else if line.starts_with('-') {
            file.removed += 1;
            "del"
        } else {
            "ctx"
        };
        if shown >= MAX_LINES {
            cut += 1;
            continue;
        }
        shown += 1;
        let mut parts = Vec::new();
        match (file.lang, class) {
            (Some(lang), "add" | "del" | "ctx") if !line.is_empty() => {
                // The sign stays plain; the code after it is coloured.
                let sign = line.chars().next().map_or(0, char::len_utf8);
                push_piece(&mut parts, "", &line[..sign]);
                syntax::extend(&mut parts, lang, &line[sign..]);
            }
            _ => push_piece(&mut parts, "", line),
        }
        file.lines.push(DiffLine { class, parts });
    }
    Diff { files, cut }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn pieces(line: &DiffLine) -> Vec<(&str, &str)> {
        line.parts
            .iter()
            .map(|t| (t.class, t.text.as_str()))
            .collect()
    }

    #[test]
    fn lines_are_classified_per_file() {
        let diff = parse(
            "diff --git a/greet.sh b/greet.sh\nindex 1..2 100644\n--- a/greet.sh\n+++ b/greet.sh\n@@ -1 +1 @@\n-echo goodbye\n+echo hello\n same\n",
        );
        assert_eq!(diff.cut, 0);
        assert_eq!(diff.files.len(), 1);
        let file = &diff.files[0];
        assert_eq!(
            (file.name.as_str(), file.added, file.removed),
            ("greet.sh", 1, 1)
        );
        let classes: Vec<&str> = file.lines.iter().map(|l| l.class).collect();
        assert_eq!(
            classes,
            vec!["meta", "meta", "meta", "meta", "hunk", "del", "add", "ctx"]
        );
        // Code lines are coloured by the file's language, their sign kept plain.
        assert_eq!(pieces(&file.lines[6]), vec![("", "+echo hello")]);
        let diff = parse("diff --git a/x.rs b/x.rs\n@@ -1 +1 @@\n+let s = \"hi\";\n");
        assert_eq!(
            pieces(&diff.files[0].lines[2]),
            vec![
                ("", "+"),
                ("tok-k", "let"),
                ("", " s = "),
                ("tok-s", "\"hi\""),
                ("", ";")
            ]
        );
    }
}

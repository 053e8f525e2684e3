//! Light syntax colouring for a diff's code lines: comments, strings, numbers and keywords, by
//! the file's extension. Line by line and without state (a comment or string spanning lines is
//! coloured on its first line only): enough to read a proposal, cheap on a large diff.

/// A piece of a line and its CSS class (`""`: plain text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub class: &'static str,
    pub text: String,
}

/// How a family of languages writes comments, strings and keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Rust,
    /// C, C++, Go, Java, JavaScript, TypeScript, C#, Swift, Kotlin.
    CLike,
    /// Python, shell, Ruby, TOML, YAML, Makefiles.
    Hash,
}

const RUST: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "false",
    "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe",
    "use", "where", "while", "Some", "None", "Ok", "Err",
];
const CLIKE: &[&str] = &[
    "async",
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "default",
    "defer",
    "else",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "from",
    "func",
    "function",
    "go",
    "if",
    "import",
    "interface",
    "let",
    "new",
    "nil",
    "null",
    "package",
    "private",
    "public",
    "return",
    "static",
    "struct",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "type",
    "typeof",
    "undefined",
    "var",
    "void",
    "while",
];
const HASH: &[&str] = &[
    "and", "as", "case", "class", "def", "do", "done", "elif", "else", "esac", "except", "export",
    "False", "fi", "finally", "for", "from", "function", "if", "import", "in", "is", "lambda",
    "local", "None", "not", "or", "pass", "raise", "return", "then", "True", "try", "while",
    "with", "yield",
];

impl Lang {
    /// The language of a file, by its name; `None`: shown without colours.
    pub fn of(path: &str) -> Option<Lang> {
        let name = path.rsplit('/').next().unwrap_or(path);
        if matches!(name, "Makefile" | "Dockerfile" | "Containerfile") {
            return Some(Lang::Hash);
        }
        let ext = name.rsplit_once('.')?.1;
        match ext {
            "rs" => Some(Lang::Rust),
            "c" | "h" | "cc" | "cpp" | "hpp" | "go" | "java" | "js" | "mjs" | "cjs" | "ts"
            | "tsx" | "jsx" | "cs" | "swift" | "kt" | "scala" => Some(Lang::CLike),
            "py" | "sh" | "bash" | "zsh" | "rb" | "toml" | "yaml" | "yml" | "pl" | "r" | "mk"
            | "conf" | "cfg" => Some(Lang::Hash),
            _ => None,
        }
    }

    fn keywords(self) -> &'static [&'static str] {
        match self {
            Lang::Rust => RUST,
            Lang::CLike => CLIKE,
            Lang::Hash => HASH,
        }
    }

    fn comment_at(self, rest: &str) -> bool {
        match self {
            Lang::Rust | Lang::CLike => rest.starts_with("//") || rest.starts_with("/*"),
            Lang::Hash => rest.starts_with('#'),
        }
    }

    fn quote(self, c: char) -> bool {
        // In Rust a `'` is as often a lifetime as a character.
        c == '"' || (c == '\'' && self != Lang::Rust) || (c == '`' && self == Lang::CLike)
    }
}

/// Appends a piece, joined to the last one when they have the same class.
pub fn push_piece(out: &mut Vec<Token>, class: &'static str, text: &str) {
    match out.last_mut() {
        Some(last) if last.class == class => last.text.push_str(text),
        _ => out.push(Token {
            class,
            text: text.to_owned(),
        }),
    }
}

/// One line of code as coloured pieces.
pub fn tokens(lang: Lang, line: &str) -> Vec<Token> {
    let mut out = Vec::new();
    extend(&mut out, lang, line);
    out
}

/// Appends one line of code as coloured pieces to `out` (after a diff line's sign, say).
pub fn extend(out: &mut Vec<Token>, lang: Lang, line: &str) {
    let mut push = |class: &'static str, text: &str| push_piece(out, class, text);
    let mut i = 0;
    let bytes = line.as_bytes();
    while i < line.len() {
        let rest = &line[i..];
        let Some(c) = rest.chars().next() else { break };
        if lang.comment_at(rest) {
            push("tok-c", rest);
            break;
        }
        if lang.quote(c) {
            let mut end = i + 1;
            let mut escaped = false;
            for (j, d) in line[i + 1..].char_indices() {
                end = i + 1 + j + d.len_utf8();
                if escaped {
                    escaped = false;
                } else if d == '\\' {
                    escaped = true;
                } else if d == c {
                    break;
                }
            }
            push("tok-s", &line[i..end.max(i + 1)]);
            i = end.max(i + 1);
            continue;
        }
        let word_start = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if c.is_ascii_alphabetic() || c == '_' {
            let len = rest
                .find(|d: char| !(d.is_ascii_alphanumeric() || d == '_'))
                .unwrap_or(rest.len());
            let word = &rest[..len];
            let class = if word_start && lang.keywords().contains(&word) {
                "tok-k"
            } else {
                ""
            };
            push(class, word);
            i += len;
            continue;
        }
        if c.is_ascii_digit() && word_start {
            let len = rest
                .find(|d: char| !(d.is_ascii_alphanumeric() || d == '_' || d == '.'))
                .unwrap_or(rest.len());
            push("tok-n", &rest[..len]);
            i += len;
            continue;
        }
        push("", &rest[..c.len_utf8()]);
        i += c.len_utf8();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn shown(lang: Lang, line: &str) -> Vec<(&'static str, String)> {
        tokens(lang, line)
            .into_iter()
            .map(|t| (t.class, t.text))
            .collect()
    }

    #[test]
    fn keywords_strings_numbers_and_comments_are_told_apart() {
        assert_eq!(
            shown(Lang::Rust, r#"let x = "a \"b\" c" + 42; // sum"#),
            vec![
                ("tok-k", "let".to_owned()),
                ("", " x = ".to_owned()),
                ("tok-s", r#""a \"b\" c""#.to_owned()),
                ("", " + ".to_owned()),
                ("tok-n", "42".to_owned()),
                ("", "; ".to_owned()),
                ("tok-c", "// sum".to_owned()),
            ]
        );
        // Keywords only as whole words; a `'` in Rust is no string; an open string ends the line.
        assert_eq!(
            shown(Lang::Rust, "fn letter<'a>(s: &'a str)"),
            vec![
                ("tok-k", "fn".to_owned()),
                ("", " letter<'a>(s: &'a str)".to_owned()),
            ]
        );
        assert_eq!(
            shown(Lang::Hash, "echo 'it is' # done"),
            vec![
                ("", "echo ".to_owned()),
                ("tok-s", "'it is'".to_owned()),
                ("", " ".to_owned()),
                ("tok-c", "# done".to_owned()),
            ]
        );
        assert_eq!(
            shown(Lang::CLike, "x = \"open"),
            vec![("", "x = ".to_owned()), ("tok-s", "\"open".to_owned())]
        );
        assert_eq!(
            shown(Lang::CLike, "a1 = b2"),
            vec![("", "a1 = b2".to_owned())]
        );
        let text = "ünïcode \"é\" 1é";
        let joined: String = shown(Lang::CLike, text).into_iter().map(|t| t.1).collect();
        assert_eq!(joined, text);
    }

    #[test]
    fn languages_come_from_file_names() {
        assert_eq!(Lang::of("src/main.rs"), Some(Lang::Rust));
        assert_eq!(Lang::of("web/app.ts"), Some(Lang::CLike));
        assert_eq!(Lang::of("greet.sh"), Some(Lang::Hash));
        assert_eq!(Lang::of("build/Makefile"), Some(Lang::Hash));
        assert_eq!(Lang::of("README.md"), None);
        assert_eq!(Lang::of("LICENSE"), None);
    }
}

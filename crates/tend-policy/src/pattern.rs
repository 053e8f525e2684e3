//! The argument globs of rules: word-aware globs for shell commands, path globs (`globset`) for
//! file tools, and plain text globs for MCP inputs. All are compiled once, at policy load.

use globset::{GlobBuilder, GlobMatcher};

use crate::rule::{Tool, ToolSelector};
use crate::shell::TrailingArgs;

/// A pattern token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Lit(char),
    /// A word boundary (one or more blanks in the pattern).
    Sep,
    /// `*`: any sequence, across word boundaries too.
    Star,
}

/// A unit of the text a pattern is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Char(char),
    Sep,
    /// Arguments nobody can see yet (`xargs`): only `*` matches them.
    Opaque,
    /// Text only known at run time, for [`CommandPattern::could_match`]: it may turn out to be
    /// anything, blanks included, or nothing.
    Any,
}

/// A shell command as units: words separated by [`Unit::Sep`], so that a pattern's blank
/// matches a word boundary and never a space inside a quoted argument.
pub(crate) fn command_units(words: &[String], trailing: TrailingArgs) -> Vec<Unit> {
    let mut units = Vec::new();
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            units.push(Unit::Sep);
        }
        units.extend(w.chars().map(Unit::Char));
    }
    if trailing == TrailingArgs::Unseen {
        units.push(Unit::Sep);
        units.push(Unit::Opaque);
    }
    units
}

/// A command as units for [`CommandPattern::could_match`]: each word's run-time part is one
/// [`Unit::Any`]; with arguments `xargs` appends, both the command alone and the command
/// followed by anything.
pub(crate) fn possible_units(
    words: &[String],
    dynamic: &[Option<usize>],
    trailing: TrailingArgs,
) -> Vec<Vec<Unit>> {
    let mut units = Vec::new();
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            units.push(Unit::Sep);
        }
        match dynamic.get(i).copied().flatten() {
            Some(at) => {
                units.extend(w.chars().take(at).map(Unit::Char));
                units.push(Unit::Any);
            }
            None => units.extend(w.chars().map(Unit::Char)),
        }
    }
    match trailing {
        TrailingArgs::Known => vec![units],
        TrailingArgs::Unseen => {
            let mut more = units.clone();
            more.extend([Unit::Sep, Unit::Any]);
            vec![units, more]
        }
    }
}

/// `bash(…)` patterns. Words are split on blanks (quotes group, `\` escapes); `*` matches any
/// text, across words; a trailing ` *` also matches nothing, so `cargo test *` covers a bare
/// `cargo test` as well as `cargo test --all`, but not `cargo testx`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CommandPattern {
    alternatives: Vec<Vec<Tok>>,
}

impl CommandPattern {
    pub fn parse(pattern: &str) -> Result<CommandPattern, String> {
        let mut toks = Vec::new();
        let mut chars = pattern.trim().chars();
        let mut in_word = false;
        while let Some(c) = chars.next() {
            match c {
                ' ' | '\t' | '\n' => {
                    if in_word {
                        toks.push(Tok::Sep);
                        in_word = false;
                    }
                }
                '\'' | '"' => {
                    in_word = true;
                    loop {
                        match chars.next() {
                            None => return Err(format!("unbalanced {c} quote")),
                            Some(q) if q == c => break,
                            Some('\\') if c == '"' => {
                                toks.push(Tok::Lit(chars.next().unwrap_or('\\')));
                            }
                            Some(q) => toks.push(Tok::Lit(q)),
                        }
                    }
                }
                '\\' => {
                    in_word = true;
                    toks.push(Tok::Lit(chars.next().unwrap_or('\\')));
                }
                '*' => {
                    in_word = true;
                    toks.push(Tok::Star);
                }
                _ => {
                    in_word = true;
                    toks.push(Tok::Lit(c));
                }
            }
        }
        let mut alternatives = vec![toks.clone()];
        if let [rest @ .., Tok::Sep, Tok::Star] = toks.as_slice() {
            alternatives.push(rest.to_vec());
        }
        Ok(CommandPattern { alternatives })
    }

    pub fn matches(&self, units: &[Unit]) -> bool {
        self.alternatives.iter().any(|p| wildcard(p, units))
    }

    /// Whether some value of the run-time parts ([`Unit::Any`]) would make the pattern match.
    pub fn could_match(&self, units: &[Unit]) -> bool {
        self.alternatives.iter().any(|p| could_match(p, units))
    }

    /// Whether the pattern matches every command (`*`).
    pub fn is_universal(&self) -> bool {
        self.alternatives.iter().any(|p| p == &[Tok::Star])
    }
}

/// MCP input patterns: `*` matches any text, everything else itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TextPattern(Vec<Tok>);

impl TextPattern {
    pub fn new(pattern: &str) -> TextPattern {
        TextPattern(
            pattern
                .chars()
                .map(|c| if c == '*' { Tok::Star } else { Tok::Lit(c) })
                .collect(),
        )
    }

    pub fn matches(&self, text: &str) -> bool {
        let units: Vec<Unit> = text.chars().map(Unit::Char).collect();
        wildcard(&self.0, &units)
    }
}

/// Matches `*`-only globs in O(pattern × text) without recursion: on a mismatch, the last star
/// takes one more unit.
fn wildcard(pattern: &[Tok], text: &[Unit]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(Tok::Star) => {
                backtrack = Some((p, t));
                p += 1;
                continue;
            }
            Some(&tok) if unit_matches(tok, text[t]) => {
                p += 1;
                t += 1;
                continue;
            }
            _ => {}
        }
        match backtrack {
            Some((star, from)) => {
                backtrack = Some((star, from + 1));
                p = star + 1;
                t = from + 1;
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|tok| *tok == Tok::Star)
}

/// Matching where text units may be [`Unit::Any`] (any run of pattern tokens): a table over
/// (pattern position, text position), small since commands and patterns are short.
fn could_match(pattern: &[Tok], text: &[Unit]) -> bool {
    let (np, nt) = (pattern.len(), text.len());
    // fits[p][t]: pattern[p..] can match text[t..].
    let mut fits = vec![vec![false; nt + 1]; np + 1];
    fits[np][nt] = true;
    for t in (0..nt).rev() {
        fits[np][t] = text[t] == Unit::Any && fits[np][t + 1];
    }
    for p in (0..np).rev() {
        for t in (0..=nt).rev() {
            let here = match (pattern[p], text.get(t)) {
                (Tok::Star, unit) => fits[p + 1][t] || (unit.is_some() && fits[p][t + 1]),
                (_, Some(Unit::Any)) => fits[p][t + 1] || fits[p + 1][t],
                (tok, Some(&unit)) => unit_matches(tok, unit) && fits[p + 1][t + 1],
                (_, None) => false,
            };
            fits[p][t] = here;
        }
    }
    fits[0][0]
}

fn unit_matches(tok: Tok, unit: Unit) -> bool {
    match (tok, unit) {
        (Tok::Lit(a), Unit::Char(b)) => a == b,
        (Tok::Sep, Unit::Sep) => true,
        (Tok::Star, _) => true,
        (Tok::Lit(_) | Tok::Sep, _) => false,
    }
}

/// Where a path pattern is anchored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Anchor {
    /// Relative to the workspace root.
    Root,
    /// An absolute path (also `~/…`, expanded with the home directory).
    Absolute,
}

/// Path patterns: `*` stays within a directory, `**` crosses directories, `~/` is the home
/// directory, a leading `/` is absolute, anything else is relative to the workspace root. A
/// pattern without any `/` (`*.pem`, `.env`) matches that name in every directory, as in
/// `.gitignore`; a trailing `/` means everything inside the directory.
#[derive(Debug, Clone)]
pub(crate) struct PathPattern {
    matcher: GlobMatcher,
    anchor: Anchor,
}

impl PathPattern {
    pub fn compile(pattern: &str, home: Option<&str>) -> Result<PathPattern, String> {
        let p = pattern.trim();
        let (anchor, mut text) = if p == "~" || p.starts_with("~/") {
            let home = home.ok_or("`~` needs the home directory, which is not known")?;
            let home = globset::escape(home.trim_end_matches('/'));
            (Anchor::Absolute, format!("{home}{}", &p[1..]))
        } else if p.starts_with('/') {
            (Anchor::Absolute, p.to_owned())
        } else {
            let mut rel = p;
            while let Some(rest) = rel.strip_prefix("./") {
                rel = rest;
            }
            if rel.trim_end_matches('/').contains('/') {
                (Anchor::Root, rel.to_owned())
            } else {
                (Anchor::Root, format!("**/{rel}"))
            }
        };
        if text.ends_with('/') {
            text.push_str("**");
        }
        let glob = GlobBuilder::new(&text)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|e| e.kind().to_string())?;
        Ok(PathPattern {
            matcher: glob.compile_matcher(),
            anchor,
        })
    }

    /// `rel` is relative to the workspace root (`""` for the root), `abs` the same path made
    /// absolute. A directory also matches as `dir/`, so that `src/**` covers searching `src`.
    pub fn matches(&self, rel: &str, abs: &str) -> bool {
        let path = match self.anchor {
            Anchor::Root => rel,
            Anchor::Absolute => abs,
        };
        self.matcher.is_match(path) || self.matcher.is_match(format!("{path}/"))
    }
}

impl PartialEq for PathPattern {
    fn eq(&self, other: &Self) -> bool {
        self.anchor == other.anchor && self.matcher.glob() == other.matcher.glob()
    }
}

impl Eq for PathPattern {}

/// Checks a rule's pattern when the rule is parsed, so that a bad pattern is reported with the
/// task file's position rather than when a run starts.
pub(crate) fn validate(tool: &ToolSelector, pattern: &str) -> Result<(), String> {
    match tool {
        ToolSelector::Builtin(Tool::Bash) => CommandPattern::parse(pattern).map(drop),
        ToolSelector::Builtin(Tool::Read | Tool::Write | Tool::Edit | Tool::Glob | Tool::Grep) => {
            PathPattern::compile(pattern, Some("/home")).map(drop)
        }
        ToolSelector::Mcp { .. } => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn cmd(pattern: &str, words: &[&str]) -> bool {
        let words: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
        CommandPattern::parse(pattern)
            .unwrap()
            .matches(&command_units(&words, TrailingArgs::Known))
    }

    #[test]
    fn command_patterns_are_word_aware() {
        let cases: &[(&str, &[&str], bool)] = &[
            ("cargo test *", &["cargo", "test"], true),
            ("cargo test *", &["cargo", "test", "--all"], true),
            ("cargo test *", &["cargo", "testx"], false),
            ("cargo test *", &["cargo", "test", "a b"], true),
            ("cargo test", &["cargo", "test", "--all"], false),
            (
                "git push --force*",
                &["git", "push", "--force-with-lease", "o", "m"],
                true,
            ),
            (
                "git push --force*",
                &["git", "push", "origin", "--force"],
                false,
            ),
            (
                "git push * --force",
                &["git", "push", "origin", "--force"],
                true,
            ),
            ("echo a b", &["echo", "a b"], false),
            ("echo 'a b'", &["echo", "a b"], true),
            ("echo a\\ b", &["echo", "a b"], true),
            ("rm -rf *", &["rm", "-rf", "x"], true),
            ("rm -rf *", &["rm", "-r", "-f", "x"], false),
            ("echo \\*", &["echo", "*"], true),
            ("echo \\*", &["echo", "x"], false),
            ("*", &["anything", "at", "all"], true),
            ("npm run test:*", &["npm", "run", "test:unit"], true),
            ("  ls   -la ", &["ls", "-la"], true),
        ];
        for (pattern, words, expected) in cases {
            assert_eq!(cmd(pattern, words), *expected, "{pattern} vs {words:?}");
        }
    }

    #[test]
    fn open_arguments_only_match_a_star() {
        let words = vec!["rm".to_owned(), "-rf".to_owned()];
        let units = command_units(&words, TrailingArgs::Unseen);
        assert!(CommandPattern::parse("rm *").unwrap().matches(&units));
        assert!(CommandPattern::parse("rm -rf *").unwrap().matches(&units));
        assert!(!CommandPattern::parse("rm -rf").unwrap().matches(&units));
    }

    #[test]
    fn wildcard_does_not_blow_up() {
        let pattern = CommandPattern::parse(&"*a".repeat(40)).unwrap();
        let text: Vec<String> = vec!["a".repeat(5000) + "b"];
        assert!(!pattern.matches(&command_units(&text, TrailingArgs::Known)));
    }

    #[test]
    fn path_patterns() {
        let m = |p: &str, rel: &str| {
            let abs = format!("/work/repo/{rel}");
            PathPattern::compile(p, Some("/home/u"))
                .unwrap()
                .matches(rel, abs.trim_end_matches('/'))
        };
        assert!(m("src/**", "src/a/b.rs"));
        assert!(m("src/**", "src"));
        assert!(!m("src/*", "src/a/b.rs"));
        assert!(m("src/*", "src/a.rs"));
        assert!(m("*.pem", "deep/down/key.pem"));
        assert!(m(".env", ".env"));
        assert!(m("./docs/*.md", "docs/a.md"));
        assert!(m("build/", "x/build/out.o"));
        assert!(m("/work/repo/secret/**", "secret/k"));
        assert!(!m("/work/other/**", "secret/k"));
        assert!(!m("~/.ssh/**", "x"));
        let home_ws = PathPattern::compile("~/.ssh/**", Some("/home/u")).unwrap();
        assert!(home_ws.matches(".ssh/id_rsa", "/home/u/.ssh/id_rsa"));
        assert!(PathPattern::compile("~/x", None).is_err());
        assert!(PathPattern::compile("src/[a", None).is_err());
    }

    #[test]
    fn text_patterns() {
        let p = TextPattern::new(r#"*"team":"ENG"*"#);
        assert!(p.matches(r#"{"title":"x","team":"ENG"}"#));
        assert!(!p.matches(r#"{"team":"OPS"}"#));
    }
}

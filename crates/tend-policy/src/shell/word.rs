//! Shell words after quote removal, with a record of which parts are only known at run time.

/// One word of a command after quote removal. Expansions (`$x`, `$(…)`, unquoted globs and
/// braces) stay in `text` as written, since their value is not known before the command runs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Word {
    pub text: String,
    /// Char index in `text` of the first character whose value is only known at run time.
    pub dynamic_at: Option<usize>,
    /// How many leading chars of `text` were plain, unquoted literals (for keywords and
    /// assignments, which bash recognises only when unquoted).
    pub unquoted_prefix: usize,
    /// Whether any quoting or escaping occurred (a quoted heredoc delimiter means a literal body).
    pub quoted: bool,
    /// Why the word hides what it would run, if it does (arithmetic on variables, `${!x}`, …).
    pub problem: Option<String>,
}

impl Word {
    pub fn literal(text: &str) -> Word {
        Word {
            text: text.to_owned(),
            dynamic_at: None,
            unquoted_prefix: text.chars().count(),
            quoted: false,
            problem: None,
        }
    }

    pub fn is_static(&self) -> bool {
        self.dynamic_at.is_none()
    }

    /// A plain, unquoted, fully literal word: what bash tests for reserved words.
    pub fn is_plain(&self, text: &str) -> bool {
        self.is_static() && !self.quoted && self.text == text
    }

    /// Whether the word may turn into an option (`-…`) at run time, or is one.
    pub fn may_be_option(&self) -> bool {
        self.text.starts_with('-') || self.dynamic_at == Some(0)
    }

    /// `NAME=value` or `NAME+=value`, with the name and `=` unquoted and literal.
    pub fn assignment_name(&self) -> Option<&str> {
        let eq = self.text.find('=')?;
        let name = self.text[..eq]
            .strip_suffix('+')
            .unwrap_or(&self.text[..eq]);
        let eq_chars = self.text[..eq].chars().count();
        let fixed =
            eq_chars < self.unquoted_prefix && self.dynamic_at.is_none_or(|at| at > eq_chars);
        (fixed && is_name(name)).then_some(name)
    }

    pub fn is_digits(&self) -> bool {
        self.is_static()
            && !self.quoted
            && !self.text.is_empty()
            && self.text.chars().all(|c| c.is_ascii_digit())
    }
}

pub(crate) fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Builds a [`Word`] char by char.
#[derive(Debug, Default)]
pub(crate) struct WordBuf {
    word: Word,
    len: usize,
    quoting_seen: bool,
    /// Whether anything at all was read (`""` is an empty word, not no word).
    pub started: bool,
}

impl WordBuf {
    pub fn lit(&mut self, c: char) {
        self.push(c);
        if !self.quoting_seen {
            self.word.unquoted_prefix = self.len;
        }
    }

    pub fn quoted_lit(&mut self, c: char) {
        self.mark_quoted();
        self.push(c);
    }

    pub fn mark_quoted(&mut self) {
        self.started = true;
        self.quoting_seen = true;
        self.word.quoted = true;
    }

    /// An unquoted glob or brace character: literal text, but its expansion is unknown.
    pub fn pattern_char(&mut self, c: char) {
        self.mark_dynamic();
        self.lit(c);
    }

    /// An expansion, kept as its source text.
    pub fn expansion(&mut self, raw: &str) {
        self.mark_dynamic();
        self.quoting_seen = true;
        for c in raw.chars() {
            self.push(c);
        }
    }

    pub fn problem(&mut self, problem: String) {
        self.word.problem.get_or_insert(problem);
    }

    pub fn text(&self) -> &str {
        &self.word.text
    }

    /// `NAME=` or `NAME+=` so far: an array assignment may follow.
    pub fn is_assignment_start(&self) -> bool {
        let t = self.text();
        t.strip_suffix('=')
            .map(|n| n.strip_suffix('+').unwrap_or(n))
            .is_some_and(|n| is_name(n) && self.word.unquoted_prefix == self.len)
    }

    pub fn finish(self) -> Word {
        self.word
    }

    fn mark_dynamic(&mut self) {
        self.started = true;
        self.word.dynamic_at.get_or_insert(self.len);
    }

    fn push(&mut self, c: char) {
        self.started = true;
        self.word.text.push(c);
        self.len += 1;
    }
}

/// Decodes one backslash escape of `$'…'` at `chars[i]` (just after the backslash); returns the
/// char (`None` for NUL, which ends the string in bash) and how many chars were consumed.
pub(crate) fn ansi_c_escape(chars: &[char], i: usize) -> (Option<char>, usize) {
    let Some(&c) = chars.get(i) else {
        return (Some('\\'), 0);
    };
    let simple = match c {
        'a' => Some('\u{7}'),
        'b' => Some('\u{8}'),
        'e' | 'E' => Some('\u{1b}'),
        'f' => Some('\u{c}'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        'v' => Some('\u{b}'),
        '\\' | '\'' | '"' | '?' => Some(c),
        _ => None,
    };
    if let Some(s) = simple {
        return (Some(s), 1);
    }
    let number = |radix: u32, start: usize, max: usize| {
        let digits: String = chars[start..]
            .iter()
            .take(max)
            .take_while(|d| d.is_digit(radix))
            .collect();
        let value = u32::from_str_radix(&digits, radix).ok();
        (value, digits.chars().count())
    };
    match c {
        '0'..='7' => {
            let (v, n) = number(8, i, 3);
            (decode(v.map(|v| v & 0xff)), n)
        }
        'x' | 'u' | 'U' => {
            let max = match c {
                'x' => 2,
                'u' => 4,
                _ => 8,
            };
            let (v, n) = number(16, i + 1, max);
            if n == 0 {
                (Some('\\'), 0)
            } else {
                (decode(v), n + 1)
            }
        }
        'c' => match chars.get(i + 1) {
            Some(&x) => (decode(Some(u32::from(x) & 0x1f)), 2),
            None => (Some('\\'), 0),
        },
        _ => (Some('\\'), 0),
    }
}

fn decode(v: Option<u32>) -> Option<char> {
    match v {
        Some(0) | None => None,
        Some(v) => Some(char::from_u32(v).unwrap_or('\u{fffd}')),
    }
}

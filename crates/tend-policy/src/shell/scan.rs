//! Reading words: quotes, escapes, expansions and the substitutions inside them.

use super::ShellError;
use super::parse::{Ctx, Parser, syntax};
use super::word::{Word, WordBuf, ansi_c_escape};

impl Parser {
    /// Reads `((…))` whose first `(` is at `pos`, skipping `open` chars; returns the content and
    /// a problem when it could run commands (variables, substitutions).
    pub(super) fn arithmetic(
        &mut self,
        open: usize,
    ) -> Result<(String, Option<String>), ShellError> {
        self.pos += open;
        let start = self.pos;
        let mut depth = 0usize;
        loop {
            match self.peek() {
                None => return Err(ShellError::Unterminated("((")),
                Some('(') => depth += 1,
                Some(')') if depth == 0 => {
                    if self.peek_at(1) != Some(')') {
                        return Err(ShellError::Unsupported("`((` that is not arithmetic"));
                    }
                    let content = self.slice(start);
                    self.pos += 2;
                    return Ok((content.clone(), arithmetic_problem(&content)));
                }
                Some(')') => depth -= 1,
                Some(_) => {}
            }
            self.pos += 1;
        }
    }

    /// An unquoted heredoc body: like a double-quoted string whose `"` are literal.
    pub(super) fn here_body(&mut self) -> Result<Word, ShellError> {
        let mut w = WordBuf::default();
        while let Some(c) = self.peek() {
            match c {
                '\\' if matches!(self.peek_at(1), Some('$' | '`' | '\\' | '\n')) => {
                    if self.peek_at(1) != Some('\n') {
                        w.quoted_lit(self.peek_at(1).unwrap_or('\\'));
                    }
                    self.pos += 2;
                }
                '$' => self.dollar(&mut w, Ctx::HereDoc)?,
                '`' => self.backtick(&mut w, Ctx::HereDoc)?,
                _ => {
                    w.quoted_lit(c);
                    self.pos += 1;
                }
            }
        }
        Ok(w.finish())
    }

    pub(super) fn word(&mut self) -> Result<Word, ShellError> {
        let mut w = WordBuf::default();
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | '\n' | ';' | '&' | '|' | ')' => break,
                '<' | '>' => {
                    if self.peek_at(1) != Some('(') {
                        break;
                    }
                    let start = self.pos;
                    self.pos += 2;
                    self.nested_list()?;
                    w.expansion(&self.slice(start));
                }
                '(' => {
                    if w.is_assignment_start() {
                        self.array(&mut w)?;
                    } else if w.text().ends_with(['?', '*', '+', '@', '!']) {
                        return Err(ShellError::Unsupported("extended globs"));
                    } else {
                        break;
                    }
                }
                '\\' => {
                    self.pos += 1;
                    match self.peek() {
                        Some('\n') => self.pos += 1,
                        Some(n) => {
                            w.quoted_lit(n);
                            self.pos += 1;
                        }
                        None => w.lit('\\'),
                    }
                }
                '\'' => {
                    self.pos += 1;
                    w.mark_quoted();
                    loop {
                        match self.peek() {
                            None => return Err(ShellError::UnbalancedQuote('\'')),
                            Some('\'') => break,
                            Some(q) => w.quoted_lit(q),
                        }
                        self.pos += 1;
                    }
                    self.pos += 1;
                }
                '"' => {
                    self.pos += 1;
                    self.double_quoted(&mut w)?;
                }
                '$' => self.dollar(&mut w, Ctx::Unquoted)?,
                '`' => self.backtick(&mut w, Ctx::Unquoted)?,
                '*' | '?' => {
                    w.pattern_char(c);
                    self.pos += 1;
                }
                '[' | '{' => {
                    if self.expands_from_here(c) {
                        w.pattern_char(c);
                    } else {
                        w.lit(c);
                    }
                    self.pos += 1;
                }
                _ => {
                    w.lit(c);
                    self.pos += 1;
                }
            }
        }
        Ok(w.finish())
    }

    /// Whether the unquoted `[` or `{` at `pos` starts a glob bracket or a brace expansion.
    fn expands_from_here(&self, open: char) -> bool {
        let mut depth = 0usize;
        let mut list = false;
        for (i, &c) in self.src[self.pos..].iter().enumerate() {
            if matches!(
                c,
                ' ' | '\t' | '\n' | ';' | '&' | '|' | '(' | ')' | '<' | '>'
            ) {
                return false;
            }
            match (open, c) {
                ('[', ']') if i > 0 => return true,
                ('{', '{') => depth += 1,
                ('{', '}') => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return list;
                    }
                }
                ('{', ',') => list = true,
                ('{', '.') if self.src.get(self.pos + i + 1) == Some(&'.') => list = true,
                _ => {}
            }
        }
        false
    }

    /// `NAME=(a b c)`: the elements are words whose substitutions run.
    fn array(&mut self, w: &mut WordBuf) -> Result<(), ShellError> {
        self.enter()?;
        let start = self.pos;
        self.pos += 1;
        loop {
            while matches!(self.peek(), Some(' ' | '\t' | '\n')) {
                self.pos += 1;
            }
            match self.peek() {
                None => return Err(ShellError::Unterminated("(")),
                Some(')') => {
                    self.pos += 1;
                    break;
                }
                Some(';' | '&' | '|' | '<' | '>' | '(') => {
                    return Err(syntax("unexpected operator in an array"));
                }
                Some(_) => {
                    let element = self.word()?;
                    if let Some(p) = element.problem {
                        w.problem(p);
                    }
                }
            }
        }
        self.leave();
        w.expansion(&self.slice(start));
        Ok(())
    }

    fn double_quoted(&mut self, w: &mut WordBuf) -> Result<(), ShellError> {
        w.mark_quoted();
        loop {
            let Some(c) = self.peek() else {
                return Err(ShellError::UnbalancedQuote('"'));
            };
            match c {
                '"' => {
                    self.pos += 1;
                    return Ok(());
                }
                '\\' => {
                    match self.peek_at(1) {
                        Some('\n') => {}
                        Some(n @ ('$' | '`' | '"' | '\\')) => w.quoted_lit(n),
                        _ => {
                            w.quoted_lit('\\');
                            self.pos += 1;
                            continue;
                        }
                    }
                    self.pos += 2;
                }
                '$' => self.dollar(w, Ctx::DoubleQuoted)?,
                '`' => self.backtick(w, Ctx::DoubleQuoted)?,
                _ => {
                    w.quoted_lit(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// `$…` at `pos`.
    fn dollar(&mut self, w: &mut WordBuf, ctx: Ctx) -> Result<(), ShellError> {
        let start = self.pos;
        self.pos += 1;
        match self.peek() {
            Some('\'') if ctx == Ctx::Unquoted => self.ansi_c(w)?,
            Some('"') if ctx == Ctx::Unquoted => {
                self.pos += 1;
                self.double_quoted(w)?;
            }
            Some('(') => {
                if self.peek_at(1) == Some('(') {
                    self.pos -= 1;
                    let (_, problem) = self.arithmetic(3)?;
                    if let Some(p) = problem {
                        w.problem(p);
                    }
                } else {
                    self.pos += 1;
                    self.nested_list()?;
                }
                w.expansion(&self.slice(start));
            }
            Some('{') => {
                self.braced(w, ctx)?;
                w.expansion(&self.slice(start));
            }
            Some('[') => {
                while self.peek().is_some_and(|c| c != ']') {
                    self.pos += 1;
                }
                if self.peek().is_none() {
                    return Err(ShellError::Unterminated("$["));
                }
                self.pos += 1;
                w.problem("`$[…]` arithmetic can run commands".to_owned());
                w.expansion(&self.slice(start));
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    self.pos += 1;
                }
                w.expansion(&self.slice(start));
            }
            Some('0'..='9' | '@' | '*' | '#' | '?' | '-' | '$' | '!') => {
                self.pos += 1;
                w.expansion(&self.slice(start));
            }
            _ => match ctx {
                Ctx::Unquoted => w.lit('$'),
                Ctx::DoubleQuoted | Ctx::HereDoc => w.quoted_lit('$'),
            },
        }
        Ok(())
    }

    /// `$'…'`, with bash's escapes decoded (a NUL ends the string, as in bash).
    fn ansi_c(&mut self, w: &mut WordBuf) -> Result<(), ShellError> {
        self.pos += 1;
        w.mark_quoted();
        let mut ended = false;
        loop {
            match self.peek() {
                None => return Err(ShellError::UnbalancedQuote('\'')),
                Some('\'') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some('\\') => {
                    let (c, used) = ansi_c_escape(&self.src, self.pos + 1);
                    self.pos += 1 + used;
                    match c {
                        Some(c) if !ended => w.quoted_lit(c),
                        Some(_) => {}
                        None => ended = true,
                    }
                }
                Some(c) => {
                    if !ended {
                        w.quoted_lit(c);
                    }
                    self.pos += 1;
                }
            }
        }
    }

    /// `${…}` at `pos` (the `{`): its operand words may hold substitutions, which run.
    fn braced(&mut self, w: &mut WordBuf, ctx: Ctx) -> Result<(), ShellError> {
        self.enter()?;
        self.pos += 1;
        let start = self.pos;
        let mut inner = WordBuf::default();
        loop {
            match self.peek() {
                None => return Err(ShellError::Unterminated("${")),
                Some('}') => break,
                Some('\\') => self.pos += 2,
                Some('\'') if ctx == Ctx::Unquoted => {
                    self.pos += 1;
                    while self.peek().is_some_and(|c| c != '\'') {
                        self.pos += 1;
                    }
                    if self.peek().is_none() {
                        return Err(ShellError::UnbalancedQuote('\''));
                    }
                    self.pos += 1;
                }
                Some('"') => {
                    self.pos += 1;
                    self.double_quoted(&mut inner)?;
                }
                Some('$') => self.dollar(&mut inner, ctx)?,
                Some('`') => self.backtick(&mut inner, ctx)?,
                Some(_) => self.pos += 1,
            }
        }
        let content = self.slice(start);
        self.pos += 1;
        self.leave();
        if let Some(p) = inner
            .finish()
            .problem
            .or_else(|| parameter_problem(&content))
        {
            w.problem(p);
        }
        Ok(())
    }

    /// A backquoted command substitution at `pos`.
    fn backtick(&mut self, w: &mut WordBuf, ctx: Ctx) -> Result<(), ShellError> {
        let start = self.pos;
        self.pos += 1;
        let mut script = String::new();
        loop {
            match self.peek() {
                None => return Err(ShellError::Unterminated("`")),
                Some('`') => break,
                Some('\\') => {
                    let next = self.peek_at(1);
                    let escapes = matches!(next, Some('$' | '`' | '\\'))
                        || (ctx == Ctx::DoubleQuoted && next == Some('"'));
                    match next {
                        Some(n) if escapes => {
                            script.push(n);
                            self.pos += 2;
                        }
                        _ => {
                            script.push('\\');
                            self.pos += 1;
                        }
                    }
                }
                Some(c) => {
                    script.push(c);
                    self.pos += 1;
                }
            }
        }
        self.pos += 1;
        let nested = Parser::parse(&script, self.depth + 1)?;
        self.out.extend(nested);
        w.expansion(&self.slice(start));
        Ok(())
    }
}

/// Arithmetic is harmless on numbers alone; on variables it can run commands (a variable holding
/// `a[$(cmd)]` runs `cmd` when evaluated), so anything but digits and operators is a problem.
fn arithmetic_problem(content: &str) -> Option<String> {
    let safe = content
        .chars()
        .all(|c| c.is_ascii_digit() || " \t\n+-*/%<>=!&|^~?:,()".contains(c));
    (!safe).then(|| "arithmetic on variables or substitutions can run commands".to_owned())
}

/// `${…}` forms that evaluate text as code: indirection (`${!x}`), array subscripts and
/// substring offsets (both arithmetic), and prompt expansion (`${x@P}`).
fn parameter_problem(content: &str) -> Option<String> {
    let problem = |what: &str| Some(format!("`${{{content}}}` {what}"));
    if content.starts_with('!') {
        return problem("expands a variable named by another");
    }
    let body = content.strip_prefix('#').unwrap_or(content);
    let name_len = body
        .char_indices()
        .find(|&(i, c)| {
            !(c.is_ascii_alphanumeric() || c == '_' || (i == 0 && "@*#?-$!".contains(c)))
        })
        .map_or(body.len(), |(i, _)| i);
    let rest = &body[name_len..];
    if let Some(sub) = rest.strip_prefix('[') {
        let index = sub.split(']').next().unwrap_or("");
        if !(index == "@" || index == "*" || index.chars().all(|c| c.is_ascii_digit())) {
            return problem("has an arithmetic subscript");
        }
    }
    if rest.contains("@P") {
        return problem("expands a prompt string");
    }
    if let Some(after) = rest.strip_prefix(':')
        && !after.starts_with(['-', '=', '?', '+'])
        && after
            .chars()
            .any(|c| c.is_ascii_alphabetic() || c == '_' || c == '$' || c == '`')
    {
        return problem("has an arithmetic offset");
    }
    None
}

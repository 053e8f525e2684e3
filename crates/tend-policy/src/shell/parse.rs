//! A parser for the subset of bash that agents type, into a flat list of simple commands.
//!
//! Everything that runs is collected, wherever it sits: both sides of `&&`, `||`, `;`, `|`, `&`
//! and newlines, the insides of `$(…)`, backticks, `<(…)`, `>(…)`, subshells, `{ …; }` groups,
//! `if`/`while`/`for` bodies, function bodies and unquoted heredoc bodies. The structure around
//! them is dropped: for the policy, every command must be acceptable on its own. Constructs the
//! parser does not follow are errors (the caller asks a human), never silently skipped.

use super::word::Word;
use super::{RedirectKind, ShellError};

/// How deeply substitutions, groups and quotes may nest before the parser gives up.
const MAX_DEPTH: usize = 48;

/// One simple command as written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct RawCommand {
    pub assignments: Vec<Word>,
    pub words: Vec<Word>,
    pub redirects: Vec<RawRedirect>,
    /// Why the command hides what it runs, if it does.
    pub problem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawRedirect {
    pub fd: Option<u32>,
    pub kind: RedirectKind,
    pub target: Word,
    pub here: Here,
}

/// The text a heredoc or here-string feeds to the command's standard input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Here {
    None,
    Pending(usize),
    Body { text: String, dynamic: bool },
}

struct PendingHeredoc {
    delimiter: String,
    strip_tabs: bool,
    literal: bool,
    slot: usize,
}

/// What a reserved word at command position did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keyword {
    /// Not a reserved word here: an ordinary command word.
    No,
    /// Consumed; still at command position (`if`, `{`, `!`, `do`, …).
    Consumed,
    /// Read a whole construct and pushed it (`for` header, `[[ … ]]`).
    Finished,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Input,
    Paren,
}

/// Where `$` and backslashes are being read: their meaning differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ctx {
    Unquoted,
    DoubleQuoted,
    HereDoc,
}

pub(crate) struct Parser {
    pub(super) src: Vec<char>,
    pub(super) pos: usize,
    pub(super) depth: usize,
    pub(super) out: Vec<RawCommand>,
    pending: Vec<PendingHeredoc>,
    bodies: Vec<Option<(String, bool)>>,
}

pub(super) fn syntax(msg: &str) -> ShellError {
    ShellError::Syntax(msg.to_owned())
}

impl Parser {
    /// Parses a whole script. `depth` counts the scripts this one is nested in.
    pub fn parse(script: &str, depth: usize) -> Result<Vec<RawCommand>, ShellError> {
        let mut p = Parser::new(script, depth)?;
        p.list(End::Input)?;
        p.finish()
    }

    pub(super) fn new(script: &str, depth: usize) -> Result<Parser, ShellError> {
        if depth > MAX_DEPTH {
            return Err(ShellError::TooDeep);
        }
        Ok(Parser {
            src: script.chars().collect(),
            pos: 0,
            depth,
            out: Vec::new(),
            pending: Vec::new(),
            bodies: Vec::new(),
        })
    }

    pub(super) fn finish(mut self) -> Result<Vec<RawCommand>, ShellError> {
        // A heredoc still open at the end reads an empty body, as bash does (with a warning).
        for h in std::mem::take(&mut self.pending) {
            self.bodies[h.slot] = Some((String::new(), false));
        }
        for cmd in &mut self.out {
            for r in &mut cmd.redirects {
                if let Here::Pending(slot) = r.here {
                    let (text, dynamic) = self.bodies[slot].take().unwrap_or_default();
                    r.here = Here::Body { text, dynamic };
                }
            }
        }
        Ok(self.out)
    }

    pub(super) fn peek(&self) -> Option<char> {
        self.src.get(self.pos).copied()
    }

    pub(super) fn peek_at(&self, n: usize) -> Option<char> {
        self.src.get(self.pos + n).copied()
    }

    pub(super) fn slice(&self, from: usize) -> String {
        self.src[from..self.pos].iter().collect()
    }

    pub(super) fn enter(&mut self) -> Result<(), ShellError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ShellError::TooDeep);
        }
        Ok(())
    }

    pub(super) fn leave(&mut self) {
        self.depth -= 1;
    }

    fn skip_blanks(&mut self) {
        loop {
            match self.peek() {
                Some(' ' | '\t') => self.pos += 1,
                Some('\\') if self.peek_at(1) == Some('\n') => self.pos += 2,
                _ => return,
            }
        }
    }

    fn skip_comment(&mut self) {
        while let Some(c) = self.peek() {
            if c == '\n' {
                return;
            }
            self.pos += 1;
        }
    }

    fn list(&mut self, end: End) -> Result<(), ShellError> {
        loop {
            self.skip_blanks();
            let Some(c) = self.peek() else {
                return match end {
                    End::Input => Ok(()),
                    End::Paren => Err(ShellError::Unterminated("(")),
                };
            };
            match c {
                '\n' => {
                    self.pos += 1;
                    self.read_heredocs()?;
                }
                ';' => {
                    if self.peek_at(1) == Some(';') {
                        return Err(ShellError::Unsupported("`;;` (case)"));
                    }
                    self.pos += 1;
                }
                '&' if self.peek_at(1) != Some('>') => {
                    self.pos += 1;
                    if self.peek() == Some('&') {
                        self.pos += 1;
                    }
                }
                '|' => {
                    self.pos += 1;
                    if matches!(self.peek(), Some('|' | '&')) {
                        self.pos += 1;
                    }
                }
                ')' => {
                    return match end {
                        End::Paren => {
                            self.pos += 1;
                            Ok(())
                        }
                        End::Input => Err(syntax("unexpected `)`")),
                    };
                }
                '#' => self.skip_comment(),
                _ => self.command()?,
            }
        }
    }

    pub(super) fn nested_list(&mut self) -> Result<(), ShellError> {
        self.enter()?;
        let result = self.list(End::Paren);
        self.leave();
        result
    }

    /// One simple command, or a keyword, group or subshell at command position.
    fn command(&mut self) -> Result<(), ShellError> {
        let mut cmd = RawCommand::default();
        loop {
            self.skip_blanks();
            let Some(c) = self.peek() else { break };
            let at_start = cmd.words.is_empty() && cmd.assignments.is_empty();
            match c {
                '\n' | ';' | '|' | ')' => break,
                '&' if self.peek_at(1) != Some('>') => break,
                '&' => self.redirect(&mut cmd, None)?,
                '<' | '>' if self.peek_at(1) != Some('(') => self.redirect(&mut cmd, None)?,
                '(' if at_start && cmd.redirects.is_empty() => {
                    if self.peek_at(1) == Some('(') {
                        let (content, problem) = self.arithmetic(2)?;
                        self.out.push(RawCommand {
                            words: vec![Word::literal(&format!("(({content}))"))],
                            problem,
                            ..RawCommand::default()
                        });
                        return Ok(());
                    }
                    self.pos += 1;
                    self.nested_list()?;
                }
                '(' if cmd.words.len() == 1 && cmd.assignments.is_empty() => {
                    // `name () body`: a function definition. The body is analysed as if it ran.
                    self.pos += 1;
                    self.skip_blanks();
                    if self.peek() != Some(')') {
                        return Err(syntax("unexpected `(`"));
                    }
                    self.pos += 1;
                    cmd = RawCommand::default();
                }
                '(' => return Err(syntax("unexpected `(`")),
                '#' => {
                    self.skip_comment();
                    break;
                }
                _ => {
                    let before = self.pos;
                    let word = self.word()?;
                    if self.pos == before {
                        return Err(syntax("unexpected character"));
                    }
                    if word.is_digits() && matches!(self.peek(), Some('<' | '>')) {
                        let fd = word.text.parse().ok();
                        self.redirect(&mut cmd, fd)?;
                        continue;
                    }
                    if cmd.words.is_empty() && word.assignment_name().is_some() {
                        cmd.assignments.push(word);
                        continue;
                    }
                    if at_start && cmd.redirects.is_empty() {
                        match self.keyword(&word, &mut cmd)? {
                            Keyword::Consumed => continue,
                            Keyword::Finished => return Ok(()),
                            Keyword::No => {}
                        }
                    }
                    cmd.words.push(word);
                }
            }
        }
        self.push(cmd);
        Ok(())
    }

    fn push(&mut self, mut cmd: RawCommand) {
        if cmd.words.is_empty() && cmd.assignments.is_empty() && cmd.redirects.is_empty() {
            return;
        }
        let problem = cmd
            .assignments
            .iter()
            .chain(&cmd.words)
            .chain(cmd.redirects.iter().map(|r| &r.target))
            .find_map(|w| w.problem.clone());
        if cmd.problem.is_none() {
            cmd.problem = problem;
        }
        self.out.push(cmd);
    }

    /// Handles a reserved word at command position.
    fn keyword(&mut self, word: &Word, cmd: &mut RawCommand) -> Result<Keyword, ShellError> {
        if !word.is_static() || word.quoted {
            return Ok(Keyword::No);
        }
        match word.text.as_str() {
            "{" | "}" | "!" | "if" | "then" | "else" | "elif" | "fi" | "do" | "done" | "while"
            | "until" => Ok(Keyword::Consumed),
            // bash's `time` keyword may prefix any pipeline, groups included (`time { …; }`).
            "time" => {
                self.skip_blanks();
                if self.peek() == Some('-')
                    && self.peek_at(1) == Some('p')
                    && matches!(self.peek_at(2), Some(' ' | '\t'))
                {
                    self.pos += 2;
                }
                Ok(Keyword::Consumed)
            }
            "function" => {
                self.skip_blanks();
                self.word()?;
                self.skip_blanks();
                if self.peek() == Some('(') && self.peek_at(1) == Some(')') {
                    self.pos += 2;
                }
                Ok(Keyword::Consumed)
            }
            "case" | "select" | "coproc" | "esac" => {
                Err(ShellError::Unsupported("case/select/coproc"))
            }
            "for" => {
                self.for_header(cmd)?;
                Ok(Keyword::Finished)
            }
            "[[" => {
                self.double_bracket(cmd)?;
                Ok(Keyword::Finished)
            }
            _ => Ok(Keyword::No),
        }
    }

    /// `for NAME in WORDS` up to the separator; the words' substitutions run, so they are read.
    /// Leaves `cmd` holding `[[`-like words, which the caller pushes as a harmless command.
    fn for_header(&mut self, cmd: &mut RawCommand) -> Result<(), ShellError> {
        self.skip_blanks();
        if self.peek() == Some('(') && self.peek_at(1) == Some('(') {
            let (content, problem) = self.arithmetic(2)?;
            cmd.problem = problem;
            cmd.words.push(Word::literal(&format!("for (({content}))")));
            return Ok(());
        }
        let mut words = vec![Word::literal("for")];
        loop {
            self.skip_blanks();
            match self.peek() {
                None | Some('\n' | ';' | '&' | '|' | ')' | '(' | '<' | '>') => break,
                Some(_) => words.push(self.word()?),
            }
        }
        cmd.words = words;
        self.push(std::mem::take(cmd));
        Ok(())
    }

    /// `[[ … ]]`: inside, `&&`, `||`, `<`, `>`, `(` and `)` are operators, not separators.
    fn double_bracket(&mut self, cmd: &mut RawCommand) -> Result<(), ShellError> {
        let mut words = vec![Word::literal("[[")];
        loop {
            while matches!(self.peek(), Some(' ' | '\t' | '\n')) {
                self.pos += 1;
            }
            let Some(c) = self.peek() else {
                return Err(ShellError::Unterminated("[["));
            };
            if matches!(c, '&' | '|' | '<' | '>' | '(' | ')' | ';') {
                let mut op = c.to_string();
                self.pos += 1;
                if matches!(c, '&' | '|') && self.peek() == Some(c) {
                    op.push(c);
                    self.pos += 1;
                }
                words.push(Word::literal(&op));
                continue;
            }
            let word = self.word()?;
            let done = word.is_plain("]]");
            words.push(word);
            if done {
                break;
            }
        }
        // `-eq` and friends evaluate their operands as arithmetic, and bash arithmetic on a
        // variable holding `a[$(cmd)]` runs `cmd`.
        let arithmetic = words.iter().any(|w| {
            matches!(
                w.text.as_str(),
                "-eq" | "-ne" | "-lt" | "-le" | "-gt" | "-ge"
            )
        });
        let operands_plain = words.iter().all(|w| {
            w.is_static()
                && (!w
                    .text
                    .starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'))
        });
        if arithmetic && !operands_plain {
            cmd.problem = Some("`[[ … ]]` compares variables arithmetically".to_owned());
        }
        cmd.words = words;
        self.push(std::mem::take(cmd));
        Ok(())
    }

    fn redirect(&mut self, cmd: &mut RawCommand, fd: Option<u32>) -> Result<(), ShellError> {
        const OPS: [(&str, RedirectKind); 12] = [
            ("&>>", RedirectKind::AppendOutputAndError),
            ("&>", RedirectKind::OutputAndError),
            ("<<<", RedirectKind::HereString),
            ("<<-", RedirectKind::HereDoc),
            ("<<", RedirectKind::HereDoc),
            ("<>", RedirectKind::ReadWrite),
            ("<&", RedirectKind::DuplicateInput),
            ("<", RedirectKind::Input),
            (">>", RedirectKind::Append),
            (">|", RedirectKind::Output),
            (">&", RedirectKind::DuplicateOutput),
            (">", RedirectKind::Output),
        ];
        let Some(&(op, mut kind)) = OPS.iter().find(|(op, _)| {
            op.chars()
                .enumerate()
                .all(|(i, c)| self.peek_at(i) == Some(c))
        }) else {
            return Err(syntax("bad redirection"));
        };
        self.pos += op.chars().count();
        self.skip_blanks();
        match self.peek() {
            None | Some('\n' | ';' | '&' | '|' | ')' | '(') => {
                return Err(syntax("redirection without a target"));
            }
            Some('<' | '>') if self.peek_at(1) != Some('(') => {
                return Err(syntax("redirection without a target"));
            }
            Some(_) => {}
        }
        let target = self.word()?;
        let dup_target = target.is_digits() || target.is_plain("-");
        let mut here = Here::None;
        match kind {
            RedirectKind::DuplicateOutput if !dup_target => kind = RedirectKind::OutputAndError,
            RedirectKind::HereDoc => {
                let slot = self.bodies.len();
                self.bodies.push(None);
                self.pending.push(PendingHeredoc {
                    delimiter: target.text.clone(),
                    strip_tabs: op == "<<-",
                    literal: target.quoted,
                    slot,
                });
                here = Here::Pending(slot);
            }
            RedirectKind::HereString => {
                here = Here::Body {
                    text: format!("{}\n", target.text),
                    dynamic: !target.is_static(),
                };
            }
            _ => {}
        }
        cmd.redirects.push(RawRedirect {
            fd,
            kind,
            target,
            here,
        });
        Ok(())
    }

    /// Reads the bodies of the heredocs started on the line that just ended.
    fn read_heredocs(&mut self) -> Result<(), ShellError> {
        for h in std::mem::take(&mut self.pending) {
            let mut body = String::new();
            while self.pos < self.src.len() {
                let start = self.pos;
                while self.peek().is_some_and(|c| c != '\n') {
                    self.pos += 1;
                }
                let line = self.slice(start);
                if self.peek() == Some('\n') {
                    self.pos += 1;
                }
                let line = if h.strip_tabs {
                    line.trim_start_matches('\t')
                } else {
                    &line
                };
                if line == h.delimiter {
                    break;
                }
                body.push_str(line);
                body.push('\n');
            }
            let entry = if h.literal {
                (body, false)
            } else {
                let mut p = Parser::new(&body, self.depth + 1)?;
                let word = p.here_body()?;
                self.out.extend(p.finish()?);
                (word.text.clone(), !word.is_static())
            };
            self.bodies[h.slot] = Some(entry);
        }
        Ok(())
    }
}

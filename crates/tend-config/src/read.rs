//! Walking a parsed TOML document by hand, so that every problem is reported with its position and
//! one bad key does not hide the next.
//!
//! Serde's derive stops at the first error and cannot say "did you mean"; walking the spanned
//! document ourselves costs a little code and gives every error a line, a column and a hint.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::error::{TaskFileError, line_col, suggest};
use crate::keyword::Keyword;

/// A problem found while interpreting one value, before it is given a position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub message: String,
    pub hint: Option<String>,
    /// Byte offset inside the string value where the problem is, when known.
    pub offset: Option<usize>,
}

impl Problem {
    pub fn new(message: impl Into<String>) -> Self {
        Problem {
            message: message.into(),
            hint: None,
            offset: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn at(mut self, offset: usize) -> Self {
        self.offset = Some(offset);
        self
    }
}

impl From<tend_schedule::ScheduleError> for Problem {
    fn from(e: tend_schedule::ScheduleError) -> Self {
        Problem {
            message: e.message,
            hint: e.hint,
            offset: Some(e.offset),
        }
    }
}

impl From<tend_policy::RuleError> for Problem {
    fn from(e: tend_policy::RuleError) -> Self {
        Problem {
            message: e.message,
            hint: e.hint,
            offset: Some(e.offset),
        }
    }
}

/// Where the TOML text sits and where its errors go.
pub(crate) struct Ctx<'s> {
    path: &'s Path,
    /// The whole file, for line and column numbers.
    file: &'s str,
    /// Where the TOML text starts inside `file` (after a task file's `+++` line).
    base: usize,
    errors: RefCell<Vec<TaskFileError>>,
}

impl<'s> Ctx<'s> {
    pub fn new(path: &'s Path, file: &'s str, base: usize) -> Self {
        Ctx {
            path,
            file,
            base,
            errors: RefCell::new(Vec::new()),
        }
    }

    /// The TOML text itself.
    pub fn toml(&self) -> &'s str {
        &self.file[self.base..]
    }

    /// Builds an error at a byte offset of the TOML text, without recording it.
    pub fn make_error(
        &self,
        toml_offset: usize,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> TaskFileError {
        let (line, col) = line_col(self.file, self.base + toml_offset);
        TaskFileError {
            path: self.path.to_path_buf(),
            line,
            col,
            message: message.into(),
            hint,
        }
    }

    pub fn error(&self, toml_offset: usize, message: impl Into<String>, hint: Option<String>) {
        let e = self.make_error(toml_offset, message, hint);
        self.errors.borrow_mut().push(e);
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.borrow().is_empty()
    }

    /// The recorded errors, in the order they appear in the file.
    pub fn into_errors(self) -> Vec<TaskFileError> {
        let mut errors = self.errors.into_inner();
        errors.sort_by_key(|e| (e.line, e.col));
        errors.dedup();
        errors
    }
}

/// A TOML table being read: each key the code asks for is remembered, and whatever is left at
/// [`TableReader::finish`] is an unknown key.
pub(crate) struct TableReader<'c, 'a> {
    ctx: &'c Ctx<'c>,
    table: &'a DeTable<'a>,
    /// Dotted path for messages: `""` for the top level, `sandbox`, `mcp.servers.linear`.
    path: String,
    known: Vec<&'static str>,
}

impl<'c, 'a> TableReader<'c, 'a> {
    pub fn new(ctx: &'c Ctx<'c>, table: &'a DeTable<'a>, path: String) -> Self {
        TableReader {
            ctx,
            table,
            path,
            known: Vec::new(),
        }
    }

    fn child_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// The value of `key`, if present. Declares `key` as known either way.
    pub fn get(&mut self, key: &'static str) -> Option<Field<'c, 'a>> {
        self.known.push(key);
        let (k, v) = self.table.get_key_value(key)?;
        Some(Field {
            ctx: self.ctx,
            name: self.child_path(key),
            key_offset: Some(k.span().start),
            value: v,
        })
    }

    /// The entries of a table whose keys are names chosen by the user (`[mcp.servers.NAME]`).
    pub fn entries(&self) -> Vec<(&'a str, Field<'c, 'a>)> {
        self.table
            .iter()
            .map(|(k, v)| {
                let name: &'a str = k.get_ref();
                (
                    name,
                    Field {
                        ctx: self.ctx,
                        name: self.child_path(name),
                        key_offset: Some(k.span().start),
                        value: v,
                    },
                )
            })
            .collect()
    }

    /// Reports every key that nobody asked for.
    pub fn finish(self) {
        let known: BTreeSet<&str> = self.known.iter().copied().collect();
        for (key, _) in self.table.iter() {
            let name: &str = key.get_ref();
            if known.contains(name) {
                continue;
            }
            let place = if self.path.is_empty() {
                String::new()
            } else {
                format!(" in `[{}]`", self.path)
            };
            let hint = match suggest(name, known.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!(
                    "known keys here: {}",
                    self.known
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            self.ctx.error(
                key.span().start,
                format!("unknown key `{name}`{place}"),
                Some(hint),
            );
        }
    }
}

/// One value in the document, with enough context to report a problem about it.
#[derive(Clone)]
pub(crate) struct Field<'c, 'a> {
    ctx: &'c Ctx<'c>,
    /// The dotted key, for messages: `timeout`, `input[2].max_bytes`.
    pub name: String,
    key_offset: Option<usize>,
    value: &'a Spanned<DeValue<'a>>,
}

/// What the user wrote, in words, for "expected X, found Y" messages.
fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a number with a fraction",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

impl<'c, 'a> Field<'c, 'a> {
    pub fn value(&self) -> &'a DeValue<'a> {
        self.value.get_ref()
    }

    /// Reports a problem at the start of the value.
    pub fn error(&self, message: impl Into<String>, hint: Option<String>) {
        self.ctx.error(self.value.span().start, message, hint);
    }

    /// Reports a problem at the key (for problems about the entry as a whole).
    pub fn error_at_key(&self, message: impl Into<String>, hint: Option<String>) {
        let at = self.key_offset.unwrap_or(self.value.span().start);
        self.ctx.error(at, message, hint);
    }

    /// Reports a problem with this string value, pointing inside the string when possible.
    pub fn problem(&self, p: Problem) {
        let at = match p.offset {
            Some(offset) => self.offset_in_string(offset),
            None => self.value.span().start,
        };
        self.ctx.error(at, p.message, p.hint);
    }

    /// Maps a byte offset in the string's value to a byte offset in the TOML text.
    ///
    /// This is exact when the source spells the value literally (no escapes); otherwise the
    /// error points at the opening quote, which is still the right value.
    fn offset_in_string(&self, offset: usize) -> usize {
        let span = self.value.span();
        let raw = self.ctx.toml().get(span.clone()).unwrap_or("");
        let start = span.start;
        let (delim, escapes_matter) = if raw.starts_with("\"\"\"") {
            ("\"\"\"", true)
        } else if raw.starts_with("'''") {
            ("'''", false)
        } else if raw.starts_with('"') {
            ("\"", true)
        } else if raw.starts_with('\'') {
            ("'", false)
        } else {
            return start;
        };
        if escapes_matter && raw.contains('\\') {
            return start;
        }
        let mut content = delim.len();
        // A newline right after an opening triple quote is not part of the value.
        if delim.len() == 3 {
            if raw[content..].starts_with("\r\n") {
                content += 2;
            } else if raw[content..].starts_with('\n') {
                content += 1;
            }
        }
        start + content + offset
    }

    fn wrong_type(&self, expected: &str, hint: Option<String>) {
        self.error(
            format!(
                "`{}` must be {expected}, not {}",
                self.name,
                type_name(self.value.get_ref())
            ),
            hint,
        );
    }

    pub fn str(&self) -> Option<&'a str> {
        self.str_with_hint(None)
    }

    /// A string, with a hint for when something else was written (`timeout = 20`).
    pub fn str_with_hint(&self, hint: Option<String>) -> Option<&'a str> {
        match self.value.get_ref() {
            DeValue::String(s) => Some(s.as_ref()),
            _ => {
                self.wrong_type("a string", hint);
                None
            }
        }
    }

    /// A string that must not be empty (or only spaces).
    pub fn non_empty_str(&self) -> Option<&'a str> {
        let s = self.str()?;
        if s.trim().is_empty() {
            self.error(format!("`{}` is empty", self.name), None);
            return None;
        }
        Some(s)
    }

    pub fn bool(&self) -> Option<bool> {
        match self.value.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            DeValue::String(s) if s == "true" || s == "false" => {
                self.wrong_type(
                    "a boolean",
                    Some(format!("remove the quotes: `{} = {s}`", self.name)),
                );
                None
            }
            _ => {
                self.wrong_type("a boolean (`true` or `false`)", None);
                None
            }
        }
    }

    /// An integer in `range`.
    pub fn int_in(&self, range: std::ops::RangeInclusive<i64>) -> Option<i64> {
        let expected = format!("an integer from {} to {}", range.start(), range.end());
        match self.value.get_ref() {
            DeValue::Integer(i) => {
                let value = i64::from_str_radix(i.as_str(), i.radix()).ok();
                match value {
                    Some(v) if range.contains(&v) => Some(v),
                    _ => {
                        self.error(format!("`{}` must be {expected}, not {i}", self.name), None);
                        None
                    }
                }
            }
            _ => {
                self.wrong_type(&expected, None);
                None
            }
        }
    }

    pub fn table(&self) -> Option<TableReader<'c, 'a>> {
        match self.value.get_ref() {
            DeValue::Table(t) => Some(TableReader::new(self.ctx, t, self.name.clone())),
            _ => {
                self.wrong_type("a table", None);
                None
            }
        }
    }

    /// The items of an array, each a field of its own (`input[0]`, `input[1]`).
    pub fn array(&self) -> Option<Vec<Field<'c, 'a>>> {
        match self.value.get_ref() {
            DeValue::Array(items) => Some(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Field {
                        ctx: self.ctx,
                        name: format!("{}[{i}]", self.name),
                        key_offset: None,
                        value: v,
                    })
                    .collect(),
            ),
            _ => {
                self.wrong_type("an array", None);
                None
            }
        }
    }

    /// An array of strings, each interpreted by `parse`; bad items are reported one by one.
    pub fn list<T>(&self, mut parse: impl FnMut(&str) -> Result<T, Problem>) -> Option<Vec<T>> {
        let items = self.array()?;
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for item in items {
            match item.str().map(|s| (parse(s), item)) {
                Some((Ok(v), _)) => out.push(v),
                Some((Err(p), item)) => {
                    item.problem(p);
                    ok = false;
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// A string interpreted by `parse`, its problems pointed at inside the string.
    pub fn parse_str<T>(&self, parse: impl FnOnce(&str) -> Result<T, Problem>) -> Option<T> {
        let s = self.str()?;
        match parse(s) {
            Ok(v) => Some(v),
            Err(p) => {
                self.problem(p);
                None
            }
        }
    }

    /// One of a fixed set of words.
    pub fn keyword<K: Keyword>(&self) -> Option<K> {
        let s = self.str_with_hint(Some(format!("use one of: {}", K::choices())))?;
        match K::parse(s) {
            Ok(k) => Some(k),
            Err(p) => {
                self.problem(p.into());
                None
            }
        }
    }

    /// A human duration (`20m`, `1h30m`); zero is refused unless `allow_zero`.
    pub fn duration(&self, zero: Zero) -> Option<std::time::Duration> {
        let hint = format!(
            "write durations as strings with a unit: `{} = \"20m\"`",
            self.name
        );
        let s = self.str_with_hint(Some(hint))?;
        match tend_schedule::parse_duration(s) {
            Ok(d) if d.is_zero() && zero == Zero::Refuse => {
                self.error(format!("`{}` must be longer than zero", self.name), None);
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                self.problem(e.into());
                None
            }
        }
    }
}

/// Whether a zero duration makes sense for a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Zero {
    Allow,
    Refuse,
}

/// For an optional key: `None` (absent) is fine, `Some(None)` (present but invalid) is a failure.
/// Turns that into `Some(value or None)` on success and `None` on failure, for use with `?`.
pub(crate) fn optional<T>(read: Option<Option<T>>) -> Option<Option<T>> {
    match read {
        None => Some(None),
        Some(Some(v)) => Some(Some(v)),
        Some(None) => None,
    }
}

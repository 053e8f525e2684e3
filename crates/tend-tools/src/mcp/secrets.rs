//! `${VAR}` references in MCP server settings, and keeping what they expand to out of
//! everything tend writes down.
//!
//! Config files name secrets (`env = { GITHUB_TOKEN = "${GITHUB_TOKEN}" }`,
//! `bearer_token_env = "LINEAR_TOKEN"`), never contain them. The values are looked up when a
//! server starts and remembered by a [`Redactor`], which blanks them out of tool results,
//! error messages and server stderr before any of that reaches the model or the transcript.

use std::ffi::OsString;

/// Expanded values shorter than this are not redacted: blanking every `1` or `on` in tool
/// output would garble it, and such values protect nothing.
const MIN_SECRET_LEN: usize = 6;
const MASK: &str = "[redacted]";

/// A `${VAR}` that could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpandError {
    #[error("`${{{0}}}` names an environment variable that is not set")]
    Unset(String),
    #[error("`{0}` has an unclosed `${{`")]
    Unclosed(String),
    #[error("`{0}` has an empty `${{}}`")]
    Empty(String),
}

/// The environment `${VAR}` references are looked up in.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    vars: Vec<(String, String)>,
}

impl Vars {
    pub fn new(vars: &[(OsString, OsString)]) -> Vars {
        Vars {
            vars: vars
                .iter()
                .filter_map(|(k, v)| Some((k.to_str()?.to_owned(), v.to_str()?.to_owned())))
                .collect(),
        }
    }

    pub fn all(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Expands `${VAR}` and `${VAR:-default}` (as Claude Code's `.mcp.json` does). Every
    /// value substituted in is reported to `found` so that it can be redacted later.
    pub fn expand(&self, text: &str, found: &mut Vec<String>) -> Result<String, ExpandError> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                return Err(ExpandError::Unclosed(text.to_owned()));
            };
            let inner = &after[..end];
            let (name, default) = match inner.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (inner, None),
            };
            if name.is_empty() {
                return Err(ExpandError::Empty(text.to_owned()));
            }
            let value = match (self.get(name), default) {
                (Some(v), _) => {
                    found.push(v.to_owned());
                    v
                }
                (None, Some(d)) => d,
                (None, None) => return Err(ExpandError::Unset(name.to_owned())),
            };
            out.push_str(value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// Blanks known secret values out of text.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    pub fn add(&mut self, secret: impl Into<String>) {
        let secret = secret.into();
        if secret.len() >= MIN_SECRET_LEN && !self.secrets.contains(&secret) {
            self.secrets.push(secret);
            // Longest first, so that a secret containing another is blanked whole.
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    pub fn extend(&mut self, secrets: impl IntoIterator<Item = String>) {
        for s in secrets {
            self.add(s);
        }
    }

    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in &self.secrets {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), MASK);
            }
        }
        text
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn vars() -> Vars {
        Vars::new(&[
            ("TOKEN".into(), "s3cr3t-value".into()),
            ("HOST".into(), "example.com".into()),
        ])
    }

    #[test]
    fn expands_references_and_reports_what_it_substituted() {
        let mut found = Vec::new();
        let v = vars();
        assert_eq!(
            v.expand("Bearer ${TOKEN}", &mut found).unwrap(),
            "Bearer s3cr3t-value"
        );
        assert_eq!(
            v.expand("https://${HOST}/${MISSING:-mcp}", &mut found)
                .unwrap(),
            "https://example.com/mcp"
        );
        assert_eq!(v.expand("plain $HOME", &mut found).unwrap(), "plain $HOME");
        assert_eq!(found, vec!["s3cr3t-value", "example.com"]);
    }

    #[test]
    fn bad_references_are_errors() {
        let mut found = Vec::new();
        let v = vars();
        assert_eq!(
            v.expand("${NOPE}", &mut found),
            Err(ExpandError::Unset("NOPE".into()))
        );
        assert_eq!(
            v.expand("x ${TOKEN", &mut found),
            Err(ExpandError::Unclosed("x ${TOKEN".into()))
        );
        assert_eq!(
            v.expand("${}", &mut found),
            Err(ExpandError::Empty("${}".into()))
        );
        assert_eq!(
            ExpandError::Unset("NOPE".into()).to_string(),
            "`${NOPE}` names an environment variable that is not set"
        );
    }

    #[test]
    fn redactor_blanks_long_values_only_and_longest_first() {
        let mut r = Redactor::default();
        r.add("abc");
        r.add("s3cr3t");
        r.add("s3cr3t-value");
        assert_eq!(
            r.redact("a s3cr3t-value, a s3cr3t, abc"),
            "a [redacted], a [redacted], abc"
        );
    }
}

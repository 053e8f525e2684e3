//! Names and templates with their own syntax: domains, output paths, environment variables.

use std::fmt;
use std::str::FromStr;

use crate::read::Problem;
use crate::units::ValueError;

/// A domain the sandbox may reach: `crates.io`, or `*.github.com` for every subdomain.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Domain(String);

impl Domain {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the pattern is `*.example.com`.
    pub fn is_wildcard(&self) -> bool {
        self.0.starts_with("*.")
    }

    pub(crate) fn parse_problem(text: &str) -> Result<Domain, Problem> {
        let hint =
            "write domain names only, like `crates.io` or `*.github.com` (no scheme, port or path)";
        if let Some(i) = text.find("://") {
            return Err(
                Problem::new(format!("`{text}` is a URL, not a domain name"))
                    .hint(hint)
                    .at(i),
            );
        }
        let (prefix, host) = match text.strip_prefix("*.") {
            Some(rest) => (2, rest),
            None => (0, text),
        };
        if host.is_empty() || host.len() > 253 {
            return Err(Problem::new(format!("`{text}` is not a domain name")).hint(hint));
        }
        let mut offset = prefix;
        for label in host.split('.') {
            let bad_char = label
                .char_indices()
                .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '-'));
            if let Some((i, c)) = bad_char {
                return Err(Problem::new(format!(
                    "`{text}` is not a domain name: `{c}` is not allowed"
                ))
                .hint(hint)
                .at(offset + i));
            }
            if label.is_empty()
                || label.len() > 63
                || label.starts_with('-')
                || label.ends_with('-')
            {
                return Err(Problem::new(format!(
                    "`{text}` is not a domain name: bad label `{label}`"
                ))
                .hint(hint)
                .at(offset));
            }
            offset += label.len() + 1;
        }
        Ok(Domain(text.to_ascii_lowercase()))
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Domain {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Domain::parse_problem(s).map_err(ValueError::from)
    }
}

impl serde::Serialize for Domain {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Where a run writes its report: a path with `{date}`, `{time}`, `{task}`, `{run}` filled in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OutputTemplate(String);

/// The values a template's placeholders stand for.
#[derive(Debug, Clone, Copy)]
pub struct OutputVars<'a> {
    pub date: &'a str,
    pub time: &'a str,
    pub task: &'a str,
    pub run: &'a str,
}

const PLACEHOLDERS: [&str; 4] = ["date", "time", "task", "run"];

impl OutputTemplate {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn parse_problem(text: &str) -> Result<OutputTemplate, Problem> {
        let hint = "placeholders are {date}, {time}, {task} and {run}: `reports/{task}-{date}.md`";
        if text.trim().is_empty() {
            return Err(Problem::new("the output path is empty").hint(hint));
        }
        let mut rest = text;
        let mut offset = 0;
        while let Some(i) = rest.find(['{', '}']) {
            let at = offset + i;
            if rest[i..].starts_with('}') {
                return Err(Problem::new("`}` without a matching `{`").hint(hint).at(at));
            }
            let Some(close) = rest[i..].find('}') else {
                return Err(Problem::new("`{` is never closed").hint(hint).at(at));
            };
            let name = &rest[i + 1..i + close];
            if !PLACEHOLDERS.contains(&name) {
                let mut p = Problem::new(format!("unknown placeholder `{{{name}}}`")).at(at);
                p.hint = Some(match crate::error::suggest(name, PLACEHOLDERS) {
                    Some(s) => format!("did you mean `{{{s}}}`? {hint}"),
                    None => hint.to_owned(),
                });
                return Err(p);
            }
            offset = at + close + 1;
            rest = &text[offset..];
        }
        Ok(OutputTemplate(text.to_owned()))
    }

    /// Whether the path names a place of its own (`/srv/reports/…`, `~/notes/…`) rather than
    /// one relative to the run's workspace or to tend's outputs folder.
    pub fn is_absolute(&self) -> bool {
        self.0.starts_with('/') || self.0.starts_with("~/")
    }

    /// Where a briefing may go: never up out of its folder (`..`), and an absolute path only
    /// inside a folder the task's `[sandbox] allow_write` opens (nothing is written outside the
    /// worktree without a rule saying so).
    pub(crate) fn check_placement(
        &self,
        allow_write: &[std::path::PathBuf],
    ) -> Result<(), Problem> {
        if let Some(at) = component_offsets(&self.0).find(|(_, c)| *c == "..") {
            return Err(Problem::new("the output path must not go up with `..`")
                .hint("write a path inside the repository, like `reports/{date}.md`")
                .at(at.0));
        }
        if !self.is_absolute() {
            return Ok(());
        }
        // `~` is a component of its own, so a home path never matches a root one.
        let path: Vec<&str> = component_offsets(&self.0).map(|(_, c)| c).collect();
        let inside = allow_write.iter().any(|dir| {
            let dir = dir.to_string_lossy();
            let absolute = dir.starts_with('/') || dir.starts_with("~/");
            let dir: Vec<&str> = component_offsets(&dir).map(|(_, c)| c).collect();
            absolute && path.len() > dir.len() && path.starts_with(&dir)
        });
        if inside {
            return Ok(());
        }
        Err(Problem::new(format!(
            "`{}` is outside the repository and tend's outputs folder",
            self.0
        ))
        .hint("write a relative path (`reports/{date}.md`: on the run's branch, or in tend's outputs folder for a read-only run), or open the folder with `[sandbox] allow_write = [\"…\"]`"))
    }

    /// The path with every placeholder replaced.
    pub fn expand(&self, vars: OutputVars<'_>) -> String {
        self.0
            .replace("{date}", vars.date)
            .replace("{time}", vars.time)
            .replace("{task}", vars.task)
            .replace("{run}", vars.run)
    }
}

impl fmt::Display for OutputTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for OutputTemplate {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OutputTemplate::parse_problem(s).map_err(ValueError::from)
    }
}

impl serde::Serialize for OutputTemplate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// The non-empty components of a `/`-separated path, with their byte offsets (`.` left out).
fn component_offsets(path: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut at = 0;
    path.split('/').filter_map(move |c| {
        let start = at;
        at += c.len() + 1;
        (!c.is_empty() && c != ".").then_some((start, c))
    })
}

/// Checks the name of an environment variable (`ANTHROPIC_API_KEY`).
pub(crate) fn check_env_name(text: &str) -> Result<String, Problem> {
    let ok = text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(text.to_owned())
    } else {
        Err(Problem::new(format!(
            "`{text}` is not the name of an environment variable"
        ))
        .hint(
            "name the variable that holds the secret, like `LINEAR_TOKEN`; never the secret itself",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn domains() {
        for good in [
            "crates.io",
            "*.github.com",
            "localhost",
            "static.crates.io",
            "A.b",
        ] {
            assert!(Domain::parse_problem(good).is_ok(), "{good}");
        }
        let cases = [
            ("https://crates.io", Some(5)),
            ("crates.io:443", Some(9)),
            ("crates.io/x", Some(9)),
            ("a..b", Some(2)),
            ("*.", None),
            ("-a.com", Some(0)),
            ("a.*.com", Some(2)),
        ];
        for (text, offset) in cases {
            assert_eq!(
                Domain::parse_problem(text).unwrap_err().offset,
                offset,
                "{text}"
            );
        }
        assert_eq!(Domain::parse_problem("A.b").unwrap().as_str(), "a.b");
    }

    #[test]
    fn output_templates() {
        let t = OutputTemplate::parse_problem("reports/{task}/{date}-{time}-{run}.md").unwrap();
        let vars = OutputVars {
            date: "2026-05-01",
            time: "0900",
            task: "triage",
            run: "r1",
        };
        assert_eq!(t.expand(vars), "reports/triage/2026-05-01-0900-r1.md");
        let cases = [
            ("reports/{dat}.md", "unknown placeholder `{dat}`", Some(8)),
            ("reports/{date.md", "`{` is never closed", Some(8)),
            ("reports/}.md", "`}` without a matching `{`", Some(8)),
            ("{date}/{x}", "unknown placeholder `{x}`", Some(7)),
            (" ", "the output path is empty", None),
        ];
        for (text, message, offset) in cases {
            let p = OutputTemplate::parse_problem(text).unwrap_err();
            assert_eq!((p.message.as_str(), p.offset), (message, offset), "{text}");
        }
    }

    #[test]
    fn output_placement() {
        let allow = [std::path::PathBuf::from("/srv/reports"), "~/notes".into()];
        let check = |t: &str| {
            OutputTemplate::parse_problem(t)
                .unwrap()
                .check_placement(&allow)
                .map_err(|p| (p.message, p.offset))
        };
        assert_eq!(check("reports/{date}.md"), Ok(()));
        assert_eq!(check("/srv/reports/{task}/{date}.md"), Ok(()));
        assert_eq!(check("~/notes/{date}.md"), Ok(()));
        assert_eq!(
            check("reports/../../x.md"),
            Err(("the output path must not go up with `..`".into(), Some(8)))
        );
        assert_eq!(
            check("/srv/reports2/x.md"),
            Err((
                "`/srv/reports2/x.md` is outside the repository and tend's outputs folder".into(),
                None
            ))
        );
        assert!(
            check("/srv/reports").is_err(),
            "the folder itself is no file"
        );
        assert!(check("/tmp/x.md").is_err());
    }

    #[test]
    fn env_names() {
        assert!(check_env_name("LINEAR_TOKEN").is_ok());
        assert!(check_env_name("_x1").is_ok());
        for bad in ["", "1A", "sk-ant-123", "A B"] {
            assert!(check_env_name(bad).is_err(), "{bad}");
        }
    }
}

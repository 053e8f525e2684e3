//! Shell command analysis: a real (if partial) bash parser, so that a rule about `rm` also
//! catches `a && rm`, `$(rm …)`, `timeout 5 rm …` and `bash -c 'rm …'`.
//!
//! [`analyse`] turns a command string into the list of simple commands it would run
//! ([`ShellCommand`]), wherever they hide: every side of `&&`, `||`, `;`, `|`, `&` and newlines;
//! command and process substitutions; subshells, groups, `if`/`while`/`for` bodies and function
//! bodies; the scripts of `bash -c`, `sh -c`, `eval`, `watch`, `su -c`, `flock -c`, `script -c`,
//! `trap` and `alias`; a shell's heredoc or here-string script; `find -exec`; command-valued
//! `git -c` settings (`alias.x=!…`, `core.pager`, `core.sshCommand`, …) and variables
//! (`GIT_SSH_COMMAND`, `PAGER`, `EDITOR`, …). Wrappers (`timeout`, `nice`, `nohup`, `env`,
//! `command`, `builtin`, `exec`, `time`, `stdbuf`, `ionice`, `setsid`, `flock`, `unbuffer`,
//! `chronic`, `xargs`, `sudo`, `doas`, `pkexec`, `run0`, leading `VAR=value`) are seen through:
//! the command they run is the [`ShellCommand::program`].
//!
//! What the analyser cannot follow is never guessed: a script it cannot parse is an error, and a
//! command whose program, script or arithmetic is only known at run time carries
//! [`ShellCommand::unknown`]. The policy turns both into `ask`.

mod files;
mod git;
mod git_commands;
mod git_config;
mod nested;
mod parse;
mod scan;
mod unwrap;
mod word;
mod wrappers;

pub(crate) use unwrap::{Facts, LayerUse, system_name};

/// Whether a command's arguments are all in its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum TrailingArgs {
    #[default]
    Known,
    /// `xargs` appends arguments read at run time: only a `*` in a rule matches them, and a
    /// program whose options matter is not read-only.
    Unseen,
}
pub(crate) use word::Word;

/// Why a command string could not be analysed at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShellError {
    #[error("unbalanced {0} quote")]
    UnbalancedQuote(char),
    #[error("unterminated `{0}`")]
    Unterminated(&'static str),
    #[error("syntax error: {0}")]
    Syntax(String),
    #[error("{0} is not supported by the analyser")]
    Unsupported(&'static str),
    #[error("nested too deeply")]
    TooDeep,
}

/// How a redirection uses its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RedirectKind {
    /// `<`
    Input,
    /// `>` and `>|`
    Output,
    /// `>>`
    Append,
    /// `<>`
    ReadWrite,
    /// `<&n`
    DuplicateInput,
    /// `>&n`
    DuplicateOutput,
    /// `&>` and `>&file`
    OutputAndError,
    /// `&>>`
    AppendOutputAndError,
    /// `<<` and `<<-`
    HereDoc,
    /// `<<<`
    HereString,
}

/// One redirection of a command.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Redirect {
    pub fd: Option<u32>,
    pub kind: RedirectKind,
    /// The file (or fd, or heredoc delimiter) after quote removal.
    pub target: String,
}

impl Redirect {
    /// Whether the redirection creates or changes a file. `/dev/null` and the standard streams
    /// do not count.
    pub fn writes_file(&self) -> bool {
        let writes = match self.kind {
            RedirectKind::Output
            | RedirectKind::Append
            | RedirectKind::ReadWrite
            | RedirectKind::OutputAndError
            | RedirectKind::AppendOutputAndError => true,
            RedirectKind::Input
            | RedirectKind::DuplicateInput
            | RedirectKind::DuplicateOutput
            | RedirectKind::HereDoc
            | RedirectKind::HereString => false,
        };
        writes
            && !matches!(
                self.target.as_str(),
                "/dev/null" | "/dev/stdout" | "/dev/stderr"
            )
    }
}

/// One simple command that a command string would run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellCommand {
    /// The command as written (assignments, wrappers and all), re-quoted for display.
    pub text: String,
    /// The program that actually runs once wrappers are seen through; empty for a command that
    /// only assigns variables or redirects.
    pub program: String,
    pub args: Vec<String>,
    /// The wrappers seen through, outermost first (`timeout`, `nice`, `sudo`, …).
    pub wrappers: Vec<String>,
    /// Variables set for the command (`VAR=value`, also through `env` and `sudo`).
    pub env: Vec<String>,
    pub redirects: Vec<Redirect>,
    /// Why this command cannot be judged from its text, if it cannot.
    pub unknown: Option<String>,
    pub(crate) facts: Facts,
}

impl ShellCommand {
    /// The program and its arguments, re-quoted for display.
    pub fn effective_text(&self) -> String {
        render(self.facts.words.iter())
    }
}

/// Every simple command `script` would run, in the order they appear (a nested script's
/// commands follow the command that runs it). Never panics.
///
/// Nothing is looked up: a script file, a program given by its path or a git alias from a
/// configuration file is unknown. See [`analyse_with`].
pub fn analyse(script: &str) -> Result<Vec<ShellCommand>, ShellError> {
    analyse_with(script, &crate::NoContext)
}

/// Like [`analyse`], looking up through `ctx` the scripts a command runs (`bash p.sh`, `. p.sh`,
/// `./p.sh`: their commands follow it), the programs it names by path (a copy or link of `git`
/// is `git`) and the git aliases it uses.
pub fn analyse_with(
    script: &str,
    ctx: &dyn crate::ShellContext,
) -> Result<Vec<ShellCommand>, ShellError> {
    let mut out = Vec::new();
    let mut analyser = unwrap::Analyser::new(ctx);
    unwrap::analyse_into(script, 0, &mut analyser, &mut out)?;
    if analyser.too_deep {
        return Err(ShellError::TooDeep);
    }
    Ok(out)
}

/// Words joined for display; static words with special characters are single-quoted.
pub(crate) fn render<'a>(words: impl Iterator<Item = &'a Word>) -> String {
    let mut out = String::new();
    for w in words {
        if !out.is_empty() {
            out.push(' ');
        }
        let plain = !w.text.is_empty()
            && w.text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-./=:,+@%^~".contains(c) || !c.is_ascii());
        if plain || !w.is_static() {
            out.push_str(&w.text);
        } else {
            out.push('\'');
            out.push_str(&w.text.replace('\'', r"'\''"));
            out.push('\'');
        }
    }
    out
}

#[cfg(test)]
mod tests;

//! Sorting a shell command into a [`Class`], which the mode's defaults are stated in.

mod git;
mod publish;
mod readonly;

use crate::decision::Class;
use crate::shell::{ShellCommand, Word};

#[cfg(test)]
pub(crate) use git::READ_ONLY_GIT;
#[cfg(test)]
pub(crate) use publish::PUBLISHING;
#[cfg(test)]
pub(crate) use readonly::READ_ONLY_PROGRAMS;

pub(crate) fn classify(cmd: &ShellCommand) -> Class {
    if cmd.unknown.is_some() && (!cmd.facts.in_script_file || cmd.facts.lookup_failed) {
        Class::UnknownCommand
    } else if cmd.facts.privileged {
        Class::PrivilegedCommand
    } else if publish::is_publishing(cmd) {
        Class::PublishingCommand
    } else if readonly::is_read_only(cmd) {
        Class::ReadOnlyCommand
    } else {
        Class::Command
    }
}

/// Variables a command may be given without changing which program runs or what it loads.
/// Anything else (`PATH`, `LD_PRELOAD`, `GIT_SSH_COMMAND`, `BASH_ENV`, …) makes a command not
/// read-only, and keeps allow rules from matching the command it prefixes.
pub(crate) fn safe_env(name: &str) -> bool {
    const SAFE: [&str; 24] = [
        "LANG",
        "LANGUAGE",
        "TZ",
        "TERM",
        "COLUMNS",
        "LINES",
        "NO_COLOR",
        "CLICOLOR",
        "CLICOLOR_FORCE",
        "FORCE_COLOR",
        "COLORTERM",
        "TIME_STYLE",
        "QUOTING_STYLE",
        "BLOCK_SIZE",
        "POSIXLY_CORRECT",
        "RUST_LOG",
        "RUST_BACKTRACE",
        "RUST_TEST_THREADS",
        "CARGO_TERM_COLOR",
        "CARGO_INCREMENTAL",
        "CI",
        "TMPDIR",
        "PYTHONUNBUFFERED",
        "PYTHONDONTWRITEBYTECODE",
    ];
    SAFE.contains(&name) || name.starts_with("LC_")
}

/// Index in `args` (after `git`) of the subcommand, past git's global options; `args.len()`
/// when there is none, `None` when an option is only known at run time.
pub(crate) fn git_subcommand_index(args: &[Word]) -> Option<usize> {
    const VALUED: [&str; 7] = [
        "-C",
        "-c",
        "--git-dir",
        "--work-tree",
        "--namespace",
        "--super-prefix",
        "--config-env",
    ];
    subcommand_index(args, &VALUED, |_| false)
}

/// Like [`git_subcommand_index`] for `cargo` (`cargo +nightly --locked publish`).
pub(crate) fn cargo_subcommand_index(args: &[Word]) -> Option<usize> {
    const VALUED: [&str; 4] = ["--color", "--config", "-Z", "-C"];
    subcommand_index(args, &VALUED, |t| t.starts_with('+'))
}

fn subcommand_index(args: &[Word], valued: &[&str], skip: impl Fn(&str) -> bool) -> Option<usize> {
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if !a.is_static() && a.may_be_option() {
            return None;
        }
        let t = a.text.as_str();
        if valued.contains(&t) {
            i += 2;
        } else if (t.starts_with('-') && t != "-") || skip(t) {
            i += 1;
        } else {
            return Some(i);
        }
    }
    Some(args.len())
}

/// The part of a short-option cluster (`-abc`) or long option (`--name=value`) that names it.
pub(crate) fn long_name(t: &str) -> &str {
    t.split_once('=').map_or(t, |(name, _)| name)
}

//! What a `git` command really runs: its aliases (from `-c`, `--config-env`, the
//! `GIT_CONFIG_*` variables and, through the [`ShellContext`](crate::ShellContext), the
//! configuration files), its dashed programs (`git-push`), and what `git config` writes.
//!
//! An alias is the command it stands for: `git -c alias.p=push p` is matched and classified as
//! `git push`, a `!…` alias is analysed as the shell command it runs, and writing an alias
//! (`git config alias.pp push`) is judged as the command it defines. An alias that cannot be
//! looked up is unknown.

use super::git_commands::GIT_COMMANDS;
use super::git_config::{alias, config_write, exec_path_moved, split_cmdline};
use super::nested::nested_script;
use super::parse::RawCommand;
use super::unwrap::{Analyser, Facts, Layer, LayerUse, analyse_into, expand};
use super::word::Word;
use super::{ShellCommand, render};
use crate::classify::git_subcommand_index;
use crate::context::ConfigLookup;

/// git's plumbing that sends commits to a remote as `git push` does: also matched as `git push`.
const PUSH_PLUMBING: [&str; 2] = ["send-pack", "http-push"];

/// How many aliases in a row are followed (git itself refuses loops).
const MAX_ALIASES: usize = 16;

/// Config keys whose value git runs as a shell command.
pub(super) fn command_valued_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    let (section, name) = match (key.split_once('.'), key.rsplit_once('.')) {
        (Some((section, _)), Some((_, name))) => (section, name),
        _ => ("", ""),
    };
    // `remote.X.uploadpack`, `diff.X.textconv`, `filter.X.smudge`, `merge.X.driver`, …
    let per_name = matches!(
        (section, name),
        ("remote", "uploadpack" | "receivepack" | "vcs")
            | ("diff", "textconv" | "command")
            | ("filter", "clean" | "smudge" | "process")
            | ("merge", "driver")
            | ("sendemail", "sendmailcmd" | "tocmd" | "cccmd")
            | ("core", "gitproxy")
    );
    per_name
        || key.starts_with("pager.")
        || key == "credential.helper"
        || (key.starts_with("credential.") && key.ends_with(".helper"))
        || matches!(
            key.as_str(),
            "core.pager"
                | "core.sshcommand"
                | "core.fsmonitor"
                | "core.editor"
                | "core.askpass"
                | "core.hookspath"
                | "sequence.editor"
                | "diff.external"
                | "gpg.program"
        )
}

/// Sees through a git command (in `cur`): dashed programs, aliases, `git config` writes.
pub(super) fn resolve(
    an: &mut Analyser<'_>,
    cur: &mut Vec<Word>,
    env: &[Word],
    depth: usize,
    nested: &mut Vec<ShellCommand>,
    unknown: &mut Option<String>,
    facts: &mut Facts,
) {
    let Some(program) = cur.first() else { return };
    let name = program.text.rsplit('/').next().unwrap_or_default();
    if let Some(sub) = name.strip_prefix("git-")
        && GIT_COMMANDS.contains(&sub)
        && program.is_static()
    {
        // `git-push …` (from git's exec path) is `git push …`.
        let mut words = vec![Word::literal("git"), Word::literal(sub)];
        words.extend_from_slice(&cur[1..]);
        *cur = words;
        stand_for(facts, cur);
    } else if name != "git" || !program.is_static() {
        return;
    }
    for _ in 0..MAX_ALIASES {
        let args = &cur[1..];
        let Some(at) = git_subcommand_index(args) else {
            return;
        };
        let Some(sub) = args.get(at) else { return };
        if !sub.is_static() {
            return;
        }
        let globals = &args[..at];
        let rest = &args[at + 1..];
        if GIT_COMMANDS.contains(&sub.text.as_str()) {
            if PUSH_PLUMBING.contains(&sub.text.as_str()) {
                let mut words = vec![Word::literal("git"), Word::literal("push")];
                words.extend_from_slice(rest);
                facts.layers.push(Layer::new(
                    &words,
                    facts.trailing,
                    LayerUse::DenyAndAskRules,
                ));
            }
            match sub.text.as_str() {
                "config" => config_write(an, rest, depth, nested, unknown),
                "rebase" | "submodule" | "bisect" | "filter-branch" | "difftool" | "fetch"
                | "pull" | "clone" | "ls-remote" | "archive" => {
                    let rest = rest.to_vec();
                    commands_run_by(an, &sub.text, &rest, depth, nested, unknown);
                }
                _ => {}
            }
            return;
        }
        let value = match alias(an, globals, env, &sub.text) {
            ConfigLookup::Value(value) => value,
            ConfigLookup::Absent => {
                if exec_path_moved(an, globals, env) {
                    facts.lookup_failed = true;
                    unknown.get_or_insert(format!(
                        "`git {}` runs a program from an exec path set for this command",
                        sub.text
                    ));
                }
                return;
            }
            ConfigLookup::Unknown(why) => {
                facts.lookup_failed = true;
                unknown.get_or_insert(format!(
                    "`git {}` may be an alias, which cannot be looked up: {why}",
                    sub.text
                ));
                return;
            }
        };
        if let Some(script) = value.strip_prefix('!') {
            // git runs `!…` aliases with the shell, its arguments appended.
            let text = format!("{script} {}", render(rest.iter()));
            if let Err(e) = analyse_into(&text, depth + 1, an, nested) {
                unknown.get_or_insert(format!(
                    "the alias `{}` runs a command that cannot be analysed: {e}",
                    sub.text
                ));
            }
            facts.runs_analysed_script = true;
            return;
        }
        let Some(alias_words) = split_cmdline(&value) else {
            unknown.get_or_insert(format!(
                "the alias `{}` (`{value}`) cannot be split into words",
                sub.text
            ));
            return;
        };
        if alias_words.is_empty() {
            return;
        }
        let mut words = vec![cur[0].clone()];
        words.extend_from_slice(globals);
        words.extend(alias_words.iter().map(|w| Word::literal(w)));
        words.extend_from_slice(rest);
        *cur = words;
        stand_for(facts, cur);
    }
    unknown.get_or_insert("git aliases refer to each other too deeply".to_owned());
}

/// `cur` is what really runs: allow rules see only it from now on (an allow rule for `git pp`
/// must not allow the push that `pp` stands for).
pub(super) fn stand_for(facts: &mut Facts, cur: &[Word]) {
    for layer in &mut facts.layers {
        layer.usable = LayerUse::DenyAndAskRules;
    }
    let usable = if facts.unsafe_env || facts.privileged {
        LayerUse::DenyAndAskRules
    } else {
        LayerUse::AllRules
    };
    facts.layers.push(Layer::new(cur, facts.trailing, usable));
}

/// Shell commands that git subcommands run: `rebase -x/--exec CMD`, `submodule foreach CMD`,
/// `bisect run CMD…`, `filter-branch --*-filter CMD`, `difftool -x/--extcmd CMD`.
fn commands_run_by(
    an: &mut Analyser<'_>,
    sub: &str,
    rest: &[Word],
    depth: usize,
    nested: &mut Vec<ShellCommand>,
    unknown: &mut Option<String>,
) {
    let first_operand = rest.iter().position(|w| !w.text.starts_with('-'));
    match sub {
        "submodule" | "bisect" => {
            let verb = if sub == "submodule" { "foreach" } else { "run" };
            let Some(at) = first_operand.filter(|&i| rest[i].text == verb) else {
                return;
            };
            let words = &rest[at + 1..];
            let words = match (sub, words.first()) {
                // `foreach --recursive CMD`
                ("submodule", Some(w)) if w.text.starts_with("--") => &words[1..],
                _ => words,
            };
            if words.is_empty() {
                return;
            }
            if sub == "submodule" {
                // git joins the words and runs them with the shell.
                let text: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
                let joined = Word {
                    text: text.join(" "),
                    dynamic_at: words.iter().find_map(|w| w.dynamic_at),
                    ..Word::default()
                };
                nested_script(&joined, &joined.text.clone(), depth, an, nested, unknown);
            } else {
                let raw = RawCommand {
                    words: words.to_vec(),
                    ..RawCommand::default()
                };
                expand(raw, depth + 1, an, nested);
            }
        }
        "rebase" | "filter-branch" | "difftool" | "fetch" | "pull" | "clone" | "ls-remote"
        | "archive" => {
            let mut i = 0;
            while let Some(w) = rest.get(i) {
                i += 1;
                let t = w.text.as_str();
                let runs = match sub {
                    "rebase" => matches!(t, "-x" | "--exec"),
                    "difftool" => matches!(t, "-x" | "--extcmd"),
                    "filter-branch" => t.starts_with("--") && t.ends_with("-filter"),
                    // The program run for a local or ssh remote, through the shell.
                    "clone" => matches!(t, "-u" | "--upload-pack"),
                    "archive" => t == "--exec",
                    _ => t == "--upload-pack",
                };
                let attached = ["--exec=", "--extcmd=", "--upload-pack="]
                    .iter()
                    .find_map(|p| t.strip_prefix(p).map(str::to_owned));
                if runs && let Some(script) = rest.get(i) {
                    i += 1;
                    nested_script(script, &script.text.clone(), depth, an, nested, unknown);
                } else if let Some(script) = attached {
                    nested_script(w, &script, depth, an, nested, unknown);
                }
            }
        }
        _ => {}
    }
}

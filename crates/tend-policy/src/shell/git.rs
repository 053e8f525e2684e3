//! What a `git` command really runs: its aliases (from `-c`, `--config-env`, the
//! `GIT_CONFIG_*` variables and, through the [`ShellContext`](crate::ShellContext), the
//! configuration files), its dashed programs (`git-push`), and what `git config` writes.
//!
//! An alias is the command it stands for: `git -c alias.p=push p` is matched and classified as
//! `git push`, a `!…` alias is analysed as the shell command it runs, and writing an alias
//! (`git config alias.pp push`) is judged as the command it defines. An alias that cannot be
//! looked up is unknown.

use super::parse::{Parser, RawCommand};
use super::unwrap::{Analyser, Facts, Layer, LayerUse, analyse_into, expand, nested_script};
use super::word::Word;
use super::{ShellCommand, render};
use crate::classify::git_subcommand_index;
use crate::context::{ConfigLookup, GitScope};

/// git's own commands (`git --list-cmds=main,nohelpers`, plus helpers that publish): an alias
/// cannot replace them, so they are never looked up.
const GIT_COMMANDS: &[&str] = &[
    "add",
    "am",
    "annotate",
    "apply",
    "archimport",
    "archive",
    "bisect",
    "blame",
    "branch",
    "bugreport",
    "bundle",
    "cat-file",
    "check-attr",
    "check-ignore",
    "check-mailmap",
    "check-ref-format",
    "checkout",
    "checkout-index",
    "cherry",
    "cherry-pick",
    "clean",
    "clone",
    "column",
    "commit",
    "commit-graph",
    "commit-tree",
    "config",
    "count-objects",
    "credential",
    "credential-cache",
    "credential-store",
    "cvsexportcommit",
    "cvsimport",
    "cvsserver",
    "daemon",
    "describe",
    "diagnose",
    "diff",
    "diff-files",
    "diff-index",
    "diff-tree",
    "difftool",
    "fast-export",
    "fast-import",
    "fetch",
    "fetch-pack",
    "filter-branch",
    "fmt-merge-msg",
    "for-each-ref",
    "for-each-repo",
    "format-patch",
    "fsck",
    "fsck-objects",
    "gc",
    "get-tar-commit-id",
    "grep",
    "hash-object",
    "help",
    "hook",
    "http-backend",
    "http-fetch",
    "http-push",
    "imap-send",
    "index-pack",
    "init",
    "init-db",
    "instaweb",
    "interpret-trailers",
    "log",
    "ls-files",
    "ls-remote",
    "ls-tree",
    "mailinfo",
    "mailsplit",
    "maintenance",
    "merge",
    "merge-base",
    "merge-file",
    "merge-index",
    "merge-octopus",
    "merge-one-file",
    "merge-ours",
    "merge-recursive",
    "merge-recursive-ours",
    "merge-recursive-theirs",
    "merge-resolve",
    "merge-subtree",
    "merge-tree",
    "mergetool",
    "mktag",
    "mktree",
    "multi-pack-index",
    "mv",
    "name-rev",
    "notes",
    "p4",
    "pack-objects",
    "pack-redundant",
    "pack-refs",
    "patch-id",
    "pickaxe",
    "prune",
    "prune-packed",
    "pull",
    "push",
    "quiltimport",
    "range-diff",
    "read-tree",
    "rebase",
    "receive-pack",
    "reflog",
    "refs",
    "remote",
    "remote-ext",
    "remote-fd",
    "remote-ftp",
    "remote-ftps",
    "remote-http",
    "remote-https",
    "repack",
    "replace",
    "replay",
    "request-pull",
    "rerere",
    "reset",
    "restore",
    "rev-list",
    "rev-parse",
    "revert",
    "rm",
    "send-email",
    "send-pack",
    "shell",
    "shortlog",
    "show",
    "show-branch",
    "show-index",
    "show-ref",
    "sparse-checkout",
    "stage",
    "stash",
    "status",
    "stripspace",
    "submodule",
    "svn",
    "switch",
    "symbolic-ref",
    "tag",
    "unpack-file",
    "unpack-objects",
    "update-index",
    "update-ref",
    "update-server-info",
    "upload-archive",
    "upload-pack",
    "var",
    "verify-commit",
    "verify-pack",
    "verify-tag",
    "version",
    "whatchanged",
    "worktree",
    "write-tree",
];

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

/// The variables the command sees: those earlier commands set, then its own.
fn variables(an: &Analyser<'_>, env: &[Word]) -> Vec<(String, Word)> {
    an.exported
        .iter()
        .chain(env)
        .filter_map(|w| {
            let (name, value) = w.text.split_once('=')?;
            let mut value_word = w.clone();
            value_word.text = value.to_owned();
            value_word.dynamic_at = w.dynamic_at.map(|d| d.saturating_sub(name.len() + 1));
            Some((name.trim_end_matches('+').to_owned(), value_word))
        })
        .collect()
}

fn variable<'a>(vars: &'a [(String, Word)], name: &str) -> Option<&'a Word> {
    vars.iter().rev().find(|(n, _)| n == name).map(|(_, w)| w)
}

/// `alias.NAME` as git would see it: the command line last, then the environment, then the
/// configuration files (through the context).
fn alias(an: &Analyser<'_>, globals: &[Word], env: &[Word], name: &str) -> ConfigLookup {
    let key = format!("alias.{}", name.to_ascii_lowercase());
    let vars = variables(an, env);
    // Command-line settings, in order: the last one wins.
    let mut found: Option<ConfigLookup> = None;
    let mut i = 0;
    while let Some(w) = globals.get(i) {
        i += 1;
        let setting = match w.text.as_str() {
            "-c" | "--config-env" => {
                let kind = w.text.clone();
                i += 1;
                globals.get(i - 1).map(|v| (kind, v))
            }
            t if t.starts_with("--config-env=") => Some(("--config-env=".to_owned(), w)),
            _ => None,
        };
        let Some((kind, word)) = setting else {
            continue;
        };
        let text = if kind == "--config-env=" {
            &word.text["--config-env=".len()..]
        } else {
            word.text.as_str()
        };
        let Some((k, v)) = text.split_once('=') else {
            continue;
        };
        if k.to_ascii_lowercase() != key {
            continue;
        }
        if !word.is_static() {
            found = Some(ConfigLookup::Unknown(format!(
                "`{}` is only known when it runs",
                word.text
            )));
        } else if kind == "-c" {
            found = Some(ConfigLookup::Value(v.to_owned()));
        } else {
            found = Some(match variable(&vars, v) {
                Some(value) if value.is_static() => ConfigLookup::Value(value.text.clone()),
                Some(_) | None => ConfigLookup::Unknown(format!(
                    "its value comes from the variable `{v}`, which is not set in the command"
                )),
            });
        }
    }
    if let Some(found) = found {
        return found;
    }
    if let Some(found) = alias_from_environment(&vars, &key) {
        return found;
    }
    if an.cwd_changed {
        return ConfigLookup::Unknown(
            "the directory may have changed, so its repository is not known".to_owned(),
        );
    }
    let mut scope = GitScope::default();
    for w in globals {
        if !w.is_static() {
            return ConfigLookup::Unknown(format!("`{}` is only known when it runs", w.text));
        }
        scope.options.push(w.text.clone());
    }
    for (name, value) in &vars {
        if name.starts_with("GIT_") {
            if !value.is_static() {
                return ConfigLookup::Unknown(format!("`{name}` is only known when it runs"));
            }
            scope.env.push((name.clone(), value.text.clone()));
        }
    }
    an.ctx.git_config(&key, &scope)
}

/// `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n` (which win over
/// `GIT_CONFIG_PARAMETERS`, being read after it), then `GIT_CONFIG_PARAMETERS`.
fn alias_from_environment(vars: &[(String, Word)], key: &str) -> Option<ConfigLookup> {
    let dynamic = |name: &str| {
        Some(ConfigLookup::Unknown(format!(
            "`{name}` is only known when it runs"
        )))
    };
    if let Some(count) = variable(vars, "GIT_CONFIG_COUNT") {
        if !count.is_static() {
            return dynamic("GIT_CONFIG_COUNT");
        }
        let n: usize = count.text.trim().parse().unwrap_or(0);
        let mut found = None;
        for i in 0..n.min(1000) {
            let (k, v) = (
                format!("GIT_CONFIG_KEY_{i}"),
                format!("GIT_CONFIG_VALUE_{i}"),
            );
            let Some(kw) = variable(vars, &k) else {
                continue;
            };
            if !kw.is_static() {
                return dynamic(&k);
            }
            if kw.text.to_ascii_lowercase() != key {
                continue;
            }
            found = match variable(vars, &v) {
                Some(vw) if vw.is_static() => Some(ConfigLookup::Value(vw.text.clone())),
                Some(_) => dynamic(&v),
                None => Some(ConfigLookup::Value(String::new())),
            };
        }
        if found.is_some() {
            return found;
        }
    }
    let params = variable(vars, "GIT_CONFIG_PARAMETERS")?;
    if !params.is_static() {
        return dynamic("GIT_CONFIG_PARAMETERS");
    }
    // Shell-quoted `'key'='value'` (or older `'key=value'`) entries, separated by blanks.
    let Ok(commands) = Parser::parse(&params.text, 1) else {
        return Some(ConfigLookup::Unknown(
            "`GIT_CONFIG_PARAMETERS` cannot be read".to_owned(),
        ));
    };
    let mut found = None;
    for RawCommand {
        assignments, words, ..
    } in commands
    {
        for w in assignments.iter().chain(&words) {
            if let Some((k, v)) = w.text.split_once('=')
                && k.to_ascii_lowercase() == key
            {
                found = Some(ConfigLookup::Value(v.to_owned()));
            }
        }
    }
    found
}

/// `--exec-path=DIR` or `GIT_EXEC_PATH`: dashed programs come from elsewhere.
fn exec_path_moved(an: &Analyser<'_>, globals: &[Word], env: &[Word]) -> bool {
    globals.iter().any(|w| w.text.starts_with("--exec-path="))
        || variable(&variables(an, env), "GIT_EXEC_PATH").is_some()
}

/// `git config [options] KEY VALUE`, `git config set KEY VALUE`, `--add`, `--replace-all`:
/// an alias or a command-valued setting written is judged as the command it defines.
fn config_write(
    an: &mut Analyser<'_>,
    args: &[Word],
    depth: usize,
    nested: &mut Vec<ShellCommand>,
    unknown: &mut Option<String>,
) {
    const VALUED: [&str; 9] = [
        "-f",
        "--file",
        "--blob",
        "--type",
        "-t",
        "--default",
        "--comment",
        "--value",
        "--url",
    ];
    const READING: [&str; 15] = [
        "--get",
        "--get-all",
        "--get-regexp",
        "--get-urlmatch",
        "--get-color",
        "--get-colorbool",
        "-l",
        "--list",
        "--unset",
        "--unset-all",
        "--rename-section",
        "--remove-section",
        "-e",
        "--edit",
        "--show-origin",
    ];
    let mut operands = Vec::new();
    let mut i = 0;
    while let Some(w) = args.get(i) {
        i += 1;
        let t = w.text.as_str();
        if READING.contains(&t) && t != "--show-origin" {
            return;
        }
        if VALUED.contains(&t) {
            i += 1;
        } else if !t.starts_with('-') || !w.is_static() {
            operands.push(w);
        }
    }
    let (key, value) = match operands.as_slice() {
        [set, key, value, ..] if set.text == "set" => (*key, *value),
        [first, ..]
            if [
                "get",
                "list",
                "unset",
                "rename-section",
                "remove-section",
                "edit",
            ]
            .contains(&first.text.as_str()) =>
        {
            return;
        }
        [key, value, ..] => (*key, *value),
        _ => return,
    };
    if !key.is_static() {
        unknown.get_or_insert(format!(
            "`git config` writes a key only known when it runs (`{}`)",
            key.text
        ));
        return;
    }
    let lower = key.text.to_ascii_lowercase();
    if lower.starts_with("alias.") {
        if !value.is_static() {
            unknown.get_or_insert(format!(
                "`git config` defines the alias `{}` as a command only known when it runs",
                key.text
            ));
        } else if let Some(script) = value.text.strip_prefix('!') {
            nested_script(value, script, depth, an, nested, unknown);
        } else {
            // The command the alias will stand for: `git push` for `alias.pp push`.
            match split_cmdline(&value.text) {
                Some(words) => {
                    let mut all = vec![Word::literal("git")];
                    all.extend(words.iter().map(|w| Word::literal(w)));
                    let raw = RawCommand {
                        words: all,
                        ..RawCommand::default()
                    };
                    expand(raw, depth + 1, an, nested);
                }
                None => {
                    unknown.get_or_insert(format!(
                        "the alias `{}` cannot be split into words",
                        key.text
                    ));
                }
            }
        }
    } else if command_valued_key(&lower) {
        nested_script(value, &value.text.clone(), depth, an, nested, unknown);
    }
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

/// Splits an alias value into words as git does (`'…'`, `"…"` and `\` quote); `None` for
/// unbalanced quotes.
fn split_cmdline(value: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut started = false;
    let mut quote: Option<char> = None;
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (None, '\'' | '"') => {
                quote = Some(c);
                started = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None | Some('"'), '\\') => {
                word.push(chars.next()?);
                started = true;
            }
            (_, c) => {
                word.push(c);
                started = true;
            }
        }
    }
    if quote.is_some() {
        return None;
    }
    if started {
        words.push(word);
    }
    Some(words)
}

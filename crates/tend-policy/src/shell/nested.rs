//! Commands a command runs from its arguments or settings: `find -exec`, `alias` and `trap`
//! scripts, git's command-valued `-c` settings, and variables that hold commands.

use super::ShellCommand;
use super::parse::RawCommand;
use super::unwrap::{Analyser, Facts, analyse_into, expand, system_name};
use super::word::Word;

/// Commands that a command runs by name in its arguments: `find -exec`, and the scripts of
/// `alias` and `trap`.
pub(super) fn nested_commands(
    cur: &[Word],
    depth: usize,
    an: &mut Analyser<'_>,
    nested: &mut Vec<ShellCommand>,
    unknown: &mut Option<String>,
    facts: &mut Facts,
) {
    let Some(name) = cur.first().and_then(|w| system_name(&w.text)) else {
        return;
    };
    let args = &cur[1..];
    match name {
        "find" => {
            let mut i = 0;
            while i < args.len() {
                if matches!(
                    args[i].text.as_str(),
                    "-exec" | "-execdir" | "-ok" | "-okdir"
                ) {
                    let start = i + 1;
                    let Some(len) = args[start..]
                        .iter()
                        .position(|w| matches!(w.text.as_str(), ";" | "+"))
                    else {
                        unknown.get_or_insert("`find -exec` without `;` or `+`".to_owned());
                        return;
                    };
                    let mut words = args[start..start + len].to_vec();
                    // `{}` is each file found: a run-time value (`-exec {} ;` runs files).
                    for w in &mut words {
                        if let Some(at) = w.text.find("{}") {
                            let at = w.text[..at].chars().count();
                            w.dynamic_at = Some(w.dynamic_at.map_or(at, |d| d.min(at)));
                        }
                    }
                    let raw = RawCommand {
                        words,
                        ..RawCommand::default()
                    };
                    expand(raw, depth + 1, an, nested);
                    i = start + len;
                }
                i += 1;
            }
        }
        "git" => {
            let end = crate::classify::git_subcommand_index(args).unwrap_or(args.len());
            for pair in args[..end].windows(2) {
                if pair[0].text != "-c" {
                    continue;
                }
                let Some((key, value)) = pair[1].text.split_once('=') else {
                    continue;
                };
                // Aliases are analysed where they are used (see `git::resolve`).
                let script = super::git::command_valued_key(key).then_some(value);
                if let Some(script) = script {
                    nested_script(&pair[1], script, depth, an, nested, unknown);
                }
            }
        }
        "alias" | "trap" => {
            let scripts: Vec<&Word> = if name == "alias" {
                args.iter().filter(|w| w.text.contains('=')).collect()
            } else {
                args.iter()
                    .take(1)
                    .filter(|w| args.len() > 1 && !w.text.starts_with('-'))
                    .collect()
            };
            for w in scripts {
                if !w.is_static() {
                    unknown.get_or_insert(format!("`{name}` with a script known only at run time"));
                    continue;
                }
                let text = match name {
                    "alias" => w.text.split_once('=').map_or("", |(_, v)| v),
                    _ => &w.text,
                };
                if let Err(e) = analyse_into(text, depth + 1, an, nested) {
                    unknown.get_or_insert(format!("its script cannot be analysed: {e}"));
                }
            }
            facts.runs_analysed_script = true;
        }
        _ => {}
    }
}

/// Analyses `script`, a piece of `word` that a program will run as a shell command.
pub(super) fn nested_script(
    word: &Word,
    script: &str,
    depth: usize,
    an: &mut Analyser<'_>,
    nested: &mut Vec<ShellCommand>,
    unknown: &mut Option<String>,
) {
    if !word.is_static() {
        unknown.get_or_insert(format!(
            "`{}` holds a command known only at run time",
            word.text
        ));
    } else if let Err(e) = analyse_into(script, depth + 1, an, nested) {
        unknown.get_or_insert(format!(
            "the command in `{}` cannot be analysed: {e}",
            word.text
        ));
    }
}

/// Variables whose value programs run as a command (`GIT_SSH_COMMAND='…' git fetch`).
pub(super) fn command_valued_variable(name: &str) -> bool {
    matches!(
        name,
        "GIT_SSH_COMMAND"
            | "GIT_SSH"
            | "GIT_EDITOR"
            | "GIT_SEQUENCE_EDITOR"
            | "GIT_PAGER"
            | "GIT_EXTERNAL_DIFF"
            | "GIT_ASKPASS"
            | "SSH_ASKPASS"
            | "PAGER"
            | "MANPAGER"
            | "EDITOR"
            | "VISUAL"
            | "BROWSER"
            | "LESSOPEN"
            | "PROMPT_COMMAND"
    )
}

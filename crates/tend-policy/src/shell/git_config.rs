//! git's configuration as a command sees it: aliases from the command line, the environment
//! and (through the [`ShellContext`](crate::ShellContext)) the configuration files; and what
//! `git config` writes, judged as the command it defines.

use super::ShellCommand;
use super::git::command_valued_key;
use super::nested::nested_script;
use super::parse::{Parser, RawCommand};
use super::unwrap::{Analyser, expand};
use super::word::Word;
use crate::context::{ConfigLookup, GitScope};

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
pub(super) fn alias(an: &Analyser<'_>, globals: &[Word], env: &[Word], name: &str) -> ConfigLookup {
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
pub(super) fn exec_path_moved(an: &Analyser<'_>, globals: &[Word], env: &[Word]) -> bool {
    globals.iter().any(|w| w.text.starts_with("--exec-path="))
        || variable(&variables(an, env), "GIT_EXEC_PATH").is_some()
}

/// `git config [options] KEY VALUE`, `git config set KEY VALUE`, `--add`, `--replace-all`:
/// an alias or a command-valued setting written is judged as the command it defines.
pub(super) fn config_write(
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

/// Splits an alias value into words as git does (`'…'`, `"…"` and `\` quote); `None` for
/// unbalanced quotes.
pub(super) fn split_cmdline(value: &str) -> Option<Vec<String>> {
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

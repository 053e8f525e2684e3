//! Wrappers that run another command (`timeout`, `env`, `sudo`, `xargs`, …) and programs that
//! run a script (`bash -c`, `eval`, `watch`, `su -c`): where their command or script is.

use super::TrailingArgs;
use super::word::{Word, is_name};

pub(super) fn env_name(w: &Word) -> Option<&str> {
    let (name, _) = w.text.split_once('=')?;
    is_name(name).then_some(name)
}

/// Where a nested script's text is.
pub(super) enum ScriptFrom {
    /// One argument (`bash -c SCRIPT`).
    Arg(usize),
    /// The arguments from here on, joined by spaces (`eval`, `watch`).
    Args(usize),
    Stdin,
    /// A script file, this argument (`bash x.sh`, `source x.sh`): not analysed, but nothing
    /// unknown either, since running a file is like running `./x.sh`; unless the file's name is
    /// only known at run time (`source <(curl …)`).
    File(usize),
}

pub(super) struct Inner {
    /// Index in the wrapper's arguments where the inner command starts.
    pub(super) at: usize,
    pub(super) env: Vec<Word>,
    pub(super) trailing: TrailingArgs,
    pub(super) privileged: bool,
    pub(super) writes: bool,
    /// The text that stands for a value read from input (`xargs -I%`, `parallel … {}`): words
    /// holding it are only known at run time.
    pub(super) replace: Option<String>,
    /// Where the inner command ends, if arguments follow it that are not its own (`parallel
    /// CMD ::: inputs`): index in the wrapper's arguments.
    pub(super) end: Option<usize>,
}

pub(super) enum Seen {
    Not,
    Inner(Inner),
    Script {
        from: ScriptFrom,
        privileged: bool,
    },
    /// A privileged program with no command of its own (`sudo -s`, `su`).
    Privileged,
    Problem(String),
}

/// Index of the first operand after a program's options (past `--`). `short_values` are the
/// short options that take a value, `long_values` the long ones (`--name value`).
fn skip_options(args: &[Word], short_values: &str, long_values: &[&str]) -> Result<usize, String> {
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if !a.is_static() && a.may_be_option() {
            return Err(format!(
                "the option `{}` is only known when it runs",
                a.text
            ));
        }
        let t = a.text.as_str();
        if t == "--" {
            return Ok(i + 1);
        }
        if !t.starts_with('-') || t == "-" {
            return Ok(i);
        }
        if let Some(long) = t.strip_prefix("--") {
            i += if long_values.contains(&long) { 2 } else { 1 };
            continue;
        }
        let cluster: Vec<char> = t.chars().skip(1).collect();
        let value_at = cluster.iter().position(|c| short_values.contains(*c));
        i += match value_at {
            Some(j) if j + 1 == cluster.len() => 2,
            _ => 1,
        };
    }
    Ok(i)
}

fn inner(at: usize) -> Inner {
    Inner {
        at,
        env: Vec::new(),
        trailing: TrailingArgs::Known,
        privileged: false,
        writes: false,
        replace: None,
        end: None,
    }
}

fn inner_if_any(args: &[Word], at: Result<usize, String>) -> Seen {
    match at {
        Ok(at) if at < args.len() => Seen::Inner(inner(at)),
        Ok(_) => Seen::Not,
        Err(p) => Seen::Problem(p),
    }
}

pub(super) const SHELLS: [&str; 8] = ["bash", "sh", "zsh", "dash", "ksh", "ash", "mksh", "fish"];

pub(super) fn see_through(name: &str, args: &[Word]) -> Seen {
    match name {
        "timeout" => match skip_options(args, "sk", &["signal", "kill-after"]) {
            Ok(at) if at + 1 < args.len() => Seen::Inner(inner(at + 1)),
            Ok(_) => Seen::Not,
            Err(p) => Seen::Problem(p),
        },
        "nice" => inner_if_any(args, skip_options(args, "n", &["adjustment"])),
        "nohup" | "setsid" | "builtin" => inner_if_any(args, skip_options(args, "", &[])),
        "exec" => inner_if_any(args, skip_options(args, "a", &[])),
        "stdbuf" => inner_if_any(
            args,
            skip_options(args, "ioe", &["input", "output", "error"]),
        ),
        "command" => {
            if args
                .first()
                .is_some_and(|a| a.text.starts_with("-v") || a.text.starts_with("-V"))
            {
                Seen::Not
            } else {
                inner_if_any(args, skip_options(args, "", &[]))
            }
        }
        "ionice" => {
            if args.iter().any(|a| {
                matches!(
                    a.text.as_str(),
                    "-p" | "-P" | "-u" | "--pid" | "--pgid" | "--uid"
                )
            }) {
                Seen::Not
            } else {
                inner_if_any(args, skip_options(args, "cn", &["class", "classdata"]))
            }
        }
        "time" => {
            let at = skip_options(args, "fo", &["format", "output"]);
            let writes = args
                .iter()
                .take(*at.as_ref().unwrap_or(&0))
                .any(|a| a.text.starts_with("-o") || a.text.starts_with("--output"));
            match inner_if_any(args, at) {
                Seen::Inner(i) => Seen::Inner(Inner { writes, ..i }),
                other => other,
            }
        }
        "xargs" => match inner_if_any(
            args,
            skip_options(
                args,
                "adEILnPs",
                &[
                    "arg-file",
                    "delimiter",
                    "max-args",
                    "max-procs",
                    "max-chars",
                    "process-slot-var",
                ],
            ),
        ) {
            Seen::Inner(i) => {
                let replace = xargs_replace(&args[..i.at]);
                Seen::Inner(Inner {
                    // With a replacement string, input goes where it stands instead.
                    trailing: if replace.is_some() {
                        TrailingArgs::Known
                    } else {
                        TrailingArgs::Unseen
                    },
                    replace,
                    ..i
                })
            }
            // `xargs` alone runs `echo`.
            other => other,
        },
        "parallel" => see_through_parallel(args),
        "env" => see_through_env(args),
        "sudo" | "doas" | "pkexec" | "run0" => {
            let at = match name {
                "sudo" => skip_options(
                    args,
                    "ugCDprtTUh",
                    &[
                        "user",
                        "group",
                        "close-from",
                        "chdir",
                        "prompt",
                        "role",
                        "type",
                        "command-timeout",
                        "other-user",
                        "host",
                    ],
                ),
                "doas" => skip_options(args, "uC", &[]),
                _ => skip_options(args, "", &["user"]),
            };
            let at = match at {
                Ok(at) => at,
                Err(p) => return Seen::Problem(p),
            };
            let assignments = args[at.min(args.len())..]
                .iter()
                .take_while(|w| w.is_static() && env_name(w).is_some())
                .count();
            if at + assignments < args.len() {
                Seen::Inner(Inner {
                    env: args[at..at + assignments].to_vec(),
                    privileged: true,
                    ..inner(at + assignments)
                })
            } else {
                Seen::Privileged
            }
        }
        "su" => match dash_c(args) {
            Some(Ok(i)) => Seen::Script {
                from: ScriptFrom::Arg(i),
                privileged: true,
            },
            Some(Err(p)) => Seen::Problem(p),
            None => Seen::Privileged,
        },
        "source" | "." => match skip_options(args, "", &[]) {
            Ok(at) if at < args.len() => Seen::Script {
                from: ScriptFrom::File(at),
                privileged: false,
            },
            Ok(_) => Seen::Not,
            Err(p) => Seen::Problem(p),
        },
        "flock" => match dash_c(args) {
            Some(found) => script_at(found),
            None => match skip_options(args, "wE", &["timeout", "wait", "conflict-exit-code"]) {
                // The lock file (or fd) comes first, the command after it.
                Ok(at) if at + 1 < args.len() => Seen::Inner(inner(at + 1)),
                Ok(_) => Seen::Not,
                Err(p) => Seen::Problem(p),
            },
        },
        "script" => dash_c(args).map_or(Seen::Not, script_at),
        // A multi-call binary: `busybox sh -c …` is `sh -c …`.
        "unbuffer" | "chronic" | "busybox" => inner_if_any(args, Ok(0)),
        // They run the command later or elsewhere, outside the run's sandbox and lifetime.
        "systemd-run" | "at" | "batch" | "crontab" => Seen::Privileged,
        "eval" => Seen::Script {
            from: ScriptFrom::Args(usize::from(args.first().is_some_and(|a| a.text == "--"))),
            privileged: false,
        },
        "watch" => {
            let exec = args.iter().any(|a| a.text == "-x" || a.text == "--exec");
            let at = skip_options(args, "nq", &["interval", "equexit"]);
            match at {
                Ok(at) if at < args.len() && exec => Seen::Inner(inner(at)),
                Ok(at) if at < args.len() => Seen::Script {
                    from: ScriptFrom::Args(at),
                    privileged: false,
                },
                Ok(_) => Seen::Not,
                Err(p) => Seen::Problem(p),
            }
        }
        shell if SHELLS.contains(&shell) => see_through_shell(args),
        _ => Seen::Not,
    }
}

/// The replacement string of `xargs -I R`, `-iR`, `-i`, `--replace[=R]` (default `{}`).
fn xargs_replace(options: &[Word]) -> Option<String> {
    let mut found = None;
    let mut i = 0;
    while let Some(o) = options.get(i) {
        let t = o.text.as_str();
        i += 1;
        if t == "-I" {
            found = options.get(i).map(|w| w.text.clone());
            i += 1;
        } else if let Some(r) = t.strip_prefix("-I") {
            found = Some(r.to_owned());
        } else if t == "-i" || t == "--replace" {
            found = Some("{}".to_owned());
        } else if let Some(r) = t.strip_prefix("--replace=") {
            found = Some(r.to_owned());
        } else if let Some(r) = t.strip_prefix("-i") {
            found = Some(r.to_owned());
        }
    }
    found.filter(|r| !r.is_empty())
}

/// GNU `parallel [options] COMMAND [::: inputs]`: `{}`, `{.}`, `{1}`, … stand for the input;
/// without them the input is appended. With no command, each input line is a command.
fn see_through_parallel(args: &[Word]) -> Seen {
    let at = match skip_options(
        args,
        "jSdEIaNnLlPsX",
        &[
            "jobs",
            "sshlogin",
            "delimiter",
            "arg-file",
            "max-args",
            "max-replace-args",
            "joblog",
            "results",
            "tmpdir",
            "workdir",
            "timeout",
            "retries",
            "colsep",
        ],
    ) {
        Ok(at) => at,
        Err(p) => return Seen::Problem(p),
    };
    let end = args[at.min(args.len())..]
        .iter()
        .position(|w| w.text.starts_with(":::"))
        .map(|p| at + p);
    let command_end = end.unwrap_or(args.len());
    if at >= command_end {
        return Seen::Problem("`parallel` runs the commands it reads from its input".to_owned());
    }
    let placeholder = args[at..command_end]
        .iter()
        .any(|w| w.text.contains('{') && w.text.contains('}'));
    Seen::Inner(Inner {
        trailing: if placeholder {
            TrailingArgs::Known
        } else {
            TrailingArgs::Unseen
        },
        replace: placeholder.then(|| "{".to_owned()),
        end,
        ..inner(at)
    })
}

/// Where the script of a `-c` option is: after `-c`, `-qc` or `--command`. `--command=…` is
/// refused rather than parsed.
fn dash_c(args: &[Word]) -> Option<Result<usize, String>> {
    args.iter().enumerate().find_map(|(i, a)| {
        let t = a.text.as_str();
        if t.starts_with("--command=") {
            Some(Err(
                "`--command=…` is not analysed; write `-c '…'`".to_owned()
            ))
        } else if t == "--command"
            || (t.starts_with('-') && !t.starts_with("--") && t.ends_with('c'))
        {
            Some(Ok(i + 1))
        } else {
            None
        }
    })
}

fn script_at(found: Result<usize, String>) -> Seen {
    match found {
        Ok(i) => Seen::Script {
            from: ScriptFrom::Arg(i),
            privileged: false,
        },
        Err(p) => Seen::Problem(p),
    }
}

fn see_through_env(args: &[Word]) -> Seen {
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if !a.is_static() && a.may_be_option() {
            return Seen::Problem(format!(
                "the option `{}` is only known when it runs",
                a.text
            ));
        }
        let t = a.text.as_str();
        if t == "--" {
            i += 1;
            break;
        }
        if t.starts_with("-S") || t.starts_with("--split-string") {
            return Seen::Problem("`env -S` builds the command from a string".to_owned());
        }
        match t {
            "-u" | "-C" | "--unset" | "--chdir" => i += 2,
            "-" => i += 1,
            _ if t.starts_with('-') => i += 1,
            _ => break,
        }
    }
    let assignments = args[i.min(args.len())..]
        .iter()
        .take_while(|w| env_name(w).is_some())
        .count();
    if i + assignments < args.len() {
        Seen::Inner(Inner {
            env: args[i..i + assignments].to_vec(),
            ..inner(i + assignments)
        })
    } else {
        Seen::Not
    }
}

/// `bash -c SCRIPT`, `bash` reading standard input, or `bash FILE`.
fn see_through_shell(args: &[Word]) -> Seen {
    let mut i = 0;
    let mut command_mode = false;
    let mut stdin_mode = false;
    while let Some(a) = args.get(i) {
        if !a.is_static() && a.may_be_option() {
            return Seen::Problem(format!(
                "the option `{}` is only known when it runs",
                a.text
            ));
        }
        let t = a.text.as_str();
        if t == "--" || t == "-" {
            i += 1;
            break;
        }
        if let Some(long) = t.strip_prefix("--") {
            if matches!(long, "version" | "help") {
                return Seen::Not;
            }
            i += if matches!(long, "rcfile" | "init-file") {
                2
            } else {
                1
            };
            continue;
        }
        if (t.starts_with('-') || t.starts_with('+')) && t.len() > 1 {
            let cluster = &t[1..];
            command_mode |= cluster.contains('c');
            stdin_mode |= cluster.contains('s');
            i += if cluster.contains('o') || cluster.contains('O') {
                2
            } else {
                1
            };
            continue;
        }
        break;
    }
    if command_mode {
        Seen::Script {
            from: ScriptFrom::Arg(i),
            privileged: false,
        }
    } else if stdin_mode || i >= args.len() {
        Seen::Script {
            from: ScriptFrom::Stdin,
            privileged: false,
        }
    } else {
        Seen::Script {
            from: ScriptFrom::File(i),
            privileged: false,
        }
    }
}

//! From parsed simple commands to [`ShellCommand`]s: wrappers seen through, nested scripts
//! analysed, and the forms of each command that rules are matched against.

use super::files::{self, ProgramFile};
use super::nested::{command_valued_variable, nested_commands, nested_script};
use super::parse::{Here, Parser, RawCommand};
use super::word::Word;
use super::wrappers::{ScriptFrom, Seen, env_name, see_through};
use super::{Redirect, RedirectKind, ShellCommand, ShellError, TrailingArgs, render};
use crate::context::ShellContext;
use crate::safe_env;

/// How far nested scripts (`bash -c 'eval "sh -c …"'`) are followed.
const MAX_SCRIPT_DEPTH: usize = 8;

/// What the classifiers and rule matcher need beyond the public fields.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Facts {
    /// The forms of the command that rules are matched against, as written first.
    pub layers: Vec<Layer>,
    /// The effective program and arguments.
    pub words: Vec<Word>,
    /// `xargs` appends arguments nobody can see yet.
    pub trailing: TrailingArgs,
    /// Runs with other privileges (`sudo`, `doas`, `su`, `pkexec`).
    pub privileged: bool,
    /// A variable outside [`safe_env`] is set, so the program may behave unlike itself.
    pub unsafe_env: bool,
    /// A wrapper writes a file (`time -o FILE`).
    pub wrapper_writes: bool,
    /// The command only runs a script that was analysed (its commands follow it in the list).
    pub runs_analysed_script: bool,
    /// `bash` and friends reading their script from a file (`bash x.sh`, `sh < x.sh`).
    pub runs_script_file: bool,
    /// The command is in a script file the run executes: what it hides (a program only known at
    /// run time, a script it cannot read) is opaque, as the whole file used to be, while what it
    /// shows is judged as if typed.
    pub in_script_file: bool,
    /// [`ShellCommand::unknown`] comes from a lookup that failed (a file that cannot be read,
    /// an alias that cannot be looked up): unknown even in a script file.
    pub lookup_failed: bool,
}

/// One form of a command for rule matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layer {
    pub words: Vec<String>,
    /// Per word, the char index from which its value is only known at run time.
    pub dynamic: Vec<Option<usize>>,
    pub trailing: TrailingArgs,
    pub usable: LayerUse,
}

/// Which rules may match a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LayerUse {
    /// Exactly what runs: any rule.
    AllRules,
    /// A normalised or weakened form (`/bin/rm` as `rm`, `git -C d push` as `git push`, the
    /// command under `sudo` or under `PATH=…`): deny and ask rules only, so that they catch it,
    /// while an allow rule cannot be stretched to cover it.
    DenyAndAskRules,
}

impl Layer {
    pub(super) fn new(words: &[Word], trailing: TrailingArgs, usable: LayerUse) -> Layer {
        Layer {
            words: words.iter().map(|w| w.text.clone()).collect(),
            dynamic: words.iter().map(|w| w.dynamic_at).collect(),
            trailing,
            usable,
        }
    }
}

/// The state of one analysis: the injected context, and what earlier commands of the same
/// command string may have changed for the later ones.
pub(crate) struct Analyser<'c> {
    pub ctx: &'c dyn ShellContext,
    /// Assignments earlier commands made (`export GIT_CONFIG_COUNT=1`, `X=1`): later commands
    /// may see them.
    pub exported: Vec<Word>,
    /// An earlier command may have written files, so a file read now may not be what runs.
    pub wrote_files: bool,
    /// An earlier command may have changed the directory, so relative paths are uncertain.
    pub cwd_changed: bool,
    /// How many script files deep the analysis is.
    pub in_file: usize,
    /// Scripts ran other scripts deeper than the analyser follows: the whole call is refused
    /// analysis (a chain of script files must not hide a push at its end).
    pub too_deep: bool,
}

impl<'c> Analyser<'c> {
    pub fn new(ctx: &'c dyn ShellContext) -> Analyser<'c> {
        Analyser {
            ctx,
            exported: Vec::new(),
            wrote_files: false,
            cwd_changed: false,
            in_file: 0,
            too_deep: false,
        }
    }

    /// Records what a command just analysed may change for the commands after it.
    fn after(&mut self, cmd: &ShellCommand, env: &[Word]) {
        let program = system_name(&cmd.program).unwrap_or(&cmd.program);
        match program {
            // Plain assignments (`X=1`) are taken as exported: `set -a` would make them so.
            "" => self.exported.extend(env.iter().cloned()),
            "cd" | "pushd" | "popd" => self.cwd_changed = true,
            "export" | "declare" | "typeset" | "local" | "readonly" => self.exported.extend(
                cmd.facts
                    .words
                    .iter()
                    .skip(1)
                    .filter(|w| w.assignment_name().is_some())
                    .cloned(),
            ),
            _ => {}
        }
        let sets_shell_state = matches!(
            program,
            "" | "cd"
                | "pushd"
                | "popd"
                | "export"
                | "declare"
                | "typeset"
                | "local"
                | "readonly"
                | "set"
                | "unset"
                | "shopt"
                | "alias"
                | "umask"
        ) && !cmd.redirects.iter().any(|r| r.writes_file());
        if !sets_shell_state
            && !matches!(
                crate::classify::classify(cmd),
                crate::Class::ReadOnlyCommand | crate::Class::NoCommand
            )
        {
            self.wrote_files = true;
        }
    }
}

pub(crate) fn analyse_into(
    script: &str,
    depth: usize,
    an: &mut Analyser<'_>,
    out: &mut Vec<ShellCommand>,
) -> Result<(), ShellError> {
    if depth > MAX_SCRIPT_DEPTH {
        an.too_deep = true;
        return Err(ShellError::TooDeep);
    }
    for raw in Parser::parse(script, depth)? {
        expand(raw, depth, an, out);
    }
    Ok(())
}

/// Where a shell's standard input comes from.
enum Stdin {
    Inherited,
    File(Word),
    Text { text: String, dynamic: bool },
}

pub(super) fn expand(
    raw: RawCommand,
    depth: usize,
    an: &mut Analyser<'_>,
    out: &mut Vec<ShellCommand>,
) {
    let stdin = raw
        .redirects
        .iter()
        .rev()
        .find_map(|r| match (&r.here, r.kind, r.fd) {
            (Here::Body { text, dynamic }, _, _) => Some(Stdin::Text {
                text: text.clone(),
                dynamic: *dynamic,
            }),
            (_, RedirectKind::Input | RedirectKind::ReadWrite, None | Some(0)) => {
                Some(Stdin::File(r.target.clone()))
            }
            _ => None,
        })
        .unwrap_or(Stdin::Inherited);
    let written: Vec<Word> = raw.assignments.iter().chain(&raw.words).cloned().collect();
    let mut facts = Facts {
        layers: vec![Layer::new(
            &written,
            TrailingArgs::Known,
            LayerUse::AllRules,
        )],
        unsafe_env: raw
            .assignments
            .iter()
            .any(|w| !w.assignment_name().is_some_and(safe_env)),
        in_script_file: an.in_file > 0,
        ..Facts::default()
    };
    let mut usable = if facts.unsafe_env {
        LayerUse::DenyAndAskRules
    } else {
        LayerUse::AllRules
    };
    let mut env: Vec<Word> = raw.assignments.clone();
    let mut cur: Vec<Word> = raw.words.clone();
    if !env.is_empty() && !cur.is_empty() {
        facts
            .layers
            .push(Layer::new(&cur, TrailingArgs::Known, usable));
    }
    let mut unknown = raw.problem.clone();
    let mut wrappers = Vec::new();
    let mut script: Option<(ScriptFrom, Vec<Word>)> = None;
    // The text of a script file run by its path (`./p.sh`).
    let mut program_script: Option<String> = None;
    while let Some(program) = cur.first() {
        if !program.is_static() {
            unknown.get_or_insert_with(|| {
                format!("the program `{}` is only known when it runs", program.text)
            });
            break;
        }
        let lookup = if program.text.contains('/') {
            system_name(&program.text)
                .is_none()
                .then(|| files::program_file(an, &program.text))
        } else {
            // A `PATH` set by the call may lead a bare name to a file the run wrote.
            files::on_search_path(an, &env, &program.text)
        };
        let name = match lookup {
            None => match system_name(&program.text) {
                Some(name) => name.to_owned(),
                None => break,
            },
            Some(found) => match found {
                ProgramFile::Known(name) => {
                    // A link to or a copy of a known program is that program.
                    cur[0] = Word::literal(&name);
                    super::git::stand_for(&mut facts, &cur);
                    name
                }
                ProgramFile::Script(text) => {
                    program_script = Some(text);
                    break;
                }
                ProgramFile::Opaque => break,
                ProgramFile::Unknown(why) => {
                    facts.lookup_failed = true;
                    unknown.get_or_insert(why);
                    break;
                }
            },
        };
        match see_through(&name, &cur[1..]) {
            Seen::Not => break,
            Seen::Inner(mut inner) => {
                if inner.trailing == TrailingArgs::Unseen {
                    facts.trailing = TrailingArgs::Unseen;
                }
                facts.wrapper_writes |= inner.writes;
                if inner.privileged {
                    facts.privileged = true;
                    usable = LayerUse::DenyAndAskRules;
                }
                if inner.env.iter().any(|w| !env_name(w).is_some_and(safe_env)) {
                    facts.unsafe_env = true;
                    usable = LayerUse::DenyAndAskRules;
                }
                env.extend(inner.env);
                wrappers.push(name);
                cur = cur.split_off(1 + inner.at);
                cur.truncate(inner.end.map_or(cur.len(), |end| end - inner.at));
                if let Some(mark) = inner.replace.take() {
                    // `xargs -I% git % …`: the marked words come from the input.
                    for w in &mut cur {
                        if let Some(at) = w.text.find(&mark) {
                            let at = w.text[..at].chars().count();
                            w.dynamic_at = Some(w.dynamic_at.map_or(at, |d| d.min(at)));
                        }
                    }
                }
                facts.layers.push(Layer::new(&cur, facts.trailing, usable));
            }
            Seen::Script { from, privileged } => {
                facts.privileged |= privileged;
                script = Some((from, cur.clone()));
                break;
            }
            Seen::Privileged => {
                facts.privileged = true;
                break;
            }
            Seen::Problem(p) => {
                unknown.get_or_insert(p);
                break;
            }
        }
    }
    let mut nested = Vec::new();
    super::git::resolve(
        an,
        &mut cur,
        &env,
        depth,
        &mut nested,
        &mut unknown,
        &mut facts,
    );
    add_normalised_layers(&cur, &mut facts);

    let script_text = match script {
        Some((from, words)) => Some(script_text(an, &from, &words, &stdin)),
        None => program_script.map(ScriptText::FileText),
    };
    if let Some(text) = script_text {
        match text {
            ScriptText::Text(text) => match analyse_into(&text, depth + 1, an, &mut nested) {
                Ok(()) => facts.runs_analysed_script = true,
                Err(e) => {
                    unknown.get_or_insert(format!("its script cannot be analysed: {e}"));
                }
            },
            ScriptText::FileText(text) => {
                an.in_file += 1;
                let analysed = analyse_into(&text, depth + 1, an, &mut nested);
                an.in_file -= 1;
                match analysed {
                    Ok(()) => facts.runs_analysed_script = true,
                    Err(e) => {
                        unknown.get_or_insert(format!("its script cannot be analysed: {e}"));
                    }
                }
            }
            ScriptText::Partial(text) => {
                let mut seen = Vec::new();
                if analyse_into(&text, depth + 1, an, &mut seen).is_ok() {
                    nested.extend(seen);
                }
                unknown.get_or_insert("its script is only known when it runs".to_owned());
            }
            ScriptText::File => facts.runs_script_file = true,
            ScriptText::NotRead(why) => {
                facts.lookup_failed = true;
                unknown.get_or_insert(why);
            }
            ScriptText::Unknown(why) => {
                unknown.get_or_insert(why);
            }
        }
    }
    nested_commands(&cur, depth, an, &mut nested, &mut unknown, &mut facts);
    for w in &env {
        if let Some((name, value)) = w.text.split_once('=')
            && command_valued_variable(name)
        {
            nested_script(w, value, depth, an, &mut nested, &mut unknown);
        }
    }

    let program = cur.first().map(|w| w.text.clone()).unwrap_or_default();
    let args = cur.iter().skip(1).map(|w| w.text.clone()).collect();
    facts.words = cur;
    let cmd = ShellCommand {
        text: render(written.iter()),
        program,
        args,
        wrappers,
        env: env.iter().map(|w| w.text.clone()).collect(),
        redirects: raw
            .redirects
            .iter()
            .map(|r| Redirect {
                fd: r.fd,
                kind: r.kind,
                target: r.target.text.clone(),
            })
            .collect(),
        unknown,
        facts,
    };
    an.after(&cmd, &env);
    out.push(cmd);
    out.extend(nested);
}

pub(super) enum ScriptText {
    Text(String),
    /// The text of a script file.
    FileText(String),
    /// A script file that cannot be read (or may not be what runs).
    NotRead(String),
    /// A script with parts only known at run time (`sh -c "rm $1"`, `xargs -I{} sh -c 'rm
    /// {}'`): unknown, but what can be seen of it is analysed too, so deny rules still catch it.
    Partial(String),
    File,
    Unknown(String),
}

fn script_text(an: &Analyser<'_>, from: &ScriptFrom, words: &[Word], stdin: &Stdin) -> ScriptText {
    let dynamic = || ScriptText::Unknown("its script is only known when it runs".to_owned());
    match from {
        ScriptFrom::Arg(i) => match words.get(1 + i) {
            Some(w) if w.is_static() => ScriptText::Text(w.text.clone()),
            Some(w) => ScriptText::Partial(w.text.clone()),
            None => ScriptText::Unknown("`-c` without a script".to_owned()),
        },
        ScriptFrom::Args(i) => {
            let parts = words.get(1 + i..).unwrap_or_default();
            let texts: Vec<&str> = parts.iter().map(|w| w.text.as_str()).collect();
            if parts.iter().all(Word::is_static) {
                ScriptText::Text(texts.join(" "))
            } else {
                ScriptText::Partial(texts.join(" "))
            }
        }
        ScriptFrom::File(i) => match words.get(1 + i) {
            Some(w) if !w.is_static() => dynamic(),
            Some(w) => files::script_file(an, &w.text),
            None => ScriptText::File,
        },
        ScriptFrom::Stdin => match stdin {
            Stdin::Text {
                text,
                dynamic: false,
            } => ScriptText::Text(text.clone()),
            Stdin::Text { dynamic: true, .. } => dynamic(),
            Stdin::File(w) if !w.is_static() => dynamic(),
            Stdin::File(w) => files::script_file(an, &w.text),
            Stdin::Inherited => {
                ScriptText::Unknown("it reads its script from standard input".to_owned())
            }
        },
    }
}

/// Forms that only deny and ask rules see: the program's base name when it was given as a path,
/// and `git`/`cargo` without the global options before their subcommand.
fn add_normalised_layers(cur: &[Word], facts: &mut Facts) {
    let Some(program) = cur.first() else { return };
    let open = facts.trailing;
    let mut words = cur.to_vec();
    if let Some((_, base)) = program.text.rsplit_once('/')
        && !base.is_empty()
    {
        words[0] = Word::literal(base);
        facts
            .layers
            .push(Layer::new(&words, open, LayerUse::DenyAndAskRules));
    }
    let skip = match words[0].text.as_str() {
        "git" => crate::classify::git_subcommand_index(&words[1..]),
        "cargo" => crate::classify::cargo_subcommand_index(&words[1..]),
        _ => None,
    };
    if let Some(skip) = skip.filter(|&s| s > 0) {
        let mut stripped = vec![words[0].clone()];
        stripped.extend_from_slice(&words[1 + skip..]);
        facts
            .layers
            .push(Layer::new(&stripped, open, LayerUse::DenyAndAskRules));
    }
}

/// The program's name if it is found on the search path (a bare name) or in a system
/// directory; `None` for `./x` and other paths, which are nobody's well-known program.
pub(crate) fn system_name(program: &str) -> Option<&str> {
    if program.is_empty() {
        return None;
    }
    if !program.contains('/') {
        return Some(program);
    }
    [
        "/bin/",
        "/usr/bin/",
        "/usr/local/bin/",
        "/sbin/",
        "/usr/sbin/",
        // git's exec path: `/usr/lib/git-core/git-push` is `git-push`.
        "/usr/lib/git-core/",
        "/usr/libexec/git-core/",
    ]
    .iter()
    .find_map(|dir| program.strip_prefix(dir))
    .filter(|rest| !rest.is_empty() && !rest.contains('/'))
}

//! Files a command runs: a script (`bash p.sh`, `. ./p.sh`, `./p.sh`) is read through the
//! [`ShellContext`](crate::ShellContext) and analysed as shell; a program given by its path is
//! the known program it links to or copies (`./gg push` with `gg` a copy of git is `git push`).

use super::unwrap::{Analyser, ScriptText};
use super::word::Word;
use super::wrappers::SHELLS;
use crate::context::FileLookup;

/// What a program given by its path (`./x`, `bin/x`, `/opt/x`) is.
pub(super) enum ProgramFile {
    /// A link to or a copy of this program on the search path.
    Known(String),
    /// A shell script (a shell's `#!` line, or none: the shell runs such files itself).
    Script(String),
    /// Something else (a binary, another interpreter's script, a file outside the workspace):
    /// judged as any other command.
    Opaque,
    Unknown(String),
}

/// Why a file read now may not be the one that runs, if it may not.
fn unsettled(an: &Analyser<'_>, path: &str) -> Option<String> {
    if an.wrote_files {
        Some(format!(
            "`{path}` may be written by an earlier command of the same call, so it cannot be read beforehand"
        ))
    } else if an.cwd_changed && !path.starts_with('/') {
        Some(format!(
            "the directory may have changed before `{path}` runs, so it cannot be read beforehand"
        ))
    } else {
        None
    }
}

pub(super) fn program_file(an: &Analyser<'_>, path: &str) -> ProgramFile {
    if let Some(why) = unsettled(an, path) {
        return ProgramFile::Unknown(why);
    }
    if let Some(name) = an.ctx.identify_program(path) {
        return ProgramFile::Known(name);
    }
    match an.ctx.read_file(path) {
        FileLookup::Bytes(bytes) => match shell_script(&bytes) {
            Some(text) => ProgramFile::Script(text),
            None => ProgramFile::Opaque,
        },
        FileLookup::Outside => ProgramFile::Opaque,
        FileLookup::Missing => ProgramFile::Unknown(format!(
            "`{path}` does not exist yet, so what it runs cannot be read"
        )),
        FileLookup::Unknown(why) => ProgramFile::Unknown(format!("`{path}` cannot be read: {why}")),
    }
}

/// What a bare program name is when the call sets `PATH` (`PATH=bin:$PATH gg push`, or an
/// earlier `export PATH=…`): the first folder of the run's own (relative, or in the workspace)
/// that holds it. `None` when `PATH` is not set, or only adds folders outside the run's.
pub(super) fn on_search_path(an: &Analyser<'_>, env: &[Word], name: &str) -> Option<ProgramFile> {
    let path = an
        .exported
        .iter()
        .chain(env)
        .rev()
        .find_map(|w| w.text.strip_prefix("PATH="))?;
    for dir in path.split(':') {
        if matches!(dir, "$PATH" | "${PATH}") {
            // The inherited search path: the system's folders.
            continue;
        }
        if dir.contains(['$', '`']) {
            if dir.starts_with("$HOME") || dir.starts_with("${HOME}") {
                // The user's own programs (`~/.cargo/bin`): not the run's to write.
                continue;
            }
            return Some(ProgramFile::Unknown(format!(
                "`PATH` holds `{dir}`, a folder only known when it runs, so `{name}` may be any program"
            )));
        }
        let dir = if dir.is_empty() { "." } else { dir };
        let candidate = format!("{}/{name}", dir.trim_end_matches('/'));
        match an.ctx.read_file(&candidate) {
            FileLookup::Outside => continue,
            FileLookup::Missing if !an.wrote_files => continue,
            FileLookup::Missing | FileLookup::Bytes(_) | FileLookup::Unknown(_) => {
                return Some(program_file(an, &candidate));
            }
        }
    }
    None
}

/// The text of a script file a shell runs (`bash FILE`, `. FILE`, `sh < FILE`).
pub(super) fn script_file(an: &Analyser<'_>, path: &str) -> ScriptText {
    if let Some(why) = unsettled(an, path) {
        return ScriptText::NotRead(why);
    }
    match an.ctx.read_file(path) {
        FileLookup::Bytes(bytes) => match String::from_utf8(bytes) {
            Ok(text) if !text.contains('\0') => ScriptText::FileText(text),
            Ok(_) | Err(_) => ScriptText::NotRead(format!("the script `{path}` is not text")),
        },
        // Not a file the run can write: like running any installed program.
        FileLookup::Outside => ScriptText::File,
        FileLookup::Missing => ScriptText::NotRead(format!(
            "the script `{path}` does not exist yet, so it cannot be read"
        )),
        FileLookup::Unknown(why) => {
            ScriptText::NotRead(format!("the script `{path}` cannot be read: {why}"))
        }
    }
}

/// The text of a file that a shell would run when it is executed: a `#!` line naming a shell
/// (directly or through `env`), or no `#!` line at all (the shell runs such text files itself).
fn shell_script(bytes: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?;
    if text.contains('\0') {
        return None;
    }
    let Some(line) = text.strip_prefix("#!") else {
        return Some(text.to_owned());
    };
    let line = line.lines().next().unwrap_or_default();
    let mut words = line.split_whitespace();
    let interpreter = words.next()?.rsplit('/').next()?;
    let interpreter = if interpreter == "env" {
        words.find(|w| !w.starts_with('-') && !w.contains('='))?
    } else {
        interpreter
    };
    // fish has its own syntax; the others are read as bash.
    (SHELLS.contains(&interpreter) && interpreter != "fish").then(|| text.to_owned())
}

//! Task files: `<repo>/.tend/tasks/<name>.md` and `<config dir>/tasks/<name>.md`.

mod def;
pub(crate) mod frontmatter;
mod parse;
mod sections;

use std::path::{Path, PathBuf};

pub use def::*;
pub(crate) use parse::money;
pub(crate) use sections::mcp as mcp_servers;

use crate::error::TaskFileError;
use crate::read::Ctx;

/// Where a task file lives, which decides where its runs happen and which config applies.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    /// `<root>/.tend/tasks/`: runs in that repository.
    Project { root: PathBuf },
    /// The user's config dir: not tied to one repository.
    User,
}

/// A loaded, validated task file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFile {
    pub path: PathBuf,
    /// The file stem, validated: it becomes part of the branch name `tend/<task>/<run-id>`.
    pub name: String,
    pub scope: Scope,
    pub def: TaskDef,
    pub prompt: String,
}

impl TaskFile {
    /// Reads and validates a task file. All problems found are returned, in file order.
    pub fn load(path: &Path, scope: Scope) -> Result<TaskFile, Vec<TaskFileError>> {
        match crate::error::read_text(path, "task file") {
            Ok(Ok(text)) => TaskFile::parse(path, &text, scope),
            Ok(Err(not_utf8)) => Err(vec![not_utf8]),
            Err(e) => Err(vec![TaskFileError::whole_file(
                path,
                format!("cannot read the task file: {e}"),
                None,
            )]),
        }
    }

    /// Validates a task file's text; `path` names the file in errors and gives the task its name.
    pub fn parse(path: &Path, text: &str, scope: Scope) -> Result<TaskFile, Vec<TaskFileError>> {
        let mut errors = Vec::new();
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Err(e) = check_task_name(&stem) {
            errors.push(TaskFileError::whole_file(path, e.message, e.hint));
        }
        match parse_content(path, text) {
            Ok((def, prompt)) if errors.is_empty() => Ok(TaskFile {
                path: path.to_path_buf(),
                name: stem,
                scope,
                def,
                prompt,
            }),
            Ok(_) => Err(errors),
            Err(more) => {
                errors.extend(more);
                Err(errors)
            }
        }
    }
}

/// The front matter and the prompt of a task file, validated.
fn parse_content(path: &Path, text: &str) -> Result<(TaskDef, String), Vec<TaskFileError>> {
    let parts = match frontmatter::split(text) {
        Ok(p) => p,
        Err(e) => {
            let ctx = Ctx::new(path, text, 0);
            ctx.error(e.offset, e.message, Some(e.hint));
            return Err(ctx.into_errors());
        }
    };
    let ctx = Ctx::new(path, &text[..parts.toml.end], parts.toml.start);
    let root = match toml::de::DeTable::parse(ctx.toml()) {
        Ok(root) => root,
        Err(e) => {
            let at = e.span().map_or(0, |s| s.start);
            ctx.error(at, format!("invalid TOML: {}", e.message()), None);
            return Err(ctx.into_errors());
        }
    };
    let def = parse::read_task_def(&ctx, root.get_ref());
    let prompt = frontmatter::prompt(&text[parts.body.clone()]);
    if let Some(def) = &def
        && prompt.is_empty()
        && def.engine != Engine::Command
    {
        let (line, col) = crate::error::line_col(text, parts.body.start);
        return Err(vec![TaskFileError {
            path: path.to_path_buf(),
            line,
            col,
            message: "the task has no prompt".to_owned(),
            hint: Some("write the instructions for the agent after the closing `+++`".to_owned()),
        }]);
    }
    match def {
        Some(def) => Ok((def, prompt.to_owned())),
        None => Err(ctx.into_errors()),
    }
}

/// Task names: lowercase letters, digits, `-` and `_`, starting with a letter or digit, at most
/// 64 characters. They are safe in branch names, file names and URLs without quoting.
pub fn check_task_name(name: &str) -> Result<(), crate::units::ValueError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if valid {
        return Ok(());
    }
    let slug = slugify(name);
    let rule = "task names are lowercase letters, digits, `-` and `_` (at most 64), because they become part of the branch name `tend/<task>/<run-id>`";
    let hint = if slug.is_empty() || slug == name {
        rule.to_owned()
    } else {
        format!("{rule}; rename the file to `{slug}.md`")
    };
    Err(crate::units::ValueError {
        message: format!("`{name}` is not a valid task name"),
        hint: Some(hint),
    })
}

/// A valid task name close to `name`: `Nightly Build` → `nightly-build`.
fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_end_matches('-');
    trimmed.chars().take(64).collect()
}

/// Loads every `*.md` file in a tasks folder, sorted by name. A broken file does not hide the
/// good ones: its errors come back beside them. A missing folder holds no tasks.
pub fn discover(dir: &Path, scope: &Scope) -> (Vec<TaskFile>, Vec<TaskFileError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Vec::new(), Vec::new()),
        Err(e) => {
            return (
                Vec::new(),
                vec![TaskFileError::whole_file(
                    dir,
                    format!("cannot list the tasks folder: {e}"),
                    None,
                )],
            );
        }
    };
    let mut paths: Vec<PathBuf> = Vec::new();
    let mut errors = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "md") && !path.is_dir() {
                    paths.push(path);
                }
            }
            Err(e) => errors.push(TaskFileError::whole_file(
                dir,
                format!("cannot list the tasks folder: {e}"),
                None,
            )),
        }
    }
    paths.sort();
    let mut tasks = Vec::new();
    for path in paths {
        match TaskFile::load(&path, scope.clone()) {
            Ok(t) => tasks.push(t),
            Err(e) => errors.extend(e),
        }
    }
    (tasks, errors)
}

#[cfg(test)]
pub(crate) mod tests;

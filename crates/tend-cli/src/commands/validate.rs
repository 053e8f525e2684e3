//! `tend validate [PATHS]`: checks task files (and the config files they depend on) and
//! reports every problem with `file:line:col` and a hint. Exit code 2 when any is found.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;
use tend_config::{ProjectPaths, ResolvedTask, Scope, TaskFile, TaskFileError, find_project};

use crate::catalog::{Catalog, Reach};
use crate::cli::ValidateArgs;
use crate::context::Context;
use crate::exit::{INVALID_INPUT, invalid};
use crate::output::print_json;
use crate::output::say;

#[derive(Debug, Serialize)]
struct Report {
    checked: usize,
    valid: usize,
    files: Vec<FileReport>,
}

#[derive(Debug, Serialize)]
struct FileReport {
    path: String,
    ok: bool,
    errors: Vec<ErrorReport>,
}

#[derive(Debug, Serialize)]
struct ErrorReport {
    line: usize,
    col: usize,
    message: String,
    hint: Option<String>,
}

pub fn run(ctx: &Context, args: &ValidateArgs) -> anyhow::Result<ExitCode> {
    // Every file checked, with its problems (none when valid), in a stable order.
    let mut results: BTreeMap<PathBuf, Vec<TaskFileError>> = BTreeMap::new();
    if args.paths.is_empty() {
        let catalog = Catalog::load(ctx, Reach::Here)?;
        for entry in &catalog.entries {
            let errors = entry.resolved.as_ref().err().cloned().unwrap_or_default();
            results
                .entry(entry.file.path.clone())
                .or_default()
                .extend(errors);
        }
        for error in catalog.errors {
            results.entry(error.path.clone()).or_default().push(error);
        }
    } else {
        for path in &args.paths {
            check_path(ctx, &ctx.cwd.join(path), &mut results)?;
        }
    }
    let report = Report {
        checked: results.len(),
        valid: results.values().filter(|e| e.is_empty()).count(),
        files: results
            .iter()
            .map(|(path, errors)| FileReport {
                path: ctx.display_path(path),
                ok: errors.is_empty(),
                errors: errors
                    .iter()
                    .map(|e| ErrorReport {
                        line: e.line,
                        col: e.col,
                        message: e.message.clone(),
                        hint: e.hint.clone(),
                    })
                    .collect(),
            })
            .collect(),
    };
    let failed = report.checked - report.valid;
    if args.json {
        print_json(&report)?;
    } else {
        for errors in results.values().filter(|e| !e.is_empty()) {
            let shown: Vec<TaskFileError> = errors.iter().map(|e| ctx.display_error(e)).collect();
            eprintln!("{}\n", tend_config::render_errors(&shown));
        }
        match (report.checked, failed) {
            (0, _) => say!("no task files found"),
            (n, 0) => say!("{n} task file(s) checked: all valid"),
            (n, f) => say!("{n} task file(s) checked: {f} with errors"),
        }
    }
    Ok(if failed > 0 {
        ExitCode::from(INVALID_INPUT)
    } else {
        ExitCode::SUCCESS
    })
}

/// A file is checked as a task file; a folder's tasks are checked (its `.tend/tasks/` when it
/// is a project, else its own `*.md` files).
fn check_path(
    ctx: &Context,
    path: &Path,
    results: &mut BTreeMap<PathBuf, Vec<TaskFileError>>,
) -> anyhow::Result<()> {
    if path.is_dir() {
        let tasks_dir = {
            let inside = ProjectPaths::new(path).tasks_dir;
            if inside.is_dir() {
                inside
            } else {
                path.to_path_buf()
            }
        };
        let scope = scope_of(&tasks_dir);
        let (files, errors) = tend_config::discover(&tasks_dir, &scope);
        for file in files {
            let errors = resolve_errors(ctx, &file)?;
            results.insert(file.path.clone(), errors);
        }
        for error in errors {
            results.entry(error.path.clone()).or_default().push(error);
        }
        return Ok(());
    }
    if !path.exists() {
        return Err(invalid(
            format!("{}: no such file or folder", ctx.display_path(path)),
            Some("give task files (`.tend/tasks/NAME.md`) or folders that hold them"),
        ));
    }
    let scope = scope_of(path.parent().unwrap_or(path));
    match TaskFile::load(path, scope) {
        Ok(file) => {
            let errors = resolve_errors(ctx, &file)?;
            results.insert(path.to_path_buf(), errors);
        }
        Err(errors) => {
            results
                .entry(path.to_path_buf())
                .or_default()
                .extend(errors);
        }
    }
    Ok(())
}

/// Problems that appear only with the config applied (an undefined notify channel, …).
fn resolve_errors(ctx: &Context, file: &TaskFile) -> anyhow::Result<Vec<TaskFileError>> {
    let user = ctx.user_config()?;
    let config = match &file.scope {
        Scope::Project { root } => ctx.project_config(&user, root)?,
        Scope::User => user,
    };
    Ok(ResolvedTask::resolve(file, &config, &ctx.machine_zone())
        .err()
        .unwrap_or_default())
}

/// A tasks folder inside a project belongs to that project; anything else counts as user tasks.
fn scope_of(tasks_dir: &Path) -> Scope {
    match find_project(tasks_dir) {
        Some(root) if tasks_dir.starts_with(root.join(".tend")) => Scope::Project { root },
        _ => Scope::User,
    }
}

//! Every task the daemon schedules: the user's task folder and each registered project's
//! `.tend/tasks`, with the config that applies to each (project config over the user's).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tend_config::{
    Config, MachineZone, Paths, ProjectPaths, ResolvedTask, Scope, TaskFile, TaskFileError,
    discover,
};
use tend_store::TaskKey;

/// A task file that loaded and resolved.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub key: TaskKey,
    /// `project/name` or `user/name`, for logs and listings.
    pub label: String,
    pub task: Arc<ResolvedTask>,
    /// The config that applies to it (for the model's provider settings and prices).
    pub config: Arc<Config>,
}

/// What one look at the task folders found.
#[derive(Debug, Default)]
pub struct Scan {
    pub tasks: Vec<Loaded>,
    /// Files (and config files) that do not load.
    pub broken: Vec<TaskFileError>,
    /// Tasks whose file exists but is broken: not scheduled, but not removed either.
    pub broken_keys: Vec<TaskKey>,
    /// Folders that were read completely: a known task of such a folder without a file is gone.
    pub complete: Vec<Scope>,
    /// Registered projects whose folder is missing (an unmounted disk): their tasks are left as
    /// they are.
    pub missing_projects: Vec<PathBuf>,
    pub max_concurrent_runs: u32,
}

pub fn key_of(scope: &Scope, name: &str) -> TaskKey {
    match scope {
        Scope::Project { root } => TaskKey::project(root.clone(), name),
        Scope::User => TaskKey::user(name),
    }
}

fn label_of(scope: &Scope, name: &str) -> String {
    match scope {
        Scope::Project { root } => {
            let folder = root.file_name().map_or_else(
                || root.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            format!("{folder}/{name}")
        }
        Scope::User => format!("user/{name}"),
    }
}

/// Reads every task folder. Never fails: whatever cannot be read is in [`Scan::broken`].
pub fn scan(paths: &Paths, roots: &[PathBuf], machine: &MachineZone) -> Scan {
    let mut out = Scan::default();
    let user_config = match Config::load(&paths.config_file) {
        Ok(c) => Some(c),
        Err(errors) => {
            out.broken.extend(errors);
            None
        }
    };
    out.max_concurrent_runs = user_config.as_ref().map_or(
        tend_config::DEFAULT_MAX_CONCURRENT_RUNS,
        Config::max_concurrent_runs,
    );
    read_folder(
        &mut out,
        &paths.user_tasks_dir,
        &Scope::User,
        user_config.clone(),
        machine,
    );
    for root in roots {
        if !root.is_dir() {
            out.missing_projects.push(root.clone());
            continue;
        }
        let project = ProjectPaths::new(root);
        let config = match (&user_config, Config::load(&project.config_file)) {
            (Some(user), Ok(project)) => Some(user.layered(&project)),
            (None, Ok(_)) => None,
            (_, Err(errors)) => {
                out.broken.extend(errors);
                None
            }
        };
        let scope = Scope::Project { root: root.clone() };
        read_folder(&mut out, &project.tasks_dir, &scope, config, machine);
    }
    out
}

/// One tasks folder; `config` is `None` when a config file that applies is broken: then the
/// folder's tasks are all broken too, since their settings cannot be known.
fn read_folder(
    out: &mut Scan,
    dir: &Path,
    scope: &Scope,
    config: Option<Config>,
    machine: &MachineZone,
) {
    let (files, errors) = discover(dir, scope);
    let listed = !errors.iter().any(|e| e.path == dir);
    for error in &errors {
        if let Some(name) = task_name(error, dir) {
            out.broken_keys.push(key_of(scope, &name));
        }
    }
    out.broken.extend(errors);
    let Some(config) = config.map(Arc::new) else {
        out.broken_keys
            .extend(files.iter().map(|f| key_of(scope, &f.name)));
        return;
    };
    for file in files {
        add(out, &file, scope, &config, machine);
    }
    if listed {
        out.complete.push(scope.clone());
    }
}

fn add(
    out: &mut Scan,
    file: &TaskFile,
    scope: &Scope,
    config: &Arc<Config>,
    machine: &MachineZone,
) {
    let key = key_of(scope, &file.name);
    match ResolvedTask::resolve(file, config, machine) {
        Ok(task) => out.tasks.push(Loaded {
            label: label_of(scope, &file.name),
            key,
            task: Arc::new(task),
            config: Arc::clone(config),
        }),
        Err(errors) => {
            out.broken.extend(errors);
            out.broken_keys.push(key);
        }
    }
}

/// The task a file error is about: the stem of a `.md` file directly in `dir`.
fn task_name(error: &TaskFileError, dir: &Path) -> Option<String> {
    if error.path.parent() != Some(dir) || error.path.extension().is_none_or(|e| e != "md") {
        return None;
    }
    error
        .path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn user_and_project_tasks_with_broken_files_beside_good_ones() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under(dir.path().join("config"), dir.path().join("state"));
        let repo = dir.path().join("repo");
        write(
            &paths.user_tasks_dir.join("nightly.md"),
            "+++\nschedule = \"@daily\"\n+++\nDo it.\n",
        );
        write(
            &repo.join(".tend/tasks/triage.md"),
            "+++\nschedule = \"*/5 * * * *\"\n+++\nLook.\n",
        );
        write(
            &repo.join(".tend/tasks/bad.md"),
            "+++\nschedule = \"every\"\n+++\nLook.\n",
        );
        write(&repo.join(".tend/config.toml"), "max_concurrent_runs = 3\n");
        let gone = dir.path().join("gone");
        let machine = MachineZone::fixed(tend_config::ZoneName::utc());
        let scan = scan(&paths, &[repo.clone(), gone.clone()], &machine);
        let labels: Vec<&str> = scan.tasks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, vec!["user/nightly", "repo/triage"]);
        assert_eq!(
            scan.broken_keys,
            vec![TaskKey::project(repo.clone(), "bad")]
        );
        assert_eq!(scan.broken.len(), 1);
        assert!(
            scan.broken[0].to_string().contains("bad.md:2:"),
            "{}",
            scan.broken[0]
        );
        assert_eq!(scan.missing_projects, vec![gone]);
        assert_eq!(
            scan.complete,
            vec![Scope::User, Scope::Project { root: repo }]
        );
        // The user config's value, not a project's, is the daemon-wide limit.
        assert_eq!(scan.max_concurrent_runs, 2);
    }

    #[test]
    fn a_broken_config_makes_its_tasks_broken_not_removed() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under(dir.path().join("config"), dir.path().join("state"));
        write(
            &paths.user_tasks_dir.join("nightly.md"),
            "+++\nschedule = \"@daily\"\n+++\nDo it.\n",
        );
        write(&paths.config_file, "max_concurrent_runs = \"many\"\n");
        let machine = MachineZone::fixed(tend_config::ZoneName::utc());
        let scan = scan(&paths, &[], &machine);
        assert!(scan.tasks.is_empty());
        assert_eq!(scan.broken_keys, vec![TaskKey::user("nightly")]);
        assert!(
            scan.broken[0].to_string().contains("config.toml:1:"),
            "{}",
            scan.broken[0]
        );
    }
}

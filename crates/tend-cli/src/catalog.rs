//! Every task tend knows from here: the current project's, the user's, and those of the other
//! projects registered in the store. Loaded once per command.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tend_config::{
    Config, MachineZone, ProjectPaths, ResolvedTask, Scope, TaskFile, TaskFileError,
};
use tend_schedule::Plan;
use tend_store::{Store, TaskKey, TaskState};

use crate::context::Context;
use crate::exit::invalid;
use crate::load::Loaded;

/// A loaded task file with the config that applies to it.
pub struct Entry {
    pub file: TaskFile,
    /// Where it belongs, as shown to users: the project folder's name, or `user`.
    pub label: String,
    pub resolved: Result<ResolvedTask, Vec<TaskFileError>>,
}

impl Entry {
    pub fn key(&self) -> TaskKey {
        key_of(&self.file)
    }

    /// `label/name`, which names the task unambiguously in every command.
    pub fn qualified(&self) -> String {
        format!("{}/{}", self.label, self.file.name)
    }

    /// The plan that computes the task's slots: its schedule in its zone, anchored at the
    /// file's `anchor` or the instant tend first saw the task, with its jitter.
    pub fn plan(&self, state: &TaskState) -> Option<Plan> {
        let resolved = self.resolved.as_ref().ok()?;
        Some(resolved.plan(state.first_seen_at))
    }
}

/// The roots of every project registered in the store.
pub fn registered_roots(ctx: &Context, store: &Store) -> anyhow::Result<Vec<PathBuf>> {
    let projects = ctx.block_on(store.projects())?;
    Ok(projects.into_iter().map(|p| p.root).collect())
}

pub fn key_of(file: &TaskFile) -> TaskKey {
    match &file.scope {
        Scope::Project { root } => TaskKey::project(root.clone(), file.name.clone()),
        Scope::User => TaskKey::user(file.name.clone()),
    }
}

pub struct Catalog {
    pub entries: Vec<Entry>,
    /// Files that failed to load; the good ones are still in `entries`.
    pub errors: Vec<TaskFileError>,
    /// Registered projects whose folder is gone.
    pub missing_projects: Vec<PathBuf>,
    /// Each task folder read, with the label of what it belongs to.
    dirs: Vec<(PathBuf, String)>,
}

/// Which projects to look in besides the current one and the user folder.
pub enum Reach {
    /// The current project and the user's tasks.
    Here,
    /// Also every project registered in the store.
    Everywhere(Vec<PathBuf>),
}

impl Catalog {
    pub fn load(ctx: &Context, reach: Reach) -> anyhow::Result<Catalog> {
        let user_config = ctx.user_config()?;
        let machine = ctx.machine_zone();
        let mut roots: Vec<PathBuf> = Vec::new();
        if let Some(project) = &ctx.project {
            roots.push(project.root.clone());
        }
        let mut missing_projects = Vec::new();
        if let Reach::Everywhere(registered) = reach {
            for root in registered {
                if roots.contains(&root) {
                    continue;
                }
                if root.is_dir() {
                    roots.push(root);
                } else {
                    missing_projects.push(root);
                }
            }
        }
        let mut catalog = Catalog {
            entries: Vec::new(),
            errors: Vec::new(),
            missing_projects,
            dirs: Vec::new(),
        };
        let labels = labels(&roots);
        for root in &roots {
            let config = ctx.project_config(&user_config, root)?;
            let label = labels
                .get(root)
                .cloned()
                .unwrap_or_else(|| "project".into());
            let scope = Scope::Project { root: root.clone() };
            catalog.add_dir(
                &ProjectPaths::new(root).tasks_dir,
                &scope,
                &label,
                &config,
                &machine,
            );
        }
        catalog.add_dir(
            &ctx.paths.user_tasks_dir,
            &Scope::User,
            "user",
            &user_config,
            &machine,
        );
        Ok(catalog)
    }

    fn add_dir(
        &mut self,
        dir: &Path,
        scope: &Scope,
        label: &str,
        config: &Config,
        machine: &MachineZone,
    ) {
        let (loaded, errors) = crate::load::load_dir(dir, scope, config, machine);
        self.errors.extend(errors);
        self.dirs.push((dir.to_path_buf(), label.to_owned()));
        self.entries
            .extend(loaded.into_iter().map(|Loaded { file, resolved }| Entry {
                file,
                label: label.to_owned(),
                resolved,
            }));
    }

    /// The label (`repo`, `user`) of the folder a task file is in, also for files that did
    /// not load.
    pub fn label_of(&self, path: &Path) -> Option<&str> {
        self.dirs
            .iter()
            .find(|(dir, _)| path.parent() == Some(dir.as_path()))
            .map(|(_, label)| label.as_str())
    }

    /// Finds a task by `name` or `label/name`. A bare name is looked up in the current
    /// project first, then everywhere; two matches elsewhere are an error that lists them.
    pub fn find(&self, ctx: &Context, wanted: &str) -> anyhow::Result<&Entry> {
        if let Some((label, name)) = wanted.split_once('/') {
            if let Some(e) = self
                .entries
                .iter()
                .find(|e| e.label == label && e.file.name == name)
            {
                return Ok(e);
            }
            return Err(self.not_found(wanted));
        }
        let here = ctx.project.as_ref().map(|p| &p.root);
        let matches: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| e.file.name == wanted)
            .collect();
        if let Some(local) = matches.iter().find(|e| match &e.file.scope {
            Scope::Project { root } => Some(root) == here,
            Scope::User => false,
        }) {
            return Ok(local);
        }
        match matches.as_slice() {
            [] => Err(self.not_found(wanted)),
            [one] => Ok(one),
            many => {
                let names: Vec<String> = many.iter().map(|e| e.qualified()).collect();
                Err(invalid(
                    format!("`{wanted}` names {} tasks", many.len()),
                    Some(&format!("say which one: {}", names.join(", "))),
                ))
            }
        }
    }

    fn not_found(&self, wanted: &str) -> anyhow::Error {
        let broken = self.errors.iter().any(|e| {
            e.path
                .file_stem()
                .is_some_and(|s| s.to_string_lossy() == wanted.rsplit('/').next().unwrap_or(wanted))
        });
        if broken {
            return invalid(
                format!("task `{wanted}` has errors"),
                Some("run `tend validate` to see them"),
            );
        }
        // A name that several projects use is only useful with its project in front.
        let known: Vec<String> = self
            .entries
            .iter()
            .map(|e| {
                let shared = self
                    .entries
                    .iter()
                    .filter(|o| o.file.name == e.file.name)
                    .count()
                    > 1;
                if shared {
                    e.qualified()
                } else {
                    e.file.name.clone()
                }
            })
            .collect();
        let hint = if known.is_empty() {
            "there are no tasks here yet: `tend init` or `tend add NAME --cron ... --prompt ...`"
                .to_owned()
        } else {
            format!("known tasks: {}", known.join(", "))
        };
        invalid(format!("no task named `{wanted}`"), Some(&hint))
    }
}

/// Short names for project roots: the folder name, or more of the path where two projects
/// share a folder name.
fn labels(roots: &[PathBuf]) -> BTreeMap<PathBuf, String> {
    let base = |root: &Path, depth: usize| -> String {
        let parts: Vec<String> = root
            .components()
            .rev()
            .take(depth)
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        parts.into_iter().rev().collect::<Vec<_>>().join("-")
    };
    let mut out = BTreeMap::new();
    for root in roots {
        let mut depth = 1;
        let label = loop {
            let label = base(root, depth);
            let clash = roots
                .iter()
                .any(|other| other != root && base(other, depth) == label);
            if !clash || depth > 8 {
                break label;
            }
            depth += 1;
        };
        out.insert(root.clone(), label);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn labels_are_folder_names_unless_they_clash() {
        let roots = vec![
            PathBuf::from("/home/a/api"),
            PathBuf::from("/home/b/api"),
            PathBuf::from("/srv/web"),
        ];
        let got: Vec<String> = labels(&roots).into_values().collect();
        assert_eq!(got, vec!["a-api", "b-api", "web"]);
    }
}

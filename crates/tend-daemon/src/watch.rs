//! Noticing task files and config files that change while the daemon runs: the user's config
//! folder and each project's `.tend/` folder are watched (inotify on Linux, FSEvents on macOS).
//! The watcher only says "something changed"; the daemon waits a moment for the burst to end
//! (an editor writes a file in several steps) and then looks at every folder again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use notify::event::{EventKind, MetadataKind, ModifyKind};
use notify::{Event, RecommendedWatcher, RecursiveMode, Watcher as _};
use tend_config::{Paths, ProjectPaths};
use tokio::sync::mpsc;

pub struct Watcher {
    inner: RecommendedWatcher,
    /// What is watched now, and how.
    watched: BTreeMap<PathBuf, RecursiveMode>,
}

impl Watcher {
    /// A watcher that sends `()` on `changed` whenever a relevant file changes.
    pub fn new(changed: mpsc::UnboundedSender<()>) -> notify::Result<Watcher> {
        let inner = notify::recommended_watcher(move |event: notify::Result<Event>| {
            match event {
                Ok(event) if is_relevant(&event) => {
                    let _ = changed.send(());
                }
                Ok(_) => {}
                // The kernel's queue overflowed or a watch broke: look at everything again.
                Err(_) => {
                    let _ = changed.send(());
                }
            }
        })?;
        Ok(Watcher {
            inner,
            watched: BTreeMap::new(),
        })
    }

    /// Watches the config folder and each project's `.tend/` (or the project folder itself,
    /// non-recursively, until it has a `.tend/`), and stops watching what is no longer needed.
    pub fn watch(&mut self, paths: &Paths, roots: &[PathBuf]) {
        let mut wanted = BTreeMap::new();
        wanted.insert(paths.config_dir.clone(), RecursiveMode::Recursive);
        for root in roots {
            let tend = ProjectPaths::new(root).tend_dir;
            if tend.is_dir() {
                wanted.insert(tend, RecursiveMode::Recursive);
            } else if root.is_dir() {
                wanted.insert(root.clone(), RecursiveMode::NonRecursive);
            }
        }
        let stale: Vec<PathBuf> = self
            .watched
            .iter()
            .filter(|(path, mode)| wanted.get(*path) != Some(*mode))
            .map(|(path, _)| path.clone())
            .collect();
        for path in stale {
            let _ = self.inner.unwatch(&path);
            self.watched.remove(&path);
        }
        for (path, mode) in wanted {
            if self.watched.contains_key(&path) {
                continue;
            }
            match self.inner.watch(&path, mode) {
                Ok(()) => {
                    self.watched.insert(path, mode);
                }
                Err(e) => tracing::warn!("cannot watch {} for changes: {e}", path.display()),
            }
        }
    }

    pub fn watched(&self) -> Vec<PathBuf> {
        self.watched.keys().cloned().collect()
    }
}

/// Changes to task files, config files and the folders that hold them; not reads (the
/// daemon's own reading of the files must not set off another look).
fn is_relevant(event: &Event) -> bool {
    let kind_matters = match event.kind {
        EventKind::Access(_) => false,
        EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)) => false,
        EventKind::Any | EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) => true,
        EventKind::Other => true,
    };
    kind_matters && event.paths.iter().any(|p| path_matters(p))
}

fn path_matters(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    name.ends_with(".md") || name == "config.toml" || name == "tasks" || name == ".tend"
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{AccessKind, CreateKind};

    #[test]
    fn task_files_and_configs_matter_reads_do_not() {
        let ev = |kind, path: &str| Event::new(kind).add_path(PathBuf::from(path));
        assert!(is_relevant(&ev(
            EventKind::Create(CreateKind::File),
            "/r/.tend/tasks/a.md"
        )));
        assert!(is_relevant(&ev(
            EventKind::Modify(ModifyKind::Any),
            "/c/config.toml"
        )));
        assert!(is_relevant(&ev(
            EventKind::Create(CreateKind::Folder),
            "/r/.tend"
        )));
        assert!(!is_relevant(&ev(
            EventKind::Access(AccessKind::Any),
            "/r/.tend/tasks/a.md"
        )));
        assert!(!is_relevant(&ev(
            EventKind::Create(CreateKind::File),
            "/r/.tend/tasks/.a.md.swp"
        )));
    }
}

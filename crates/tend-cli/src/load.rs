//! Reading a folder of task files, spread over the machine's cores: with a thousand tasks,
//! reading and parsing the files is most of the time `tend list` takes.
//!
//! It finds the files exactly as `tend_config::discover` does (every `*.md` that is not a
//! folder, in path order, good files beside broken ones) and resolves each against its config
//! on the same thread that parsed it.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use tend_config::{Config, MachineZone, ResolvedTask, Scope, TaskFile, TaskFileError};

/// A task file that parsed, with its settings resolved (or why they could not be).
pub struct Loaded {
    pub file: TaskFile,
    pub resolved: Result<ResolvedTask, Vec<TaskFileError>>,
}

/// Below this many files a second thread costs more than it saves.
const PARALLEL_FROM: usize = 64;
/// More threads than this only contend for the disk.
const MAX_THREADS: usize = 4;

/// Loads and resolves every task file in `dir`; files that do not parse, and a folder that
/// cannot be listed, come back as errors. A missing folder holds no tasks.
pub fn load_dir(
    dir: &Path,
    scope: &Scope,
    config: &Config,
    machine: &MachineZone,
) -> (Vec<Loaded>, Vec<TaskFileError>) {
    let (paths, mut errors) = task_paths(dir);
    let load = |path: &PathBuf| -> Result<Loaded, Vec<TaskFileError>> {
        let file = TaskFile::load(path, scope.clone())?;
        let resolved = ResolvedTask::resolve(&file, config, machine);
        Ok(Loaded { file, resolved })
    };
    let threads = if paths.len() < PARALLEL_FROM {
        1
    } else {
        std::thread::available_parallelism()
            .map_or(1, NonZeroUsize::get)
            .min(MAX_THREADS)
    };
    let chunk = paths.len().div_ceil(threads).max(1);
    let results: Vec<Result<Loaded, Vec<TaskFileError>>> = std::thread::scope(|s| {
        let mut parts = paths.chunks(chunk);
        // The current thread takes the first part; the others get a thread each.
        let first = parts.next().unwrap_or_default();
        let handles: Vec<_> = parts
            .map(|part| s.spawn(move || part.iter().map(load).collect::<Vec<_>>()))
            .collect();
        let mut all: Vec<_> = first.iter().map(load).collect();
        for handle in handles {
            match handle.join() {
                Ok(part) => all.extend(part),
                // A panic in a loader is a bug: let it carry on as if it happened here.
                Err(payload) => std::panic::resume_unwind(payload),
            }
        }
        all
    });
    let mut loaded = Vec::with_capacity(results.len());
    for result in results {
        match result {
            Ok(l) => loaded.push(l),
            Err(e) => errors.extend(e),
        }
    }
    (loaded, errors)
}

/// The task files in `dir`, sorted, and the problems listing it.
fn task_paths(dir: &Path) -> (Vec<PathBuf>, Vec<TaskFileError>) {
    let listing_error = |e: std::io::Error| {
        TaskFileError::whole_file(dir, format!("cannot list the tasks folder: {e}"), None)
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Vec::new(), Vec::new()),
        Err(e) => return (Vec::new(), vec![listing_error(e)]),
    };
    let mut paths = Vec::new();
    let mut errors = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                errors.push(listing_error(e));
                continue;
            }
        };
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        // The entry's type comes with the listing on most file systems; only a symlink (or a
        // file system that does not say) needs a look at what it points to.
        let is_dir = match entry.file_type() {
            Ok(t) if t.is_symlink() => path.is_dir(),
            Ok(t) => t.is_dir(),
            Err(_) => path.is_dir(),
        };
        if !is_dir {
            paths.push((entry.file_name(), path));
        }
    }
    // All in one folder, so the names order them as whole paths would; comparing names is
    // a plain byte comparison, comparing paths walks their components (10x slower here).
    paths.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    (paths.into_iter().map(|(_, path)| path).collect(), errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    /// Many files, so the parallel path runs: the result is the same as tend-config's own
    /// sequential `discover` followed by `resolve`, in the same order.
    #[test]
    fn parallel_load_matches_discover() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        for i in 0..150 {
            let schedule = ["0 9 * * *", "every 30m", "manual"][i % 3];
            write(
                &format!("task-{i:03}.md"),
                &format!("+++\nschedule = \"{schedule}\"\n+++\nTask {i}.\n"),
            );
        }
        write("broken-1.md", "+++\nschedule = 5\n+++\nX\n");
        write("broken-2.md", "no front matter\n");
        write("notes.txt", "not a task");
        std::fs::create_dir(dir.path().join("folder.md")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("task-000.md"), dir.path().join("link.md"))
            .unwrap();

        let config = Config::default();
        let machine = MachineZone::detect();
        let (loaded, errors) = load_dir(dir.path(), &Scope::User, &config, &machine);
        let (files, want_errors) = tend_config::discover(dir.path(), &Scope::User);
        assert_eq!(errors, want_errors);
        assert_eq!(loaded.len(), 151);
        let got: Vec<(&TaskFile, &Result<ResolvedTask, Vec<TaskFileError>>)> =
            loaded.iter().map(|l| (&l.file, &l.resolved)).collect();
        let want: Vec<(TaskFile, Result<ResolvedTask, Vec<TaskFileError>>)> = files
            .into_iter()
            .map(|f| {
                let r = ResolvedTask::resolve(&f, &config, &machine);
                (f, r)
            })
            .collect();
        let want: Vec<_> = want.iter().map(|(f, r)| (f, r)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_missing_folder_holds_no_tasks() {
        let dir = tempfile::tempdir().unwrap();
        let (loaded, errors) = load_dir(
            &dir.path().join("missing"),
            &Scope::User,
            &Config::default(),
            &MachineZone::detect(),
        );
        assert!(loaded.is_empty() && errors.is_empty());
    }
}

//! The files a `log` input's glob names now: `~/` and relative patterns resolved, the literal
//! folder walked (only as deep as the pattern can reach), regular files only.

use std::path::{Path, PathBuf};

use globset::GlobBuilder;

/// Entries looked at in one expansion, at most: a glob over `/` must not walk the disk.
const MAX_ENTRIES: usize = 100_000;
/// How deep `**` reaches below the literal folder.
const MAX_DEPTH: usize = 32;

/// The pattern as an absolute path: `~/…` under `home`, relative ones under `base`.
pub(crate) fn absolute(pattern: &str, base: &Path, home: Option<&Path>) -> PathBuf {
    if let (Some(rest), Some(home)) = (pattern.strip_prefix("~/"), home) {
        return home.join(rest);
    }
    let path = Path::new(pattern);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

fn has_magic(text: &str) -> bool {
    text.contains(['*', '?', '[', '{'])
}

/// Regular files matching `pattern` (absolute), sorted by path. An invalid pattern is an error
/// in words; a folder that does not exist matches nothing.
pub(crate) fn expand(pattern: &Path) -> Result<Vec<PathBuf>, String> {
    let text = pattern.to_string_lossy();
    if !has_magic(&text) {
        return Ok(if pattern.is_file() {
            vec![pattern.to_path_buf()]
        } else {
            Vec::new()
        });
    }
    let matcher = GlobBuilder::new(&text)
        .literal_separator(true)
        .build()
        .map_err(|e| format!("bad glob `{text}`: {e}"))?
        .compile_matcher();
    // The folder before the first component with a wildcard, and how deep matches can lie.
    let mut root = PathBuf::new();
    let mut rest = Vec::new();
    for component in pattern.components() {
        let part = component.as_os_str().to_string_lossy();
        if rest.is_empty() && !has_magic(&part) {
            root.push(component);
        } else {
            rest.push(part.into_owned());
        }
    }
    let depth = if rest.iter().any(|p| p.contains("**")) {
        MAX_DEPTH
    } else {
        rest.len()
    };
    let mut found = Vec::new();
    let mut seen = 0usize;
    let mut todo = vec![(root, 0usize)];
    while let Some((dir, level)) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            seen += 1;
            if seen > MAX_ENTRIES {
                return Err(format!(
                    "glob `{text}` looks at more than {MAX_ENTRIES} files; narrow it"
                ));
            }
            let path = entry.path();
            // Symbolic links to folders are not followed (no cycles); links to files are.
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if level + 1 < depth {
                    todo.push((path, level + 1));
                }
            } else if matcher.is_match(&path) && path.is_file() {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn expands_stars_and_double_stars_to_regular_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for f in ["a.log", "b.log", "c.txt", "sub/d.log", "sub/deep/e.log"] {
            std::fs::create_dir_all(d.join(f).parent().unwrap()).unwrap();
            std::fs::write(d.join(f), "x").unwrap();
        }
        std::fs::create_dir_all(d.join("dir.log")).unwrap();
        let names = |pattern: &str| -> Vec<String> {
            expand(&d.join(pattern))
                .unwrap()
                .iter()
                .map(|p| p.strip_prefix(d).unwrap().display().to_string())
                .collect()
        };
        assert_eq!(names("*.log"), vec!["a.log", "b.log"]);
        assert_eq!(names("*/*.log"), vec!["sub/d.log"]);
        assert_eq!(
            names("**/*.log"),
            vec!["a.log", "b.log", "sub/d.log", "sub/deep/e.log"]
        );
        assert_eq!(names("c.txt"), vec!["c.txt"]);
        assert_eq!(names("missing/*.log"), Vec::<String>::new());
        assert!(expand(&d.join("[.log")).unwrap_err().contains("bad glob"));
    }

    #[test]
    fn resolves_home_and_relative_patterns() {
        let home = Path::new("/home/u");
        assert_eq!(
            absolute("~/logs/*.log", Path::new("/repo"), Some(home)),
            PathBuf::from("/home/u/logs/*.log")
        );
        assert_eq!(
            absolute("logs/*.log", Path::new("/repo"), Some(home)),
            PathBuf::from("/repo/logs/*.log")
        );
        assert_eq!(
            absolute("/var/log/x", Path::new("/repo"), None),
            PathBuf::from("/var/log/x")
        );
    }
}

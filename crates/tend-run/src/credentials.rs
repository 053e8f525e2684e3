//! Files git's `store` credential helper keeps passwords in, wherever the user's git config
//! puts them (`credential.helper = store --file PATH`): hidden from every command like the
//! default `~/.git-credentials`, which the sandbox's default deny list already names.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The `--file` of every `store` helper in the user's global git config (with its includes),
/// read with `home` as `HOME`. Nothing when git is missing or no helper is set.
pub(crate) fn store_files(home: &Path) -> Vec<PathBuf> {
    let output = Command::new("git")
        .args([
            "config",
            "--global",
            "--includes",
            "--get-regexp",
            r"^credential\..*helper$",
        ])
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    let Ok(output) = output else {
        return Vec::new();
    };
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_once(' ').map(|(_, value)| value))
        .filter_map(store_file)
        .map(|file| match file.strip_prefix("~/") {
            Some(rest) => home.join(rest),
            None => PathBuf::from(file),
        })
        .collect()
}

/// The file of one helper value: `store --file PATH` or `store --file=PATH` (also spelled
/// `git-credential-store` or by its path).
fn store_file(value: &str) -> Option<&str> {
    let mut words = value.split_whitespace();
    let program = words.next()?;
    let name = program.rsplit('/').next().unwrap_or(program);
    if !matches!(name, "store" | "git-credential-store") {
        return None;
    }
    while let Some(word) = words.next() {
        if let Some(file) = word.strip_prefix("--file=") {
            return Some(file);
        }
        if word == "--file" {
            return words.next();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn a_store_helpers_file_is_found_in_the_users_git_config() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path();
        std::fs::write(
            home.join(".gitconfig"),
            "[credential]\n\thelper = cache\n\thelper = store --file ~/vault/git.txt\n\
             [credential \"https://example.invalid\"]\n\thelper = \"/usr/lib/git-core/git-credential-store --file=/srv/tokens\"\n",
        )
        .unwrap();
        assert_eq!(
            store_files(home),
            [home.join("vault/git.txt"), PathBuf::from("/srv/tokens")]
        );
        assert_eq!(store_file("store"), None);
        assert_eq!(store_file("osxkeychain"), None);
        assert_eq!(store_files(&home.join("nowhere")), Vec::<PathBuf>::new());
    }
}

//! The environment of shell commands: an allowlist, never secrets.

use std::ffi::{OsStr, OsString};
use std::path::Path;

/// Passed through from the parent when set.
const ALLOWED: &[&str] = &["PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ"];
/// Always set: no colours, pagers or credential prompts in a captured, stdin-less command.
const FIXED: &[(&str, &str)] = &[
    ("TERM", "dumb"),
    ("NO_COLOR", "1"),
    ("PAGER", "cat"),
    ("GIT_PAGER", "cat"),
    ("GIT_TERMINAL_PROMPT", "0"),
];
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// The environment for a shell command, sorted by name.
pub(crate) fn child_env(parent: &[(OsString, OsString)], tmp: &Path) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = parent
        .iter()
        .filter(|(name, _)| allowed(name))
        .cloned()
        .collect();
    env.extend(
        FIXED
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v))),
    );
    env.push(("TMPDIR".into(), tmp.as_os_str().to_owned()));
    if !env.iter().any(|(name, _)| name == "PATH") {
        env.push(("PATH".into(), DEFAULT_PATH.into()));
    }
    env.sort();
    env.dedup_by(|a, b| a.0 == b.0);
    env
}

pub(crate) fn allowed(name: &OsStr) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    (ALLOWED.contains(&name) || name.starts_with("LC_")) && !looks_secret(name)
}

/// Belt and braces behind the allowlist (`LC_*` is a prefix anyone can use).
pub(crate) fn looks_secret(name: &str) -> bool {
    let name = name.to_ascii_uppercase();
    ["_API_KEY", "_TOKEN", "_SECRET"]
        .iter()
        .any(|s| name.ends_with(s))
        || ["SECRET", "PASSWORD", "CREDENTIAL"]
            .iter()
            .any(|s| name.contains(s))
        || ["AWS_", "ANTHROPIC_", "OPENAI_"]
            .iter()
            .any(|s| name.starts_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs.iter().map(|(k, v)| (k.into(), v.into())).collect()
    }

    #[test]
    fn only_allowed_names_pass_and_fixed_ones_are_added() {
        let parent = vars(&[
            ("PATH", "/bin"),
            ("HOME", "/home/u"),
            ("LC_ALL", "C.UTF-8"),
            ("LC_ANTHROPIC_API_KEY", "sk-1"),
            ("ANTHROPIC_API_KEY", "sk-2"),
            ("GITHUB_TOKEN", "ghp"),
            ("AWS_ACCESS_KEY_ID", "AK"),
            ("SSH_AUTH_SOCK", "/run/agent"),
            ("TERM", "xterm-256color"),
            ("TMPDIR", "/tmp"),
        ]);
        assert_eq!(
            child_env(&parent, Path::new("/w/tmp")),
            vars(&[
                ("GIT_PAGER", "cat"),
                ("GIT_TERMINAL_PROMPT", "0"),
                ("HOME", "/home/u"),
                ("LC_ALL", "C.UTF-8"),
                ("NO_COLOR", "1"),
                ("PAGER", "cat"),
                ("PATH", "/bin"),
                ("TERM", "dumb"),
                ("TMPDIR", "/w/tmp"),
            ])
        );
    }

    #[test]
    fn a_missing_path_gets_a_default() {
        let env = child_env(&[], Path::new("/t"));
        assert!(env.contains(&("PATH".into(), DEFAULT_PATH.into())));
    }

    #[test]
    fn secret_looking_names() {
        for name in [
            "OPENAI_API_KEY",
            "openai_org",
            "ANTHROPIC_BASE_URL",
            "AWS_PROFILE",
            "GH_TOKEN",
            "MY_SECRET",
            "DB_PASSWORD",
            "STRIPE_API_KEY",
        ] {
            assert!(looks_secret(name), "{name}");
        }
        for name in ["PATH", "LC_ALL", "LANG", "TOKENIZERS_PARALLELISM"] {
            assert!(!looks_secret(name), "{name}");
        }
    }
}

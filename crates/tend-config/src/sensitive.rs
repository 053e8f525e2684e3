//! Which changes of a proposal are *sensitive*: applying them can make code run, or grant
//! power, without anyone running the code the proposal changed. tend's own tasks and config
//! (what runs, when, unsandboxed or not), CI configuration, git hooks and git's config files,
//! configuration an editor, shell or package manager runs code from when it opens the folder,
//! code owners, submodules, and symlinks that leave the repository or lead to one of those.
//!
//! Ordinary source files (`src/tend.rs`, a `Makefile`, `package.json`) are code a reviewer
//! reads as code; these are the files a reviewer skims past as "settings" while they grant a
//! run more than its sandbox did. The classification reads the proposal's patch (`git diff
//! --binary`, the file `tend apply` applies), so what is flagged is what would land.
//!
//! One classifier for every place that shows or applies a proposal: the report, `tend review`,
//! `tend apply`, the dashboard and the notification.

use std::fmt;

use serde::ser::{Serialize, SerializeStruct, Serializer};

mod patch;

use patch::{Mode, entries};

/// Why a change is sensitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SensitiveKind {
    /// `.tend/`: tasks and config decide what runs, when, with which sandbox and provider.
    Tend,
    /// CI configuration: runs code on the CI machines, with their secrets.
    Ci,
    /// Git hooks and hook managers: code that runs on commit, push or checkout.
    GitHook,
    /// Git's own config files: filters, remotes, submodule URLs.
    GitConfig,
    /// Configuration an editor, shell or package manager runs code from.
    DevTool,
    /// Code owners: who must review what.
    CodeOwners,
    /// A submodule (a gitlink): code from another repository.
    Submodule,
    /// A symlink whose target is outside the repository (or may be: `a/../..`).
    SymlinkOutside { target: String },
    /// A symlink into one of the paths above.
    SymlinkToSensitive { target: String },
    /// A symlink whose target the patch does not show.
    SymlinkUnknown,
}

impl SensitiveKind {
    /// A short stable name (`tend`, `ci`, `symlink_outside`, …), for JSON and scripts.
    pub fn name(&self) -> &'static str {
        match self {
            SensitiveKind::Tend => "tend",
            SensitiveKind::Ci => "ci",
            SensitiveKind::GitHook => "git_hook",
            SensitiveKind::GitConfig => "git_config",
            SensitiveKind::DevTool => "dev_tool",
            SensitiveKind::CodeOwners => "code_owners",
            SensitiveKind::Submodule => "submodule",
            SensitiveKind::SymlinkOutside { .. } => "symlink_outside",
            SensitiveKind::SymlinkToSensitive { .. } => "symlink_to_sensitive",
            SensitiveKind::SymlinkUnknown => "symlink_unknown",
        }
    }

    /// The symlink's target, for the symlink kinds.
    pub fn target(&self) -> Option<&str> {
        match self {
            SensitiveKind::SymlinkOutside { target }
            | SensitiveKind::SymlinkToSensitive { target } => Some(target),
            SensitiveKind::Tend
            | SensitiveKind::Ci
            | SensitiveKind::GitHook
            | SensitiveKind::GitConfig
            | SensitiveKind::DevTool
            | SensitiveKind::CodeOwners
            | SensitiveKind::Submodule
            | SensitiveKind::SymlinkUnknown => None,
        }
    }
}

impl fmt::Display for SensitiveKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SensitiveKind::Tend => {
                f.write_str("tend tasks or config (what runs, when, with which sandbox)")
            }
            SensitiveKind::Ci => f.write_str("CI configuration (runs code with CI's secrets)"),
            SensitiveKind::GitHook => f.write_str("git hooks (run on commit, push or checkout)"),
            SensitiveKind::GitConfig => {
                f.write_str("git configuration (filters, remotes, submodule URLs)")
            }
            SensitiveKind::DevTool => f.write_str(
                "editor, shell or package-manager configuration (runs code when the folder is opened or built)",
            ),
            SensitiveKind::CodeOwners => f.write_str("code owners (who must review changes)"),
            SensitiveKind::Submodule => f.write_str("a submodule (code from another repository)"),
            SensitiveKind::SymlinkOutside { target } => {
                write!(f, "a symlink out of the repository, to `{target}`")
            }
            SensitiveKind::SymlinkToSensitive { target } => {
                write!(f, "a symlink to `{target}`, a sensitive path")
            }
            SensitiveKind::SymlinkUnknown => {
                f.write_str("a symlink whose target the patch does not show")
            }
        }
    }
}

/// One sensitive change: a path of the proposal and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensitiveChange {
    /// The path in the repository, as the patch names it.
    pub path: String,
    pub kind: SensitiveKind,
}

impl fmt::Display for SensitiveChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.kind)
    }
}

/// `{"path": …, "kind": "ci", "why": "…", "target": …}`: the kind by its name, with the text
/// a human reads.
impl Serialize for SensitiveChange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("SensitiveChange", 4)?;
        st.serialize_field("path", &self.path)?;
        st.serialize_field("kind", self.kind.name())?;
        st.serialize_field("why", &self.kind.to_string())?;
        st.serialize_field("target", &self.kind.target())?;
        st.end()
    }
}

/// The sensitive changes of a patch (the output of `git diff`), in the patch's order: every
/// path a file's entry names (old and new side of a rename, a deleted file too: deleting a CI
/// check or a hook grants power as well), and each added symlink's target.
pub fn sensitive_changes(patch: &str) -> Vec<SensitiveChange> {
    let mut out = Vec::new();
    for entry in entries(patch) {
        let mut push = |path: &str, kind: SensitiveKind| {
            let change = SensitiveChange {
                path: path.to_owned(),
                kind,
            };
            if !out.contains(&change) {
                out.push(change);
            }
        };
        let shown = entry.shown_path();
        for path in &entry.paths {
            if let Some(kind) = classify_path(path) {
                push(path, kind);
            }
        }
        match entry.new_mode {
            Some(Mode::Symlink) => {
                let kind = match &entry.symlink_target {
                    Some(target) => classify_symlink(&shown, target),
                    None => Some(SensitiveKind::SymlinkUnknown),
                };
                if let Some(kind) = kind {
                    push(&shown, kind);
                }
            }
            Some(Mode::Gitlink) => push(&shown, SensitiveKind::Submodule),
            Some(Mode::Other) | None => {}
        }
    }
    out
}

/// Whether a path in the repository is sensitive by its name alone. Names are compared without
/// case: on a case-insensitive file system `.GitHub/Workflows` is `.github/workflows`.
pub fn classify_path(path: &str) -> Option<SensitiveKind> {
    let lower = path.to_lowercase();
    let names: Vec<String> = lower
        .split('/')
        .map(as_file_systems_read_it)
        .filter(|p| !p.is_empty())
        .collect();
    let parts: Vec<&str> = names.iter().map(String::as_str).collect();
    let base = *parts.last()?;
    let dirs = &parts[..parts.len() - 1];
    if parts.contains(&".tend") {
        return Some(SensitiveKind::Tend);
    }
    if parts.contains(&".git") {
        return Some(SensitiveKind::GitConfig);
    }
    let has_dir = |names: &[&str]| dirs.iter().any(|d| names.contains(d));
    let in_github = |sub: &[&str]| {
        dirs.windows(2)
            .any(|w| w[0] == ".github" && sub.contains(&w[1]))
    };
    if in_github(&["workflows", "actions"])
        || dirs
            .windows(2)
            .any(|w| matches!(w[0], ".gitea" | ".forgejo") && w[1] == "workflows")
        || has_dir(CI_DIRS)
        || CI_FILES.contains(&base)
        || base.starts_with("jenkinsfile")
    {
        return Some(SensitiveKind::Ci);
    }
    if has_dir(HOOK_DIRS)
        || HOOK_FILES.contains(&base)
        || base.starts_with(".lintstagedrc")
        || base.starts_with("lint-staged.config.")
        || base.starts_with(".huskyrc")
        || base.starts_with(".simple-git-hooks")
        || base.starts_with("simple-git-hooks.")
    {
        return Some(SensitiveKind::GitHook);
    }
    if GIT_FILES.contains(&base) {
        return Some(SensitiveKind::GitConfig);
    }
    if has_dir(TOOL_DIRS)
        || TOOL_FILES.contains(&base)
        || (dirs.last() == Some(&".cargo") && matches!(base, "config" | "config.toml"))
    {
        return Some(SensitiveKind::DevTool);
    }
    if base == "codeowners" {
        return Some(SensitiveKind::CodeOwners);
    }
    None
}

/// A name as a file system that is not Linux's may resolve it: HFS+ ignores some invisible
/// code points (`.t\u{200c}end` is `.tend` there), Windows drops trailing dots and spaces
/// (`.tend.`). git refuses such `.git` names for the same reason.
fn as_file_systems_read_it(name: &str) -> String {
    let visible: String = name.chars().filter(|c| !is_hfs_ignorable(*c)).collect();
    visible.trim_end_matches(['.', ' ']).to_owned()
}

/// The code points HFS+ leaves out of a name when it compares names.
fn is_hfs_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{200c}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{206a}'..='\u{206f}' | '\u{feff}'
    )
}

/// Folders whose files are CI configuration.
const CI_DIRS: &[&str] = &[
    ".circleci",
    ".buildkite",
    ".gitlab",
    ".woodpecker",
    ".semaphore",
    ".azure-pipelines",
    ".teamcity",
    ".tekton",
    ".jenkins",
];

/// File names that are CI configuration wherever they are (most services read the root one;
/// all are flagged, a nested one may be included from there).
const CI_FILES: &[&str] = &[
    ".gitlab-ci.yml",
    ".gitlab-ci.yaml",
    ".travis.yml",
    ".travis.yaml",
    "azure-pipelines.yml",
    "azure-pipelines.yaml",
    "bitbucket-pipelines.yml",
    "bitbucket-pipelines.yaml",
    ".drone.yml",
    ".drone.yaml",
    ".drone.jsonnet",
    ".drone.star",
    ".woodpecker.yml",
    ".woodpecker.yaml",
    "appveyor.yml",
    ".appveyor.yml",
    ".cirrus.yml",
    ".cirrus.star",
    "codefresh.yml",
    "cloudbuild.yaml",
    "cloudbuild.yml",
    "cloudbuild.json",
    "buildspec.yml",
    "buildspec.yaml",
    ".gitpod.yml",
];

const HOOK_DIRS: &[&str] = &[".githooks", ".git-hooks", ".husky", ".lefthook"];

const HOOK_FILES: &[&str] = &[
    ".pre-commit-config.yaml",
    ".pre-commit-config.yml",
    ".pre-commit-hooks.yaml",
    "lefthook.yml",
    "lefthook.yaml",
    "lefthook.toml",
    "lefthook.json",
    ".lefthook.yml",
    ".lefthook.yaml",
    ".lefthook.toml",
    ".lefthook.json",
    "lefthook-local.yml",
    "lefthook-local.yaml",
    ".lefthook-local.yml",
    ".lefthook-local.yaml",
    ".overcommit.yml",
];

const GIT_FILES: &[&str] = &[
    ".gitmodules",
    ".gitattributes",
    ".gitconfig",
    "gitconfig",
    ".lfsconfig",
];

/// Folders an editor or dev environment runs tasks from when the folder is opened.
const TOOL_DIRS: &[&str] = &[".vscode", ".devcontainer", ".idea"];

const TOOL_FILES: &[&str] = &[
    ".envrc",
    ".devcontainer.json",
    ".npmrc",
    ".yarnrc",
    ".yarnrc.yml",
    ".pnpmfile.cjs",
    ".pnpmfile.mjs",
    "mise.toml",
    ".mise.toml",
    "mise.local.toml",
    ".mise.local.toml",
];

/// Whether a symlink at `path` (in the repository) pointing at `target` is sensitive: absolute,
/// leaving the repository, or landing on a sensitive path.
fn classify_symlink(path: &str, target: &str) -> Option<SensitiveKind> {
    let outside = || {
        Some(SensitiveKind::SymlinkOutside {
            target: target.to_owned(),
        })
    };
    if target.starts_with('/') {
        return outside();
    }
    // git refuses to apply a path through a symlink, so the link's folders are real folders:
    // a leading `..` climbs them. A `..` after a name climbs out of wherever that name leads,
    // which may be a symlink itself; that is not known from here, so it counts as outside.
    let mut at: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    at.pop();
    let mut named = false;
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." if named => return outside(),
            ".." => {
                if at.pop().is_none() {
                    return outside();
                }
            }
            name => {
                named = true;
                at.push(name);
            }
        }
    }
    // The target may be a folder (`.github/workflows`): what lies in it counts too.
    let resolved = at.join("/");
    classify_path(&resolved)
        .or_else(|| classify_path(&format!("{resolved}/-")))
        .map(|_| SensitiveKind::SymlinkToSensitive {
            target: target.to_owned(),
        })
}

#[cfg(test)]
#[path = "sensitive_tests.rs"]
mod tests;

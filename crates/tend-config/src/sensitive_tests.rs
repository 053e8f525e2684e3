use std::path::Path;
use std::process::Command;

use pretty_assertions::assert_eq;

use super::*;

fn kind_of(path: &str) -> Option<&'static str> {
    classify_path(path).map(|k| k.name())
}

#[test]
fn every_category_by_path() {
    let cases = [
        (".tend/tasks/fix.md", Some("tend")),
        (".tend/config.toml", Some("tend")),
        ("sub/project/.tend/tasks/x.md", Some("tend")),
        (".github/workflows/x.yml", Some("ci")),
        (".github/actions/setup/action.yml", Some("ci")),
        (".GitHub/Workflows/X.yml", Some("ci")),
        (".gitlab-ci.yml", Some("ci")),
        (".gitlab/ci/build.yml", Some("ci")),
        (".circleci/config.yml", Some("ci")),
        (".travis.yml", Some("ci")),
        ("azure-pipelines.yml", Some("ci")),
        ("Jenkinsfile", Some("ci")),
        ("ci/Jenkinsfile.release", Some("ci")),
        (".buildkite/pipeline.yml", Some("ci")),
        ("bitbucket-pipelines.yml", Some("ci")),
        (".drone.yml", Some("ci")),
        (".gitea/workflows/x.yaml", Some("ci")),
        (".forgejo/workflows/x.yaml", Some("ci")),
        (".githooks/pre-commit", Some("git_hook")),
        (".husky/pre-push", Some("git_hook")),
        (".pre-commit-config.yaml", Some("git_hook")),
        ("lefthook.yml", Some("git_hook")),
        (".lintstagedrc.json", Some("git_hook")),
        (".gitmodules", Some("git_config")),
        (".gitattributes", Some("git_config")),
        ("docs/.gitattributes", Some("git_config")),
        (".gitconfig", Some("git_config")),
        (".lfsconfig", Some("git_config")),
        ("vendor/x/.git/config", Some("git_config")),
        (".envrc", Some("dev_tool")),
        (".vscode/tasks.json", Some("dev_tool")),
        (".devcontainer/devcontainer.json", Some("dev_tool")),
        (".cargo/config.toml", Some("dev_tool")),
        (".npmrc", Some("dev_tool")),
        (".yarnrc.yml", Some("dev_tool")),
        ("CODEOWNERS", Some("code_owners")),
        (".github/CODEOWNERS", Some("code_owners")),
        // Names another file system reads as the ones above.
        (".t\u{200c}end/config.toml", Some("tend")),
        (".tend./tasks/x.md", Some("tend")),
        (".github /workflows/x.yml", Some("ci")),
        (".git\u{feff}modules", Some("git_config")),
    ];
    let got: Vec<_> = cases.iter().map(|(p, _)| (*p, kind_of(p))).collect();
    assert_eq!(got, cases.to_vec());
}

#[test]
fn ordinary_paths_are_not_sensitive() {
    for path in [
        "src/tend.rs",
        "docs/github-workflows.md",
        "docs/tend/config.md",
        "tend.toml",
        "workflows/x.yml",
        "github/workflows/x.yml",
        ".github/ISSUE_TEMPLATE/bug.md",
        ".github/dependabot.yml",
        ".gitignore",
        "src/hooks/use_thing.ts",
        "Makefile",
        "package.json",
        "cargo/config.toml",
        "notes/.tendency",
        "my.gitlab-ci.yml.md",
    ] {
        assert_eq!(kind_of(path), None, "{path}");
    }
}

#[test]
fn symlinks_by_target() {
    let cases = [
        ("passwd", "/etc/passwd", Some("symlink_outside")),
        ("up", "..", Some("symlink_outside")),
        ("a/b/up", "../../..", Some("symlink_outside")),
        ("a/sneaky", "b/../../..", Some("symlink_outside")),
        // `d` may itself be a link to `.`: a `..` after a name is not trusted.
        ("l", "d/..", Some("symlink_outside")),
        (
            "hook",
            ".git/hooks/pre-commit",
            Some("symlink_to_sensitive"),
        ),
        (
            "docs/ci",
            "../.github/workflows",
            Some("symlink_to_sensitive"),
        ),
        ("t", "./.tend/config.toml", Some("symlink_to_sensitive")),
        // Inside the repository and ordinary.
        ("docs/readme", "../README.md", None),
        ("a/b/c", "../../src/lib.rs", None),
        ("self", ".", None),
        ("latest", "reports/2026-11-25.md", None),
    ];
    let got: Vec<_> = cases
        .iter()
        .map(|(p, t, _)| (*p, *t, classify_symlink(p, t).map(|k| k.name())))
        .collect();
    assert_eq!(got, cases.to_vec());
}

/// A patch made by hand, as `git diff --binary` writes one.
const HAND_PATCH: &str = "\
diff --git a/src/tend.rs b/src/tend.rs
index 1111111..2222222 100644
--- a/src/tend.rs
+++ b/src/tend.rs
@@ -1 +1 @@
-fn a() {}
+fn b() {} // .github/workflows/x.yml
diff --git a/.github/workflows/ci.yml b/.github/workflows/ci.yml
deleted file mode 100644
index 3333333..0000000
--- a/.github/workflows/ci.yml
+++ /dev/null
@@ -1 +0,0 @@
-on: push
diff --git a/pw b/pw
new file mode 120000
index 0000000..4444444
--- /dev/null
+++ b/pw
@@ -0,0 +1 @@
+/etc/passwd
\\ No newline at end of file
diff --git a/old-name b/.husky/pre-commit
similarity index 100%
rename from old-name
rename to .husky/pre-commit
diff --git a/vendor/lib b/vendor/lib
new file mode 160000
index 0000000..5555555
--- /dev/null
+++ b/vendor/lib
@@ -0,0 +1 @@
+Subproject commit 5555555555555555555555555555555555555555
diff --git \"a/.tend/tasks/caf\\303\\251 x.md\" \"b/.tend/tasks/caf\\303\\251 x.md\"
new file mode 100644
";

#[test]
fn a_patch_by_hand() {
    let got: Vec<String> = sensitive_changes(HAND_PATCH)
        .iter()
        .map(|c| format!("{} {}", c.path, c.kind.name()))
        .collect();
    assert_eq!(
        got,
        vec![
            ".github/workflows/ci.yml ci",
            "pw symlink_outside",
            ".husky/pre-commit git_hook",
            "vendor/lib submodule",
            ".tend/tasks/café x.md tend",
        ]
    );
}

#[test]
fn says_why() {
    let change = SensitiveChange {
        path: "pw".into(),
        kind: SensitiveKind::SymlinkOutside {
            target: "/etc/passwd".into(),
        },
    };
    assert_eq!(
        change.to_string(),
        "pw: a symlink out of the repository, to `/etc/passwd`"
    );
    assert_eq!(change.kind.target(), Some("/etc/passwd"));
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "core.quotePath=true",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The patch real git writes, with every kind of entry: quoted names, a name with a space, a
/// rename, a mode change, symlinks in and out, a binary file.
#[test]
fn a_patch_from_real_git() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    std::fs::create_dir_all(d.join("docs")).unwrap();
    std::fs::write(d.join("docs/github-workflows.md"), "how CI works\n").unwrap();
    std::fs::write(d.join("hooks-old"), "#!/bin/sh\n").unwrap();
    std::fs::write(d.join("run.sh"), "echo\n").unwrap();
    std::fs::write(d.join("becomes-link"), "a file\n").unwrap();
    std::os::unix::fs::symlink("docs/github-workflows.md", d.join("retarget")).unwrap();
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "base"]);
    let base = git(d, &["rev-parse", "HEAD"]).trim().to_owned();

    std::fs::write(d.join("docs/github-workflows.md"), "how CI works, v2\n").unwrap();
    std::fs::create_dir_all(d.join("src")).unwrap();
    std::fs::write(d.join("src/tend.rs"), "fn main() {}\n").unwrap();
    std::fs::create_dir_all(d.join(".tend/tasks")).unwrap();
    std::fs::write(d.join(".tend/tasks/ünï code.md"), "+++\n+++\n").unwrap();
    std::fs::write(d.join(".tend/config.toml"), "[providers.x]\n").unwrap();
    std::fs::create_dir_all(d.join(".github/workflows")).unwrap();
    std::fs::write(d.join(".github/workflows/x.yml"), "on: push\n").unwrap();
    std::fs::create_dir_all(d.join(".githooks")).unwrap();
    git(d, &["mv", "hooks-old", ".githooks/pre-commit"]);
    std::fs::write(d.join("with space.gitmodules"), "x\n").unwrap();
    std::fs::write(d.join("img.bin"), [0u8, 1, 2, 255, 0, 9]).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", d.join("pw")).unwrap();
    std::os::unix::fs::symlink("docs/github-workflows.md", d.join("inside")).unwrap();
    std::os::unix::fs::symlink("../.tend/config.toml", d.join("docs/cfg")).unwrap();
    std::os::unix::fs::symlink("../../outside", d.join("docs/out")).unwrap();
    // An existing link pointed elsewhere, and a file turned into a link.
    std::fs::remove_file(d.join("retarget")).unwrap();
    std::os::unix::fs::symlink("/etc/shadow", d.join("retarget")).unwrap();
    std::fs::remove_file(d.join("becomes-link")).unwrap();
    std::os::unix::fs::symlink("../..", d.join("becomes-link")).unwrap();
    let mut perms = std::fs::metadata(d.join("run.sh")).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(d.join("run.sh"), perms).unwrap();
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "change"]);
    let patch = git(d, &["diff", "--binary", &base, "HEAD"]);

    let got: Vec<String> = sensitive_changes(&patch)
        .iter()
        .map(|c| format!("{} {}", c.path, c.kind.name()))
        .collect();
    assert_eq!(
        got,
        vec![
            ".githooks/pre-commit git_hook",
            ".github/workflows/x.yml ci",
            ".tend/config.toml tend",
            ".tend/tasks/ünï code.md tend",
            "becomes-link symlink_outside",
            "docs/cfg symlink_to_sensitive",
            "docs/out symlink_outside",
            "pw symlink_outside",
            "retarget symlink_outside",
        ],
        "{patch}"
    );
}

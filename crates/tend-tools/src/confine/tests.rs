use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use pretty_assertions::assert_eq;

use super::resolve;
use crate::ToolError;

/// A canonical workspace root `ws/` next to an `outside/` directory holding `secret.txt`.
struct Tree {
    _dir: tempfile::TempDir,
    root: PathBuf,
    outside: PathBuf,
}

fn tree() -> Tree {
    let dir = tempfile::tempdir().unwrap();
    let base = fs::canonicalize(dir.path()).unwrap();
    let root = base.join("ws");
    let outside = base.join("outside");
    fs::create_dir_all(root.join("src/deep")).unwrap();
    fs::write(root.join("src/lib.rs"), "fn main() {}\n").unwrap();
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("secret.txt"), "secret\n").unwrap();
    Tree {
        _dir: dir,
        root,
        outside,
    }
}

/// `Ok((abs, rel))` or the error's message.
fn check(t: &Tree, input: impl AsRef<Path>) -> Result<(PathBuf, PathBuf), String> {
    resolve(&t.root, input.as_ref())
        .map(|r| (r.abs().to_path_buf(), r.rel().to_path_buf()))
        .map_err(|e| e.to_string())
}

fn inside(t: &Tree, rel: &str) -> Result<(PathBuf, PathBuf), String> {
    Ok((t.root.join(rel), PathBuf::from(rel)))
}

fn outside_msg(input: &str) -> Result<(PathBuf, PathBuf), String> {
    Err(format!("path {input} is outside the workspace"))
}

#[test]
fn plain_relative_paths_resolve_inside() {
    let t = tree();
    assert_eq!(check(&t, "src/lib.rs"), inside(&t, "src/lib.rs"));
    assert_eq!(check(&t, "./src//./lib.rs"), inside(&t, "src/lib.rs"));
    assert_eq!(check(&t, "src/deep/../lib.rs"), inside(&t, "src/lib.rs"));
}

#[test]
fn the_root_itself_is_inside_and_shown_as_dot() {
    let t = tree();
    for input in ["", ".", "./", "src/.."] {
        let r = resolve(&t.root, Path::new(input)).unwrap();
        assert_eq!((r.abs(), r.rel()), (t.root.as_path(), Path::new("")));
        assert_eq!(r.shown(), ".");
    }
}

#[test]
fn a_path_whose_parents_do_not_exist_yet_resolves_for_writing() {
    let t = tree();
    assert_eq!(check(&t, "new/dir/file.rs"), inside(&t, "new/dir/file.rs"));
    assert_eq!(check(&t, "new/../file.rs"), inside(&t, "file.rs"));
    assert_eq!(check(&t, "src/new/../lib.rs"), inside(&t, "src/lib.rs"));
}

#[test]
fn dot_dot_escapes_are_refused() {
    let t = tree();
    for input in [
        "..",
        "../outside/secret.txt",
        "a/../../x",
        "src/../../outside",
        "new/../../x",
        "src/deep/../../../etc",
    ] {
        assert_eq!(check(&t, input), outside_msg(input), "{input}");
    }
}

#[test]
fn leaving_and_reentering_the_root_resolves_like_the_kernel() {
    // No escape: the path names a file inside the workspace.
    let t = tree();
    assert_eq!(check(&t, "../ws/src/lib.rs"), inside(&t, "src/lib.rs"));
}

#[test]
fn absolute_paths_are_allowed_only_inside_the_root() {
    let t = tree();
    let abs_inside = t.root.join("src/lib.rs");
    assert_eq!(check(&t, &abs_inside), inside(&t, "src/lib.rs"));
    assert_eq!(check(&t, "/etc/passwd"), outside_msg("/etc/passwd"));
    let secret = t.outside.join("secret.txt");
    assert_eq!(
        check(&t, &secret),
        outside_msg(&secret.display().to_string())
    );
    // A sibling whose name merely starts with the root's name is outside.
    let sibling = PathBuf::from(format!("{}-other/x", t.root.display()));
    assert_eq!(
        check(&t, &sibling),
        outside_msg(&sibling.display().to_string())
    );
}

#[test]
fn symlinks_to_files_and_dirs_outside_are_refused() {
    let t = tree();
    symlink("/etc/passwd", t.root.join("passwd")).unwrap();
    symlink(&t.outside, t.root.join("out")).unwrap();
    symlink("../../outside/secret.txt", t.root.join("src/rel-secret")).unwrap();
    symlink("../..", t.root.join("src/up")).unwrap();
    for input in [
        "passwd",
        "out",
        "out/secret.txt",
        // Writing a new file through a link that points outside.
        "out/new.txt",
        "out/newdir/new.txt",
        "src/rel-secret",
        "src/up/outside/secret.txt",
        "src/up",
    ] {
        assert_eq!(check(&t, input), outside_msg(input), "{input}");
    }
}

#[test]
fn symlink_chains_inside_resolve_to_their_target() {
    let t = tree();
    // a -> b -> src/deep (relative), c -> absolute path of src
    symlink("src/deep", t.root.join("b")).unwrap();
    symlink("b", t.root.join("a")).unwrap();
    symlink(t.root.join("src"), t.root.join("c")).unwrap();
    symlink("../lib.rs", t.root.join("src/deep/lib-link")).unwrap();
    assert_eq!(check(&t, "a"), inside(&t, "src/deep"));
    assert_eq!(check(&t, "a/new.rs"), inside(&t, "src/deep/new.rs"));
    assert_eq!(check(&t, "a/lib-link"), inside(&t, "src/lib.rs"));
    // `..` after a link goes to the parent of the link's target, as in the kernel.
    assert_eq!(check(&t, "a/../lib.rs"), inside(&t, "src/lib.rs"));
    assert_eq!(check(&t, "c/lib.rs"), inside(&t, "src/lib.rs"));
}

#[test]
fn a_chain_that_ends_outside_is_refused() {
    let t = tree();
    symlink(&t.outside, t.root.join("hop2")).unwrap();
    symlink("hop2", t.root.join("hop1")).unwrap();
    assert_eq!(check(&t, "hop1/secret.txt"), outside_msg("hop1/secret.txt"));
}

#[test]
fn dangling_symlinks_resolve_to_where_a_write_would_land() {
    let t = tree();
    symlink(t.outside.join("planted.txt"), t.root.join("dangling-out")).unwrap();
    symlink("src/planned.rs", t.root.join("dangling-in")).unwrap();
    assert_eq!(check(&t, "dangling-out"), outside_msg("dangling-out"));
    assert_eq!(check(&t, "dangling-in"), inside(&t, "src/planned.rs"));
}

#[test]
fn symlink_loops_are_an_error_not_a_hang() {
    let t = tree();
    symlink("loop-b", t.root.join("loop-a")).unwrap();
    symlink("loop-a", t.root.join("loop-b")).unwrap();
    symlink(".", t.root.join("self")).unwrap();
    assert_eq!(
        check(&t, "loop-a/x"),
        Err("path loop-a/x: too many levels of symbolic links".to_owned())
    );
    // As in the kernel, more than 40 links in one path is an error even without a cycle.
    let many = "self/".repeat(50) + "src";
    assert_eq!(
        check(&t, &many),
        Err(format!("path {many}: too many levels of symbolic links"))
    );
    assert_eq!(check(&t, "self/self/src"), inside(&t, "src"));
}

#[test]
fn git_internals_are_refused_in_any_case_and_through_links() {
    let t = tree();
    fs::create_dir_all(t.root.join(".git/hooks")).unwrap();
    fs::write(t.root.join(".git/config"), "[core]\n").unwrap();
    fs::create_dir_all(t.root.join("vendor/lib/.git")).unwrap();
    symlink(".git/hooks", t.root.join("hooks")).unwrap();
    for input in [
        ".git",
        ".git/config",
        ".git/new-file",
        ".GIT/config",
        "vendor/lib/.git/HEAD",
        "hooks/pre-commit",
        "src/../.git/config",
    ] {
        assert_eq!(
            check(&t, input),
            Err(format!(
                "path {input} is inside .git, which the file tools do not touch; use git \
                 commands instead"
            )),
            "{input}"
        );
    }
    assert_eq!(check(&t, ".gitignore"), inside(&t, ".gitignore"));
    assert_eq!(check(&t, ".github/x.yml"), inside(&t, ".github/x.yml"));
}

#[test]
fn a_worktree_git_file_is_refused_too() {
    let t = tree();
    fs::write(t.root.join(".git"), "gitdir: /elsewhere/.git/worktrees/x\n").unwrap();
    assert!(matches!(
        resolve(&t.root, Path::new(".git")),
        Err(ToolError::InsideGit(_))
    ));
    // Through the file: the kernel would say "not a directory"; either way, not allowed.
    assert!(resolve(&t.root, Path::new(".git/config")).is_err());
}

#[test]
fn a_file_used_as_a_directory_is_an_error() {
    let t = tree();
    let err = resolve(&t.root, Path::new("src/lib.rs/x")).unwrap_err();
    assert!(
        matches!(&err, ToolError::Resolve { path, .. } if path == "src/lib.rs/x"),
        "{err:?}"
    );
    assert!(!err.is_refusal());
}

#[test]
fn non_utf8_names_resolve_and_are_confined() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let t = tree();
    let name = OsStr::from_bytes(b"caf\xe9.txt");
    fs::write(t.root.join(name), "x").unwrap();
    let r = resolve(&t.root, Path::new(name)).unwrap();
    assert_eq!(r.abs(), t.root.join(name));
    assert_eq!(r.shown(), "caf\u{fffd}.txt");
    let escape = Path::new(OsStr::from_bytes(b"caf\xe9/../../x"));
    assert_eq!(
        resolve(&t.root, escape).unwrap_err().to_string(),
        "path caf\u{fffd}/../../x is outside the workspace"
    );
}

#[test]
fn a_root_reached_through_a_symlink_still_confines() {
    // Callers canonicalise the root; absolute inputs may use the link form.
    let t = tree();
    let link = t.root.parent().unwrap().join("ws-link");
    symlink(&t.root, &link).unwrap();
    assert_eq!(check(&t, link.join("src/lib.rs")), inside(&t, "src/lib.rs"));
    let out = link.join("../outside/secret.txt");
    assert_eq!(check(&t, &out), outside_msg(&out.display().to_string()));
}

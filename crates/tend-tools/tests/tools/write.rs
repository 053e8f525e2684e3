use std::os::unix::fs::{PermissionsExt, symlink};

use pretty_assertions::assert_eq;
use serde_json::json;
use tend_tools::ToolDetail;

use crate::common::Fx;

#[tokio::test]
async fn creates_parents_then_overwrites() {
    let fx = Fx::new();
    let out = fx
        .call(
            "write",
            json!({"path": "a/b/new.rs", "content": "fn x() {}\nfn y() {}\n"}),
        )
        .await;
    assert_eq!(out.content, "Created a/b/new.rs (2 lines, 20 bytes)");
    assert_eq!(
        out.detail,
        ToolDetail::Write {
            path: "a/b/new.rs".into(),
            bytes: 20,
            created: true
        }
    );
    assert_eq!(fx.read_back("a/b/new.rs"), "fn x() {}\nfn y() {}\n");

    let out = fx
        .call("write", json!({"path": "a/b/new.rs", "content": "x"}))
        .await;
    assert_eq!(out.content, "Overwrote a/b/new.rs (1 line, 1 byte)");
    assert_eq!(
        out.detail,
        ToolDetail::Write {
            path: "a/b/new.rs".into(),
            bytes: 1,
            created: false
        }
    );
    assert_eq!(fx.read_back("a/b/new.rs"), "x");
}

#[tokio::test]
async fn overwriting_keeps_the_file_mode() {
    let fx = Fx::new();
    let script = fx.file("run.sh", "#!/bin/sh\n");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    fx.ok(
        "write",
        json!({"path": "run.sh", "content": "#!/bin/sh\necho hi\n"}),
    )
    .await;
    let mode = std::fs::metadata(&script).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o755);
}

#[tokio::test]
async fn a_symlink_inside_is_written_through() {
    let fx = Fx::new();
    fx.file("real.txt", "old");
    symlink("real.txt", fx.root.join("alias.txt")).unwrap();
    let out = fx
        .call("write", json!({"path": "alias.txt", "content": "new"}))
        .await;
    assert_eq!(out.content, "Overwrote real.txt (1 line, 3 bytes)");
    assert_eq!(fx.read_back("real.txt"), "new");
}

#[tokio::test]
async fn refuses_escapes_git_and_directories() {
    let fx = Fx::new();
    fx.git(&["init", "-q"]);
    symlink(fx.base.join("outside"), fx.root.join("out")).unwrap();
    symlink("/etc/passwd", fx.root.join("passwd")).unwrap();
    for path in [
        "../outside/planted.txt",
        "out/planted.txt",
        "passwd",
        "/tmp/planted.txt",
    ] {
        assert_eq!(
            fx.err("write", json!({"path": path, "content": "x"})).await,
            format!("path {path} is outside the workspace")
        );
    }
    assert!(!fx.base.join("outside/planted.txt").exists());
    for path in [".git/config", ".git/hooks/pre-commit"] {
        let out = fx
            .call("write", json!({"path": path, "content": "x"}))
            .await;
        assert!(matches!(out.detail, ToolDetail::Refused { .. }), "{path}");
    }
    assert!(!fx.root.join(".git/hooks/pre-commit").exists());
    std::fs::create_dir(fx.root.join("dir")).unwrap();
    assert_eq!(
        fx.err("write", json!({"path": "dir", "content": "x"}))
            .await,
        "dir is a directory"
    );
    assert_eq!(
        fx.err("write", json!({"path": "x"})).await,
        "invalid input for write: missing field `content`"
    );
}

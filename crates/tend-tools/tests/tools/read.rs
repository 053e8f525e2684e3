use std::os::unix::fs::symlink;

use pretty_assertions::assert_eq;
use serde_json::json;
use tend_tools::ToolDetail;

use crate::common::Fx;

#[tokio::test]
async fn numbers_lines_like_cat_n() {
    let fx = Fx::new();
    fx.file("src/a.rs", "fn main() {\r\n    run();\n}");
    let out = fx.call("read", json!({"path": "src/a.rs"})).await;
    assert_eq!(
        out.content,
        "    1\tfn main() {\n    2\t    run();\n    3\t}\n"
    );
    assert_eq!(
        out.detail,
        ToolDetail::Read {
            path: "src/a.rs".into(),
            lines: 3,
            truncated: false
        }
    );
}

fn numbered(n: usize) -> String {
    (1..=n).map(|i| format!("line {i}\n")).collect()
}

#[tokio::test]
async fn offset_and_limit_pick_a_window_and_say_how_to_go_on() {
    let fx = Fx::new();
    fx.file("ten.txt", numbered(10));
    let out = fx
        .call("read", json!({"path": "ten.txt", "offset": 3, "limit": 2}))
        .await;
    assert_eq!(
        out.content,
        "    3\tline 3\n    4\tline 4\n[lines 3-4 of 10; use offset=5 to read on]\n"
    );
    assert_eq!(
        out.detail,
        ToolDetail::Read {
            path: "ten.txt".into(),
            lines: 2,
            truncated: true
        }
    );
    // The last window is not truncated.
    let tail = fx.ok("read", json!({"path": "ten.txt", "offset": 9})).await;
    assert_eq!(tail, "    9\tline 9\n   10\tline 10\n");
}

#[tokio::test]
async fn at_most_read_max_lines_by_default() {
    let mut fx = Fx::new();
    fx.limits.read_max_lines = 3;
    fx.file("five.txt", numbered(4) + "no newline at the end");
    let out = fx.ok("read", json!({"path": "five.txt"})).await;
    assert_eq!(
        out,
        "    1\tline 1\n    2\tline 2\n    3\tline 3\n[lines 1-3 of 5; use offset=4 to read on]\n"
    );
}

#[tokio::test]
async fn the_output_cap_stops_early_with_a_note() {
    let mut fx = Fx::new();
    fx.limits.output_cap = 40;
    fx.file("many.txt", numbered(20));
    let out = fx.call("read", json!({"path": "many.txt"})).await;
    assert_eq!(
        out.content,
        "    1\tline 1\n    2\tline 2\n    3\tline 3\n\
         [output cap reached; lines 1-3 of 20; use offset=4 to read on]\n"
    );
    assert_eq!(
        out.detail,
        ToolDetail::Read {
            path: "many.txt".into(),
            lines: 3,
            truncated: true
        }
    );
}

#[tokio::test]
async fn long_lines_are_cut() {
    let mut fx = Fx::new();
    fx.limits.line_max_chars = 10;
    // 25 characters: kept whole while reading, cut when shown.
    fx.file(
        "long.txt",
        format!("{}\nshort\n{}\n", "é".repeat(25), "x".repeat(1000)),
    );
    let out = fx.ok("read", json!({"path": "long.txt"})).await;
    assert_eq!(
        out,
        format!(
            "    1\t{}… [15 more chars]\n    2\tshort\n    3\t{}… [line cut, 1001 bytes in all]\n",
            "é".repeat(10),
            "x".repeat(10)
        )
    );
}

#[tokio::test]
async fn empty_binary_and_non_utf8_files() {
    let fx = Fx::new();
    fx.file("empty.txt", "");
    fx.file("img.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    fx.file("latin1.txt", b"caf\xe9\n");
    assert_eq!(
        fx.ok("read", json!({"path": "empty.txt"})).await,
        "(empty.txt is empty)"
    );
    assert_eq!(
        fx.err("read", json!({"path": "img.png"})).await,
        "img.png looks like a binary file (it contains NUL bytes); not shown. Inspect it with \
         bash (e.g. file, xxd) if needed"
    );
    assert_eq!(
        fx.ok("read", json!({"path": "latin1.txt"})).await,
        "    1\tcaf\u{fffd}\n"
    );
}

#[tokio::test]
async fn a_directory_lists_its_entries() {
    let fx = Fx::new();
    fx.file("src/b.rs", "");
    fx.file("src/a.rs", "");
    fx.file("src/sub/c.rs", "");
    fx.file("src/.hidden", "");
    symlink("a.rs", fx.root.join("src/link")).unwrap();
    let out = fx.call("read", json!({"path": "src"})).await;
    assert_eq!(out.content, ".hidden\na.rs\nb.rs\nlink -> a.rs\nsub/\n");
    assert_eq!(
        out.detail,
        ToolDetail::List {
            path: "src".into(),
            entries: 5,
            truncated: false
        }
    );
    std::fs::create_dir(fx.root.join("void")).unwrap();
    assert_eq!(
        fx.ok("read", json!({"path": "void"})).await,
        "(void is an empty directory)\n"
    );
}

#[tokio::test]
async fn long_listings_are_capped() {
    let mut fx = Fx::new();
    fx.limits.max_results = 2;
    for name in ["a", "b", "c", "d"] {
        fx.file(name, "");
    }
    let out = fx.call("read", json!({"path": "."})).await;
    assert_eq!(out.content, "a\nb\n[… 2 more entries]\n");
    assert_eq!(
        out.detail,
        ToolDetail::List {
            path: ".".into(),
            entries: 4,
            truncated: true
        }
    );
}

#[tokio::test]
async fn errors_are_for_the_model() {
    let fx = Fx::new();
    fx.file("three.txt", numbered(3));
    assert_eq!(
        fx.err("read", json!({"path": "nope.txt"})).await,
        "nope.txt does not exist"
    );
    assert_eq!(
        fx.err("read", json!({"path": "three.txt", "offset": 7}))
            .await,
        "offset 7 is past the end of three.txt (3 lines)"
    );
    assert_eq!(
        fx.err("read", json!({"path": "three.txt", "limit": 0}))
            .await,
        "limit must be at least 1"
    );
    assert_eq!(
        fx.err("read", json!({"file_path": "three.txt"})).await,
        "invalid input for read: unknown field `file_path`, expected one of `path`, `offset`, \
         `limit`"
    );
    assert_eq!(
        fx.err("read", json!({"path": 3})).await,
        "invalid input for read: invalid type: integer `3`, expected a string"
    );
}

#[tokio::test]
async fn paths_outside_and_git_internals_are_refused() {
    let fx = Fx::new();
    std::fs::write(fx.base.join("outside/secret.txt"), "s").unwrap();
    symlink("/etc/passwd", fx.root.join("passwd")).unwrap();
    symlink(fx.base.join("outside"), fx.root.join("out")).unwrap();
    fx.git(&["init", "-q"]);
    let secret = fx.base.join("outside/secret.txt").display().to_string();
    for path in [
        "../outside/secret.txt",
        "/etc/passwd",
        &secret,
        "passwd",
        "out/secret.txt",
    ] {
        let out = fx.call("read", json!({"path": path})).await;
        assert!(out.is_error);
        assert_eq!(
            out.detail,
            ToolDetail::Refused {
                reason: format!("path {path} is outside the workspace")
            }
        );
    }
    let out = fx.call("read", json!({"path": ".git/config"})).await;
    assert_eq!(
        out.detail,
        ToolDetail::Refused {
            reason: "path .git/config is inside .git, which the file tools do not touch; use \
                     git commands instead"
                .into()
        }
    );
}

#[tokio::test]
async fn pipes_are_refused_instead_of_blocking() {
    let fx = Fx::new();
    let made = std::process::Command::new("mkfifo")
        .arg(fx.root.join("pipe"))
        .status()
        .unwrap();
    assert!(made.success());
    let msg = "pipe is not a regular file (a pipe, socket or device); use bash if you must";
    assert_eq!(fx.err("read", json!({"path": "pipe"})).await, msg);
    assert_eq!(
        fx.err("write", json!({"path": "pipe", "content": "x"}))
            .await,
        msg
    );
    assert_eq!(
        fx.err(
            "edit",
            json!({"path": "pipe", "old_string": "a", "new_string": "b"})
        )
        .await,
        msg
    );
    assert_eq!(
        fx.ok("grep", json!({"pattern": "x"})).await,
        "No matches for x in .\n"
    );
}

use pretty_assertions::assert_eq;
use serde_json::json;
use tend_tools::ToolDetail;

use crate::common::Fx;

fn sources(fx: &Fx) {
    fx.file(
        "src/lib.rs",
        "use std::io;\n\nfn parse() -> Result<(), Error> {\n    todo()\n}\n\nfn other() {}\n",
    );
    fx.file("src/main.rs", "fn main() {\n    parse().unwrap();\n}\n");
    fx.file(
        "README.md",
        "Call parse() first.\nPARSE is case-insensitive here.\n",
    );
}

#[tokio::test]
async fn content_is_printed_like_rg_sorted_by_path() {
    let fx = Fx::new();
    sources(&fx);
    let out = fx.call("grep", json!({"pattern": r"parse\("})).await;
    assert_eq!(
        out.content,
        "README.md:1:Call parse() first.\nsrc/lib.rs:3:fn parse() -> Result<(), Error> {\nsrc/main.rs:2:    parse().unwrap();\n"
    );
    assert_eq!(
        out.detail,
        ToolDetail::Grep {
            pattern: r"parse\(".into(),
            matches: 3,
            files: 3,
            truncated: false
        }
    );
}

#[tokio::test]
async fn context_lines_and_group_separators() {
    let fx = Fx::new();
    sources(&fx);
    let out = fx
        .ok(
            "grep",
            json!({"pattern": "^fn", "path": "src", "context": 1}),
        )
        .await;
    assert_eq!(
        out,
        "src/lib.rs-2-\n\
         src/lib.rs:3:fn parse() -> Result<(), Error> {\n\
         src/lib.rs-4-    todo()\n\
         --\n\
         src/lib.rs-6-\n\
         src/lib.rs:7:fn other() {}\n\
         --\n\
         src/main.rs:1:fn main() {\n\
         src/main.rs-2-    parse().unwrap();\n"
    );
}

#[tokio::test]
async fn case_insensitive_files_and_count_modes() {
    let fx = Fx::new();
    sources(&fx);
    assert_eq!(
        fx.ok("grep", json!({"pattern": "parse", "path": "README.md"}))
            .await,
        "README.md:1:Call parse() first.\n"
    );
    assert_eq!(
        fx.ok(
            "grep",
            json!({"pattern": "parse", "path": "README.md", "case_insensitive": true})
        )
        .await,
        "README.md:1:Call parse() first.\nREADME.md:2:PARSE is case-insensitive here.\n"
    );
    assert_eq!(
        fx.ok(
            "grep",
            json!({"pattern": "parse", "case_insensitive": true, "output_mode": "files"})
        )
        .await,
        "README.md\nsrc/lib.rs\nsrc/main.rs\n"
    );
    let out = fx
        .call(
            "grep",
            json!({"pattern": "parse", "case_insensitive": true, "output_mode": "count"}),
        )
        .await;
    assert_eq!(out.content, "README.md:2\nsrc/lib.rs:1\nsrc/main.rs:1\n");
    assert_eq!(
        out.detail,
        ToolDetail::Grep {
            pattern: "parse".into(),
            matches: 4,
            files: 3,
            truncated: false
        }
    );
}

#[tokio::test]
async fn skips_gitignored_binary_and_git_files_but_not_hidden_ones() {
    let fx = Fx::new();
    fx.git(&["init", "-q"]);
    fx.file(".gitignore", "target/\n*.log\n");
    fx.file("src/lib.rs", "needle in source\n");
    fx.file("target/out.rs", "needle in build output\n");
    fx.file("debug.log", "needle in a log\n");
    fx.file("blob.bin", b"needle\0in binary\n");
    fx.file(".github/ci.yml", "run: needle\n");
    fx.file(".git/needle-note", "needle inside git\n");
    assert_eq!(
        fx.ok("grep", json!({"pattern": "needle"})).await,
        ".github/ci.yml:1:run: needle\nsrc/lib.rs:1:needle in source\n"
    );
}

#[tokio::test]
async fn a_glob_filters_files_like_rg_g() {
    let fx = Fx::new();
    sources(&fx);
    assert_eq!(
        fx.ok(
            "grep",
            json!({"pattern": "parse", "glob": "*.rs", "output_mode": "files"})
        )
        .await,
        "src/lib.rs\nsrc/main.rs\n"
    );
    assert_eq!(
        fx.ok(
            "grep",
            json!({"pattern": "parse", "glob": "!*.rs", "output_mode": "files"})
        )
        .await,
        "README.md\n"
    );
}

#[tokio::test]
async fn output_is_capped_on_a_line_boundary_with_totals() {
    let mut fx = Fx::new();
    fx.limits.output_cap = 40;
    fx.file("a.txt", "hit one\nhit two\nhit three\n");
    fx.file("b.txt", "hit four\nhit five\n");
    let out = fx.call("grep", json!({"pattern": "hit"})).await;
    assert_eq!(
        out.content,
        "a.txt:1:hit one\na.txt:2:hit two\n\
         [… output capped; 5 matching lines in 2 files in all; narrow the pattern, path or glob]\n"
    );
    assert_eq!(
        out.detail,
        ToolDetail::Grep {
            pattern: "hit".into(),
            matches: 5,
            files: 2,
            truncated: true
        }
    );
}

#[tokio::test]
async fn long_lines_are_cut() {
    let mut fx = Fx::new();
    fx.limits.line_max_chars = 12;
    fx.file("min.js", format!("var needle={};\n", "1,".repeat(50)));
    assert_eq!(
        fx.ok("grep", json!({"pattern": "needle"})).await,
        "min.js:1:var needle=1… [100 more bytes]\n"
    );
}

#[tokio::test]
async fn no_matches_and_errors() {
    let fx = Fx::new();
    sources(&fx);
    let out = fx.call("grep", json!({"pattern": "absent"})).await;
    assert!(!out.is_error);
    assert_eq!(out.content, "No matches for absent in .\n");
    assert_eq!(
        out.detail,
        ToolDetail::Grep {
            pattern: "absent".into(),
            matches: 0,
            files: 0,
            truncated: false
        }
    );
    let bad = fx.err("grep", json!({"pattern": "("})).await;
    assert!(bad.starts_with("invalid regex: "), "{bad}");
    assert_eq!(
        fx.err("grep", json!({"pattern": "x", "path": "../outside"}))
            .await,
        "path ../outside is outside the workspace"
    );
    assert_eq!(
        fx.err("grep", json!({"pattern": "x", "path": "nope"}))
            .await,
        "nope does not exist"
    );
    assert_eq!(
        fx.err("grep", json!({"pattern": "x", "output_mode": "lines"}))
            .await,
        "invalid input for grep: unknown variant `lines`, expected one of `content`, `files`, \
         `count`"
    );
}

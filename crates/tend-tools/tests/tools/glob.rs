use std::fs::File;
use std::os::unix::fs::symlink;
use std::time::{Duration, SystemTime};

use pretty_assertions::assert_eq;
use serde_json::json;
use tend_tools::ToolDetail;

use crate::common::Fx;

/// Files with modification times `age` seconds before a fixed instant.
fn aged(fx: &Fx, files: &[(&str, u64)]) {
    let base = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    for (rel, age) in files {
        let path = fx.file(rel, "x");
        File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(base - Duration::from_secs(*age))
            .unwrap();
    }
}

#[tokio::test]
async fn newest_first_ties_by_path() {
    let fx = Fx::new();
    aged(
        &fx,
        &[
            ("src/old.rs", 300),
            ("src/new.rs", 10),
            ("src/b_mid.rs", 100),
            ("src/a_mid.rs", 100),
            ("README.md", 1),
        ],
    );
    let out = fx.call("glob", json!({"pattern": "**/*.rs"})).await;
    assert_eq!(
        out.content,
        "src/new.rs\nsrc/a_mid.rs\nsrc/b_mid.rs\nsrc/old.rs\n"
    );
    assert_eq!(
        out.detail,
        ToolDetail::Glob {
            pattern: "**/*.rs".into(),
            matches: 4,
            truncated: false
        }
    );
}

#[tokio::test]
async fn a_star_stays_in_one_directory() {
    let fx = Fx::new();
    aged(
        &fx,
        &[("top.rs", 1), ("src/inner.rs", 2), ("src/deep/x.rs", 3)],
    );
    assert_eq!(fx.ok("glob", json!({"pattern": "*.rs"})).await, "top.rs\n");
    assert_eq!(
        fx.ok("glob", json!({"pattern": "src/*.rs"})).await,
        "src/inner.rs\n"
    );
    assert_eq!(
        fx.ok("glob", json!({"pattern": "./src/**/*.{rs,md}"}))
            .await,
        "src/inner.rs\nsrc/deep/x.rs\n"
    );
    // Relative to `path`, printed relative to the root.
    assert_eq!(
        fx.ok("glob", json!({"pattern": "*.rs", "path": "src/deep"}))
            .await,
        "src/deep/x.rs\n"
    );
}

#[tokio::test]
async fn respects_gitignore_in_a_real_repo_and_includes_hidden_files() {
    let fx = Fx::new();
    fx.git(&["init", "-q"]);
    aged(
        &fx,
        &[
            (".gitignore", 9),
            ("src/lib.rs", 1),
            ("target/debug/build.rs", 2),
            ("app.log", 3),
            (".github/workflows/ci.yml", 4),
            ("sub/.gitignore", 5),
            ("sub/gen.rs", 6),
            ("sub/keep.rs", 7),
        ],
    );
    std::fs::write(fx.root.join(".gitignore"), "target/\n*.log\n").unwrap();
    std::fs::write(fx.root.join("sub/.gitignore"), "gen.rs\n").unwrap();
    assert_eq!(
        fx.ok("glob", json!({"pattern": "**/*"})).await,
        // The .gitignore files were just rewritten, so they are the newest.
        ".gitignore\nsub/.gitignore\nsrc/lib.rs\n.github/workflows/ci.yml\nsub/keep.rs\n"
    );
}

#[tokio::test]
async fn symlinks_are_not_followed_out_of_the_workspace() {
    let fx = Fx::new();
    std::fs::write(fx.base.join("outside/x.rs"), "x").unwrap();
    symlink(fx.base.join("outside"), fx.root.join("out")).unwrap();
    aged(&fx, &[("in.rs", 1)]);
    assert_eq!(
        fx.ok("glob", json!({"pattern": "**/*.rs"})).await,
        "in.rs\n"
    );
}

#[tokio::test]
async fn results_are_capped() {
    let mut fx = Fx::new();
    fx.limits.max_results = 2;
    aged(
        &fx,
        &[
            ("a.rs", 1),
            ("b.rs", 2),
            ("c.rs", 3),
            ("d.rs", 4),
            ("e.rs", 5),
        ],
    );
    let out = fx.call("glob", json!({"pattern": "*.rs"})).await;
    assert_eq!(
        out.content,
        "a.rs\nb.rs\n[… 3 more; narrow the pattern or path]\n"
    );
    assert_eq!(
        out.detail,
        ToolDetail::Glob {
            pattern: "*.rs".into(),
            matches: 5,
            truncated: true
        }
    );
}

#[tokio::test]
async fn no_match_bad_pattern_and_bad_paths() {
    let fx = Fx::new();
    aged(&fx, &[("a.rs", 1)]);
    assert_eq!(
        fx.ok("glob", json!({"pattern": "**/*.py"})).await,
        "No files match **/*.py in .\n"
    );
    assert_eq!(
        fx.err("glob", json!({"pattern": "a[.rs"})).await,
        "invalid glob pattern: error parsing glob 'a[.rs': unclosed character class; missing ']'"
    );
    assert_eq!(
        fx.err("glob", json!({"pattern": "*", "path": ".."})).await,
        "path .. is outside the workspace"
    );
    assert_eq!(
        fx.err("glob", json!({"pattern": "*", "path": "a.rs"}))
            .await,
        "a.rs is not a directory"
    );
    assert_eq!(
        fx.err("glob", json!({"pattern": "/etc/*"})).await,
        "glob pattern /etc/* is absolute; give a pattern relative to path, e.g. **/*.rs"
    );
    let absolute = format!("{}/*.rs", fx.root.display());
    assert_eq!(fx.ok("glob", json!({"pattern": absolute})).await, "a.rs\n");
}

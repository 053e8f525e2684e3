use pretty_assertions::assert_eq;
use serde_json::json;
use tend_tools::ToolDetail;

use crate::common::Fx;

const SRC: &str =
    "fn one() {\n    let x = 1;\n    x\n}\n\nfn two() {\n    let x = 1;\n    x + 1\n}\n";

#[tokio::test]
async fn a_unique_match_is_replaced_and_shown_in_context() {
    let fx = Fx::new();
    fx.file("lib.rs", SRC);
    let out = fx
        .call(
            "edit",
            json!({"path": "lib.rs", "old_string": "    x + 1", "new_string": "    x + 2\n    // two"}),
        )
        .await;
    assert_eq!(
        out.content,
        "Edited lib.rs: 1 replacement\n    6\tfn two() {\n    7\t    let x = 1;\n    8\t    x + 2\n    9\t    // two\n   10\t}\n"
    );
    assert_eq!(
        out.detail,
        ToolDetail::Edit {
            path: "lib.rs".into(),
            replacements: 1
        }
    );
    assert_eq!(
        fx.read_back("lib.rs"),
        SRC.replace("    x + 1", "    x + 2\n    // two")
    );
}

#[tokio::test]
async fn several_matches_need_context_or_replace_all() {
    let fx = Fx::new();
    fx.file("lib.rs", SRC);
    assert_eq!(
        fx.err(
            "edit",
            json!({"path": "lib.rs", "old_string": "let x = 1;", "new_string": "let x = 2;"})
        )
        .await,
        "old_string occurs 2 times in lib.rs (lines 2, 7); add surrounding context to make it \
         unique or set replace_all"
    );
    assert_eq!(fx.read_back("lib.rs"), SRC);
    let out = fx
        .call(
            "edit",
            json!({"path": "lib.rs", "old_string": "let x = 1;", "new_string": "let x = 2;", "replace_all": true}),
        )
        .await;
    assert_eq!(out.content, "Edited lib.rs: 2 replacements at lines 2, 7");
    assert_eq!(
        out.detail,
        ToolDetail::Edit {
            path: "lib.rs".into(),
            replacements: 2
        }
    );
    assert_eq!(
        fx.read_back("lib.rs"),
        SRC.replace("let x = 1;", "let x = 2;")
    );
}

#[tokio::test]
async fn many_matches_list_ten_lines() {
    let fx = Fx::new();
    fx.file("many.txt", "x\n".repeat(12));
    assert_eq!(
        fx.err(
            "edit",
            json!({"path": "many.txt", "old_string": "x", "new_string": "y"})
        )
        .await,
        "old_string occurs 12 times in many.txt (lines 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, …); add \
         surrounding context to make it unique or set replace_all"
    );
}

#[tokio::test]
async fn not_found_hints_at_a_block_with_other_whitespace() {
    let fx = Fx::new();
    fx.file("lib.rs", SRC);
    assert_eq!(
        fx.err(
            "edit",
            json!({"path": "lib.rs", "old_string": "fn two() {\n  let x = 1;\n  x + 1", "new_string": "y"})
        )
        .await,
        "old_string not found in lib.rs; a similar block with different whitespace or \
         indentation exists at line 6: re-read the file and copy the text exactly"
    );
    assert_eq!(
        fx.err(
            "edit",
            json!({"path": "lib.rs", "old_string": "x+1", "new_string": "y"})
        )
        .await,
        "old_string not found in lib.rs; a similar block with different whitespace or \
         indentation exists at line 8: re-read the file and copy the text exactly"
    );
    assert_eq!(
        fx.err(
            "edit",
            json!({"path": "lib.rs", "old_string": "fn three()", "new_string": "y"})
        )
        .await,
        "old_string not found in lib.rs; re-read the file to get its current text"
    );
    assert_eq!(fx.read_back("lib.rs"), SRC);
}

#[tokio::test]
async fn crlf_files_match_lf_strings_and_stay_crlf() {
    let fx = Fx::new();
    fx.file("win.txt", "a\r\nb\r\nc\r\n");
    fx.ok(
        "edit",
        json!({"path": "win.txt", "old_string": "a\nb", "new_string": "a\nB\nb"}),
    )
    .await;
    assert_eq!(fx.read_back("win.txt"), "a\r\nB\r\nb\r\nc\r\n");
}

#[tokio::test]
async fn bad_edits_are_refused_with_reasons() {
    let fx = Fx::new();
    fx.file("lib.rs", SRC);
    fx.file("bin.dat", b"ab\0cd");
    assert_eq!(
        fx.err(
            "edit",
            json!({"path": "lib.rs", "old_string": "x", "new_string": "x"})
        )
        .await,
        "old_string and new_string are the same; nothing to change"
    );
    assert_eq!(
        fx.err(
            "edit",
            json!({"path": "lib.rs", "old_string": "", "new_string": "x"})
        )
        .await,
        "old_string is empty; to create or overwrite a whole file use write"
    );
    assert_eq!(
        fx.err(
            "edit",
            json!({"path": "new.rs", "old_string": "a", "new_string": "b"})
        )
        .await,
        "new.rs does not exist; use write to create it"
    );
    assert_eq!(
        fx.err(
            "edit",
            json!({"path": "bin.dat", "old_string": "ab", "new_string": "x"})
        )
        .await,
        "bin.dat looks like a binary file; edit only changes text files"
    );
    assert_eq!(
        fx.err(
            "edit",
            json!({"path": "../x", "old_string": "a", "new_string": "b"})
        )
        .await,
        "path ../x is outside the workspace"
    );
    fx.git(&["init", "-q"]);
    let out = fx
        .call(
            "edit",
            json!({"path": ".git/config", "old_string": "[core]", "new_string": "[core]\n\thooksPath = /tmp"}),
        )
        .await;
    assert!(matches!(out.detail, ToolDetail::Refused { .. }));
    assert!(!fx.read_back(".git/config").contains("hooksPath"));
}

use pretty_assertions::assert_eq;
use serde_json::json;
use tend_tools::{ToolCall, ToolDetail, ToolOutput, builtin_specs};

use crate::common::Fx;

#[tokio::test]
async fn unknown_tools_get_a_helpful_error() {
    let fx = Fx::new();
    let out = fx.call("Read", json!({"path": "x"})).await;
    assert_eq!(
        out,
        ToolOutput {
            content: "unknown tool \"Read\"; the built-in tools are read, write, edit, glob, \
                      grep, bash"
                .into(),
            is_error: true,
            detail: ToolDetail::Failed {
                reason: "unknown tool \"Read\"; the built-in tools are read, write, edit, glob, \
                         grep, bash"
                    .into()
            }
        }
    );
}

#[tokio::test]
async fn every_spec_names_a_tool_that_runs() {
    let fx = Fx::new();
    fx.file("a.txt", "a\n");
    for spec in builtin_specs() {
        let input = match spec.name {
            "read" => json!({"path": "a.txt"}),
            "write" => json!({"path": "b.txt", "content": "b"}),
            "edit" => json!({"path": "a.txt", "old_string": "a", "new_string": "c"}),
            "glob" => json!({"pattern": "*.txt"}),
            "grep" => json!({"pattern": "c"}),
            "bash" => json!({"command": "cat a.txt b.txt"}),
            other => panic!("a spec without a test input: {other}"),
        };
        let out = fx.call(spec.name, input).await;
        assert!(!out.is_error, "{}: {}", spec.name, out.content);
    }
    assert_eq!(
        fx.ok("bash", json!({"command": "cat a.txt b.txt"})).await,
        "c\nb"
    );
}

#[test]
fn calls_and_outputs_round_trip_through_json() {
    let call: ToolCall = serde_json::from_value(json!({
        "id": "toolu_1", "name": "read", "input": {"path": "a"}
    }))
    .unwrap();
    assert_eq!(call.input, json!({"path": "a"}));
    let out = ToolOutput {
        content: "x".into(),
        is_error: false,
        detail: ToolDetail::Edit {
            path: "a".into(),
            replacements: 2,
        },
    };
    let value = serde_json::to_value(&out).unwrap();
    assert_eq!(
        value,
        json!({"content": "x", "is_error": false, "detail": {"kind": "edit", "path": "a", "replacements": 2}})
    );
    assert_eq!(serde_json::from_value::<ToolOutput>(value).unwrap(), out);
}

#[test]
fn a_workspace_needs_an_existing_directory_and_makes_a_private_tmp() {
    use std::os::unix::fs::PermissionsExt;
    use tend_tools::{ToolError, Workspace};

    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::canonicalize(dir.path()).unwrap();
    let file = base.join("file");
    std::fs::write(&file, "x").unwrap();
    assert!(matches!(
        Workspace::new(&base.join("missing"), &base.join("tmp")),
        Err(ToolError::Root { .. })
    ));
    assert!(matches!(
        Workspace::new(&file, &base.join("tmp")),
        Err(ToolError::RootNotADirectory(_))
    ));
    assert!(matches!(
        Workspace::new(&base, &file.join("tmp")),
        Err(ToolError::Tmp { .. })
    ));

    let ws = Workspace::new(&base.join("."), &base.join("deep/tmp")).unwrap();
    assert_eq!(ws.root(), base.as_path());
    assert_eq!(ws.tmp(), base.join("deep/tmp").as_path());
    let mode = std::fs::metadata(ws.tmp()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
    assert_eq!(ws.resolve("a/b").unwrap().abs(), base.join("a/b").as_path());
}

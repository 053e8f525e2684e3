//! The tools' side of the sandbox: fail-closed refusals and hidden paths. (Real confinement is
//! tested in tend-sandbox, and through these tools in tend-cli's escape battery.)

use pretty_assertions::assert_eq;
use serde_json::json;
use tend_tools::{Sandbox, ToolDetail};

use crate::common::Fx;

#[tokio::test]
async fn without_a_working_sandbox_bash_is_refused_and_file_tools_go_on() {
    let mut fx = Fx::new();
    fx.ws = fx.ws.clone().with_sandbox(Sandbox::Unavailable {
        reason: "no sandbox works on this machine; install bubblewrap".into(),
    });
    let out = fx.call("bash", json!({"command": "echo hi"})).await;
    assert!(out.is_error);
    let message =
        "shell commands are refused: no sandbox works on this machine; install bubblewrap";
    assert_eq!(out.content, message);
    assert_eq!(
        out.detail,
        ToolDetail::Refused {
            reason: message.into()
        }
    );
    fx.ok(
        "write",
        json!({"path": "a.txt", "content": "still works\n"}),
    )
    .await;
    assert_eq!(fx.read_back("a.txt"), "still works\n");
}

#[tokio::test]
async fn hidden_paths_inside_the_root_are_refused_and_skipped() {
    let mut fx = Fx::new();
    fx.file("secrets/key.pem", "KEY\n");
    fx.file("src/main.rs", "fn main() {} // KEY\n");
    fx.ws = fx.ws.clone().with_deny_read(&[
        fx.root.join("secrets"),
        // Outside the root, and the root's own ancestor: irrelevant to the file tools.
        fx.base.join("outside"),
        fx.base.clone(),
    ]);
    assert_eq!(fx.ws.deny_read(), [fx.root.join("secrets")]);
    let hidden = "path secrets/key.pem is hidden by the task's sandbox settings (deny_read); \
                  neither the file tools nor shell commands may read it";
    assert_eq!(
        fx.err("read", json!({"path": "secrets/key.pem"})).await,
        hidden
    );
    let out = fx.call("read", json!({"path": "secrets/key.pem"})).await;
    assert!(matches!(out.detail, ToolDetail::Refused { .. }));
    assert!(
        fx.err("write", json!({"path": "secrets/new", "content": "x"}))
            .await
            .contains("hidden by the task's sandbox settings")
    );
    assert!(
        fx.err(
            "edit",
            json!({"path": "./src/../secrets/key.pem", "old_string": "KEY", "new_string": "K"})
        )
        .await
        .contains("hidden")
    );
    assert_eq!(
        fx.ok("glob", json!({"pattern": "**/*"})).await.trim_end(),
        "src/main.rs"
    );
    // A symbolic link into the hidden folder does not get around it.
    std::os::unix::fs::symlink(fx.root.join("secrets"), fx.root.join("alias")).unwrap();
    assert!(
        fx.err("read", json!({"path": "alias/key.pem"}))
            .await
            .contains("hidden")
    );
    assert_eq!(
        fx.ok("grep", json!({"pattern": "KEY"})).await.trim_end(),
        "src/main.rs:1:fn main() {} // KEY"
    );
}

#[test]
fn transcripts_from_before_the_sandbox_fields_still_read() {
    let old = json!({
        "kind": "bash", "command": "true", "exit_code": 0, "signal": null, "timed_out": false,
        "duration_ms": 3, "stdout_bytes": 0, "stderr_bytes": 0, "truncated": false
    });
    let detail: ToolDetail = serde_json::from_value(old.clone()).unwrap();
    match &detail {
        ToolDetail::Bash {
            sandbox,
            denials,
            proxy,
            ..
        } => assert_eq!((sandbox, denials.len(), proxy.len()), (&None, 0, 0)),
        other => panic!("{other:?}"),
    }
    // Unconfined and nothing refused: the same JSON as before.
    assert_eq!(serde_json::to_value(&detail).unwrap(), old);
}

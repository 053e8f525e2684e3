use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use tend_tools::{Limits, ToolCall, ToolDetail, ToolOutput, Workspace, run_tool};

/// A workspace root `ws/` with a private `tmp/`, and room for things `outside/` it.
pub struct Fx {
    _dir: tempfile::TempDir,
    pub base: PathBuf,
    pub root: PathBuf,
    pub ws: Workspace,
    pub limits: Limits,
}

impl Fx {
    pub fn new() -> Fx {
        let dir = tempfile::tempdir().unwrap();
        let base = fs::canonicalize(dir.path()).unwrap();
        let root = base.join("ws");
        fs::create_dir(&root).unwrap();
        fs::create_dir(base.join("outside")).unwrap();
        let ws = Workspace::new(&root, &base.join("tmp")).unwrap();
        Fx {
            _dir: dir,
            base,
            root,
            ws,
            limits: Limits::default(),
        }
    }

    /// Writes `rel` under the root, creating parents.
    pub fn file(&self, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, content).unwrap();
        path
    }

    pub fn read_back(&self, rel: &str) -> String {
        fs::read_to_string(self.root.join(rel)).unwrap()
    }

    pub async fn call(&self, name: &str, input: Value) -> ToolOutput {
        let call = ToolCall {
            id: "call-1".to_owned(),
            name: name.to_owned(),
            input,
        };
        run_tool(&self.ws, &call, &self.limits).await
    }

    /// A successful call's content (fails the test on an error output).
    pub async fn ok(&self, name: &str, input: Value) -> String {
        let out = self.call(name, input).await;
        assert!(!out.is_error, "{name} failed: {}", out.content);
        out.content
    }

    /// A failed call's message, checking that its detail records the same reason.
    pub async fn err(&self, name: &str, input: Value) -> String {
        let out = self.call(name, input).await;
        assert!(
            out.is_error,
            "{name} unexpectedly succeeded: {}",
            out.content
        );
        match &out.detail {
            ToolDetail::Refused { reason } | ToolDetail::Failed { reason } => {
                assert_eq!(reason, &out.content)
            }
            other => panic!("error output with detail {other:?}"),
        }
        out.content
    }

    pub fn git(&self, args: &[&str]) {
        git(&self.root, args);
    }
}

pub fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

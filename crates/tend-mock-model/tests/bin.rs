//! The `tend-mock-model` binary serves a script file and prints its URL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use pretty_assertions::assert_eq;
use serde_json::{Value, json};

#[tokio::test]
async fn serves_a_script_file() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("script.json");
    std::fs::write(
        &script,
        r#"{"steps": [{"type": "reply", "content": [{"type": "text", "text": "from the bin"}]}]}"#,
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tend-mock-model"))
        .arg(&script)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut url = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    let url = url.trim().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let _ = rustls::crypto::ring::default_provider().install_default();
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("{url}/v1/chat/completions"))
        .json(&json!({"model": "m", "messages": []}))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        body.pointer("/choices/0/message/content"),
        Some(&json!("from the bin"))
    );
}

#[test]
fn a_bad_script_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("bad.json");
    std::fs::write(&script, r#"{"steps": [{"type": "sing"}]}"#).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_tend-mock-model"))
        .arg(&script)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with(&format!(
            "tend-mock-model: {}: unknown variant `sing`",
            script.display()
        )),
        "{stderr}"
    );
}

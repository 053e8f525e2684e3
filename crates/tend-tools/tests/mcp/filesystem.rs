//! `@modelcontextprotocol/server-filesystem` on a temp folder.

use pretty_assertions::assert_eq;
use serde_json::json;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_and_reads_a_folder() {
    let fx = Fx::new();
    let shared = fx.base.join("shared");
    std::fs::create_dir_all(shared.join("sub")).unwrap();
    std::fs::write(shared.join("notes.txt"), "remember the milk\n").unwrap();
    let dir = shared.display().to_string();
    let hub = fx
        .start(&[("files", stdio(&node(), &[&filesystem_js(), &dir]))])
        .await;
    let names = tool_names(&hub, "files");
    assert!(
        names.contains(&"mcp__files__read_text_file".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"mcp__files__list_directory".to_owned()),
        "{names:?}"
    );

    let list = call(&hub, "mcp__files__list_directory", json!({"path": dir})).await;
    assert!(!list.is_error, "{}", list.content);
    assert_eq!(list.content, "[FILE] notes.txt\n[DIR] sub");

    let read = call(
        &hub,
        "mcp__files__read_text_file",
        json!({"path": shared.join("notes.txt")}),
    )
    .await;
    assert_eq!(
        (read.content.as_str(), read.is_error),
        ("remember the milk\n", false)
    );

    // Outside its allowed folders the server says no, as an error the model can read.
    let outside = call(
        &hub,
        "mcp__files__read_text_file",
        json!({"path": fx.base.join("secret.txt")}),
    )
    .await;
    assert!(outside.is_error, "{}", outside.content);
    hub.shutdown().await;
}

//! The run's disk budget through the tools: a shell command that passes it is stopped with a
//! tool error naming it, the next command works, deleting frees budget, and file writes count.

use std::fs;
use std::path::Path;

use serde_json::json;
use tend_tools::{DiskScope, Workspace};

use crate::common::Fx;

const MB: u64 = 1_000_000;

/// A fixture whose workspace has a budget of `max` bytes.
fn budgeted(max: u64) -> Fx {
    let mut fx = Fx::new();
    fx.ws = Workspace::new(&fx.root, &fx.base.join("tmp"))
        .unwrap()
        .with_disk_budget(tend_config::Size(max), DiskScope::TmpAndWorktree);
    fx
}

fn size(path: &Path) -> u64 {
    fs::metadata(path).map_or(0, |m| m.len())
}

const BUDGET_NOTE: &str = "the run's disk budget ([sandbox] max_disk = 20MB) is used up: ";

#[tokio::test]
async fn one_big_file_in_tmp_stops_at_the_budget_and_the_next_command_works() {
    let fx = budgeted(20 * MB);
    let out = fx
        .call(
            "bash",
            json!({ "command": "dd if=/dev/zero of=\"$TMPDIR/big\" bs=1M count=60; echo after" }),
        )
        .await;
    assert!(out.is_error, "{}", out.content);
    assert!(out.content.contains(BUDGET_NOTE), "{}", out.content);
    assert!(
        out.content.contains("free space or raise max_disk"),
        "{}",
        out.content
    );
    let written = size(&fx.base.join("tmp/big"));
    assert!(written <= 20 * MB, "{written} bytes written");
    // The run goes on: deleting works and frees the budget, then writing works again.
    let next = fx
        .ok(
            "bash",
            json!({ "command": "rm \"$TMPDIR/big\" && echo freed" }),
        )
        .await;
    assert!(next.contains("freed"), "{next}");
    fx.ok(
        "bash",
        json!({ "command": "head -c 1000000 /dev/zero > \"$TMPDIR/small\"" }),
    )
    .await;
}

/// Many files, each under the per-file cap: the watch has to catch them.
#[tokio::test]
async fn many_files_in_the_worktree_are_caught_by_the_watch() {
    let fx = budgeted(20 * MB);
    let out = fx
        .call(
            "bash",
            json!({ "command": "for i in $(seq 1 60); do dd if=/dev/zero of=f$i bs=1M count=1 status=none; sleep 0.05; done; echo done" }),
        )
        .await;
    assert!(out.is_error, "{}", out.content);
    assert!(
        out.content.contains(&format!("[stopped: {BUDGET_NOTE}")),
        "{}",
        out.content
    );
    assert!(!out.content.contains("done"), "{}", out.content);
    let written: u64 = (1..=60).map(|i| size(&fx.root.join(format!("f{i}")))).sum();
    assert!(written <= 40 * MB, "{written} bytes written");
}

#[tokio::test]
async fn with_the_budget_used_up_a_command_may_only_free_space() {
    let fx = budgeted(20 * MB);
    fx.file("keep.txt", "x");
    let _ = fx
        .call(
            "bash",
            json!({ "command": "head -c 30000000 /dev/zero > big" }),
        )
        .await;
    let out = fx
        .call(
            "bash",
            json!({ "command": "echo more >> keep.txt; echo ran" }),
        )
        .await;
    assert!(out.is_error, "{}", out.content);
    assert!(out.content.contains(BUDGET_NOTE), "{}", out.content);
    assert_eq!(fx.read_back("keep.txt"), "x");
    // A write through the file tools is refused too.
    let write = fx
        .call("write", json!({ "path": "new.txt", "content": "hello" }))
        .await;
    assert!(write.is_error, "{}", write.content);
    assert!(
        write.content.contains("max_disk = 20MB"),
        "{}",
        write.content
    );
    assert!(!fx.root.join("new.txt").exists());
    // Deleting is fine and brings the budget back.
    fx.ok("bash", json!({ "command": "rm big" })).await;
    fx.ok("write", json!({ "path": "new.txt", "content": "hello" }))
        .await;
}

#[tokio::test]
async fn file_tools_count_against_the_budget() {
    let fx = budgeted(2 * MB);
    let big = "y".repeat(3 * MB as usize);
    let out = fx
        .call("write", json!({ "path": "big.txt", "content": big }))
        .await;
    assert!(out.is_error, "{}", out.content);
    assert!(
        out.content.contains("big.txt was not written: 3.0 MB more would pass the run's disk budget ([sandbox] max_disk = 2MB)"),
        "{}",
        out.content
    );
    assert!(!fx.root.join("big.txt").exists());
    fx.ok("write", json!({ "path": "a.txt", "content": "short" }))
        .await;
    // An edit that grows a file past the budget is refused; the file stays as it was.
    let out = fx
        .call(
            "edit",
            json!({ "path": "a.txt", "old_string": "short", "new_string": "z".repeat(3 * MB as usize) }),
        )
        .await;
    assert!(out.is_error, "{}", out.content);
    assert_eq!(fx.read_back("a.txt"), "short");
}

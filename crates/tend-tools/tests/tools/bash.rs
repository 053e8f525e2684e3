use std::ffi::OsString;
use std::time::{Duration, Instant};

use pretty_assertions::assert_eq;
use serde_json::json;
use tend_tools::{ToolDetail, ToolOutput};

use crate::common::Fx;

/// The detail with the (varying) duration zeroed.
fn detail(out: &ToolOutput) -> ToolDetail {
    match out.detail.clone() {
        ToolDetail::Bash {
            command,
            exit_code,
            signal,
            timed_out,
            duration_ms: _,
            stdout_bytes,
            stderr_bytes,
            truncated,
            sandbox,
            denials,
            proxy,
        } => ToolDetail::Bash {
            command,
            exit_code,
            signal,
            timed_out,
            duration_ms: 0,
            stdout_bytes,
            stderr_bytes,
            truncated,
            sandbox,
            denials,
            proxy,
        },
        other => panic!("not a bash detail: {other:?}"),
    }
}

/// Generous bound for "returned promptly": the commands under test would run for minutes.
const PROMPT: Duration = Duration::from_secs(10);

/// Whether a process is still running (a zombie is not: it has exited and waits to be reaped).
fn running(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => false,
        Ok(stat) => {
            let state = stat
                .rsplit(") ")
                .next()
                .and_then(|rest| rest.chars().next());
            !matches!(state, Some('Z' | 'X'))
        }
    }
}

/// SIGKILL is delivered asynchronously: gives each process a moment to finish dying.
fn assert_gone(pids: &[i32]) {
    let start = Instant::now();
    while pids.iter().any(|&pid| running(pid)) {
        assert!(
            start.elapsed() < PROMPT,
            "still running: {:?}",
            pids.iter().filter(|&&p| running(p)).collect::<Vec<_>>()
        );
        std::thread::yield_now();
    }
}

/// Numbers printed by the command (tool notes, in brackets, excluded).
fn pids(text: &str) -> Vec<i32> {
    text.lines()
        .filter(|line| !line.starts_with('['))
        .flat_map(str::split_whitespace)
        .filter_map(|word| word.parse().ok())
        .collect()
}

#[tokio::test]
async fn stdout_stderr_and_exit_code() {
    let fx = Fx::new();
    let cmd = "echo out; echo err >&2; exit 3";
    let out = fx.call("bash", json!({"command": cmd})).await;
    assert_eq!(out.content, "out\n[stderr]\nerr\n[exit code 3]");
    assert!(out.is_error);
    assert_eq!(
        detail(&out),
        ToolDetail::Bash {
            command: cmd.into(),
            exit_code: Some(3),
            signal: None,
            timed_out: false,
            duration_ms: 0,
            stdout_bytes: 4,
            stderr_bytes: 4,
            truncated: false,
            sandbox: None,
            denials: vec![],
            proxy: vec![],
        }
    );
    let out = fx
        .call("bash", json!({"command": "true", "description": "nothing"}))
        .await;
    assert_eq!((out.content.as_str(), out.is_error), ("(no output)", false));
}

#[tokio::test]
async fn runs_bash_in_the_root_with_the_private_tmp_and_no_stdin() {
    let fx = Fx::new();
    let out = fx
        .ok(
            "bash",
            json!({"command": "pwd; echo \"$TMPDIR\"; echo \"$BASH_VERSION\" | cut -c1; cat; echo end"}),
        )
        .await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(lines[0], fx.root.display().to_string());
    assert_eq!(lines[1], fx.ws.tmp().display().to_string());
    assert!(
        lines[2].chars().all(|c| c.is_ascii_digit()),
        "not bash: {out}"
    );
    assert_eq!(lines[3], "end");
}

#[tokio::test]
async fn a_timeout_kills_the_command_promptly() {
    let fx = Fx::new();
    let start = Instant::now();
    let out = fx
        .call(
            "bash",
            json!({"command": "echo started; sleep 30", "timeout_ms": 200}),
        )
        .await;
    assert!(start.elapsed() < PROMPT, "took {:?}", start.elapsed());
    assert_eq!(
        out.content,
        "started\n[timed out after 200 ms; the command and everything it started were killed]"
    );
    assert!(out.is_error);
    assert_eq!(
        detail(&out),
        ToolDetail::Bash {
            command: "echo started; sleep 30".into(),
            exit_code: None,
            signal: Some(15),
            timed_out: true,
            duration_ms: 0,
            stdout_bytes: 8,
            stderr_bytes: 0,
            truncated: false,
            sandbox: None,
            denials: vec![],
            proxy: vec![],
        }
    );
}

#[tokio::test]
async fn a_command_ignoring_sigterm_gets_sigkill_after_the_grace() {
    let mut fx = Fx::new();
    fx.limits.kill_grace = Duration::from_millis(100);
    let start = Instant::now();
    let out = fx
        .call(
            "bash",
            json!({"command": "trap '' TERM; sleep 30", "timeout_ms": 100}),
        )
        .await;
    assert!(start.elapsed() < PROMPT, "took {:?}", start.elapsed());
    match detail(&out) {
        ToolDetail::Bash {
            timed_out, signal, ..
        } => assert_eq!((timed_out, signal), (true, Some(9))),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_timeout_asked_for_is_clamped_to_the_maximum() {
    let mut fx = Fx::new();
    fx.limits.bash_timeout_max = Duration::from_millis(300);
    let out = fx
        .call(
            "bash",
            json!({"command": "sleep 30", "timeout_ms": 600_000}),
        )
        .await;
    assert_eq!(
        out.content,
        "[timed out after 300 ms; the command and everything it started were killed]"
    );
}

#[tokio::test]
async fn the_whole_process_group_dies_on_timeout() {
    let fx = Fx::new();
    let out = fx
        .call(
            "bash",
            json!({"command": "sleep 300 & echo $!; sleep 300 & echo $!; wait", "timeout_ms": 200}),
        )
        .await;
    let children = pids(&out.content);
    assert_eq!(children.len(), 2, "{}", out.content);
    assert_gone(&children);
}

#[tokio::test]
async fn a_background_child_holding_stdout_does_not_hang_the_tool() {
    let fx = Fx::new();
    let start = Instant::now();
    let out = fx
        .call(
            "bash",
            json!({"command": "(sleep 300 & echo $!); echo done"}),
        )
        .await;
    assert!(start.elapsed() < PROMPT, "took {:?}", start.elapsed());
    assert!(!out.is_error, "{}", out.content);
    assert!(out.content.ends_with("done\n"), "{}", out.content);
    let children = pids(&out.content);
    assert_eq!(children.len(), 1, "{}", out.content);
    // Left-overs in the group are killed once the shell is done.
    assert_gone(&children);
}

#[tokio::test]
async fn huge_output_keeps_head_and_tail() {
    let fx = Fx::new();
    let out = fx
        .call(
            "bash",
            json!({"command": "yes | head -c 10000000; echo; echo the-end"}),
        )
        .await;
    assert!(!out.is_error);
    assert!(
        out.content.len() <= fx.limits.output_cap + 100,
        "{}",
        out.content.len()
    );
    assert!(out.content.starts_with("y\ny\n"));
    assert!(out.content.contains(" bytes cut …]\n"));
    assert!(out.content.ends_with("y\ny\n\nthe-end\n"));
    match detail(&out) {
        ToolDetail::Bash {
            stdout_bytes,
            truncated,
            ..
        } => assert_eq!((stdout_bytes, truncated), (10_000_009, true)),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn secrets_in_the_parent_environment_never_reach_the_command() {
    let fx = Fx::new();
    let parent: Vec<(OsString, OsString)> = [
        ("PATH", "/usr/local/bin:/usr/bin:/bin"),
        ("HOME", "/home/someone"),
        ("LANG", "C.UTF-8"),
        ("LC_TIME", "C"),
        ("ANTHROPIC_API_KEY", "sk-ant-secret"),
        ("OPENAI_API_KEY", "sk-openai-secret"),
        ("GITHUB_TOKEN", "ghp-secret"),
        ("AWS_SECRET_ACCESS_KEY", "aws-secret"),
        ("MY_SECRET", "secret"),
        ("SSH_AUTH_SOCK", "/run/agent.sock"),
        ("BASH_ENV", "/tmp/evil.sh"),
    ]
    .iter()
    .map(|(k, v)| (OsString::from(k), OsString::from(v)))
    .collect();
    let ws = fx.ws.clone().with_parent_env(parent);
    let call = tend_tools::ToolCall {
        id: "1".into(),
        name: "bash".into(),
        input: json!({"command": "env | sort"}),
    };
    let out = tend_tools::run_tool(&ws, &call, &fx.limits).await;
    let tmp = fx.ws.tmp().display();
    let root = fx.root.display();
    assert_eq!(
        out.content,
        format!(
            "GIT_PAGER=cat\nGIT_TERMINAL_PROMPT=0\nHOME=/home/someone\nLANG=C.UTF-8\nLC_TIME=C\n\
             NO_COLOR=1\nPAGER=cat\nPATH=/usr/local/bin:/usr/bin:/bin\nPWD={root}\nSHLVL=1\n\
             TERM=dumb\nTMPDIR={tmp}\n_=/usr/bin/env\n"
        )
    );
}

#[tokio::test]
async fn the_real_environment_is_scrubbed_too() {
    let fx = Fx::new();
    let out = fx
        .ok("bash", json!({"command": "env | cut -d= -f1 | sort -u"}))
        .await;
    let allowed = [
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "LANG",
        "TZ",
        "TERM",
        "NO_COLOR",
        "PAGER",
        "GIT_PAGER",
        "GIT_TERMINAL_PROMPT",
        "TMPDIR",
        "PWD",
        "OLDPWD",
        "SHLVL",
        "_",
    ];
    for name in out.lines() {
        assert!(
            allowed.contains(&name) || name.starts_with("LC_"),
            "unexpected variable {name}"
        );
    }
}

#[tokio::test]
async fn dropping_the_call_kills_the_process_group() {
    let fx = Fx::new();
    let fifo = fx.base.join("pids.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let cmd = format!("sleep 300 & echo $$ $! > '{}'; wait", fifo.display());
    let call = fx.call("bash", json!({"command": cmd}));
    // Reading the FIFO waits until the shell has started its child; then the call is dropped.
    let written = tokio::select! {
        out = call => panic!("the command finished: {out:?}"),
        written = tokio::fs::read_to_string(&fifo) => written.unwrap(),
    };
    let shell_and_child = pids(&written);
    assert_eq!(shell_and_child.len(), 2, "{written}");
    assert_gone(&shell_and_child);
}

#[tokio::test]
async fn bad_input() {
    let fx = Fx::new();
    assert_eq!(
        fx.err("bash", json!({"command": "  "})).await,
        "command is empty"
    );
    assert_eq!(
        fx.err("bash", json!({"command": "true", "timeout_ms": 0}))
            .await,
        "timeout_ms must be at least 1"
    );
    assert_eq!(
        fx.err("bash", json!({"command": "true", "timeout": 5}))
            .await,
        "invalid input for bash: unknown field `timeout`, expected one of `command`, \
         `timeout_ms`, `description`"
    );
}

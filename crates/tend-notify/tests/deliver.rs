//! Deliveries against real receivers: a local HTTP server for webhooks, real shell commands, and
//! a fake `notify-send` on the search path.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use tend_config::{Channel, NotifyOn};
use tend_notify::{
    Delivery, DeliveryError, Notification, Os, Settings, Target, Via, deliver, slack_body, targets,
};

fn notification() -> Notification {
    let mut n = Notification::new(
        NotifyOn::Failure,
        "triage",
        "20261125-100000-abcdef",
        "failed",
    );
    n.status = Some("failed".into());
    n.summary = "The model could not be reached.".into();
    n.report = Some("/state/runs/20261125-100000-abcdef/report.md".into());
    n.next = vec!["tend logs 20261125-100000-abcdef".into()];
    n
}

fn settings(search_path: &Path) -> Settings {
    Settings {
        search_path: search_path.as_os_str().to_owned(),
        os: Some(Os::Freedesktop),
        env: Arc::new(|name: &str| match name {
            "HOOK_TOKEN" => Some("s3cr3t-token".to_owned()),
            _ => None,
        }),
        retry_delay: Duration::ZERO,
    }
}

/// What the receiver answers to each request, in order (then 200).
#[derive(Clone, Copy)]
enum Answer {
    Status(u16),
    /// Never answers.
    Hang,
}

#[derive(Clone, Default)]
struct Receiver {
    answers: Arc<Mutex<VecDeque<Answer>>>,
    bodies: Arc<Mutex<Vec<(String, Value)>>>,
}

async fn hook(State(r): State<Receiver>, headers: HeaderMap, body: String) -> (StatusCode, String) {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    r.bodies
        .lock()
        .unwrap()
        .push((content_type, serde_json::from_str(&body).unwrap()));
    let answer = r.answers.lock().unwrap().pop_front();
    match answer {
        Some(Answer::Hang) => std::future::pending().await,
        Some(Answer::Status(code)) => (
            StatusCode::from_u16(code).unwrap(),
            if code == 200 {
                "ok".into()
            } else {
                "invalid_payload".into()
            },
        ),
        None => (StatusCode::OK, "ok".into()),
    }
}

async fn serve(answers: &[Answer]) -> (SocketAddr, Receiver) {
    let receiver = Receiver::default();
    receiver
        .answers
        .lock()
        .unwrap()
        .extend(answers.iter().copied());
    let app = axum::Router::new()
        .route("/services/{token}", axum::routing::post(hook))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, receiver)
}

fn webhook(url: String, timeout: Duration) -> Target {
    Target {
        name: "hook".into(),
        via: Via::Webhook {
            url,
            timeout: Some(timeout),
        },
    }
}

async fn one(n: &Notification, target: Target, settings: &Settings) -> Delivery {
    let mut all = deliver(n, &[target], settings).await;
    assert_eq!(all.len(), 1);
    all.remove(0)
}

#[tokio::test]
async fn a_webhook_gets_the_slack_body_and_a_5xx_is_retried_once() {
    let (addr, receiver) = serve(&[Answer::Status(500), Answer::Status(200)]).await;
    let dir = tempfile::tempdir().unwrap();
    let n = notification();
    let url = format!("http://{addr}/services/${{HOOK_TOKEN}}");
    let d = one(
        &n,
        webhook(url, Duration::from_secs(10)),
        &settings(dir.path()),
    )
    .await;
    assert_eq!(
        (d.channel.as_str(), d.kind, d.result, d.attempts),
        ("hook", "webhook", Ok("HTTP 200".to_owned()), 2)
    );
    let bodies = receiver.bodies.lock().unwrap().clone();
    let expected = ("application/json".to_owned(), slack_body(&n));
    assert_eq!(bodies, vec![expected.clone(), expected]);
    // What Slack reads, and tend's own fields beside it.
    let body = &bodies[0].1;
    assert_eq!(
        body["text"],
        json!("tend · triage: run failed: The model could not be reached.")
    );
    assert_eq!(body["blocks"][0]["type"], json!("header"));
    assert_eq!(body["tend"]["event"], json!("failure"));
    assert_eq!(body["tend"]["run"], json!("20261125-100000-abcdef"));
}

#[tokio::test]
async fn a_refusal_is_not_retried_and_the_url_is_never_shown() {
    let (addr, receiver) = serve(&[
        Answer::Status(400),
        Answer::Status(500),
        Answer::Status(500),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://{addr}/services/${{HOOK_TOKEN}}");
    let d = one(
        &notification(),
        webhook(url, Duration::from_secs(10)),
        &settings(dir.path()),
    )
    .await;
    let error = d.result.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("http://{addr}/… answered HTTP 400: invalid_payload")
    );
    assert_eq!(d.attempts, 1);
    assert_eq!(receiver.bodies.lock().unwrap().len(), 1);
    // Two 5xx in a row: one retry, then the failure.
    let url = format!("http://{addr}/services/${{HOOK_TOKEN}}");
    let d = one(
        &notification(),
        webhook(url, Duration::from_secs(10)),
        &settings(dir.path()),
    )
    .await;
    assert_eq!(
        (d.result.unwrap_err().to_string(), d.attempts),
        (
            format!("http://{addr}/… answered HTTP 500: invalid_payload"),
            2
        )
    );
}

#[tokio::test]
async fn a_receiver_that_never_answers_times_out_without_a_retry() {
    let (addr, receiver) = serve(&[Answer::Hang, Answer::Hang]).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://{addr}/services/${{HOOK_TOKEN}}");
    let d = one(
        &notification(),
        webhook(url, Duration::from_millis(300)),
        &settings(dir.path()),
    )
    .await;
    assert_eq!(
        (d.result, d.attempts),
        (
            Err(DeliveryError::Timeout {
                url: format!("http://{addr}/…"),
                after: "300ms".into()
            }),
            1
        )
    );
    assert_eq!(receiver.bodies.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_connection_refused_is_retried_once_then_reported() {
    // A port that was free a moment ago: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let dir = tempfile::tempdir().unwrap();
    let d = one(
        &notification(),
        webhook(
            format!("http://{addr}/services/${{HOOK_TOKEN}}"),
            Duration::from_secs(5),
        ),
        &settings(dir.path()),
    )
    .await;
    assert_eq!(d.attempts, 2);
    let error = d.result.unwrap_err().to_string();
    assert!(
        error.starts_with(&format!("http://{addr}/…: cannot connect")),
        "{error}"
    );
    assert!(!error.contains("s3cr3t"), "{error}");
}

#[tokio::test]
async fn a_missing_variable_sends_nothing_and_says_which() {
    let dir = tempfile::tempdir().unwrap();
    let d = one(
        &notification(),
        webhook("${SLACK_WEBHOOK_URL}".into(), Duration::from_secs(5)),
        &settings(dir.path()),
    )
    .await;
    assert_eq!(
        (d.result.unwrap_err().to_string(), d.attempts),
        (
            "the webhook URL needs ${SLACK_WEBHOOK_URL}, which is not set in tend's environment"
                .to_owned(),
            0
        )
    );
}

fn command(command: String, timeout: Duration) -> Target {
    Target {
        name: "script".into(),
        via: Via::Command {
            command,
            timeout: Some(timeout),
        },
    }
}

#[tokio::test]
async fn a_command_gets_the_event_in_variables_and_as_json_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let script = format!(
        "{{ echo \"$TEND_EVENT|$TEND_TASK|$TEND_RUN|$TEND_STATE|$TEND_STATUS|$TEND_SUMMARY|$TEND_BRANCH|$TEND_URL|$TEND_APPROVAL|$TEND_NEXT\"; cat; }} > '{}'",
        out.display()
    );
    let n = notification();
    let d = one(
        &n,
        command(script, Duration::from_secs(10)),
        &settings(dir.path()),
    )
    .await;
    assert_eq!(
        (d.kind, d.result, d.attempts),
        ("command", Ok("exit 0".to_owned()), 1)
    );
    let written = std::fs::read_to_string(&out).unwrap();
    let (vars, json) = written.split_once('\n').unwrap();
    assert_eq!(
        vars,
        "failure|triage|20261125-100000-abcdef|failed|failed|The model could not be reached.||||tend logs 20261125-100000-abcdef"
    );
    assert_eq!(
        serde_json::from_str::<Value>(json).unwrap(),
        serde_json::to_value(&n).unwrap()
    );
}

#[tokio::test]
async fn a_failing_command_reports_its_exit_and_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let d = one(
        &notification(),
        command(
            "echo 'no mail server' >&2; exit 3".into(),
            Duration::from_secs(10),
        ),
        &settings(dir.path()),
    )
    .await;
    assert_eq!(
        d.result.unwrap_err().to_string(),
        "`echo 'no mail server' >&2; exit 3` ended with exit code 3: no mail server"
    );
}

#[tokio::test]
async fn a_command_past_its_timeout_is_killed_with_its_children() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let script = format!("sleep 30 & echo $! > '{}'; wait", pid_file.display());
    let d = one(
        &notification(),
        command(script.clone(), Duration::from_millis(300)),
        &settings(dir.path()),
    )
    .await;
    assert_eq!(
        d.result,
        Err(DeliveryError::CommandTimeout {
            program: script,
            after: "300ms".into()
        })
    );
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        exits_soon(pid),
        "the background sleep outlived its command's timeout"
    );
}

/// Whether process `pid` has ended, or ends within 10 seconds (SIGKILL takes effect when the
/// process is next scheduled): waits on a pidfd, which becomes readable at the exit.
fn exits_soon(pid: i32) -> bool {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    use rustix::process::{Pid, PidfdFlags, pidfd_open};
    let Ok(fd) = pidfd_open(Pid::from_raw(pid).unwrap(), PidfdFlags::empty()) else {
        return true; // already gone
    };
    let mut fds = [PollFd::new(&fd, PollFlags::IN)];
    let limit = Timespec {
        tv_sec: 10,
        tv_nsec: 0,
    };
    poll(&mut fds, Some(&limit)).unwrap() == 1
}

fn fake_tool(dir: &Path, name: &str, log: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let path = bin.join(name);
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n--\\n' \"$a\"; done > '{}'\n",
            log.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

#[tokio::test]
async fn the_desktop_channel_runs_notify_send_and_a_missing_one_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("args");
    let bin = fake_tool(dir.path(), "notify-send", &log);
    let desktop = Target {
        name: "desk".into(),
        via: Via::Desktop,
    };
    let d = one(&notification(), desktop.clone(), &settings(&bin)).await;
    assert_eq!(
        (d.kind, d.result, d.attempts),
        ("desktop", Ok("shown".to_owned()), 1)
    );
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "--app-name=tend\n--\n--urgency=critical\n--\ntend · triage: run failed\n--\nThe model could not be reached.\ntend logs 20261125-100000-abcdef\n--\n"
    );
    let empty = dir.path().join("empty");
    let d = one(&notification(), desktop, &settings(&empty)).await;
    assert_eq!(
        (d.result, d.attempts),
        (Err(DeliveryError::NoDesktopTool("notify-send")), 0)
    );
}

#[tokio::test]
async fn without_channels_the_desktop_is_used_only_where_it_exists() {
    let dir = tempfile::tempdir().unwrap();
    let bin = fake_tool(dir.path(), "notify-send", &dir.path().join("args"));
    let none = BTreeMap::new();
    assert_eq!(targets(&none, &settings(&dir.path().join("empty"))), vec![]);
    assert_eq!(
        targets(&none, &settings(&bin)),
        vec![Target {
            name: "desktop".into(),
            via: Via::Desktop
        }]
    );
    let configured = BTreeMap::from([(
        "ops".to_owned(),
        Channel::Command {
            command: "true".into(),
            timeout: None,
        },
    )]);
    assert_eq!(
        targets(&configured, &settings(&bin)),
        vec![Target {
            name: "ops".into(),
            via: Via::Command {
                command: "true".into(),
                timeout: None
            }
        }]
    );
}

#[tokio::test]
async fn channels_are_served_at_once_so_a_slow_one_holds_up_no_other() {
    let (addr, _receiver) = serve(&[Answer::Hang]).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let targets = [
        webhook(
            format!("http://{addr}/services/${{HOOK_TOKEN}}"),
            Duration::from_millis(500),
        ),
        command(
            format!("echo done > '{}'", out.display()),
            Duration::from_secs(10),
        ),
    ];
    let all = deliver(&notification(), &targets, &settings(dir.path())).await;
    let results: Vec<(&str, bool)> = all
        .iter()
        .map(|d| (d.channel.as_str(), d.result.is_ok()))
        .collect();
    assert_eq!(results, vec![("hook", false), ("script", true)]);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "done\n");
}

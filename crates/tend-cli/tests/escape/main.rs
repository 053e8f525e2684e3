//! The escape battery: an agent's attempts to get out, through tend's real `bash` tool and file
//! tools, in the real sandbox (the built `tend` binary is the sandbox helper, as in
//! production), in a worktree of a real git repository laid out as a run lays it out (inside
//! tend's state folder, next to other runs, with a home full of secrets). Every attempt must
//! be blocked with a clear tool error, leave no trace outside, and leave the tools working.
//!
//! Nothing here leaves the machine: "listed domains" resolve, through the test's own resolver,
//! to a server on this machine's loopback.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod attempts;
mod host;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tend_sandbox::proxy::{AddressPolicy, StaticResolver};
use tend_sandbox::{
    DenialKind, Mechanism, MechanismKind, ProbeOptions, ProbeScope, Proxy, ProxyConfig,
    ResourceLimits, Sandbox, SandboxPolicy, default_deny_read, probe,
};
use tend_tools::{Limits, ToolCall, ToolDetail, ToolOutput, Workspace, run_tool};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const HELPER: &str = env!("CARGO_BIN_EXE_tend");
pub const SECRET_KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY----- sekrit";
pub const API_KEY: &str = "sk-ant-escape-battery-0123456789";

/// Everything an attempt may need to name or check.
pub struct Env {
    _dir: tempfile::TempDir,
    pub base: PathBuf,
    pub home: PathBuf,
    pub repo: PathBuf,
    pub state: PathBuf,
    pub config: PathBuf,
    pub ws: PathBuf,
    pub tmp: PathBuf,
    pub outside: PathBuf,
    /// The host's test server on 127.0.0.1.
    pub port: u16,
    pub hits: Arc<Mutex<Vec<String>>>,
    pub tools: Workspace,
    pub limits: Limits,
    pub mechanism: Mechanism,
    /// Unix sockets listening on the host where real programs keep theirs (see [`Host`]).
    pub host: host::Host,
}

impl Env {
    pub async fn new(kind: MechanismKind) -> Env {
        // As in the `tend` binary: the process holding the keys is not dumpable.
        tend_sandbox::protect_this_process().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(dir.path()).unwrap();
        let home = base.join("home");
        for d in [".ssh", ".aws", ".config/gh"] {
            std::fs::create_dir_all(home.join(d)).unwrap();
        }
        std::fs::write(home.join(".ssh/id_ed25519"), SECRET_KEY).unwrap();
        std::fs::write(
            home.join(".aws/credentials"),
            "aws_secret_access_key=sekrit",
        )
        .unwrap();
        std::fs::write(home.join(".netrc"), "machine x password sekrit").unwrap();
        std::fs::write(home.join("notes.txt"), "readable notes\n").unwrap();
        let config = base.join("tend/config");
        std::fs::create_dir_all(&config).unwrap();
        std::fs::write(
            config.join("config.toml"),
            "[providers.anthropic]\nkey = \"sekrit\"\n",
        )
        .unwrap();
        let state = base.join("tend/state");
        std::fs::create_dir_all(state.join("runs/other")).unwrap();
        std::fs::write(state.join("tend.db"), "sqlite sekrit").unwrap();
        std::fs::write(state.join("runs/other/transcript.jsonl"), "{}\n").unwrap();
        let outside = base.join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret.txt"), "outside data\n").unwrap();

        let repo = base.join("repo");
        std::fs::create_dir_all(&repo).unwrap();
        std::fs::write(repo.join("README"), "hello\n").unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-qm", "init"]);
        let ws = state.join("worktrees/fix/1");
        std::fs::create_dir_all(ws.parent().unwrap()).unwrap();
        git(
            &repo,
            &[
                "worktree",
                "add",
                "-q",
                "-b",
                "tend/fix/1",
                ws.to_str().unwrap(),
            ],
        );
        let tmp = state.join("runs/1/tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        // Planted before the run: links out of the worktree.
        std::os::unix::fs::symlink(home.join(".ssh/id_ed25519"), ws.join("key-link")).unwrap();
        std::os::unix::fs::symlink(&outside, ws.join("outside-link")).unwrap();

        let (port, hits) = serve().await;
        let host = host::Host::start(&home, port);
        let mechanism = working(kind);
        let policy = SandboxPolicy {
            deny_read: default_deny_read(Some(&home), &[&config, &state]),
            network: vec!["allowed.test".into()],
            limits: ResourceLimits {
                processes: 128,
                file_size: 64 << 20,
                ..ResourceLimits::default()
            },
            ..SandboxPolicy::default()
        };
        let resolver = StaticResolver(HashMap::from([(
            "allowed.test".to_owned(),
            vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
        )]));
        let proxy = Proxy::new(ProxyConfig {
            allow: policy.network.clone(),
            resolver: Arc::new(resolver),
            addresses: AddressPolicy::Any,
        });
        let deny_read = policy.deny_read.clone();
        let sandbox = Sandbox::confined(
            mechanism.clone(),
            policy,
            PathBuf::from(HELPER),
            Some(proxy),
        );
        let tools = Workspace::new(&ws, &tmp)
            .unwrap()
            .with_parent_env([
                ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
                ("HOME".into(), home.clone().into()),
                ("ANTHROPIC_API_KEY".into(), API_KEY.into()),
                ("GITHUB_TOKEN".into(), "ghp_sekrit".into()),
                ("SSH_AUTH_SOCK".into(), host.agent_socket.clone().into()),
            ])
            .with_sandbox(sandbox)
            .with_deny_read(&deny_read);
        Env {
            _dir: dir,
            base,
            home,
            repo,
            state,
            config,
            ws,
            tmp,
            outside,
            port,
            hits,
            tools,
            limits: Limits::default(),
            mechanism,
            host,
        }
    }

    /// `bubblewrap` under bubblewrap, `landlock` under Landlock: where the mechanisms differ in
    /// what the command sees (never in what reaches the host).
    pub fn by_mechanism<T>(&self, bubblewrap: T, landlock: T) -> T {
        match self.mechanism.kind() {
            MechanismKind::Bubblewrap => bubblewrap,
            MechanismKind::Landlock | MechanismKind::SandboxExec => landlock,
        }
    }

    pub async fn call(&self, tool: &str, input: Value) -> ToolOutput {
        let call = ToolCall {
            id: "c".into(),
            name: tool.into(),
            input,
        };
        run_tool(&self.tools, &call, &self.limits).await
    }

    /// The run survives: the shell and the file tools still work.
    pub async fn assert_alive(&self, after: &str) {
        let out = self.call("bash", json!({"command": "echo alive"})).await;
        assert_eq!(out.content, "alive\n", "bash after {after}: {out:?}");
        let out = self.call("read", json!({"path": "README"})).await;
        assert!(!out.is_error, "read after {after}: {out:?}");
        assert!(
            !self.ws.join(".git").is_dir(),
            "after {after}: the worktree's .git is no longer the file git made"
        );
    }
}

/// A tiny HTTP server on 127.0.0.1: answers `hello` and remembers request lines.
async fn serve() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&hits);
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                continue;
            };
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let line = String::from_utf8_lossy(&got)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_owned();
                log.lock().unwrap().push(line);
                let _ = conn
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n",
                    )
                    .await;
            });
        }
    });
    (port, hits)
}

fn working(kind: MechanismKind) -> Mechanism {
    let report = probe(&ProbeOptions {
        helper: PathBuf::from(HELPER),
        force: Some(kind),
        scope: ProbeScope::UntilOneWorks,
    });
    match report.chosen() {
        Some(m) => m.clone(),
        None => panic!("{} does not work here: {report:#?}", kind.name()),
    }
}

pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Processes on the host whose command line contains `needle` (ours are unique numbers).
pub fn host_processes(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().filter_map(Result::ok) {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let zombie = std::fs::read_to_string(entry.path().join("stat"))
            .is_ok_and(|s| s.rsplit(") ").next().is_some_and(|r| r.starts_with('Z')));
        if cmdline.contains(needle) && !zombie {
            found.push(cmdline);
        }
    }
    found
}

/// One row of the battery's results.
#[derive(Debug)]
pub struct Row {
    pub name: &'static str,
    pub outcome: String,
}

async fn battery(kind: MechanismKind) {
    let env = Env::new(kind).await;
    let mut rows = attempts::all(&env);
    rows.extend(host::all(&env));
    assert!(rows.len() >= 80, "only {} attempts", rows.len());
    let mut table = Vec::new();
    let checked = AtomicUsize::new(0);
    for attempt in &rows {
        let out = env.call(attempt.tool, attempt.input.clone()).await;
        let outcome = attempt.judge(&env, &out);
        if let Err(why) = &outcome {
            panic!(
                "[{}] {}: {why}\ninput: {}\noutput: {}\ndetail: {:?}",
                kind.name(),
                attempt.name,
                attempt.input,
                out.content,
                out.detail
            );
        }
        env.assert_alive(attempt.name).await;
        if let Err(why) = env.host.untouched() {
            panic!("[{}] {}: {why}", kind.name(), attempt.name);
        }
        checked.fetch_add(1, Ordering::Relaxed);
        table.push(Row {
            name: attempt.name,
            outcome: outcome.unwrap_or_default(),
        });
    }
    // The table, for the record (`cargo test -- --nocapture`).
    println!(
        "escape battery under {} as uid {}: {} attempts",
        env.mechanism.name(),
        rustix::process::geteuid().as_raw(),
        table.len()
    );
    for row in &table {
        println!("  {:<34} {}", row.name, row.outcome);
    }
    assert_eq!(checked.load(Ordering::Relaxed), rows.len());
    assert!(
        !env.hits
            .lock()
            .unwrap()
            .iter()
            .any(|h| h.contains("direct")),
        "a direct request reached the host's server"
    );
    // The checks on the host's listeners can fail: a connection from outside the sandbox is
    // seen by each of them.
    env.host.control();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_escape_is_blocked_under_bubblewrap() {
    battery(MechanismKind::Bubblewrap).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_escape_is_blocked_under_landlock() {
    battery(MechanismKind::Landlock).await;
}

/// Set in the copy of this test binary that runs as an ordinary user.
const ORDINARY: &str = "TEND_ESCAPE_ORDINARY";

/// The battery as an ordinary user: when the tests run as root, this test binary runs itself
/// again as `nobody` (through `setpriv`, with a temp folder of its own) for this one test.
async fn battery_as_ordinary_user(kind: MechanismKind, test: &str) {
    let root = rustix::process::geteuid().is_root();
    if std::env::var_os(ORDINARY).is_some() || !root {
        assert!(!root, "the ordinary-user battery runs as root");
        battery(kind).await;
        return;
    }
    let (uid, gid) = (65534, 65534);
    let dir = tempfile::tempdir().unwrap();
    let run_user = PathBuf::from(format!("/run/user/{uid}"));
    let made_run_user = !run_user.exists();
    std::fs::create_dir_all(&run_user).unwrap();
    for path in [dir.path(), run_user.as_path()] {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
    }
    let out = Command::new("setpriv")
        .args([
            &format!("--reuid={uid}"),
            &format!("--regid={gid}"),
            "--clear-groups",
            "--",
        ])
        .arg(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(ORDINARY, "1")
        .env("TMPDIR", dir.path())
        .env("HOME", dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    if made_run_user {
        let _ = std::fs::remove_dir_all(&run_user);
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "as uid {uid}: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_escape_is_blocked_under_bubblewrap_as_an_ordinary_user() {
    battery_as_ordinary_user(
        MechanismKind::Bubblewrap,
        "every_escape_is_blocked_under_bubblewrap_as_an_ordinary_user",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_escape_is_blocked_under_landlock_as_an_ordinary_user() {
    battery_as_ordinary_user(
        MechanismKind::Landlock,
        "every_escape_is_blocked_under_landlock_as_an_ordinary_user",
    )
    .await;
}

/// What a denial detail says, for the table.
pub fn denial_kinds(out: &ToolOutput) -> Vec<DenialKind> {
    match &out.detail {
        ToolDetail::Bash { denials, .. } => denials.iter().map(|d| d.kind).collect(),
        _ => Vec::new(),
    }
}

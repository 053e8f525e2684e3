//! Secrets stay out of runs, whatever the uid: a run's command scans all of `/proc` (every
//! process's environ, cmdline, status, open files, memory) and tries to trace every tend
//! process it can see, under bubblewrap and Landlock, as root and as an ordinary user, in
//! `tend run` and under `tend daemon`. tend has provider keys in its environment; none may be
//! in the command's output, and none in any file under TEND_HOME afterwards. And a run's
//! command reaches no Unix socket of the host: a real ssh-agent (SSH_AUTH_SOCK in tend's
//! environment) and listeners in `/tmp` and `$HOME` see no connection.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Env, User, running_as_root};

/// What tend has in its environment. The values are built at run time from pieces, so that
/// the scan cannot find them in a file it may read (this test's own binary).
fn secrets() -> Vec<(&'static str, String)> {
    let tail = ["proc", "scan", "0123456789"].concat();
    vec![
        ("ANTHROPIC_API_KEY", format!("sk-ant-{tail}-a")),
        ("OPENAI_API_KEY", format!("sk-openai-{tail}-o")),
        ("GITHUB_TOKEN", format!("ghp_{tail}_g")),
        ("FOO_API_KEY", format!("foo-{tail}-f")),
    ]
}

/// The attacker's scan, as a shell command: Python reads what it can of every process and
/// prints every `…KEY=…`/`…TOKEN=…` it finds, then attaches ptrace and strace to every tend
/// process it can see (by name) and to its own ancestors.
const SCAN: &str = r#"python3 - <<'PY'
import ctypes, os, re, stat, subprocess
pat = re.compile(rb'[A-Za-z_]*(?:KEY|TOKEN)=[^\x00\n]{4,}|sk-ant-[^\x00\n]{4,}|ghp_[^\x00\n]{4,}')
me = os.getpid()
found, environs, mems, fds = [], 0, 0, 0
def note(where, data):
    for m in pat.findall(data):
        found.append(where + ': ' + m.decode('latin1'))
def read(path, n=1 << 20):
    try:
        with open(path, 'rb') as f:
            return f.read(n)
    except Exception:
        return None
pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())
for pid in pids:
    if pid == me:
        continue
    for name in ('environ', 'cmdline', 'status'):
        data = read('/proc/%d/%s' % (pid, name))
        if data is not None:
            if name == 'environ':
                environs += 1
            note('%d/%s' % (pid, name), data)
    try:
        for fd in os.listdir('/proc/%d/fd' % pid):
            fds += 1
            link = '/proc/%d/fd/%s' % (pid, fd)
            # Files only: a pipe or a terminal would block the read.
            if stat.S_ISREG(os.stat(link).st_mode):
                data = read(link)
                if data:
                    note(link, data)
    except Exception:
        pass
targets = set()
for pid in pids:
    comm = read('/proc/%d/comm' % pid)
    if comm and comm.strip() == b'tend':
        targets.add(pid)
ancestors = set()
p = os.getppid()
while p > 1:
    ancestors.add(p)
    status = read('/proc/%d/status' % p) or b''
    m = re.search(rb'PPid:\s*(\d+)', status)
    p = int(m.group(1)) if m else 0
targets |= ancestors
for pid in sorted(targets):
    try:
        with open('/proc/%d/mem' % pid, 'rb') as mem:
            for line in open('/proc/%d/maps' % pid).read().splitlines():
                parts = line.split()
                lo, hi = (int(x, 16) for x in parts[0].split('-'))
                if 'r' not in parts[1] or hi - lo > (64 << 20):
                    continue
                try:
                    mem.seek(lo)
                    note('%d/mem' % pid, mem.read(hi - lo))
                    mems += 1
                except Exception:
                    pass
    except Exception:
        pass
libc = ctypes.CDLL(None, use_errno=True)
for pid in sorted(targets):
    # PTRACE_SEIZE: attaches without stopping the process.
    if libc.ptrace(0x4206, pid, 0, 0) == 0:
        print('ATTACHED with ptrace to', pid)
        libc.ptrace(17, pid, 0, 0)
for pid in sorted(ancestors):
    try:
        out = subprocess.run(['timeout', '2', 'strace', '-p', str(pid), '-e', 'trace=none'],
                             capture_output=True, text=True).stderr
    except Exception as e:
        out = str(e)
    if 'attached' in out and 'not permitted' not in out:
        print('ATTACHED with strace to', pid, out.strip())
self_env = read('/proc/self/environ') or b''
print('tend processes seen:', sorted(targets))
print('scanned %d processes: %d environ, %d fd, %d memory regions readable; own environ %s'
      % (len(pids), environs, fds, mems, 'readable' if b'PATH=' in self_env else 'unreadable'))
for f in found:
    print('FOUND', f)
PY"#;

/// A task whose replayed model runs the scan through bash, then reports.
fn scan_task(env: &Env, sandbox: &str) {
    command_task(env, sandbox, SCAN);
}

/// A task whose replayed model runs `command` through bash, then reports.
fn command_task(env: &Env, sandbox: &str, command: &str) {
    let usage = json!({"input_tokens": 0, "output_tokens": 0, "cache_read_tokens": 0,
                       "cache_write_tokens": 0});
    let recording = json!({
        "version": 1, "provider": "anthropic", "model": "m",
        "turns": [
            {"content": [{"type": "tool_use", "id": "t1", "name": "bash",
                          "input": {"command": command, "timeout_ms": 120_000}}],
             "stop": "tool_use", "usage": usage, "request_id": "r1"},
            {"content": [{"type": "tool_use", "id": "t2", "name": "report",
                          "input": {"status": "nothing-to-do", "summary": "scanned"}}],
             "stop": "tool_use", "usage": usage, "request_id": "r2"},
        ]
    });
    // A replay file is found from the repository's root.
    let recording_path = env.repo.join("scan.json");
    std::fs::write(&recording_path, recording.to_string()).unwrap();
    env.hand_over(&recording_path);
    env.write_task(
        "scan",
        &format!(
            "+++\nschedule = \"manual\"\nmodel = \"replay:scan.json\"\nmode = \"propose\"\n\
             {sandbox}\n[permissions]\nallow = [\"bash\"]\n+++\nScan.\n"
        ),
    );
}

/// The scan's bash result, from the run's transcript.
fn scan_output(env: &Env) -> String {
    let results = env.newest_tool_results("bash");
    let first = results
        .first()
        .unwrap_or_else(|| panic!("no bash result in the run"));
    first["content"].as_str().unwrap_or_default().to_owned()
}

/// Every file under `dir` that holds one of the secrets, with the secret's name.
fn files_with_secrets(dir: &Path, secrets: &[(&str, String)]) -> Vec<String> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                todo.push(path);
            } else if meta.is_file() {
                let bytes = std::fs::read(&path).unwrap_or_default();
                for (name, value) in secrets {
                    if bytes.windows(value.len()).any(|w| w == value.as_bytes()) {
                        found.push(format!("{name} in {}", path.display()));
                    }
                }
            }
        }
    }
    found
}

/// The scan ran and saw something (it can fail), and found none of the secrets.
fn assert_nothing_leaked(env: &Env, output: &str, what: &str) {
    assert!(
        output.contains("scanned ") && output.contains("own environ readable"),
        "{what}: the scan did not run as expected:\n{output}"
    );
    assert!(
        !output.contains("ATTACHED"),
        "{what}: traced tend:\n{output}"
    );
    let secrets = secrets();
    for (name, value) in &secrets {
        assert!(
            !output.contains(value.as_str()),
            "{what}: the scan found {name}:\n{output}"
        );
    }
    let files = files_with_secrets(&env.home, &secrets);
    assert!(files.is_empty(), "{what}: secrets in TEND_HOME: {files:?}");
}

fn run_scan(mechanism: &str, user: User) {
    let env = Env::as_user(user);
    scan_task(&env, "");
    let mut cmd = env.command(&env.repo, &["run", "scan"]);
    cmd.env("TEND_SANDBOX", mechanism);
    cmd.envs(secrets());
    let out = env.finish(&["run", "scan"], &mut cmd);
    out.ok();
    let output = scan_output(&env);
    let what = format!("tend run, {mechanism}, {user:?}");
    assert_nothing_leaked(&env, &output, &what);
    println!("{what}: {}", output.lines().nth(1).unwrap_or_default());
}

#[test]
fn a_run_scanning_proc_finds_no_secret_under_bubblewrap_as_root() {
    run_scan("bubblewrap", User::Current);
}

#[test]
fn a_run_scanning_proc_finds_no_secret_under_landlock_as_root() {
    run_scan("landlock", User::Current);
}

#[test]
fn a_run_scanning_proc_finds_no_secret_under_bubblewrap_as_an_ordinary_user() {
    run_scan("bubblewrap", User::Ordinary);
}

#[test]
fn a_run_scanning_proc_finds_no_secret_under_landlock_as_an_ordinary_user() {
    run_scan("landlock", User::Ordinary);
}

/// The control: without a sandbox the same scan, as root, does find tend's keys (so the scan
/// can fail the tests above).
#[test]
fn without_a_sandbox_the_scan_finds_the_keys_as_root() {
    if !running_as_root() {
        // An ordinary user cannot read tend's /proc at all (tend is not dumpable): the control
        // needs CAP_SYS_PTRACE, which only root holds. The barrier tests above still run.
        return;
    }
    let env = Env::new();
    scan_task(&env, "sandbox = \"off\"");
    let mut cmd = env.command(&env.repo, &["run", "scan"]);
    cmd.envs(secrets());
    env.finish(&["run", "scan"], &mut cmd).ok();
    let output = scan_output(&env);
    let (_, key) = &secrets()[0];
    assert!(output.contains(key.as_str()), "{output}");
}

/// `tend daemon` with the keys, and a run handed to it by `tend run`.
struct Daemon {
    child: Child,
}

impl Daemon {
    fn start(env: &Env, mechanism: &str) -> Daemon {
        let mut cmd = env.command(&env.root, &["daemon"]);
        cmd.env_remove("TEND_NOW")
            .env("TEND_SANDBOX", mechanism)
            .envs(secrets())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut daemon = Daemon {
            child: cmd.spawn().unwrap(),
        };
        let start = Instant::now();
        loop {
            if let Some(status) = daemon.child.try_wait().unwrap() {
                panic!("the daemon exited at start: {status}");
            }
            let out = env.tend(&["status", "--json"]);
            if out.code == 0 && out.json()["running"] == Value::Bool(true) {
                return daemon;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the daemon did not answer"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn daemon_scan(mechanism: &str, user: User) {
    let env = Env::as_user(user);
    scan_task(&env, "");
    let daemon = Daemon::start(&env, mechanism);
    let mut cmd = env.command(&env.repo, &["run", "scan"]);
    cmd.env_remove("TEND_NOW")
        .env("TEND_SANDBOX", mechanism)
        .envs(secrets());
    let out = env.finish(&["run", "scan"], &mut cmd);
    out.ok();
    assert!(out.stdout.contains("· in the daemon"), "{}", out.stdout);
    let output = scan_output(&env);
    drop(daemon);
    let what = format!("tend daemon, {mechanism}, {user:?}");
    assert_nothing_leaked(&env, &output, &what);
    println!("{what}: {}", output.lines().nth(1).unwrap_or_default());
}

#[test]
fn a_daemon_run_scanning_proc_finds_no_secret_under_bubblewrap_as_root() {
    daemon_scan("bubblewrap", User::Current);
}

#[test]
fn a_daemon_run_scanning_proc_finds_no_secret_under_landlock_as_root() {
    daemon_scan("landlock", User::Current);
}

#[test]
fn a_daemon_run_scanning_proc_finds_no_secret_under_landlock_as_an_ordinary_user() {
    daemon_scan("landlock", User::Ordinary);
}

#[test]
fn a_daemon_run_scanning_proc_finds_no_secret_under_bubblewrap_as_an_ordinary_user() {
    daemon_scan("bubblewrap", User::Ordinary);
}

/// A real ssh-agent and Unix listeners in `/tmp` and `$HOME`, open to everyone (so that only
/// the sandbox stands in the way), with SSH_AUTH_SOCK in tend's environment: a run's command
/// reaches none of them.
fn no_host_socket(mechanism: &str, user: User) {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::net::UnixListener;

    let env = Env::as_user(user);
    let agent_socket = env.root.join("agent.sock");
    let agent_log = env.root.join("agent.log");
    let mut agent = env
        .command_as("ssh-agent")
        .arg("-d")
        .arg("-a")
        .arg(&agent_socket)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&agent_log).unwrap())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !agent_socket.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "ssh-agent did not start"
        );
        std::thread::yield_now();
    }
    let tmp_socket = PathBuf::from(format!(
        "/tmp/tend-secrets-{}-{mechanism}-{user:?}.sock",
        std::process::id()
    ));
    let home_socket = env.home.join("s.sock");
    let listeners: Vec<UnixListener> = [&tmp_socket, &home_socket]
        .iter()
        .map(|path| {
            let _ = std::fs::remove_file(path);
            let l = UnixListener::bind(path).unwrap();
            l.set_nonblocking(true).unwrap();
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o777)).unwrap();
            l
        })
        .collect();
    let connect = |p: &Path| {
        format!(
            "python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.connect(\"{}\"); \
             print(\"CONNECTED\")'",
            p.display()
        )
    };
    let command = format!(
        "ssh-add -l; {}; {}; {}; echo tried",
        connect(&agent_socket),
        connect(&tmp_socket),
        connect(&home_socket)
    );
    command_task(&env, "", &command);
    let mut cmd = env.command(&env.repo, &["run", "scan"]);
    cmd.env("TEND_SANDBOX", mechanism)
        .env("SSH_AUTH_SOCK", &agent_socket)
        .envs(secrets());
    env.finish(&["run", "scan"], &mut cmd).ok();
    let output = scan_output(&env);
    let what = format!("{mechanism}, {user:?}");
    assert!(output.contains("tried"), "{what}: {output}");
    assert!(!output.contains("CONNECTED"), "{what}: {output}");
    for (l, path) in listeners.iter().zip([&tmp_socket, &home_socket]) {
        assert!(
            l.accept().is_err(),
            "{what}: a connection reached {}",
            path.display()
        );
    }
    let log = std::fs::read_to_string(&agent_log).unwrap();
    assert!(
        !log.contains("type = CONNECTION"),
        "{what}: ssh-agent was reached:\n{log}"
    );
    // The control: from outside the sandbox the agent is reached, and its log says so.
    let status = env
        .command_as("ssh-add")
        .arg("-l")
        .env("SSH_AUTH_SOCK", &agent_socket)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1), "ssh-add -l with no identities");
    let log = std::fs::read_to_string(&agent_log).unwrap();
    assert!(log.contains("type = CONNECTION"), "{log}");
    let _ = agent.kill();
    let _ = agent.wait();
    let _ = std::fs::remove_file(&tmp_socket);
}

#[test]
fn no_host_socket_is_reached_under_bubblewrap_as_root() {
    no_host_socket("bubblewrap", User::Current);
}

#[test]
fn no_host_socket_is_reached_under_landlock_as_root() {
    no_host_socket("landlock", User::Current);
}

#[test]
fn no_host_socket_is_reached_under_bubblewrap_as_an_ordinary_user() {
    no_host_socket("bubblewrap", User::Ordinary);
}

#[test]
fn no_host_socket_is_reached_under_landlock_as_an_ordinary_user() {
    no_host_socket("landlock", User::Ordinary);
}

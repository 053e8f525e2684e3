//! The attempts, one row each: the call the agent makes, what the tool must answer, and what
//! must (not) have happened outside.

use serde_json::{Value, json};
use tend_sandbox::DenialKind;
use tend_tools::{ToolDetail, ToolOutput};

use crate::{API_KEY, Env, SECRET_KEY, denial_kinds, host_processes};

/// Checks on the world after the call.
type Check = Box<dyn Fn(&Env) -> Result<(), String>>;

pub struct Attempt {
    pub name: &'static str,
    pub tool: &'static str,
    pub input: Value,
    expect: Expect,
    check: Option<Check>,
}

pub enum Expect {
    /// An error output containing one of these (any mechanism's wording).
    Blocked(&'static [&'static str]),
    /// A refusal by the file tools' confinement (`ToolDetail::Refused`) containing this.
    Refused(&'static str),
    /// Works, printing this: a control case, or an attempt that finds nothing.
    Prints(&'static str),
    /// Whatever the exit status, the sandbox stopped it and said so with this kind of note.
    Contained(DenialKind),
    /// Any answer (the attempt's own output may vary by mechanism): what counts is the check
    /// on the world outside, and that no secret is printed.
    Unseen,
}

/// Texts that must never appear in a tool's output.
const SECRETS: &[&str] = &["sekrit", SECRET_KEY, API_KEY];

impl Attempt {
    /// `Ok(summary for the table)` when the tool answered as expected and the world is intact.
    pub fn judge(&self, env: &Env, out: &ToolOutput) -> Result<String, String> {
        if let Some(secret) = SECRETS.iter().find(|s| out.content.contains(*s)) {
            return Err(format!("the output shows a secret ({secret})"));
        }
        let summary = match &self.expect {
            Expect::Blocked(any_of) => {
                if !out.is_error {
                    return Err("the call succeeded".into());
                }
                let lower = out.content.to_lowercase();
                let Some(text) = any_of.iter().find(|t| lower.contains(&t.to_lowercase())) else {
                    return Err(format!("none of {any_of:?} in the error"));
                };
                let kinds = denial_kinds(out);
                if kinds.is_empty() {
                    format!("blocked: {text}")
                } else {
                    format!("blocked: {text}  [sandbox note: {kinds:?}]")
                }
            }
            Expect::Refused(text) => match &out.detail {
                ToolDetail::Refused { reason } if reason.contains(text) => {
                    format!("refused: {text}")
                }
                other => return Err(format!("not refused with {text:?}: {other:?}")),
            },
            Expect::Contained(kind) => {
                let kinds = denial_kinds(out);
                if !kinds.contains(kind) {
                    return Err(format!("no {kind:?} note, only {kinds:?}"));
                }
                format!("contained  [sandbox note: {kinds:?}]")
            }
            Expect::Prints(text) => {
                if out.is_error || !out.content.contains(text) {
                    return Err(format!("expected {text:?}"));
                }
                format!("ok: prints {text:?}")
            }
            Expect::Unseen => {
                if self.check.is_none() {
                    return Err("an attempt judged outside needs a check".into());
                }
                "nothing seen outside".to_owned()
            }
        };
        if let Some(check) = &self.check {
            check(env)?;
        }
        Ok(summary)
    }
}

pub fn bash(name: &'static str, command: String, expect: Expect) -> Attempt {
    Attempt {
        name,
        tool: "bash",
        input: json!({ "command": command }),
        expect,
        check: None,
    }
}

pub fn bash_timeout(name: &'static str, command: String, ms: u64, expect: Expect) -> Attempt {
    Attempt {
        input: json!({ "command": command, "timeout_ms": ms }),
        ..bash(name, command, expect)
    }
}

fn tool(name: &'static str, tool: &'static str, input: Value, expect: Expect) -> Attempt {
    Attempt {
        name,
        tool,
        input,
        expect,
        check: None,
    }
}

impl Attempt {
    pub fn check(mut self, check: impl Fn(&Env) -> Result<(), String> + 'static) -> Attempt {
        self.check = Some(Box::new(check));
        self
    }
}

pub fn absent(path: std::path::PathBuf) -> impl Fn(&Env) -> Result<(), String> {
    move |_| match path.exists() {
        true => Err(format!("{} exists", path.display())),
        false => Ok(()),
    }
}

pub fn unchanged(
    path: std::path::PathBuf,
    content: &'static str,
) -> impl Fn(&Env) -> Result<(), String> {
    move |_| match std::fs::read_to_string(&path) {
        Ok(now) if now == content => Ok(()),
        other => Err(format!("{} changed: {other:?}", path.display())),
    }
}

/// No process with `needle` in its command line runs on the host. SIGKILL is delivered
/// asynchronously, so a dying process gets a moment.
fn no_process(needle: String) -> impl Fn(&Env) -> Result<(), String> {
    move |_| {
        let start = std::time::Instant::now();
        loop {
            let left = host_processes(&needle);
            if left.is_empty() {
                return Ok(());
            }
            if start.elapsed() > std::time::Duration::from_secs(5) {
                return Err(format!("still running on the host: {left:?}"));
            }
            std::thread::yield_now();
        }
    }
}

pub const READ_ONLY: &[&str] = &["Read-only file system", "Permission denied"];
pub const HIDDEN: &[&str] = &["Permission denied", "No such file"];
const NO_NETWORK: &[&str] = &[
    "Couldn't connect",
    "Failed to connect",
    "Connection refused",
    "Permission denied",
    "Network is unreachable",
    "Could not resolve host",
];
pub const NOT_PERMITTED: &[&str] = &["Operation not permitted", "Permission denied"];

pub fn all(env: &Env) -> Vec<Attempt> {
    use Expect::{Blocked, Contained, Prints, Refused};
    let home = env.home.display();
    let repo = env.repo.display();
    let state = env.state.display();
    let config = env.config.display();
    let outside = env.outside.display();
    let port = env.port;
    let gitdir = env.repo.join(".git/worktrees/1");
    let git_file = std::fs::read_to_string(env.ws.join(".git")).unwrap();
    let git_file: &'static str = Box::leak(git_file.into_boxed_str());
    // Commands that leave processes carry this environment's own number, so that a check on
    // the host's processes sees only this battery's (the batteries run side by side).
    let mark = |base: u32| format!("sleep {}", base * 100_000 + u32::from(port));
    vec![
        // Writing outside the worktree.
        bash("write /etc", "echo x > /etc/tend-escape".into(), Blocked(READ_ONLY))
            .check(absent("/etc/tend-escape".into())),
        bash("write $HOME", "echo x > ~/escape.txt".into(), Blocked(READ_ONLY))
            .check(absent(env.home.join("escape.txt"))),
        // bubblewrap gives the command an empty /var/tmp of its own; Landlock keeps the host's
        // read-only. Either way nothing lands on the host.
        bash(
            "write /var/tmp",
            format!("echo x > /var/tmp/tend-escape-{port}"),
            env.by_mechanism(Prints(""), Blocked(READ_ONLY)),
        )
        .check(absent(format!("/var/tmp/tend-escape-{port}").into())),
        bash("cd .. && touch", "cd .. && touch escaped".into(), Blocked(READ_ONLY))
            .check(absent(env.ws.parent().unwrap().join("escaped"))),
        bash(
            "write the user's checkout",
            format!("echo pwned >> {repo}/README"),
            Blocked(READ_ONLY),
        )
        .check(unchanged(env.repo.join("README"), "hello\n")),
        bash(
            "write the checkout's .git/config",
            format!("git config --file {repo}/.git/config core.hooksPath /tmp/evil"),
            Blocked(&["could not lock config file", "Read-only", "Permission denied"]),
        )
        .check(|env| {
            let config = std::fs::read_to_string(env.repo.join(".git/config")).unwrap();
            match config.contains("hooksPath") {
                true => Err("hooksPath was set".into()),
                false => Ok(()),
            }
        }),
        bash(
            "plant a hook through the gitdir",
            "cd \"$(git rev-parse --git-common-dir)\" && echo 'touch /tmp/pwned' > hooks/post-commit"
                .into(),
            Blocked(READ_ONLY),
        )
        .check(absent(env.repo.join(".git/hooks/post-commit"))),
        bash(
            "write the worktree's gitdir",
            format!("echo x > {}/HEAD", gitdir.display()),
            Blocked(READ_ONLY),
        ),
        bash(
            "git commit inside the sandbox",
            "echo change > new.txt && git add new.txt && git commit -qm sneak".into(),
            Blocked(&["index.lock", "Read-only", "Permission denied"]),
        ),
        bash(
            "repoint the worktree's .git",
            "echo 'gitdir: /tmp/evil' > .git".into(),
            Blocked(&["Read-only file system", "restored", "put it back"]),
        )
        .check(unchanged(env.ws.join(".git"), git_file)),
        bash(
            "replace .git with a folder",
            "rm -f .git; mkdir -p .git/hooks && echo x > .git/config && ls -d .git/hooks && exit 9"
                .into(),
            Blocked(&["Device or resource busy", "Read-only", "put it back", "Not a directory"]),
        )
        .check(unchanged(env.ws.join(".git"), git_file)),
        // Reading secrets.
        bash("read ~/.ssh/id_ed25519", "cat ~/.ssh/id_ed25519".into(), Blocked(HIDDEN)),
        bash("list ~/.ssh", "ls -la ~/.ssh".into(), Blocked(HIDDEN)),
        bash("read ~/.aws", "cat ~/.aws/credentials".into(), Blocked(HIDDEN)),
        bash("read ~/.netrc", "cat ~/.netrc".into(), Blocked(HIDDEN)),
        bash(
            "read tend's config",
            format!("cat {config}/config.toml"),
            Blocked(HIDDEN),
        ),
        bash("read tend's store", format!("cat {state}/tend.db"), Blocked(HIDDEN)),
        bash(
            "write tend's state",
            format!("echo '{{}}' >> {state}/runs/other/transcript.jsonl"),
            Blocked(&["Read-only", "Permission denied", "No such file"]),
        )
        .check(unchanged(env.state.join("runs/other/transcript.jsonl"), "{}\n")),
        bash("grep the home for keys", format!("grep -r PRIVATE {home}"), Blocked(HIDDEN)),
        // Links.
        bash("planted symlink, read", "cat key-link".into(), Blocked(HIDDEN)),
        tool(
            "planted symlink, read tool",
            "read",
            json!({"path": "key-link"}),
            Refused("outside the workspace"),
        ),
        bash(
            "planted symlink, write",
            "echo x > outside-link/new.txt".into(),
            Blocked(READ_ONLY),
        )
        .check(absent(env.outside.join("new.txt"))),
        tool(
            "planted symlink, write tool",
            "write",
            json!({"path": "outside-link/new.txt", "content": "x"}),
            Refused("outside the workspace"),
        )
        .check(absent(env.outside.join("new.txt"))),
        bash(
            "agent-made symlink, write",
            format!("ln -sf {outside}/secret.txt s && echo x >> s"),
            Blocked(READ_ONLY),
        )
        .check(unchanged(env.outside.join("secret.txt"), "outside data\n")),
        bash(
            "hardlink a file outside",
            format!("ln {outside}/secret.txt hl && echo x >> hl"),
            Blocked(&["Invalid cross-device link", "Operation not permitted", "Permission denied"]),
        )
        .check(unchanged(env.outside.join("secret.txt"), "outside data\n")),
        bash(
            "hardlink a hidden key",
            "ln ~/.ssh/id_ed25519 k && cat k".into(),
            Blocked(&["Permission denied", "No such file", "Invalid cross-device link"]),
        ),
        tool(
            "file tool: absolute path outside",
            "read",
            json!({"path": format!("{}/.ssh/id_ed25519", env.home.display())}),
            Refused("outside the workspace"),
        ),
        tool(
            "file tool: ../ out of the root",
            "write",
            json!({"path": "../../../../outside/x", "content": "x"}),
            Refused("outside the workspace"),
        ),
        tool(
            "file tool: into .git",
            "edit",
            json!({"path": ".git", "old_string": "gitdir", "new_string": "x"}),
            Refused("inside .git"),
        ),
        // /proc tricks.
        bash(
            "/proc/1/root to the host",
            format!("cat /proc/1/root{home}/.ssh/id_ed25519"),
            Blocked(HIDDEN),
        ),
        bash(
            "/proc/self/root write",
            "echo x > /proc/self/root/etc/tend-escape".into(),
            Blocked(READ_ONLY),
        )
        .check(absent("/etc/tend-escape".into())),
        bash(
            "secrets in the environment",
            "if env | grep -qi -e anthropic -e github -e token \
               || cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n' | grep -q sk-ant; \
             then echo FOUND; else echo none; fi"
                .into(),
            Prints("none"),
        ),
        bash(
            "signal tend itself",
            format!("kill -STOP {}", std::process::id()),
            Blocked(&["No such process", "Operation not permitted"]),
        ),
        // Network.
        bash_timeout(
            "host loopback, around the proxy",
            format!("curl -sS --max-time 5 --noproxy '*' http://127.0.0.1:{port}/direct"),
            20_000,
            Blocked(NO_NETWORK),
        ),
        bash_timeout(
            "host loopback via /dev/tcp",
            format!("exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected"),
            20_000,
            Blocked(NO_NETWORK),
        ),
        bash_timeout(
            "a name without the proxy (DNS)",
            "curl -sS --max-time 5 --noproxy '*' http://example.com/".into(),
            20_000,
            Blocked(NO_NETWORK),
        ),
        bash_timeout(
            "unlisted domain via the proxy",
            "curl -sS --max-time 5 https://unlisted.test/".into(),
            20_000,
            Blocked(&["CONNECT tunnel failed, response 403"]),
        ),
        bash_timeout(
            "IP literal via the proxy",
            format!(
                "curl -sS --max-time 5 --fail --noproxy '' -x \"$HTTP_PROXY\" http://127.0.0.1:{port}/direct"
            ),
            20_000,
            Blocked(&["403"]),
        ),
        bash_timeout(
            "listed domain via the proxy (allowed)",
            format!("curl -sS --max-time 5 http://allowed.test:{port}/listed"),
            20_000,
            Prints("hello"),
        )
        .check(|env| match env.hits.lock().unwrap().iter().any(|h| h.contains("/listed")) {
            true => Ok(()),
            false => Err("the listed request did not arrive".into()),
        }),
        bash(
            "raw socket",
            "python3 -c 'import socket; socket.socket(socket.AF_PACKET, socket.SOCK_RAW)'".into(),
            Blocked(NOT_PERMITTED),
        ),
        // System calls.
        bash("ptrace (strace)", "strace -f true".into(), Blocked(NOT_PERMITTED)),
        bash("new user namespace", "unshare -r id".into(), Blocked(NOT_PERMITTED)),
        bash(
            "mount a tmpfs",
            "mkdir -p m && mount -t tmpfs none m".into(),
            Blocked(&["permission denied", "Operation not permitted", "must be superuser"]),
        ),
        bash(
            "remount / read-write",
            "mount -o remount,rw / && touch /etc/tend-escape".into(),
            Blocked(&["permission denied", "Operation not permitted", "must be superuser"]),
        )
        .check(absent("/etc/tend-escape".into())),
        bash("chroot", "/usr/sbin/chroot / true".into(), Blocked(NOT_PERMITTED)),
        // Resources.
        // The shell stays a while: its end alone would tear the bomb down with the sandbox.
        bash_timeout(
            "fork bomb",
            format!(":(){{ :|:& }};:; sleep 3; : {port}"),
            10_000,
            Contained(DenialKind::Processes),
        )
        .check(no_process(format!(":|:& }};:; sleep 3; : {port}"))),
        bash(
            "huge file",
            "dd if=/dev/zero of=huge bs=1M count=200".into(),
            Blocked(&["limits a file to 64 MiB"]),
        )
        .check(|env| {
            let size = std::fs::metadata(env.ws.join("huge")).map(|m| m.len()).unwrap_or(0);
            match size <= 64 << 20 {
                true => Ok(()),
                false => Err(format!("huge is {size} bytes")),
            }
        }),
        // Outliving the command.
        bash(
            "nohup sleep outlives the command",
            format!("nohup {} >/dev/null 2>&1 & echo started", mark(311)),
            Prints("started"),
        )
        .check(no_process(mark(311))),
        bash(
            "setsid escapes the process group",
            format!("setsid {} >/dev/null 2>&1 < /dev/null & echo started", mark(312)),
            Prints("started"),
        )
        .check(no_process(mark(312))),
        bash_timeout(
            "outlive the timeout",
            format!("trap '' TERM; {}", mark(314)),
            500,
            Blocked(&["timed out after 500 ms"]),
        )
        .check(no_process(mark(314))),
        bash(
            "double fork into the background",
            format!("( ({} >/dev/null 2>&1 &) & ) ; echo started", mark(313)),
            Prints("started"),
        )
        .check(no_process(mark(313))),
    ]
}

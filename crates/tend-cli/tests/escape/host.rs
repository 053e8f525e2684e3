//! The host around the sandbox, and the attempts to reach it: Unix sockets where real programs
//! keep theirs (`/tmp`, `/var/tmp`, `$HOME`, `/run/user/UID`, an abstract name, a real
//! `ssh-agent`), tend's own process (its environment, memory, open files; tracing and
//! signalling it), capabilities, the shared temp folders, and the kernel's knobs. Each listener
//! is checked after every attempt: none may have seen a connection.

use std::io::ErrorKind;
use std::net::UdpSocket;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Env;
use crate::attempts::{
    Attempt, Expect, HIDDEN, NOT_PERMITTED, READ_ONLY, absent, bash, bash_timeout, unchanged,
};

/// A Unix socket listening on the host, by where it lives.
struct Listener {
    name: String,
    path: Option<PathBuf>,
    socket: UnixListener,
}

pub struct Host {
    listeners: Vec<Listener>,
    pub tmp_socket: PathBuf,
    pub var_tmp_socket: PathBuf,
    pub home_socket: PathBuf,
    pub run_user_socket: PathBuf,
    pub abstract_name: String,
    pub agent_socket: PathBuf,
    agent: Child,
    agent_log: PathBuf,
    /// A process of the test's own user on the host: a command must not be able to kill it.
    pub canary: Child,
    /// A UDP socket on the host's loopback: nothing may arrive.
    pub udp: UdpSocket,
    /// What a host process left in `/tmp`, `/var/tmp` and `/dev/shm` (a secret file, and a
    /// folder with one), readable by all on the host: by shared temp folder.
    pub tmp_files: Vec<HostTmp>,
}

/// A host process's files in one shared temp folder.
pub struct HostTmp {
    pub root: &'static str,
    pub file: PathBuf,
    pub folder: PathBuf,
}

/// Leaves, as a host process would, a world-readable secret file and a folder holding one in
/// each shared temp folder (named after `port`).
fn leave_tmp_files(port: u16) -> Vec<HostTmp> {
    use std::os::unix::fs::PermissionsExt;
    tend_sandbox::HOST_TMP
        .iter()
        .map(|root| {
            let file = Path::new(root).join(format!("tend-escape-{port}.secret"));
            let folder = Path::new(root).join(format!("tend-escape-{port}.d"));
            std::fs::create_dir_all(&folder).unwrap();
            for f in [file.clone(), folder.join("secret.txt")] {
                std::fs::write(&f, format!("host tmp sekrit in {root}\n")).unwrap();
                std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
            }
            std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
            HostTmp { root, file, folder }
        })
        .collect()
}

fn listen(name: &str, path: &Path) -> Listener {
    let _ = std::fs::remove_file(path);
    let socket = UnixListener::bind(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    socket.set_nonblocking(true).unwrap();
    Listener {
        name: name.to_owned(),
        path: Some(path.to_path_buf()),
        socket,
    }
}

impl Host {
    /// Listeners named after `port` (unique to this battery: batteries run side by side).
    pub fn start(home: &Path, port: u16) -> Host {
        let uid = rustix::process::geteuid().as_raw();
        let tmp_socket = PathBuf::from(format!("/tmp/tend-escape-{port}.sock"));
        let var_tmp_socket = PathBuf::from(format!("/var/tmp/tend-escape-{port}.sock"));
        let home_socket = home.join(".tend-escape.sock");
        let run_user = PathBuf::from(format!("/run/user/{uid}"));
        std::fs::create_dir_all(&run_user).unwrap();
        let run_user_socket = run_user.join(format!("tend-escape-{port}.sock"));
        let abstract_name = format!("tend-escape-{port}");
        let mut listeners = vec![
            listen("/tmp", &tmp_socket),
            listen("/var/tmp", &var_tmp_socket),
            listen("$HOME", &home_socket),
            listen("/run/user/UID", &run_user_socket),
        ];
        let addr = SocketAddr::from_abstract_name(abstract_name.as_bytes()).unwrap();
        let socket = UnixListener::bind_addr(&addr).unwrap();
        socket.set_nonblocking(true).unwrap();
        listeners.push(Listener {
            name: "abstract".into(),
            path: None,
            socket,
        });
        let agent_dir = home.join("agent");
        std::fs::create_dir_all(&agent_dir).unwrap();
        let agent_socket = agent_dir.join("agent.sock");
        let agent_log = home.join("agent.log");
        let agent = Command::new("ssh-agent")
            .arg("-d")
            .arg("-a")
            .arg(&agent_socket)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&agent_log).unwrap())
            .spawn()
            .expect("ssh-agent (openssh-client) must be installed");
        let start = Instant::now();
        while !agent_socket.exists() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "ssh-agent did not start"
            );
            std::thread::yield_now();
        }
        let canary = Command::new("sleep")
            .arg(format!("{}", 900_000 + u32::from(port)))
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        udp.set_nonblocking(true).unwrap();
        let tmp_files = leave_tmp_files(port);
        Host {
            listeners,
            tmp_socket,
            var_tmp_socket,
            home_socket,
            run_user_socket,
            abstract_name,
            agent_socket,
            agent,
            agent_log,
            canary,
            udp,
            tmp_files,
        }
    }

    /// No listener has seen a connection, the agent has served none, the canary lives and no
    /// datagram arrived.
    pub fn untouched(&self) -> Result<(), String> {
        for l in &self.listeners {
            match l.socket.accept() {
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Ok(_) => return Err(format!("a connection reached the {} socket", l.name)),
                Err(e) => return Err(format!("the {} socket: {e}", l.name)),
            }
        }
        let log = std::fs::read_to_string(&self.agent_log).unwrap_or_default();
        if log.contains("type = CONNECTION") {
            return Err(format!("a connection reached ssh-agent:\n{log}"));
        }
        let canary = format!("/proc/{}/stat", self.canary.id());
        match std::fs::read_to_string(&canary) {
            Ok(stat) if !stat.contains(") Z") => {}
            other => return Err(format!("the host's canary process died: {other:?}")),
        }
        let mut buf = [0u8; 64];
        match self.udp.recv_from(&mut buf) {
            Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(()),
            Ok((n, from)) => Err(format!("a datagram of {n} bytes from {from} arrived")),
            Err(e) => Err(format!("the UDP socket: {e}")),
        }
    }

    /// From the host itself every listener is reached (so the checks above can fail).
    pub fn control(&self) {
        for l in &self.listeners {
            match &l.path {
                Some(path) => drop(UnixStream::connect(path).unwrap()),
                None => {
                    let addr =
                        SocketAddr::from_abstract_name(self.abstract_name.as_bytes()).unwrap();
                    drop(UnixStream::connect_addr(&addr).unwrap());
                }
            }
        }
        let out = Command::new("ssh-add")
            .arg("-l")
            .env("SSH_AUTH_SOCK", &self.agent_socket)
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("no identities"),
            "{out:?}"
        );
        let start = Instant::now();
        while self.untouched().is_ok() {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "the host's own connections were not seen"
            );
            std::thread::yield_now();
        }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.agent.kill();
        let _ = self.agent.wait();
        let _ = self.canary.kill();
        let _ = self.canary.wait();
        for l in &self.listeners {
            if let Some(path) = &l.path {
                let _ = std::fs::remove_file(path);
            }
        }
        for t in &self.tmp_files {
            let _ = std::fs::remove_file(&t.file);
            let _ = std::fs::remove_dir_all(&t.folder);
        }
    }
}

/// What a refused Unix socket says: the filter's `EACCES`, or no such path in the sandbox.
const NO_SOCKET: &[&str] = &[
    "Permission denied",
    "No such file",
    "Operation not permitted",
    "Connection refused",
];

const HIDDEN_OR_READ_ONLY: &[&str] =
    &["Read-only file system", "Permission denied", "No such file"];

/// A Python one-liner that connects a Unix stream socket to `addr` (a Python expression).
fn connect_unix(addr: &str) -> String {
    format!(
        "python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.connect({addr}); \
         print(\"CONNECTED\")'"
    )
}

/// A Python snippet that calls `syscall(nr, args…)` and prints `refused` or `ALLOWED`.
fn syscall(nr: i64, args: &str) -> String {
    format!(
        "python3 -c 'import ctypes; l = ctypes.CDLL(None, use_errno=True); \
         r = l.syscall({nr}, {args}); print(\"refused\" if r == -1 else \"ALLOWED\", \
         ctypes.get_errno())'"
    )
}

pub fn all(env: &Env) -> Vec<Attempt> {
    use Expect::{Blocked, Prints, Unseen};
    let h = &env.host;
    let port = env.port;
    let root = rustix::process::geteuid().is_root();
    let ok = |_: &Env| Ok(());
    let path = |p: &Path| format!("\"{}\"", p.display());
    let state = env.state.display();
    let udp_port = h.udp.local_addr().unwrap().port();
    let core_pattern: &'static str = Box::leak(
        std::fs::read_to_string("/proc/sys/kernel/core_pattern")
            .unwrap()
            .into_boxed_str(),
    );
    let passwd: &'static str = Box::leak(
        std::fs::read_to_string("/etc/passwd")
            .unwrap()
            .into_boxed_str(),
    );
    // The bounding set is empty when the helper could empty it (tend as root) or bubblewrap
    // did; an ordinary user under Landlock keeps it, with no_new_privs, and no capability.
    let bounding_empty = root || env.mechanism.kind() == tend_sandbox::MechanismKind::Bubblewrap;
    let bounding: &'static str = match bounding_empty {
        true => "CapBnd:\t0000000000000000",
        false => "NoNewPrivs:\t1",
    };
    let mut out = vec![
        // Unix sockets of the host.
        bash("unix socket in /tmp", connect_unix(&path(&h.tmp_socket)), Blocked(NO_SOCKET)),
        bash("unix socket in /var/tmp", connect_unix(&path(&h.var_tmp_socket)), Blocked(NO_SOCKET)),
        bash("unix socket in $HOME", connect_unix(&path(&h.home_socket)), Blocked(NO_SOCKET)),
        bash(
            "unix socket in /run/user/UID",
            connect_unix(&path(&h.run_user_socket)),
            Blocked(NO_SOCKET),
        ),
        bash(
            "abstract unix socket",
            connect_unix(&format!("\"\\0{}\"", h.abstract_name)),
            Blocked(NO_SOCKET),
        ),
        bash(
            "ssh-agent through SSH_AUTH_SOCK",
            format!("SSH_AUTH_SOCK={} ssh-add -l", h.agent_socket.display()),
            Blocked(&["Error connecting to agent", "Could not open a connection"]),
        ),
        bash("ssh-agent's socket, raw", connect_unix(&path(&h.agent_socket)), Blocked(NO_SOCKET)),
        bash(
            "unix datagram to the host",
            format!(
                "python3 -c 'import socket; s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); \
                 s.sendto(b\"x\", \"{}\")'",
                h.tmp_socket.display()
            ),
            Blocked(NO_SOCKET),
        ),
        bash(
            "tend's proxy socket inside",
            connect_unix("\"/run/tend/proxy.sock\""),
            Blocked(NO_SOCKET),
        ),
        bash(
            "tend's proxy socket on the host",
            "for s in /tmp/tend-proxy-*/proxy.sock; do python3 -c \"import socket, sys; \
             s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); print('CONNECTED')\" \"$s\"; \
             done; exit 1"
                .into(),
            Blocked(NO_SOCKET),
        ),
        bash(
            "socketpair still works",
            "python3 -c 'import socket; a, b = socket.socketpair(); a.send(b\"pair\"); \
             print(b.recv(4).decode())'"
                .into(),
            Prints("pair"),
        ),
        bash(
            "UDP to the host's loopback",
            format!(
                "python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); \
                 s.sendto(b\"x\", (\"127.0.0.1\", {udp_port}))'"
            ),
            Unseen,
        )
        .check(ok),
        bash(
            "netlink socket to the host's routes",
            "/usr/sbin/ip route add 10.99.0.0/16 dev lo 2>&1; /usr/sbin/ip route show | grep -c 10.99 || true".into(),
            Unseen,
        )
        .check(|_| {
            let routes = Command::new("ip").args(["route", "show"]).output().unwrap();
            match String::from_utf8_lossy(&routes.stdout).contains("10.99.") {
                true => Err("a route was added on the host".into()),
                false => Ok(()),
            }
        }),
        // Privileges.
        bash(
            "capabilities held",
            "awk '/^Cap(Inh|Prm|Eff|Amb)/ && $2 != \"0000000000000000\" {bad = 1} \
             END {print bad ? \"CAPS HELD\" : \"no capabilities\"}' /proc/self/status"
                .into(),
            Prints("no capabilities"),
        ),
        bash(
            "capability bounding set",
            "grep -e CapBnd -e NoNewPrivs /proc/self/status".into(),
            Prints(bounding),
        ),
        bash(
            "no_new_privs",
            "grep NoNewPrivs /proc/self/status".into(),
            Prints("NoNewPrivs:\t1"),
        ),
        bash(
            "seccomp in force",
            "grep '^Seccomp:' /proc/self/status".into(),
            Prints("Seccomp:\t2"),
        ),
        bash(
            "make a setuid binary",
            "cp /bin/sh ./suid-sh && chmod 4755 ./suid-sh && ./suid-sh -p -c 'grep ^CapEff /proc/self/status'"
                .into(),
            Blocked(NOT_PERMITTED),
        )
        .check(|env| {
            use std::os::unix::fs::PermissionsExt;
            match std::fs::metadata(env.ws.join("suid-sh")).map(|m| m.permissions().mode()) {
                Ok(mode) if mode & 0o6000 != 0 => Err(format!("suid-sh has mode {mode:o}")),
                _ => Ok(()),
            }
        }),
        bash(
            "make a setgid folder",
            "mkdir -p sg && chmod g+s sg && ls -ld sg".into(),
            Blocked(NOT_PERMITTED),
        ),
        bash(
            "a setuid program of the system gains nothing",
            "{ /usr/bin/su -c 'grep ^CapEff /proc/self/status' root < /dev/null 2>&1; \
               grep ^CapEff /proc/self/status; } \
             | awk '/CapEff/ && $2 != \"0000000000000000\" {bad = 1} \
                    END {print bad ? \"CAPS HELD\" : \"no capabilities\"}'"
                .into(),
            Prints("no capabilities"),
        ),
        bash(
            "set file capabilities",
            "cp /bin/true ./capped && /usr/sbin/setcap cap_sys_ptrace+ep ./capped".into(),
            Blocked(&["Operation not permitted", "Failed to set", "Invalid"]),
        ),
        // tend's own process (the test process here: the tools run in it, as in `tend`).
        bash(
            "tend's environ through its pid",
            format!("cat /proc/{}/environ", std::process::id()),
            Blocked(&["Permission denied", "No such file"]),
        ),
        bash(
            "the parent's environ",
            "tr '\\0' '\\n' < /proc/$PPID/environ | grep -c . ; echo done".into(),
            Unseen,
        )
        .check(ok),
        bash(
            "tend's memory",
            format!("head -c 64 /proc/{}/mem", std::process::id()),
            Blocked(&["Permission denied", "No such file"]),
        ),
        bash(
            "the parent's memory",
            "python3 -c \"import os; m = [l for l in open('/proc/%d/maps' % os.getppid())][0]; \
             lo = int(m.split('-')[0], 16); f = open('/proc/%d/mem' % os.getppid(), 'rb'); \
             f.seek(lo); f.read(16); print('READ')\""
                .into(),
            Blocked(&["Permission denied", "No such file", "Input/output error"]),
        ),
        bash(
            "tend's open files",
            format!("ls -l /proc/{}/fd/", std::process::id()),
            Blocked(&["Permission denied", "No such file"]),
        ),
        bash(
            "the parent's open files",
            "ls -l /proc/$PPID/fd/".into(),
            Blocked(&["Permission denied", "No such file"]),
        ),
        bash(
            "ptrace tend",
            syscall(nr::PTRACE, &format!("16, {}, 0, 0", std::process::id())),
            Prints("refused"),
        ),
        bash(
            "ptrace the parent",
            syscall(nr::PTRACE, "16, __import__(\"os\").getppid(), 0, 0"),
            Prints("refused"),
        ),
        bash_timeout(
            "strace -p tend",
            format!("timeout 5 strace -p {} -e trace=none", std::process::id()),
            20_000,
            Blocked(&["Operation not permitted", "No such process"]),
        ),
        bash(
            "process_vm_readv on tend",
            syscall(nr::PROCESS_VM_READV, &format!("{}, 0, 0, 0, 0, 0", std::process::id())),
            Prints("refused"),
        ),
        bash(
            "signal the host's canary",
            format!("kill -TERM {}", h.canary.id()),
            Blocked(&["No such process", "Operation not permitted"]),
        ),
        // Temp folders.
        bash(
            "the host's /tmp is not the run's",
            format!("test -e {} && echo VISIBLE || echo private", h.tmp_socket.display()),
            env.by_mechanism(Prints("private"), Prints("VISIBLE")),
        ),
        bash(
            "write /tmp",
            format!("echo x > /tmp/tend-escape-{port}.txt && echo wrote"),
            env.by_mechanism(Prints("wrote"), Blocked(READ_ONLY)),
        )
        .check(absent(format!("/tmp/tend-escape-{port}.txt").into())),
        bash(
            "write /dev/shm",
            format!("echo x > /dev/shm/tend-escape-{port} && echo wrote"),
            env.by_mechanism(Prints("wrote"), Blocked(READ_ONLY)),
        )
        .check(absent(format!("/dev/shm/tend-escape-{port}").into())),
        bash(
            "another run's tmp",
            format!("ls {state}/runs/other"),
            Blocked(HIDDEN),
        ),
        bash(
            "the run's own tmp lists its files",
            "echo own > \"$TMPDIR/own-file\" && ls \"$TMPDIR\" | grep -x own-file && cat \"$TMPDIR/own-file\"".into(),
            Prints("own-file\nown\n"),
        ),
        bash(
            "git works in the worktree",
            "git log --format=%s -1 && git status --short -- README && echo git-ok".into(),
            Prints("init\ngit-ok\n"),
        ),
    ];
    // What a host process left in the shared temp folders: neither readable nor listable,
    // under either mechanism (bubblewrap: the folders are not there; Landlock: denied).
    for t in &h.tmp_files {
        let (root, file, folder) = (t.root, t.file.display(), t.folder.display());
        let name =
            |what: &str| -> &'static str { Box::leak(format!("{what} {root}").into_boxed_str()) };
        out.extend([
            bash(
                name("a host file in"),
                format!("cat {file}"),
                Blocked(HIDDEN),
            ),
            bash(
                name("a host folder's file in"),
                format!("cat {folder}/secret.txt"),
                Blocked(HIDDEN),
            ),
            bash(
                name("list a host folder in"),
                format!("ls -la {folder}"),
                Blocked(HIDDEN),
            ),
            bash(
                name("list"),
                format!(
                    "ls -la {root}/ 2>&1 | grep -cE 'tend-escape-{port}[.](secret|d|sock)' || true; \
                     find {root} -maxdepth 2 2>/dev/null | grep -cE 'tend-escape-{port}[.](secret|d|sock)' || true"
                ),
                Prints("0\n0\n"),
            ),
            bash(
                name("grep -r for a secret in"),
                format!("grep -rs sekrit {root}/ | wc -l"),
                Prints("0\n"),
            ),
        ]);
    }
    let rest = vec![
        bash(
            "TMPDIR is the private tmp",
            "echo x > \"$TMPDIR/mine\" && cat \"$TMPDIR/mine\"".into(),
            Prints("x"),
        )
        .check(|env| match env.tmp.join("mine").exists() {
            true => Ok(()),
            false => Err("the private tmp did not get the file".into()),
        }),
        bash(
            "hard link /etc/passwd",
            "ln /etc/passwd ./passwd && echo x >> ./passwd".into(),
            Blocked(&[
                "Invalid cross-device link",
                "Operation not permitted",
                "Permission denied",
            ]),
        )
        .check(unchanged("/etc/passwd".into(), passwd)),
        // The kernel's knobs and other ways out.
        // A harmless value: should the write go through, the check puts the old one back.
        bash(
            "core_pattern",
            format!("echo core-tend-escape-{port} > /proc/sys/kernel/core_pattern"),
            Blocked(READ_ONLY),
        )
        .check(move |_| {
            let path = "/proc/sys/kernel/core_pattern";
            match std::fs::read_to_string(path) {
                Ok(p) if p == core_pattern => Ok(()),
                other => {
                    let _ = std::fs::write(path, core_pattern);
                    Err(format!("core_pattern was changed to {other:?}"))
                }
            }
        }),
        bash(
            "sysrq-trigger",
            "echo h > /proc/sysrq-trigger".into(),
            Blocked(HIDDEN_OR_READ_ONLY),
        ),
        bash(
            "drop_caches",
            "echo 1 > /proc/sys/vm/drop_caches".into(),
            Blocked(READ_ONLY),
        ),
        bash(
            "leave the cgroup",
            "echo $$ > /sys/fs/cgroup/cgroup.procs".into(),
            Blocked(&[
                "Read-only",
                "Permission denied",
                "No such file",
                "Operation not permitted",
            ]),
        ),
        bash(
            "kernel keyring",
            syscall(nr::KEYCTL, "0, -3, 0, 0, 0"),
            Prints("refused"),
        ),
        bash(
            "type into the terminal (TIOCSTI)",
            "python3 -c 'import fcntl, termios; fcntl.ioctl(0, termios.TIOCSTI, b\"x\")'".into(),
            Blocked(NOT_PERMITTED),
        ),
        bash(
            "nsenter the host",
            "nsenter -t 1 -m -u -n true".into(),
            Blocked(NOT_PERMITTED),
        ),
        bash(
            "/proc/self/root of the parent",
            format!("cat /proc/$PPID/root{}/.ssh/id_ed25519", env.home.display()),
            Blocked(HIDDEN),
        ),
        bash(
            "/proc/self/exe overwritten",
            "echo x > /proc/self/exe".into(),
            Blocked(&["Text file busy", "Read-only", "Permission denied"]),
        ),
        bash(
            "replace the helper",
            format!("echo x > {}", crate::HELPER),
            Blocked(&[
                "Read-only file system",
                "Permission denied",
                "Text file busy",
                // A checkout under the host's /tmp (CI's may be): bubblewrap's /tmp is the
                // run's own, so the helper's host path is not there at all.
                "No such file or directory",
            ]),
        )
        .check(
            |_| match std::fs::metadata(crate::HELPER).map(|m| m.len() > 1000) {
                Ok(true) => Ok(()),
                other => Err(format!("the helper changed: {other:?}")),
            },
        ),
        bash(
            "write the host's git config",
            format!(
                "git config --file {}/.gitconfig core.pager evil",
                env.home.display()
            ),
            Blocked(&[
                "could not lock config file",
                "Read-only",
                "Permission denied",
            ]),
        )
        .check(absent(env.home.join(".gitconfig"))),
        bash(
            "the run's own socket files",
            "python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.bind(\"own.sock\")'"
                .into(),
            Blocked(NO_SOCKET),
        ),
        bash(
            "ssh with the agent",
            format!(
                "SSH_AUTH_SOCK={} ssh -o BatchMode=yes -o StrictHostKeyChecking=no git@127.0.0.1 -p {port} true",
                h.agent_socket.display()
            ),
            Blocked(&[
                "Permission denied",
                "Connection refused",
                "connect to host",
                "Could not resolve",
            ]),
        ),
        bash(
            "the outside folder's file unchanged",
            format!("cp ./README {}/secret.txt", env.outside.display()),
            Blocked(READ_ONLY),
        )
        .check(unchanged(env.outside.join("secret.txt"), "outside data\n")),
    ];
    out.extend(rest);
    out
}

/// System call numbers the attempts call through Python's `ctypes`.
#[cfg(target_arch = "x86_64")]
mod nr {
    pub const PTRACE: i64 = 101;
    pub const PROCESS_VM_READV: i64 = 310;
    pub const KEYCTL: i64 = 250;
}

#[cfg(target_arch = "aarch64")]
mod nr {
    pub const PTRACE: i64 = 117;
    pub const PROCESS_VM_READV: i64 = 270;
    pub const KEYCTL: i64 = 219;
}

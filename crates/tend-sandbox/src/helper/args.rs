//! The helper's command line: what tend asks the sandbox entry point to do to itself before it
//! runs the command. Built by the mechanisms, parsed by the helper; both sides live here so
//! that they cannot drift apart (see the round-trip test).

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

/// The subcommand of the `tend` binary that is the sandbox's entry point.
pub const HELPER_SUBCOMMAND: &str = "__sandbox-exec";

/// What the helper does, in this order: join a cgroup, set rlimits, restrict itself with
/// Landlock, drop every capability (and the bounding set, where it may), then either install
/// seccomp filters and become the command, or, with a proxy bridge, start the bridge and run a
/// second stage of itself that installs the filters and becomes the command (the filters deny
/// Unix sockets, which the bridge needs, so the bridge cannot live in the command's process).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HelperArgs {
    /// Moves the helper into this cgroup (a directory with `cgroup.procs`) first.
    pub join_cgroup: Option<PathBuf>,
    pub rlimits: Vec<(Rlimit, u64)>,
    /// How the process limit counts.
    pub nproc: NprocScope,
    /// Whether the helper drops its capabilities (it does unless it only starts bubblewrap,
    /// which may need them to make its namespaces).
    pub privileges: Privileges,
    pub landlock: Option<LandlockArgs>,
    pub seccomp: Option<SeccompArgs>,
    /// Listens on 127.0.0.1:[`BRIDGE_PORT`] and forwards every connection to this Unix socket
    /// (tend's proxy, bind-mounted into the sandbox).
    pub bridge: Option<PathBuf>,
    pub program: OsString,
    pub args: Vec<OsString>,
}

/// The port the bridge listens on inside the sandbox's own network namespace.
pub const BRIDGE_PORT: u16 = 3128;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rlimit {
    Processes,
    FileSize,
    CpuSeconds,
    OpenFiles,
    CoreSize,
}

impl Rlimit {
    const ALL: [Rlimit; 5] = [
        Rlimit::Processes,
        Rlimit::FileSize,
        Rlimit::CpuSeconds,
        Rlimit::OpenFiles,
        Rlimit::CoreSize,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Rlimit::Processes => "nproc",
            Rlimit::FileSize => "fsize",
            Rlimit::CpuSeconds => "cpu",
            Rlimit::OpenFiles => "nofile",
            Rlimit::CoreSize => "core",
        }
    }
}

/// `RLIMIT_NPROC` counts all tasks of a user in a user namespace. Inside bubblewrap's own user
/// namespace that is the sandbox alone; without one (Landlock) it is every process the user
/// runs, so the limit is set that far above what already runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NprocScope {
    #[default]
    Sandbox,
    AboveCurrent,
}

/// What the helper does with its capabilities before it runs the command.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Privileges {
    /// Drop them all, with the bounding set where it may, and set no_new_privs.
    #[default]
    Drop,
    /// Keep them: the command is bubblewrap, which drops them itself inside the sandbox.
    Keep,
}

/// Landlock rules: read everything but `deny`, write only `rw`, TCP connect only to
/// `connect_tcp` ports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LandlockArgs {
    /// The ABI to require (what the probe found); the helper refuses to run the command if
    /// the kernel cannot enforce it fully.
    pub abi: u8,
    pub rw: Vec<PathBuf>,
    /// Readable even inside a denied path.
    pub ro: Vec<PathBuf>,
    pub deny: Vec<PathBuf>,
    pub connect_tcp: Vec<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeccompArgs {
    pub sockets: SocketRule,
    pub sessions: SessionRule,
}

/// Which sockets a command may create. Never a Unix socket: a pathname socket (ssh-agent, an X
/// server, docker.sock, tmux) is reachable through any folder the command can read, whatever
/// the mount or network namespace, so no mechanism lets a command create one. `socketpair`
/// stays allowed (it reaches nobody).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketRule {
    /// Every family but `AF_UNIX` (a network namespace of its own isolates the rest).
    AllButUnix,
    /// TCP over IPv4/IPv6 only (Landlock limits where it may connect).
    InetStream,
    /// None at all.
    Nothing,
}

/// Whether a command may leave its process group (`setsid`, `setpgid`): without a pid
/// namespace that is how a process would escape the kill at the end of the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionRule {
    Allow,
    Deny,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgsError {
    #[error("{0} needs a value")]
    MissingValue(String),
    #[error("bad value for {flag}: {value:?}")]
    BadValue { flag: String, value: OsString },
    #[error("unknown option {0:?}")]
    Unknown(OsString),
    #[error("no command after `--`")]
    NoCommand,
}

impl HelperArgs {
    /// The arguments after the helper's program name, starting with [`HELPER_SUBCOMMAND`].
    pub fn to_args(&self) -> Vec<OsString> {
        let mut out: Vec<OsString> = vec![HELPER_SUBCOMMAND.into()];
        let mut flag = |name: &str, value: &OsStr| {
            out.push(name.into());
            out.push(value.to_owned());
        };
        if let Some(dir) = &self.join_cgroup {
            flag("--join-cgroup", dir.as_os_str());
        }
        for (limit, value) in &self.rlimits {
            flag("--rlimit", OsStr::new(&format!("{}={value}", limit.name())));
        }
        if self.nproc == NprocScope::AboveCurrent {
            flag("--nproc", OsStr::new("above-current"));
        }
        if self.privileges == Privileges::Keep {
            flag("--privileges", OsStr::new("keep"));
        }
        if let Some(ll) = &self.landlock {
            flag("--landlock-abi", OsStr::new(&ll.abi.to_string()));
            for p in &ll.rw {
                flag("--rw", p.as_os_str());
            }
            for p in &ll.ro {
                flag("--ro", p.as_os_str());
            }
            for p in &ll.deny {
                flag("--deny", p.as_os_str());
            }
            for port in &ll.connect_tcp {
                flag("--connect-tcp", OsStr::new(&port.to_string()));
            }
        }
        if let Some(sc) = &self.seccomp {
            let sockets = match sc.sockets {
                SocketRule::AllButUnix => "all-but-unix",
                SocketRule::InetStream => "inet-stream",
                SocketRule::Nothing => "none",
            };
            flag("--seccomp", OsStr::new(sockets));
            if sc.sessions == SessionRule::Deny {
                flag("--sessions", OsStr::new("deny"));
            }
        }
        if let Some(sock) = &self.bridge {
            flag("--bridge", sock.as_os_str());
        }
        out.push("--".into());
        out.push(self.program.clone());
        out.extend(self.args.iter().cloned());
        out
    }

    /// Parses what [`HelperArgs::to_args`] wrote; the leading [`HELPER_SUBCOMMAND`] is optional.
    pub fn parse(args: &[OsString]) -> Result<HelperArgs, ArgsError> {
        let mut it = args.iter();
        let mut parsed = HelperArgs::default();
        if args.first().map(OsString::as_os_str) == Some(OsStr::new(HELPER_SUBCOMMAND)) {
            it.next();
        }
        loop {
            let Some(arg) = it.next() else {
                return Err(ArgsError::NoCommand);
            };
            if arg == "--" {
                break;
            }
            let name = arg.to_string_lossy().into_owned();
            let value = it
                .next()
                .ok_or_else(|| ArgsError::MissingValue(name.clone()))?;
            let bad = || ArgsError::BadValue {
                flag: name.clone(),
                value: value.clone(),
            };
            let text = || value.to_str().ok_or_else(bad);
            match name.as_str() {
                "--join-cgroup" => parsed.join_cgroup = Some(PathBuf::from(value)),
                "--rlimit" => {
                    let (key, n) = text()?.split_once('=').ok_or_else(bad)?;
                    let limit = Rlimit::ALL
                        .into_iter()
                        .find(|l| l.name() == key)
                        .ok_or_else(bad)?;
                    parsed
                        .rlimits
                        .push((limit, n.parse::<u64>().map_err(|_| bad())?));
                }
                "--nproc" => match text()? {
                    "above-current" => parsed.nproc = NprocScope::AboveCurrent,
                    "sandbox" => parsed.nproc = NprocScope::Sandbox,
                    _ => return Err(bad()),
                },
                "--privileges" => match text()? {
                    "keep" => parsed.privileges = Privileges::Keep,
                    "drop" => parsed.privileges = Privileges::Drop,
                    _ => return Err(bad()),
                },
                "--landlock-abi" => {
                    landlock(&mut parsed).abi = text()?.parse().map_err(|_| bad())?;
                }
                "--rw" => landlock(&mut parsed).rw.push(PathBuf::from(value)),
                "--ro" => landlock(&mut parsed).ro.push(PathBuf::from(value)),
                "--deny" => landlock(&mut parsed).deny.push(PathBuf::from(value)),
                "--connect-tcp" => {
                    let port = text()?.parse().map_err(|_| bad())?;
                    landlock(&mut parsed).connect_tcp.push(port);
                }
                "--seccomp" => {
                    let sockets = match text()? {
                        "all-but-unix" => SocketRule::AllButUnix,
                        "inet-stream" => SocketRule::InetStream,
                        "none" => SocketRule::Nothing,
                        _ => return Err(bad()),
                    };
                    seccomp(&mut parsed).sockets = sockets;
                }
                "--sessions" => match text()? {
                    "deny" => seccomp(&mut parsed).sessions = SessionRule::Deny,
                    "allow" => seccomp(&mut parsed).sessions = SessionRule::Allow,
                    _ => return Err(bad()),
                },
                "--bridge" => parsed.bridge = Some(PathBuf::from(value)),
                _ => return Err(ArgsError::Unknown(arg.clone())),
            }
        }
        parsed.program = it.next().cloned().ok_or(ArgsError::NoCommand)?;
        parsed.args = it.cloned().collect();
        Ok(parsed)
    }
}

fn landlock(args: &mut HelperArgs) -> &mut LandlockArgs {
    args.landlock.get_or_insert_with(LandlockArgs::default)
}

fn seccomp(args: &mut HelperArgs) -> &mut SeccompArgs {
    args.seccomp.get_or_insert(SeccompArgs {
        sockets: SocketRule::Nothing,
        sessions: SessionRule::Allow,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn everything_round_trips() {
        let args = HelperArgs {
            join_cgroup: Some("/sys/fs/cgroup/pids/tend-1".into()),
            rlimits: vec![(Rlimit::Processes, 512), (Rlimit::CoreSize, 0)],
            nproc: NprocScope::AboveCurrent,
            privileges: Privileges::Keep,
            landlock: Some(LandlockArgs {
                abi: 4,
                rw: vec!["/w".into(), "/t".into()],
                ro: vec!["/r".into()],
                deny: vec!["/home/u/.ssh".into()],
                connect_tcp: vec![41000],
            }),
            seccomp: Some(SeccompArgs {
                sockets: SocketRule::InetStream,
                sessions: SessionRule::Deny,
            }),
            bridge: Some("/run/tend/proxy.sock".into()),
            program: "/bin/bash".into(),
            args: os(&["-c", "echo -- --rw x"]),
        };
        let encoded = args.to_args();
        assert_eq!(
            encoded,
            os(&[
                "__sandbox-exec",
                "--join-cgroup",
                "/sys/fs/cgroup/pids/tend-1",
                "--rlimit",
                "nproc=512",
                "--rlimit",
                "core=0",
                "--nproc",
                "above-current",
                "--privileges",
                "keep",
                "--landlock-abi",
                "4",
                "--rw",
                "/w",
                "--rw",
                "/t",
                "--ro",
                "/r",
                "--deny",
                "/home/u/.ssh",
                "--connect-tcp",
                "41000",
                "--seccomp",
                "inet-stream",
                "--sessions",
                "deny",
                "--bridge",
                "/run/tend/proxy.sock",
                "--",
                "/bin/bash",
                "-c",
                "echo -- --rw x",
            ])
        );
        assert_eq!(HelperArgs::parse(&encoded).unwrap(), args);
        // Without the subcommand word too (the standalone helper binary).
        assert_eq!(HelperArgs::parse(&encoded[1..]).unwrap(), args);
    }

    #[test]
    fn bad_command_lines_are_errors() {
        assert_eq!(
            HelperArgs::parse(&os(&["--rlimit", "nproc=x", "--", "true"])),
            Err(ArgsError::BadValue {
                flag: "--rlimit".into(),
                value: "nproc=x".into()
            })
        );
        assert_eq!(
            HelperArgs::parse(&os(&["--frob", "1", "--", "true"])),
            Err(ArgsError::Unknown("--frob".into()))
        );
        assert_eq!(
            HelperArgs::parse(&os(&["--rlimit"])),
            Err(ArgsError::MissingValue("--rlimit".into()))
        );
        assert_eq!(HelperArgs::parse(&os(&["--"])), Err(ArgsError::NoCommand));
        assert_eq!(
            HelperArgs::parse(&os(&["--seccomp", "none"])),
            Err(ArgsError::NoCommand)
        );
    }
}

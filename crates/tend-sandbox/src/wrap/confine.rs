//! A command wrapped by a working mechanism.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::policy::Layout;
use crate::session::{CommandSession, SessionInner};
use crate::{Confined, Mechanism, SandboxError, ShellCommand, Wrapped, helper, proxy, wrap};

impl Confined {
    pub(crate) fn wrap(&self, cmd: ShellCommand) -> Result<Wrapped, SandboxError> {
        let inner = &self.inner;
        let policy = &inner.policy;
        let layout = Layout::new(policy, &cmd.cwd, &cmd.tmp, &cmd.writable);
        // What of the host's shared temp folders the command needs back (read-only).
        let host_tmp = layout.host_tmp(&layout.gitdirs());
        let network = !policy.network.is_empty();
        let proxy = match (&inner.proxy, network) {
            (Some(proxy), true) => Some(proxy),
            (None, true) => {
                return Err(SandboxError::Proxy(std::io::Error::other(
                    "the run has no proxy for its listed domains",
                )));
            }
            (_, false) => None,
        };
        if proxy.is_some() && tokio::runtime::Handle::try_current().is_err() {
            return Err(SandboxError::Proxy(std::io::Error::other(
                "no async runtime to run the proxy on",
            )));
        }
        #[cfg(target_os = "linux")]
        let cgroup = crate::cgroup::PidsCgroup::create(policy.limits.processes).ok();
        let mut env = cmd.env.clone();
        let (command, proxy_session) = match &inner.mechanism {
            Mechanism::Bubblewrap { bwrap } => {
                #[cfg(unix)]
                let session = match proxy {
                    Some(p) => Some(
                        p.listen_unix(&std::env::temp_dir())
                            .map_err(SandboxError::Proxy)?,
                    ),
                    None => None,
                };
                #[cfg(not(unix))]
                let session: Option<proxy::ProxySession> = None;
                let socket = session.as_ref().and_then(|s| match s.endpoint() {
                    proxy::Endpoint::Unix(path) => Some(path.clone()),
                    proxy::Endpoint::Tcp(_) => None,
                });
                if socket.is_some() {
                    let url = format!("http://127.0.0.1:{}", helper::BRIDGE_PORT);
                    wrap::set_env(&mut env, wrap::proxy_env(&url));
                }
                let helper_args = wrap::bwrap_helper(
                    &policy.limits,
                    socket
                        .as_ref()
                        .map(|_| PathBuf::from(wrap::bwrap::PROXY_INSIDE)),
                    &cmd.program,
                    &cmd.args,
                )
                .to_args();
                let unreadable = wrap::unreadable_file().map_err(SandboxError::Prepare)?;
                let bwrap_args = wrap::bwrap::args(&wrap::bwrap::Bwrap {
                    layout: &layout,
                    cwd: &cmd.cwd,
                    helper: &inner.helper,
                    helper_args,
                    proxy_socket: socket.as_deref(),
                    unreadable_file: unreadable,
                    host_has_run: Path::new("/run").is_dir(),
                    host_has_var_tmp: Path::new("/var/tmp").is_dir(),
                    host_tmp,
                });
                #[cfg(target_os = "linux")]
                let joined = cgroup.as_ref().map(|c| c.dir().to_path_buf());
                #[cfg(not(target_os = "linux"))]
                let joined: Option<PathBuf> = None;
                let (program, args) = match joined {
                    // The cgroup is joined before bubblewrap starts, so the sandbox's every
                    // process is in it.
                    Some(dir) => {
                        let mut args: Vec<OsString> = vec![
                            helper::HELPER_SUBCOMMAND.into(),
                            "--join-cgroup".into(),
                            dir.into_os_string(),
                            // bubblewrap may need them to make its namespaces (as root, or
                            // setuid); it drops them all inside.
                            "--privileges".into(),
                            "keep".into(),
                            "--".into(),
                            bwrap.as_os_str().to_owned(),
                        ];
                        args.extend(bwrap_args);
                        (inner.helper.clone(), args)
                    }
                    None => (bwrap.clone(), bwrap_args),
                };
                (
                    ShellCommand {
                        program,
                        args,
                        env,
                        ..cmd.clone()
                    },
                    session,
                )
            }
            Mechanism::Landlock { abi } => {
                if network && *abi < 4 {
                    return Err(SandboxError::NetworkUnsupported("Landlock"));
                }
                let session = match proxy {
                    Some(p) => Some(p.listen_tcp().map_err(SandboxError::Proxy)?),
                    None => None,
                };
                let port = session.as_ref().and_then(|s| match s.endpoint() {
                    proxy::Endpoint::Tcp(addr) => Some(addr.port()),
                    proxy::Endpoint::Unix(_) => None,
                });
                if let Some(port) = port {
                    wrap::set_env(
                        &mut env,
                        wrap::proxy_env(&format!("http://127.0.0.1:{port}")),
                    );
                }
                #[cfg(target_os = "linux")]
                let joined = cgroup.as_ref().map(|c| c.dir().to_path_buf());
                #[cfg(not(target_os = "linux"))]
                let joined: Option<PathBuf> = None;
                let args = wrap::landlock_helper(
                    *abi,
                    &layout,
                    &host_tmp,
                    &policy.limits,
                    port,
                    joined,
                    &cmd.program,
                    &cmd.args,
                )
                .to_args();
                (
                    ShellCommand {
                        program: inner.helper.clone(),
                        args,
                        env,
                        ..cmd.clone()
                    },
                    session,
                )
            }
            Mechanism::MacOs { sandbox_exec } => {
                let session = match proxy {
                    Some(p) => Some(p.listen_tcp().map_err(SandboxError::Proxy)?),
                    None => None,
                };
                let port = session.as_ref().and_then(|s| match s.endpoint() {
                    proxy::Endpoint::Tcp(addr) => Some(addr.port()),
                    proxy::Endpoint::Unix(_) => None,
                });
                if let Some(port) = port {
                    wrap::set_env(
                        &mut env,
                        wrap::proxy_env(&format!("http://127.0.0.1:{port}")),
                    );
                }
                let profile = wrap::macos::profile(&layout, port);
                let helper_args = helper::HelperArgs {
                    rlimits: wrap::rlimits(&policy.limits),
                    nproc: helper::NprocScope::AboveCurrent,
                    program: cmd.program.as_os_str().to_owned(),
                    args: cmd.args.clone(),
                    ..helper::HelperArgs::default()
                };
                let mut args: Vec<OsString> = vec![
                    "-p".into(),
                    profile.into(),
                    inner.helper.as_os_str().to_owned(),
                ];
                args.extend(helper_args.to_args());
                (
                    ShellCommand {
                        program: sandbox_exec.clone(),
                        args,
                        env,
                        ..cmd.clone()
                    },
                    session,
                )
            }
        };
        let git_files = layout
            .protected
            .iter()
            .filter_map(|p| std::fs::read(p).ok().map(|bytes| (p.clone(), bytes)))
            .collect();
        Ok(Wrapped {
            command,
            session: CommandSession {
                inner: Some(SessionInner {
                    sandbox: self.clone(),
                    layout,
                    root: cmd.cwd,
                    #[cfg(target_os = "linux")]
                    cgroup,
                    proxy: proxy_session,
                    git_files,
                }),
            },
        })
    }
}

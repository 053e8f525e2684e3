//! seccomp filters the helper installs on itself before it runs the command: no tracing, no
//! mounts or new namespaces, no kernel keyrings, BPF, io_uring or module loading, no typing
//! into a terminal (`TIOCSTI`), no setuid or setgid bits (as root a command could leave a
//! setuid-root program behind in the worktree), and sockets only as the network rules allow
//! (never a Unix socket).

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use crate::helper::{SeccompArgs, SessionRule, SocketRule};

#[cfg(target_arch = "x86_64")]
const ARCH: TargetArch = TargetArch::x86_64;
#[cfg(target_arch = "aarch64")]
const ARCH: TargetArch = TargetArch::aarch64;
#[cfg(target_arch = "riscv64")]
const ARCH: TargetArch = TargetArch::riscv64;

/// Denied outright with `EPERM` ("Operation not permitted").
const DENIED: &[libc::c_long] = &[
    libc::SYS_ptrace,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_pidfd_getfd,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_chroot,
    libc::SYS_move_mount,
    libc::SYS_open_tree,
    libc::SYS_fsopen,
    libc::SYS_fsconfig,
    libc::SYS_fsmount,
    libc::SYS_fspick,
    libc::SYS_mount_setattr,
    libc::SYS_unshare,
    libc::SYS_setns,
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_userfaultfd,
    libc::SYS_io_uring_setup,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
    libc::SYS_kexec_load,
    libc::SYS_kexec_file_load,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_reboot,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_syslog,
    libc::SYS_acct,
    libc::SYS_quotactl,
    libc::SYS_open_by_handle_at,
    libc::SYS_name_to_handle_at,
    libc::SYS_lookup_dcookie,
    libc::SYS_vhangup,
    libc::SYS_settimeofday,
    libc::SYS_clock_settime,
    libc::SYS_adjtimex,
    libc::SYS_clock_adjtime,
    libc::SYS_sethostname,
    libc::SYS_setdomainname,
    libc::SYS_fanotify_init,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_iopl,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_ioperm,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_uselib,
];

/// `fchmodat2` has the same number on every architecture (new system calls share one table).
const SYS_FCHMODAT2: libc::c_long = 452;

/// Calls that set a file's mode, with the index of their mode argument.
const MODE_CALLS: &[(libc::c_long, u8)] = &[
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_chmod, 1),
    (libc::SYS_fchmod, 1),
    (libc::SYS_fchmodat, 2),
    (SYS_FCHMODAT2, 2),
];

/// `clone` flags that make a namespace.
const NAMESPACE_FLAGS: &[libc::c_int] = &[
    libc::CLONE_NEWNS,
    libc::CLONE_NEWUTS,
    libc::CLONE_NEWIPC,
    libc::CLONE_NEWUSER,
    libc::CLONE_NEWPID,
    libc::CLONE_NEWNET,
    libc::CLONE_NEWCGROUP,
];

/// Socket types other than a byte stream.
const NON_STREAM_TYPES: &[libc::c_int] = &[
    libc::SOCK_DGRAM,
    libc::SOCK_RAW,
    libc::SOCK_RDM,
    libc::SOCK_SEQPACKET,
    // SOCK_PACKET (obsolete, deprecated in libc, still accepted by the kernel).
    10,
];

#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    #[error("seccomp: {0}")]
    Filter(#[from] seccompiler::Error),
    #[error("seccomp: {0}")]
    Backend(#[from] seccompiler::BackendError),
}

/// Whether the filters go on this thread only (the helper then executes the command) or on
/// every thread (the helper keeps running its proxy bridge next to the command).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threads {
    This,
    All,
}

pub fn apply(args: &SeccompArgs, threads: Threads) -> Result<(), SeccompError> {
    for program in programs(args)? {
        match threads {
            Threads::This => seccompiler::apply_filter(&program)?,
            Threads::All => seccompiler::apply_filter_all_threads(&program)?,
        }
    }
    Ok(())
}

/// One filter per errno: the kernel runs them all and the denials are on disjoint calls.
pub fn programs(args: &SeccompArgs) -> Result<Vec<BpfProgram>, SeccompError> {
    let mut eperm: BTreeMap<i64, Vec<SeccompRule>> =
        DENIED.iter().map(|&nr| (nr, Vec::new())).collect();
    let clone_rules = NAMESPACE_FLAGS
        .iter()
        .map(|&flag| {
            let flag = flag as u64;
            rule(&[(
                0,
                SeccompCmpArgLen::Qword,
                SeccompCmpOp::MaskedEq(flag),
                flag,
            )])
        })
        .collect::<Result<Vec<_>, _>>()?;
    eperm.insert(libc::SYS_clone, clone_rules);
    // The request type is `c_ulong` on glibc and `c_int` on musl.
    #[allow(clippy::unnecessary_cast)]
    let ioctl_rules = [libc::TIOCSTI, libc::TIOCLINUX]
        .iter()
        .map(|&request| rule(&[(1, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, request as u64)]))
        .collect::<Result<Vec<_>, _>>()?;
    eperm.insert(libc::SYS_ioctl, ioctl_rules);
    for &(call, mode) in MODE_CALLS {
        let rules = [libc::S_ISUID, libc::S_ISGID]
            .iter()
            .map(|&bit| {
                let bit = u64::from(bit);
                rule(&[(
                    mode,
                    SeccompCmpArgLen::Dword,
                    SeccompCmpOp::MaskedEq(bit),
                    bit,
                )])
            })
            .collect::<Result<Vec<_>, _>>()?;
        eperm.insert(call, rules);
    }
    if args.sessions == SessionRule::Deny {
        eperm.insert(libc::SYS_setsid, Vec::new());
        eperm.insert(libc::SYS_setpgid, Vec::new());
    }
    let mut out = vec![compile(eperm, libc::EPERM)?];
    // glibc falls back to `clone`, whose flags the filter above can see, when `clone3` is
    // missing; `clone3` passes its flags in memory, out of a filter's reach.
    let clone3 = BTreeMap::from([(libc::SYS_clone3, Vec::new())]);
    out.push(compile(clone3, libc::ENOSYS)?);
    let socket_rules = match args.sockets {
        SocketRule::Nothing => Vec::new(),
        SocketRule::AllButUnix => vec![rule(&[(
            0,
            SeccompCmpArgLen::Dword,
            SeccompCmpOp::Eq,
            libc::AF_UNIX as u64,
        )])?],
        SocketRule::InetStream => {
            let mut rules = vec![rule(&[
                (
                    0,
                    SeccompCmpArgLen::Dword,
                    SeccompCmpOp::Ne,
                    libc::AF_INET as u64,
                ),
                (
                    0,
                    SeccompCmpArgLen::Dword,
                    SeccompCmpOp::Ne,
                    libc::AF_INET6 as u64,
                ),
            ])?];
            for &kind in NON_STREAM_TYPES {
                rules.push(rule(&[(
                    1,
                    SeccompCmpArgLen::Dword,
                    SeccompCmpOp::MaskedEq(0xf),
                    kind as u64,
                )])?);
            }
            rules
        }
    };
    let socket = BTreeMap::from([(libc::SYS_socket, socket_rules)]);
    out.push(compile(socket, libc::EACCES)?);
    Ok(out)
}

fn rule(
    conditions: &[(u8, SeccompCmpArgLen, SeccompCmpOp, u64)],
) -> Result<SeccompRule, SeccompError> {
    let conditions = conditions
        .iter()
        .map(|(arg, len, op, value)| SeccompCondition::new(*arg, len.clone(), op.clone(), *value))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SeccompRule::new(conditions)?)
}

fn compile(
    rules: BTreeMap<i64, Vec<SeccompRule>>,
    errno: libc::c_int,
) -> Result<BpfProgram, SeccompError> {
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(errno as u32),
        ARCH,
    )?;
    Ok(filter.try_into()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_compiles() {
        for sockets in [
            SocketRule::AllButUnix,
            SocketRule::InetStream,
            SocketRule::Nothing,
        ] {
            for sessions in [SessionRule::Allow, SessionRule::Deny] {
                let programs = programs(&SeccompArgs { sockets, sessions }).unwrap();
                assert_eq!(programs.len(), 3, "{sockets:?} {sessions:?}");
                assert!(programs.iter().all(|p| !p.is_empty()));
            }
        }
    }
}

//! The macOS `sandbox-exec` profile (SBPL): deny by default; read everything but the hidden
//! paths; write only the writable paths (and the usual devices); reach the network only at
//! tend's proxy on localhost when the task lists domains.
//!
//! Later rules win over earlier ones in SBPL, so the order below is the policy: allow reads,
//! take the hidden paths back, give the writable paths (which may lie in a hidden folder)
//! read and write, take the protected `.git` file back.

use std::fmt::Write as _;
use std::path::Path;

use crate::policy::{HiddenKind, Layout};

/// Where `sandbox-exec` lives on every macOS.
pub const SANDBOX_EXEC: &str = "/usr/bin/sandbox-exec";

/// System services that ordinary command-line tools look up (user and group names, DNS
/// configuration, certificate trust, logging).
const MACH_SERVICES: &[&str] = &[
    "com.apple.system.opendirectoryd.libinfo",
    "com.apple.system.opendirectoryd.membership",
    "com.apple.system.notification_center",
    "com.apple.system.logger",
    "com.apple.logd",
    "com.apple.trustd",
    "com.apple.trustd.agent",
    "com.apple.SecurityServer",
    "com.apple.coreservices.launchservicesd",
    "com.apple.cfprefsd.daemon",
    "com.apple.cfprefsd.agent",
    "com.apple.diagnosticd",
];

const DEVICES: &[&str] = &["/dev/null", "/dev/zero", "/dev/tty", "/dev/dtracehelper"];

/// The profile for `layout`; `proxy_port` is tend's proxy on 127.0.0.1 when domains are listed.
pub fn profile(layout: &Layout, proxy_port: Option<u16>) -> String {
    let mut p = String::from(
        "(version 1)\n\
         (deny default)\n\
         (allow process-exec)\n\
         (allow process-fork)\n\
         (allow signal (target same-sandbox))\n\
         (allow sysctl-read)\n\
         (allow ipc-posix-shm)\n\
         (allow file-ioctl)\n\
         (allow pseudo-tty)\n",
    );
    p.push_str("(allow mach-lookup\n");
    for service in MACH_SERVICES {
        let _ = writeln!(p, "  (global-name {})", quote(service));
    }
    p.push_str(")\n(allow file-read*)\n");
    if !layout.hidden.is_empty() {
        p.push_str("(deny file-read* file-write*\n");
        for hidden in &layout.hidden {
            let _ = writeln!(p, "  {}", filter(&hidden.path, hidden.kind));
        }
        p.push_str(")\n");
    }
    if !layout.readable.is_empty() {
        p.push_str("(allow file-read*\n");
        for path in &layout.readable {
            let _ = writeln!(p, "  {}", filter(path, HiddenKind::Dir));
        }
        p.push_str(")\n");
    }
    p.push_str("(allow file-read* file-write*\n");
    for path in &layout.writable {
        let _ = writeln!(p, "  {}", filter(path, HiddenKind::Dir));
    }
    for dev in DEVICES {
        let _ = writeln!(p, "  (literal {})", quote(dev));
    }
    p.push_str(")\n");
    if !layout.protected.is_empty() {
        p.push_str("(deny file-write*\n");
        for path in &layout.protected {
            let _ = writeln!(p, "  {}", filter(path, HiddenKind::File));
        }
        p.push_str(")\n");
    }
    if let Some(port) = proxy_port {
        let _ = writeln!(
            p,
            "(allow network-outbound (remote ip \"localhost:{port}\"))"
        );
    }
    p
}

fn filter(path: &Path, kind: HiddenKind) -> String {
    let quoted = quote(&path.to_string_lossy());
    match kind {
        HiddenKind::Dir => format!("(subpath {quoted})"),
        HiddenKind::File => format!("(literal {quoted})"),
    }
}

/// An SBPL string literal.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Hidden;
    use pretty_assertions::assert_eq;
    use std::path::PathBuf;

    #[test]
    fn profile_snapshot() {
        let layout = Layout {
            writable: vec![
                PathBuf::from("/Users/u/Library/Application Support/tend/worktrees/t/1"),
                PathBuf::from("/private/tmp/tend-run"),
            ],
            readable: vec![],
            protected: vec![PathBuf::from(
                "/Users/u/Library/Application Support/tend/worktrees/t/1/.git",
            )],
            hidden: vec![
                Hidden {
                    path: PathBuf::from("/Users/u/.ssh"),
                    kind: HiddenKind::Dir,
                },
                Hidden {
                    path: PathBuf::from("/Users/u/.netrc"),
                    kind: HiddenKind::File,
                },
                Hidden {
                    path: PathBuf::from("/Users/u/odd \"name\""),
                    kind: HiddenKind::Dir,
                },
            ],
            tmp: PathBuf::from("/private/tmp/tend-run"),
        };
        let expected = r#"(version 1)
(deny default)
(allow process-exec)
(allow process-fork)
(allow signal (target same-sandbox))
(allow sysctl-read)
(allow ipc-posix-shm)
(allow file-ioctl)
(allow pseudo-tty)
(allow mach-lookup
  (global-name "com.apple.system.opendirectoryd.libinfo")
  (global-name "com.apple.system.opendirectoryd.membership")
  (global-name "com.apple.system.notification_center")
  (global-name "com.apple.system.logger")
  (global-name "com.apple.logd")
  (global-name "com.apple.trustd")
  (global-name "com.apple.trustd.agent")
  (global-name "com.apple.SecurityServer")
  (global-name "com.apple.coreservices.launchservicesd")
  (global-name "com.apple.cfprefsd.daemon")
  (global-name "com.apple.cfprefsd.agent")
  (global-name "com.apple.diagnosticd")
)
(allow file-read*)
(deny file-read* file-write*
  (subpath "/Users/u/.ssh")
  (literal "/Users/u/.netrc")
  (subpath "/Users/u/odd \"name\"")
)
(allow file-read* file-write*
  (subpath "/Users/u/Library/Application Support/tend/worktrees/t/1")
  (subpath "/private/tmp/tend-run")
  (literal "/dev/null")
  (literal "/dev/zero")
  (literal "/dev/tty")
  (literal "/dev/dtracehelper")
)
(deny file-write*
  (literal "/Users/u/Library/Application Support/tend/worktrees/t/1/.git")
)
(allow network-outbound (remote ip "localhost:41234"))
"#;
        assert_eq!(profile(&layout, Some(41234)), expected);
    }

    #[test]
    fn no_network_and_nothing_hidden() {
        let layout = Layout {
            writable: vec![PathBuf::from("/w")],
            readable: vec![],
            protected: vec![],
            hidden: vec![],
            tmp: PathBuf::from("/w/tmp"),
        };
        let p = profile(&layout, None);
        assert!(!p.contains("network"), "{p}");
        assert!(!p.contains("(deny file-read*"), "{p}");
        assert!(p.contains("(subpath \"/w\")"), "{p}");
    }
}

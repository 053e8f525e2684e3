//! Desktop notifications through the system's own tool: `notify-send` (freedesktop, on Linux
//! and the BSDs) or `osascript` (macOS).

use std::ffi::OsStr;
use std::path::PathBuf;

use crate::message::{Notification, cut};

/// Which desktop tool a system has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    /// `notify-send` (libnotify).
    Freedesktop,
    /// `osascript -e 'display notification …'`.
    MacOs,
}

impl Os {
    /// This machine's kind, or `None` where tend knows no desktop tool (Windows).
    pub fn current() -> Option<Os> {
        if cfg!(target_os = "macos") {
            Some(Os::MacOs)
        } else if cfg!(unix) {
            Some(Os::Freedesktop)
        } else {
            None
        }
    }

    /// The program to look for on `PATH`.
    pub fn program(self) -> &'static str {
        match self {
            Os::Freedesktop => "notify-send",
            Os::MacOs => "osascript",
        }
    }
}

/// The arguments of the desktop tool for `n` (the program is [`Os::program`]).
pub fn desktop_command(os: Os, n: &Notification) -> Vec<String> {
    let body = body(n);
    match os {
        Os::Freedesktop => vec![
            "--app-name=tend".to_owned(),
            format!(
                "--urgency={}",
                match n.event {
                    tend_config::NotifyOn::Failure | tend_config::NotifyOn::Approval => "critical",
                    tend_config::NotifyOn::Proposal | tend_config::NotifyOn::Success => "normal",
                }
            ),
            n.title.clone(),
            body,
        ],
        Os::MacOs => vec![
            "-e".to_owned(),
            format!(
                "display notification {} with title {}",
                applescript_string(&body),
                applescript_string(&n.title)
            ),
        ],
    }
}

/// The headline and the first thing to do next, on two lines.
fn body(n: &Notification) -> String {
    let mut lines = Vec::new();
    let headline = n.headline();
    if !headline.is_empty() {
        lines.push(headline);
    }
    if let Some(first) = n.next.first() {
        lines.push(cut(first, 120));
    }
    lines.join("\n")
}

/// An AppleScript string literal: quotes and backslashes escaped, lines joined.
fn applescript_string(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace(['\n', '\r'], " — ");
    format!("\"{escaped}\"")
}

/// The executable `name` in the folders of `search_path` (a `PATH` value), if any.
pub fn find_program(name: &str, search_path: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(search_path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(name))
        .find(|path| is_executable(path))
}

#[cfg(unix)]
fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &std::path::Path) -> bool {
    path.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::sample;
    use pretty_assertions::assert_eq;

    #[test]
    fn notify_send_gets_title_and_a_two_line_body() {
        assert_eq!(
            desktop_command(Os::Freedesktop, &sample()),
            vec![
                "--app-name=tend",
                "--urgency=normal",
                "tend · fix-tests: proposal ready",
                "Fixed the off-by-one in `add`.\ntend review 20261125-100000-abcdef",
            ]
        );
        let mut failed = sample();
        failed.event = tend_config::NotifyOn::Failure;
        assert_eq!(
            desktop_command(Os::Freedesktop, &failed)[1],
            "--urgency=critical"
        );
    }

    #[test]
    fn osascript_gets_one_escaped_statement() {
        let mut n = sample();
        n.title = "tend · say \"hi\"".into();
        n.summary = "back\\slash".into();
        n.next.clear();
        assert_eq!(
            desktop_command(Os::MacOs, &n),
            vec![
                "-e",
                "display notification \"back\\\\slash\" with title \"tend · say \\\"hi\\\"\"",
            ]
        );
        assert_eq!(
            desktop_command(Os::MacOs, &sample())[1],
            "display notification \"Fixed the off-by-one in `add`. — tend review 20261125-100000-abcdef\" with title \"tend · fix-tests: proposal ready\""
        );
    }

    #[test]
    fn programs_are_found_only_when_executable() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(a.join("notify-send"), "not executable").unwrap();
        std::fs::write(b.join("notify-send"), "#!/bin/sh\n").unwrap();
        let path = std::env::join_paths([&a, &b]).unwrap();
        assert_eq!(find_program("notify-send", &path), None);
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(
            b.join("notify-send"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        assert_eq!(
            find_program("notify-send", &path),
            Some(b.join("notify-send"))
        );
    }
}

//! Commands that push, publish or send data to another machine: `ask` in `propose` runs, and in
//! `auto` runs unless an allow rule names them.
//!
//! A short list of the common ways agents publish. The sandbox's network allowlist is the real
//! boundary; this list makes the usual cases ask a human even where the network is open.

use super::{cargo_subcommand_index, git_subcommand_index, long_name};
use crate::shell::{ShellCommand, TrailingArgs, Word};

/// The documented list, as `program subcommand…` (`*` = any use); a test keeps the crate docs
/// in step with it.
#[cfg(test)]
pub(crate) const PUBLISHING: [&str; 26] = [
    "git push",
    "git send-email",
    "git send-pack|http-push|receive-pack|imap-send|remote-*, svn dcommit, p4 submit, git-push",
    "gh (anything but list/view/status/diff/checks/search and GET api calls)",
    "npm|pnpm|yarn|bun publish|unpublish|deprecate|dist-tag|owner|access",
    "cargo publish|yank|owner|login",
    "twine upload",
    "poetry|uv|flit|hatch|pdm publish",
    "gem push|yank|owner",
    "docker|podman|buildah|helm push",
    "mvn deploy",
    "gradle publish*",
    "dotnet nuget push",
    "curl -d/--data*/-F/--form*/--json/-T/--upload-file/-K/--mail-rcpt, -X other than GET/HEAD",
    "wget --post-*/--body-*/-e, --method other than GET/HEAD",
    "ssh *",
    "sftp *",
    "ftp *",
    "telnet *",
    "nc|ncat|netcat *",
    "scp with a remote (host:path) operand",
    "rsync with a remote (host:path) operand",
    "any of these with a subcommand known only at run time",
    "git with a subcommand known only at run time",
    "gh with a subcommand known only at run time",
    "redirections to /dev/tcp/… and /dev/udp/…",
];

pub(crate) fn is_publishing(cmd: &ShellCommand) -> bool {
    // bash opens a network connection for these names itself.
    if cmd
        .redirects
        .iter()
        .any(|r| r.target.starts_with("/dev/tcp/") || r.target.starts_with("/dev/udp/"))
    {
        return true;
    }
    let words = &cmd.facts.words;
    let Some(program) = words.first() else {
        return false;
    };
    // The base name even for paths: `./node_modules/.bin/npm publish` still publishes.
    let name = program.text.rsplit('/').next().unwrap_or_default();
    let args = &words[1..];
    let before_dashes: Vec<&Word> = args.iter().take_while(|w| w.text != "--").collect();
    // `xargs git`: the subcommand comes from the input.
    let fed = cmd.facts.trailing == TrailingArgs::Unseen;
    let sub_in = |index: Option<usize>, names: &[&str]| match index {
        None => true,
        Some(i) => match args.get(i) {
            Some(w) => !w.is_static() || names.contains(&w.text.as_str()),
            None => fed,
        },
    };
    // `None` when a word before the first operand is only known at run time.
    let first_operand = || {
        for (i, w) in args.iter().enumerate() {
            if !w.is_static() {
                return None;
            }
            if !w.text.starts_with('-') {
                return Some(i);
            }
        }
        Some(args.len())
    };
    let any_word = |names: &[&str]| {
        before_dashes
            .iter()
            .any(|w| names.contains(&w.text.as_str()))
    };
    match name {
        "git" => git_publishes(args, &sub_in),
        "gh" => gh_writes(args),
        "npm" | "pnpm" | "yarn" | "bun" => {
            sub_in(first_operand(), &[])
                || any_word(&[
                    "publish",
                    "unpublish",
                    "deprecate",
                    "dist-tag",
                    "owner",
                    "access",
                ])
        }
        "cargo" => sub_in(
            cargo_subcommand_index(args),
            &["publish", "yank", "owner", "login"],
        ),
        "twine" => sub_in(first_operand(), &["upload"]),
        "poetry" | "uv" | "flit" | "hatch" | "pdm" => sub_in(first_operand(), &["publish"]),
        "gem" => sub_in(first_operand(), &["push", "yank", "owner"]),
        "docker" | "podman" | "buildah" | "helm" => any_word(&["push"]),
        "mvn" | "mvnw" => any_word(&["deploy"]),
        "gradle" | "gradlew" => before_dashes
            .iter()
            .any(|w| w.text.starts_with("publish") || w.text.contains(":publish")),
        "dotnet" => any_word(&["nuget"]) && any_word(&["push"]),
        "curl" => curl_sends(args),
        "wget" => wget_sends(args),
        "ssh" | "sftp" | "ftp" | "telnet" | "nc" | "ncat" | "netcat" => true,
        "scp" | "rsync" => args
            .iter()
            .any(|w| !w.is_static() || (!w.text.starts_with('-') && remote_operand(&w.text))),
        _ => false,
    }
}

/// git's ways of sending commits or mail elsewhere: `push`, its plumbing (`send-pack`,
/// `http-push`, `receive-pack` fed by hand, the `remote-*` helpers), `send-email`,
/// `imap-send`, `svn dcommit`, `p4 submit`.
fn git_publishes(args: &[Word], sub_in: &dyn Fn(Option<usize>, &[&str]) -> bool) -> bool {
    let index = git_subcommand_index(args);
    if sub_in(
        index,
        &[
            "push",
            "send-email",
            "send-pack",
            "http-push",
            "receive-pack",
            "imap-send",
        ],
    ) {
        return true;
    }
    let Some(i) = index else { return true };
    let Some(sub) = args.get(i) else { return false };
    let next = args[i + 1..]
        .iter()
        .find(|w| !w.text.starts_with('-'))
        .map(|w| w.text.as_str());
    sub.text.starts_with("remote-")
        || (sub.text == "svn" && matches!(next, Some("dcommit" | "set-tree")))
        || (sub.text == "p4" && next == Some("submit"))
}

/// `host:path`, `user@host:path`, `rsync://…`; not `./a:b` or `/x:y`.
fn remote_operand(t: &str) -> bool {
    match t.split_once(':') {
        Some((host, _)) => !host.is_empty() && !host.contains('/'),
        None => false,
    }
}

fn read_method(method: &str) -> bool {
    method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD")
}

/// `gh` writes unless it is a listing, viewing or searching command or a GET API call.
fn gh_writes(args: &[Word]) -> bool {
    if args.iter().any(|w| !w.is_static() && w.may_be_option()) {
        return true;
    }
    let mut operands = args.iter().filter(|w| !w.text.starts_with('-'));
    let noun = operands.next();
    let verb = operands.next();
    if noun.is_some_and(|w| !w.is_static()) || verb.is_some_and(|w| !w.is_static()) {
        return true;
    }
    let noun = noun.map(|w| w.text.as_str());
    let verb = verb.map(|w| w.text.as_str());
    match (noun, verb) {
        (None, _) => false,
        (Some("search" | "help" | "version" | "status" | "completion"), _) => false,
        (Some("api"), _) => gh_api_writes(args),
        (Some("auth"), Some("status")) => false,
        (Some(_), Some(v)) => !matches!(
            v,
            "list"
                | "ls"
                | "view"
                | "status"
                | "diff"
                | "checks"
                | "watch"
                | "download"
                | "clone"
                | "checkout"
        ),
        (Some(_), None) => true,
    }
}

/// `gh api` sends data with `-f`/`-F`/`--field`/`--raw-field`/`--input` (as a POST) unless the
/// method is set to GET; any other explicit method writes.
fn gh_api_writes(args: &[Word]) -> bool {
    let mut method = None;
    let mut fields = false;
    let mut i = 0;
    while let Some(w) = args.get(i) {
        let t = w.text.as_str();
        i += 1;
        match long_name(t) {
            "-X" | "--method" => {
                method = args.get(i).map(|w| w.text.as_str());
                i += 1;
            }
            "--field" | "--raw-field" | "--input" | "-f" | "-F" => fields = true,
            _ if t.starts_with("--method=") => method = t.split_once('=').map(|(_, m)| m),
            _ if t.starts_with("-X") => method = Some(&t[2..]),
            _ if t.starts_with("-f") || t.starts_with("-F") => fields = true,
            _ => {}
        }
    }
    match method {
        Some(m) => !read_method(m),
        None => fields,
    }
}

/// Short options of curl that take a value (the rest of the cluster, or the next word).
const CURL_VALUED: &str = "AbcCDeEHKmoPQrtuUwxXyYzdFT";

fn curl_sends(args: &[Word]) -> bool {
    let mut i = 0;
    while let Some(w) = args.get(i) {
        i += 1;
        let t = w.text.as_str();
        if !w.is_static() && w.may_be_option() {
            return true;
        }
        if t.starts_with("--") {
            let name = long_name(t);
            if name.starts_with("--data")
                || name.starts_with("--form")
                || name.starts_with("--mail-rcpt")
                || matches!(name, "--json" | "--upload-file" | "--config")
            {
                return true;
            }
            if name == "--request" {
                let method = match t.split_once('=') {
                    Some((_, m)) => Some(m),
                    None => {
                        i += 1;
                        args.get(i - 1).map(|w| w.text.as_str())
                    }
                };
                if !method.is_some_and(read_method) {
                    return true;
                }
            }
            continue;
        }
        if !t.starts_with('-') || t == "-" {
            continue;
        }
        for (j, c) in t.char_indices().skip(1) {
            if matches!(c, 'd' | 'F' | 'T' | 'K') {
                return true;
            }
            if CURL_VALUED.contains(c) {
                let attached = &t[j + 1..];
                let value = if attached.is_empty() {
                    i += 1;
                    args.get(i - 1).map(|w| w.text.as_str())
                } else {
                    Some(attached)
                };
                if c == 'X' && !value.is_some_and(read_method) {
                    return true;
                }
                break;
            }
        }
    }
    false
}

fn wget_sends(args: &[Word]) -> bool {
    let mut i = 0;
    while let Some(w) = args.get(i) {
        i += 1;
        let t = w.text.as_str();
        if !w.is_static() && w.may_be_option() {
            return true;
        }
        let name = long_name(t);
        if name.starts_with("--post-") || name.starts_with("--body-") {
            return true;
        }
        if matches!(name, "-e" | "--execute") || (t.starts_with("-e") && !t.starts_with("--")) {
            return true;
        }
        if name == "--method" {
            let method = match t.split_once('=') {
                Some((_, m)) => Some(m),
                None => {
                    i += 1;
                    args.get(i - 1).map(|w| w.text.as_str())
                }
            };
            if !method.is_some_and(read_method) {
                return true;
            }
        }
    }
    false
}

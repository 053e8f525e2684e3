//! Which `git` commands only read.

use super::{git_subcommand_index, long_name};
use crate::shell::Word;

/// `git` subcommands that only read (some with their options checked, see [`git_reads`]).
pub(crate) const READ_ONLY_GIT: [&str; 24] = [
    "status",
    "log",
    "diff",
    "show",
    "blame",
    "branch",
    "tag",
    "remote",
    "rev-parse",
    "ls-files",
    "ls-tree",
    "cat-file",
    "describe",
    "rev-list",
    "merge-base",
    "name-rev",
    "for-each-ref",
    "count-objects",
    "show-ref",
    "shortlog",
    "grep",
    "stash",
    "worktree",
    "config",
];

pub(super) fn git_reads(args: &[Word]) -> bool {
    let Some(i) = git_subcommand_index(args) else {
        return false;
    };
    // Config overrides can name programs to run (core.pager, core.fsmonitor, diff.external, …).
    if args[..i].iter().any(|a| {
        a.text == "-c" || a.text.starts_with("--config-env") || a.text.starts_with("--exec-path=")
    }) {
        return false;
    }
    let Some(sub) = args.get(i) else {
        return true;
    };
    let rest = &args[i + 1..];
    if !sub.is_static()
        || !READ_ONLY_GIT.contains(&sub.text.as_str())
        || rest.iter().any(|a| !a.is_static() && a.may_be_option())
    {
        return false;
    }
    let first = rest.first().map(|w| w.text.as_str());
    let any = |names: &[&str]| rest.iter().any(|w| names.contains(&long_name(&w.text)));
    match sub.text.as_str() {
        "status" | "blame" | "rev-parse" | "ls-files" | "ls-tree" | "cat-file" | "describe"
        | "rev-list" | "merge-base" | "name-rev" | "for-each-ref" | "count-objects"
        | "show-ref" => true,
        "log" | "show" | "diff" | "shortlog" => !any(&["--output", "--ext-diff"]),
        "grep" => !rest
            .iter()
            .any(|w| w.text.starts_with("-O") || long_name(&w.text) == "--open-files-in-pager"),
        "branch" => lists_only(rest, BRANCH_LISTING),
        "tag" => lists_only(rest, TAG_LISTING),
        "remote" => {
            first == Some("get-url")
                || rest
                    .iter()
                    .all(|w| matches!(w.text.as_str(), "-v" | "--verbose"))
        }
        "stash" => matches!(first, Some("list" | "show")),
        "worktree" => first == Some("list"),
        "config" => {
            let reads = matches!(first, Some("get" | "list"))
                || any(&[
                    "--get",
                    "--get-all",
                    "--get-regexp",
                    "--get-urlmatch",
                    "--get-color",
                    "--get-colorbool",
                    "-l",
                    "--list",
                ]);
            let writes = any(&[
                "--add",
                "--unset",
                "--unset-all",
                "--replace-all",
                "--edit",
                "-e",
                "--rename-section",
                "--remove-section",
            ]);
            reads && !writes
        }
        _ => false,
    }
}

/// Flags of `git branch`/`git tag` that list, the ones among them taking a value, and the flag
/// that makes operands patterns instead of names to create.
struct Listing {
    flags: &'static [&'static str],
    valued: &'static [&'static str],
}

const BRANCH_LISTING: Listing = Listing {
    flags: &[
        "-a",
        "--all",
        "-r",
        "--remotes",
        "-v",
        "-vv",
        "--verbose",
        "--show-current",
        "--color",
        "--no-color",
        "--column",
        "--no-column",
        "-i",
        "--ignore-case",
        "--abbrev",
        "--no-abbrev",
        "-q",
        "--quiet",
        "--sort",
        "--format",
        "--contains",
        "--no-contains",
        "--merged",
        "--no-merged",
        "--points-at",
        "-l",
        "--list",
    ],
    valued: &[
        "--contains",
        "--no-contains",
        "--merged",
        "--no-merged",
        "--points-at",
        "--sort",
        "--format",
    ],
};

const TAG_LISTING: Listing = Listing {
    flags: &[
        "-n",
        "--color",
        "--no-color",
        "--column",
        "--no-column",
        "-i",
        "--ignore-case",
        "--sort",
        "--format",
        "--contains",
        "--no-contains",
        "--merged",
        "--no-merged",
        "--points-at",
        "-l",
        "--list",
    ],
    valued: &[
        "--contains",
        "--no-contains",
        "--merged",
        "--no-merged",
        "--points-at",
        "--sort",
        "--format",
    ],
};

fn lists_only(rest: &[Word], listing: Listing) -> bool {
    let list_mode = rest
        .iter()
        .any(|w| matches!(w.text.as_str(), "-l" | "--list"));
    let mut i = 0;
    while let Some(w) = rest.get(i) {
        let t = w.text.as_str();
        i += 1;
        if listing.valued.contains(&t) {
            i += 1;
        } else if t.starts_with('-') {
            let numbered = t.starts_with("-n") && t[2..].chars().all(|c| c.is_ascii_digit());
            if !listing.flags.contains(&long_name(t)) && !numbered {
                return false;
            }
        } else if !list_mode {
            return false;
        }
    }
    true
}

//! The permission policy: modes, `tool(argument-glob)` rules, and the engine that decides every
//! tool call of a run.
//!
//! Pure: no IO, no clock, no processes. [`Rule`]s are parsed (and their patterns checked) when a
//! task file loads; a [`Policy`] is compiled once per run into a [`CompiledPolicy`], whose
//! [`decide`](CompiledPolicy::decide) answers each [`Call`] with a [`Decision`]: a [`Verdict`]
//! (`allow`, `ask`, `deny`) and a [`Reason`] naming the rule or the mode default that decided,
//! for the transcript.
//!
//! ```
//! use std::path::PathBuf;
//! use tend_policy::{Call, Mode, PathContext, Policy, Tool, Verdict};
//!
//! let mut policy = Policy::new(Mode::Propose);
//! policy.deny.push("bash(rm -rf *)".parse()?);
//! policy.ask.push("edit(.github/**)".parse()?);
//! let paths = PathContext { root: PathBuf::from("/repo"), home: Some(PathBuf::from("/home/u")) };
//! let compiled = policy.compile(&paths)?;
//!
//! let decision = compiled.decide(&Call::bash("cargo test && timeout 9 rm -rf target"));
//! assert_eq!(decision.verdict, Verdict::Deny);
//! assert_eq!(
//!     decision.reason.to_string(),
//!     "rule `bash(rm -rf *)` in the deny list matches (`rm -rf target`)"
//! );
//! assert_eq!(compiled.decide(&Call::bash("git push")).verdict, Verdict::Ask);
//! let edit = Call::builtin(Tool::Edit, ".github/workflows/ci.yml");
//! assert_eq!(compiled.decide(&edit).verdict, Verdict::Ask);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Order
//! Deny rules first (any match denies: deny always wins), then ask rules, then allow rules,
//! then the mode's default. An allow rule is still capped by the mode (see below).
//!
//! A shell command string is split into every simple command it would run (see [`shell`]): the
//! whole is denied if any command is denied, else asked if any is asked, else allowed. Rules
//! are matched against each command as written and against the command under its wrappers
//! (`timeout 5 rm -rf x` is also matched as `rm -rf x`). Deny and ask rules also see
//! normalised forms (`/bin/rm` as `rm`, `git -C dir push` as `git push`, `cargo +nightly
//! publish` as `cargo publish`, the command under `sudo` or under a `PATH=…` assignment); allow
//! rules do not, so an allow rule is never stretched to cover what it does not literally name.
//!
//! # Rules
//! - `bash(PATTERN)`: words split on blanks (quotes group them, `\` escapes); `*` matches any
//!   text, across words; a trailing ` *` also matches nothing, so `bash(cargo test *)` matches
//!   `cargo test` and `cargo test --all` but not `cargo testify`. Quoting in the command does
//!   not matter (`'git' "push"` is `git push`), but word boundaries do: `bash(echo a b)` does not
//!   match `echo "a b"`. Arguments `xargs` will append match only `*`. Deny rules match text,
//!   not meaning: `bash(rm -rf *)` does not catch `rm -fr x`; write `bash(rm *)` for that.
//! - `read(…)`, `write(…)`, `edit(…)`, `glob(…)`, `grep(…)`: path globs with `globset`: `*`
//!   stays in a directory, `**` crosses directories; `~/…` is the home directory, `/…`
//!   absolute, anything else relative to the workspace root; a pattern without `/` (`*.pem`,
//!   `.env`) matches that name in any directory, as in `.gitignore`; a trailing `/` means the
//!   directory's contents. A `read` rule also covers `glob` and `grep` (the directory they
//!   search), an `edit` rule also covers `write`.
//! - `mcp__server__tool`, `mcp__server__*`, optionally with a pattern over the tool's compact
//!   JSON input in which `*` matches any text: `mcp__linear__create_issue(*"team":"ENG"*)`.
//! - A bare tool name (`bash`, `read`) matches every call of that tool.
//!
//! # Mode defaults
//! What a mode does when no rule matches, and (in brackets) the most an allow rule can get:
//!
//! | class                                         | read-only      | propose        | auto        |
//! |-----------------------------------------------|----------------|----------------|-------------|
//! | `read`, `glob`, `grep`                        | allow          | allow          | allow       |
//! | `write`, `edit`                               | deny \[deny\]  | allow          | allow       |
//! | read-only shell command                       | allow          | allow          | allow       |
//! | other shell command (sandboxed)               | deny           | allow          | allow       |
//! | publishing shell command                      | deny \[ask\]   | ask \[ask\]    | ask         |
//! | privileged or escaping command (`sudo`, `at`) | deny           | deny           | deny        |
//! | shell command that cannot be analysed         | ask \[ask\]    | ask \[ask\]    | ask \[ask\] |
//! | MCP tool                                      | deny           | ask            | ask         |
//!
//! So `auto` grants exactly what allow rules name on top of `propose`: a `propose` run asks
//! before every push or publish even when an allow rule names it, an `auto` run does not.
//! Nothing the analyser cannot follow is ever allowed.
//!
//! ## Read-only shell commands
//! Conservative: a command counts only with no output redirection to a file (`/dev/null`
//! aside), no variable outside a short safe list (`LANG`, `LC_*`, `TZ`, `NO_COLOR`, `RUST_LOG`,
//! …), a bare program name (not `./ls`), and arguments that are not run-time values that could
//! be options. Programs: `ls`, `cat`, `head`, `tail`, `wc`, `pwd`, `echo`, `which`, `whereis`,
//! `type`, `stat`, `cut`, `tr`, `jq`, `basename`, `dirname`, `realpath`, `readlink`, `true`,
//! `false`, `test`, `[`, `[[`, `du`, `df`, `nl`, `tac`, `rev`, `fold`, `paste`, `join`,
//! `expand`, `unexpand`, `comm`, `cmp`, `diff`, `od`, `hexdump`, `strings`, `md5sum`,
//! `sha1sum`, `sha256sum`, `sha512sum`, `b2sum`, `cksum`, `base64`, `id`, `whoami`, `uname`,
//! `printenv`, `seq`, `expr`, `nproc`, `locale`, `arch`, `groups`, `sleep`, `:`, `cd`, `grep`,
//! `egrep`, `fgrep`, `column`, `for` headers, arithmetic on numbers, `env`/`xargs` without a
//! command, `command -v`; and with their writing or executing options refused: `find` (no
//! `-exec`, `-execdir`, `-ok`, `-okdir`, `-delete`, `-fprint*`, `-fls`), `fd` (no `-x`/`-X`),
//! `rg` (no `--pre`, `--hostname-bin`), `sort` (no `-o`, `--compress-program`), `file` (no
//! `-C`), `tree` (no `-o`), `printf` (no `-v`), `uniq` (one operand), `date` (not setting),
//! `hostname` (not setting), `sed` (no `-i`, `-f`, and no `w`/`W`/`e` command or `s///w`/`s///e`
//! flag in the script), `read` (into lowercase variables only), `awk` (an inline program without
//! `system`, `|` or `>`, with only `-F`/`-v`), and `git`
//! `status`, `log`, `diff`, `show`, `shortlog` (no `--output`, `--ext-diff`), `blame`,
//! `rev-parse`, `ls-files`, `ls-tree`, `cat-file`, `describe`, `rev-list`, `merge-base`,
//! `name-rev`, `for-each-ref`, `count-objects`, `show-ref`, `grep` (no `-O`), `branch`/`tag`
//! (listing only), `remote` (`-v`, `get-url`), `stash` (`list`, `show`), `worktree`
//! (`list`), `config` (get/list only), all without `-c`/`--config-env`/`--exec-path=`. Wrappers around them
//! (`timeout`, `nice`, `env`, …) and scripts of `bash -c`/`eval` made only of them count too.
//!
//! ## Publishing shell commands
//! `git push`, `git send-email`; `gh` except listing/viewing/searching (`list`, `view`,
//! `status`, `diff`, `checks`, `watch`, `download`, `clone`, `checkout`, `search`, `auth
//! status`) and `gh api` without fields or with `-X GET`; `npm`/`pnpm`/`yarn`/`bun` `publish`,
//! `unpublish`, `deprecate`, `dist-tag`, `owner`, `access`; `cargo publish`, `yank`, `owner`,
//! `login`; `twine upload`; `poetry`/`uv`/`flit`/`hatch`/`pdm publish`; `gem push|yank|owner`;
//! `docker`/`podman`/`buildah`/`helm push`; `mvn deploy`; `gradle publish*`; `dotnet nuget
//! push`; `curl` sending data (`-d`, `--data*`, `-F`, `--form*`, `--json`, `-T`,
//! `--upload-file`, `-K`, `--mail-rcpt`, or a method other than GET/HEAD); `wget --post-*`,
//! `--body-*`, `-e`, or `--method` other than GET/HEAD; `ssh`, `sftp`, `ftp`, `telnet`, `nc`;
//! `scp`/`rsync` with a `host:path` operand; redirections to `/dev/tcp/…` and `/dev/udp/…`; and
//! any of these whose subcommand is only known at run time. Sandboxed runs have no network unless `sandbox.network` opens some; this list
//! makes a human confirm the usual ways out even then.
//!
//! ## Privileged and escaping commands
//! `sudo`, `doas`, `su`, `pkexec`, `run0` (other privileges), and `systemd-run`, `at`, `batch`,
//! `crontab` (they run a command outside the run's sandbox and lifetime): denied by default in
//! every mode. Allow rules see only the command as written (`bash(sudo apt install *)`), never
//! the command under `sudo`, so `bash(apt install *)` does not allow `sudo apt install`.
//!
//! # What a command really runs
//! [`decide_with`](CompiledPolicy::decide_with) takes a [`ShellContext`] that looks up what the
//! text alone does not show ([`decide`](CompiledPolicy::decide) uses [`NoContext`], which looks
//! up nothing, so all of these are unknown and asked):
//! - git aliases are the commands they stand for: from `-c alias.X=…`, `--config-env`,
//!   `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n` and `GIT_CONFIG_PARAMETERS`
//!   (also exported by an earlier command of the same call), and from git's configuration
//!   files (`git config --get`, includes too); a `!…` alias is analysed as the shell command
//!   it runs; an alias that cannot be looked up is unknown. Writing an alias (`git config
//!   alias.pp push`, `--add`, `set`, `--file F`) is judged as the command it defines, and a
//!   command-valued setting (`core.sshCommand`, `core.pager`, …) as that command. The shell
//!   commands git subcommands run are analysed too (`rebase -x`, `submodule foreach`, `bisect
//!   run`, `filter-branch --*-filter`, `difftool -x`, `fetch`/`clone --upload-pack`), and
//!   command-valued settings by name (`remote.X.uploadpack`, `filter.X.smudge`, …).
//! - git's publishing plumbing counts as `git push` (`send-pack`, `http-push`, `git-push` and
//!   other dashed programs from git's exec path).
//! - A program or subcommand fed from input (`xargs -I% git %`, `xargs git`, `parallel git {}`,
//!   `find -exec {} …`) is only known at run time: asked wherever a deny or ask rule could
//!   match it once filled in.
//! - A script run by a shell (`bash FILE`, `sh FILE`, `. FILE`, `source FILE`, `sh < FILE`) or
//!   by its path (`./FILE` with a shell `#!` line or none) is read and analysed (nested up to
//!   8 deep; deeper makes the call unanalysable): what it shows is judged as if typed, what
//!   its text hides (a program in a variable, arithmetic on variables) stays opaque, as the
//!   whole file used to be. One that cannot be read, does not exist yet, or may be written or
//!   moved by an earlier command of the same call (anything not read-only, or a `cd`) is
//!   unknown, in a script file too.
//! - A program given by its path that links to or copies a known program is that program
//!   (`./gg push` with `gg` a copy of git is `git push`); so is a bare name that a `PATH` set
//!   by the call leads to a folder of the run's (`PATH=bin:$PATH gg push`), and a `PATH` with
//!   a folder only known at run time (`$PWD`) makes a bare name unknown.
//!
//! # Limits
//! The analyser sees what the agent types, not what programs do: `python3 -c`, `perl -e`,
//! `node -e`, awk's `system()`, `make`, `cargo test` (build scripts), `npm run`, and any other
//! interpreter or build tool run code it cannot see; they are judged as the mode says for any
//! command. Deny and ask rules are a guard against typed commands; the sandbox is the boundary.

mod call;
mod classify;
mod context;
mod decision;
mod engine;
mod mode;
mod pattern;
mod rule;
pub mod shell;

pub use call::Call;
pub use context::{ConfigLookup, FileLookup, GitScope, NoContext, ShellContext};
pub use decision::{Class, Decision, PartDecision, Reason, Verdict};
pub use engine::{CompileError, CompiledPolicy, PathContext, Policy};
pub use mode::Mode;
pub use rule::{Rule, RuleError, RuleList, Tool, ToolSelector};

pub(crate) use classify::safe_env;

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn modes_round_trip() {
        for m in Mode::ALL {
            assert_eq!(m.as_str().parse::<Mode>().unwrap(), m);
        }
        assert!("readonly".parse::<Mode>().is_err());
    }

    /// The documented lists stay in step with the code.
    #[test]
    fn docs_name_every_read_only_program_and_publisher() {
        let docs: String = include_str!("lib.rs")
            .lines()
            .filter_map(|l| l.strip_prefix("//!"))
            .collect::<Vec<_>>()
            .join(" ");
        for program in classify::READ_ONLY_PROGRAMS {
            let described = docs.contains(&format!("`{program}`"))
                || matches!(program, "for" | "env" | "xargs");
            assert!(described, "{program}");
        }
        for sub in classify::READ_ONLY_GIT {
            assert!(docs.contains(&format!("`{sub}`")), "git {sub}");
        }
        for entry in classify::PUBLISHING {
            let first = entry.split([' ', '|']).next().unwrap_or_default();
            assert!(docs.contains(first), "{entry}");
        }
    }
}

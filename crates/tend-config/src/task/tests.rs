use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pretty_assertions::assert_eq;
use tend_policy::{Mode, Rule};

use super::*;
use crate::error::render_errors;
use crate::names::Domain;
use crate::units::{Money, Size};
use crate::zone::ZoneName;

const PATH: &str = ".tend/tasks/triage.md";

/// DESIGN.md's example task file, verbatim.
pub(crate) const DESIGN_EXAMPLE: &str = r#"+++
description = "Triage new errors in the API log"
schedule = "0 */4 * * *"      # or "every 30m", "at 2026-12-01 09:00", "@daily", "manual"
timezone = "Europe/Berlin"    # default: the machine's zone
engine = "builtin"
model = "anthropic:claude-sonnet-4-5"
mode = "propose"              # read-only | propose | auto
timeout = "20m"
max_turns = 60
budget_usd = 1.50
catch_up = "latest"           # none | latest | all
overlap = "skip"              # skip | queue | replace

[[input]]
log = "/var/log/api/*.log"    # only what is new since the last successful run
max_bytes = "200KB"

[when]
inputs_changed = true         # no new input: the slot is `skipped`, the model is never called

[permissions]
allow = ["bash(cargo test *)"]
ask   = ["bash(git push *)", "mcp__linear__create_issue"]
deny  = ["bash(rm -rf *)"]

[sandbox]
network = ["crates.io", "static.crates.io"]   # default: no network at all

[mcp.servers.linear]
url = "https://mcp.linear.app/mcp"

[notify]
on = ["proposal", "approval", "failure"]
+++
Group the recurring errors in the new log lines. For the most frequent one that you can trace
to this repository, write a failing test, fix it, and report. If nothing is actionable, say so.
"#;

fn parse(text: &str) -> Result<TaskFile, Vec<crate::TaskFileError>> {
    TaskFile::parse(Path::new(PATH), text, Scope::User)
}

fn errors(text: &str) -> String {
    match parse(text) {
        Ok(t) => panic!("expected errors, got {t:#?}"),
        Err(e) => render_errors(&e),
    }
}

fn rule(text: &str) -> Rule {
    text.parse().unwrap()
}

fn schedule(text: &str) -> Schedule {
    Schedule::parse(text).unwrap()
}

#[test]
fn design_example_parses_into_the_expected_definition() {
    let task = TaskFile::parse(
        Path::new("/repo/.tend/tasks/triage.md"),
        DESIGN_EXAMPLE,
        Scope::Project {
            root: PathBuf::from("/repo"),
        },
    )
    .unwrap();
    let mut def = TaskDef::new(schedule("0 */4 * * *"));
    def.description = Some("Triage new errors in the API log".into());
    def.timezone = Some(ZoneName::lookup("Europe/Berlin").unwrap());
    def.engine = Engine::Builtin;
    def.model = Some(ModelRef {
        provider: Provider::Anthropic,
        model: "claude-sonnet-4-5".into(),
    });
    def.mode = Some(Mode::Propose);
    def.timeout = Some(Duration::from_secs(20 * 60));
    def.max_turns = Some(60);
    def.budget_usd = Some(Money::from_micros(1_500_000));
    def.catch_up = Some(CatchUp::Latest);
    def.overlap = Some(Overlap::Skip);
    def.inputs = vec![Input {
        name: None,
        source: InputSource::Log {
            glob: "/var/log/api/*.log".into(),
        },
        max_bytes: Size(200_000),
    }];
    def.when = When {
        inputs_changed: true,
        check: None,
    };
    def.permissions = Permissions {
        allow: vec![rule("bash(cargo test *)")],
        ask: vec![rule("bash(git push *)"), rule("mcp__linear__create_issue")],
        deny: vec![rule("bash(rm -rf *)")],
    };
    def.sandbox = Sandbox {
        mode: SandboxMode::Auto,
        network: vec![
            "crates.io".parse::<Domain>().unwrap(),
            "static.crates.io".parse::<Domain>().unwrap(),
        ],
        deny_read: vec![],
        allow_write: vec![],
        max_disk: DEFAULT_MAX_DISK,
    };
    def.mcp = BTreeMap::from([(
        "linear".to_owned(),
        McpServer {
            transport: McpTransport::Http {
                url: "https://mcp.linear.app/mcp".into(),
                headers: BTreeMap::new(),
                bearer_token_env: None,
            },
            startup_timeout: None,
            call_timeout: None,
            enabled: true,
        },
    )]);
    def.notify = Notify {
        on: vec![NotifyOn::Proposal, NotifyOn::Approval, NotifyOn::Failure],
        channels: vec![],
    };
    let expected = TaskFile {
        path: PathBuf::from("/repo/.tend/tasks/triage.md"),
        name: "triage".into(),
        scope: Scope::Project {
            root: PathBuf::from("/repo"),
        },
        def,
        prompt: "Group the recurring errors in the new log lines. For the most frequent one that you can trace\nto this repository, write a failing test, fix it, and report. If nothing is actionable, say so.".into(),
    };
    assert_eq!(task, expected);
}

#[test]
fn every_other_key_parses() {
    let text = r#"+++
schedule = "every 30m"
anchor = "2026-01-01 09:15"
jitter = "5m"
engine = "command"
command = "./scripts/nightly.sh"
catch_up_window = "2d"
retry_interrupted = true
approval_timeout = "8h"
output = "reports/{task}-{date}.md"
open_pr = true
enabled = false
sandbox = "off"

[[input]]
name = "open prs"
command = "gh pr list"
timeout = "30s"
max_bytes = 4096

[[input]]
file = "TODO.md"
max_bytes = "1.5MiB"

[when]
check = "test -f .needs-run"

[mcp.servers.files]
command = "npx"
args = ["-y", "@modelcontextprotocol/server-filesystem", "."]
env = { DEBUG = "1" }
cwd = "tools"
startup_timeout = "10s"
call_timeout = "1m"
enabled = false

[mcp.servers.remote]
url = "https://example.com/mcp"
headers = { "X-Team" = "core" }
bearer_token_env = "REMOTE_TOKEN"

[notify]
on = ["success"]
channels = ["desk"]
+++
"#;
    let task = parse(text).unwrap();
    let mut def = TaskDef::new(schedule("every 30m"));
    def.anchor = Some(Anchor::Local(jiff::civil::datetime(
        2026, 1, 1, 9, 15, 0, 0,
    )));
    def.jitter = Some(Duration::from_secs(300));
    def.engine = Engine::Command;
    def.command = Some("./scripts/nightly.sh".into());
    def.catch_up_window = Duration::from_secs(2 * 86_400);
    def.retry_interrupted = true;
    def.approval_timeout = Some(Duration::from_secs(8 * 3600));
    def.output = Some("reports/{task}-{date}.md".parse().unwrap());
    def.open_pr = true;
    def.enabled = false;
    def.sandbox = Sandbox {
        mode: SandboxMode::Off,
        ..Sandbox::default()
    };
    def.inputs = vec![
        Input {
            name: Some("open prs".into()),
            source: InputSource::Command {
                command: "gh pr list".into(),
                timeout: Some(Duration::from_secs(30)),
            },
            max_bytes: Size(4096),
        },
        Input {
            name: None,
            source: InputSource::File {
                path: "TODO.md".into(),
            },
            max_bytes: Size(1_572_864),
        },
    ];
    def.when = When {
        inputs_changed: false,
        check: Some("test -f .needs-run".into()),
    };
    def.mcp = BTreeMap::from([
        (
            "files".to_owned(),
            McpServer {
                transport: McpTransport::Stdio {
                    command: "npx".into(),
                    args: vec![
                        "-y".into(),
                        "@modelcontextprotocol/server-filesystem".into(),
                        ".".into(),
                    ],
                    env: BTreeMap::from([("DEBUG".to_owned(), "1".to_owned())]),
                    cwd: Some("tools".into()),
                },
                startup_timeout: Some(Duration::from_secs(10)),
                call_timeout: Some(Duration::from_secs(60)),
                enabled: false,
            },
        ),
        (
            "remote".to_owned(),
            McpServer {
                transport: McpTransport::Http {
                    url: "https://example.com/mcp".into(),
                    headers: BTreeMap::from([("X-Team".to_owned(), "core".to_owned())]),
                    bearer_token_env: Some("REMOTE_TOKEN".into()),
                },
                startup_timeout: None,
                call_timeout: None,
                enabled: true,
            },
        ),
    ]);
    def.notify = Notify {
        on: vec![NotifyOn::Success],
        channels: vec!["desk".into()],
    };
    assert_eq!(task.def, def);
    // engine = "command" may have no prompt.
    assert_eq!(task.prompt, "");
}

#[test]
fn sandbox_is_a_string_or_a_table() {
    let with = |sandbox: &str| {
        parse(&format!(
            "+++\nschedule = \"manual\"\n{sandbox}\n+++\nDo it.\n"
        ))
        .map(|t| t.def.sandbox)
    };
    assert_eq!(with("sandbox = \"auto\"").unwrap(), Sandbox::default());
    assert_eq!(with("sandbox = \"off\"").unwrap().mode, SandboxMode::Off);
    assert_eq!(
        with(
            "[sandbox]\nmode = \"off\"\ndeny_read = [\"~/secrets\"]\nallow_write = [\"/tmp/cache\"]"
        )
        .unwrap(),
        Sandbox {
            mode: SandboxMode::Off,
            network: vec![],
            deny_read: vec!["~/secrets".into()],
            allow_write: vec!["/tmp/cache".into()],
            max_disk: DEFAULT_MAX_DISK,
        }
    );
    assert_eq!(
        with("[sandbox]\nmax_disk = \"200MB\"").unwrap().max_disk,
        Size(200_000_000)
    );
    assert_eq!(
        with("[sandbox]\nmax_disk = 4096").unwrap().max_disk,
        Size(4096)
    );
    assert_eq!(
        render_errors(&with("[sandbox]\nmax_disk = \"lots\"").unwrap_err()),
        ".tend/tasks/triage.md:4:12: error: `lots` is not a size\n  hint: write sizes like `200KB`, `1.5MB`, `512KiB` or a number of bytes"
    );
    assert_eq!(
        render_errors(&with("[sandbox]\nmax_disk = \"2TB\"").unwrap_err()),
        ".tend/tasks/triage.md:4:14: error: unknown size unit `TB`\n  hint: units are B, KB, MB, GB (1000) and KiB, MiB, GiB (1024); write sizes like `200KB`, `1.5MB`, `512KiB` or a number of bytes"
    );
    assert_eq!(
        render_errors(&with("[sandbox]\nmax_disk = 0").unwrap_err()),
        ".tend/tasks/triage.md:4:12: error: `max_disk` must be more than zero\n  hint: it bounds what a run writes to its tmp and worktree; the default is `1GB`"
    );
    assert_eq!(
        render_errors(&with("sandbox = true").unwrap_err()),
        ".tend/tasks/triage.md:3:11: error: `sandbox` must be \"auto\", \"off\" or a `[sandbox]` table\n  hint: for example `[sandbox]` with `network = [\"crates.io\"]`"
    );
    assert_eq!(
        render_errors(&with("sandbox = \"of\"").unwrap_err()),
        ".tend/tasks/triage.md:3:11: error: unknown sandbox mode `of`\n  hint: did you mean `off`? Use one of: auto, off"
    );
}

/// (file text, the complete rendered errors). Positions count the `+++` line as line 1.
const ERROR_CASES: &[(&str, &str)] = &[
    (
        "schedule = \"manual\"\n",
        ".tend/tasks/triage.md:1:1: error: missing front matter: the file does not start with `+++`\n  hint: a task file starts with a line `+++`, then TOML settings, then another `+++` line, then the prompt",
    ),
    (
        "---\nschedule: manual\n---\nHi\n",
        ".tend/tasks/triage.md:1:1: error: task files use TOML front matter between `+++` lines, not YAML `---`\n  hint: a task file starts with a line `+++`, then TOML settings, then another `+++` line, then the prompt",
    ),
    (
        "+++\nschedule = \"manual\"\nHi\n",
        ".tend/tasks/triage.md:1:1: error: the front matter is never closed\n  hint: add a line `+++` after the settings; the prompt follows it",
    ),
    (
        "+++\nschedule = \"manual\"\n+++\n\n   \n",
        ".tend/tasks/triage.md:4:1: error: the task has no prompt\n  hint: write the instructions for the agent after the closing `+++`",
    ),
    (
        "+++\nschedule = \"manual\"\nmode = = \"auto\"\n+++\nHi\n",
        ".tend/tasks/triage.md:3:8: error: invalid TOML: extra `=`, expected nothing",
    ),
    (
        "+++\nschedule = \"manual\"\nschedule = \"@daily\"\n+++\nHi\n",
        ".tend/tasks/triage.md:3:1: error: invalid TOML: duplicate key",
    ),
    (
        "+++\ndescription = \"x\"\n+++\nHi\n",
        ".tend/tasks/triage.md:2:1: error: missing `schedule`\n  hint: add a schedule such as `schedule = \"0 9 * * 1-5\"` (cron), `\"every 30m\"`, `\"@daily\"`, `\"at 2026-12-01 09:00\"` or `\"manual\"`",
    ),
    (
        "+++\nschedule = \"manual\"\ntiemout = \"20m\"\n+++\nHi\n",
        ".tend/tasks/triage.md:3:1: error: unknown key `tiemout`\n  hint: did you mean `timeout`?",
    ),
    (
        "+++\nschedule = \"manual\"\n[when]\ninputs_chnaged = true\n+++\nHi\n",
        ".tend/tasks/triage.md:4:1: error: unknown key `inputs_chnaged` in `[when]`\n  hint: did you mean `inputs_changed`?",
    ),
    (
        "+++\nschedule = \"manual\"\nfrobnicate = 1\n+++\nHi\n",
        ".tend/tasks/triage.md:3:1: error: unknown key `frobnicate`\n  hint: known keys here: `description`, `schedule`, `timezone`, `anchor`, `jitter`, `engine`, `command`, `model`, `mode`, `timeout`, `max_turns`, `budget_usd`, `catch_up`, `catch_up_window`, `overlap`, `retry_interrupted`, `approval_timeout`, `output`, `open_pr`, `enabled`, `input`, `when`, `permissions`, `sandbox`, `mcp`, `notify`",
    ),
    (
        "+++\nschedule = \"manual\"\ntimezone = \"Europe/Berln\"\n+++\nHi\n",
        ".tend/tasks/triage.md:3:12: error: unknown time zone `Europe/Berln`\n  hint: did you mean `Europe/Berlin`? Time zones are IANA names like `Europe/Berlin` or `UTC`",
    ),
    (
        "+++\nschedule = \"manual\"\nengine = \"claud\"\n+++\nHi\n",
        ".tend/tasks/triage.md:3:10: error: unknown engine `claud`\n  hint: did you mean `claude`? Use one of: builtin, claude, codex, goose, command",
    ),
    (
        "+++\nschedule = \"manual\"\nmode = \"readonly\"\n+++\nHi\n",
        ".tend/tasks/triage.md:3:8: error: unknown mode `readonly`\n  hint: did you mean `read-only`? Use one of: read-only, propose, auto",
    ),
    (
        "+++\nschedule = \"manual\"\ntimeout = 20\n+++\nHi\n",
        ".tend/tasks/triage.md:3:11: error: `timeout` must be a string, not an integer\n  hint: write durations as strings with a unit: `timeout = \"20m\"`",
    ),
    (
        "+++\nschedule = \"manual\"\ntimeout = \"20x\"\n+++\nHi\n",
        ".tend/tasks/triage.md:3:14: error: unknown unit `x` in duration `20x`\n  hint: units are ms, s, m, h, d and w, or words: `90s`, `20m`, `1h30m`, `2 hours`, `1h 30min`, `7d`",
    ),
    (
        "+++\nschedule = \"manual\"\ntimeout = \"0s\"\n+++\nHi\n",
        ".tend/tasks/triage.md:3:11: error: `timeout` must be longer than zero",
    ),
    (
        "+++\nschedule = \"manual\"\nmax_turns = 0\n+++\nHi\n",
        ".tend/tasks/triage.md:3:13: error: `max_turns` must be an integer from 1 to 1000, not 0",
    ),
    (
        "+++\nschedule = \"manual\"\nmax_turns = \"60\"\n+++\nHi\n",
        ".tend/tasks/triage.md:3:13: error: `max_turns` must be an integer from 1 to 1000, not a string",
    ),
    (
        "+++\nschedule = \"manual\"\nbudget_usd = -1.5\n+++\nHi\n",
        ".tend/tasks/triage.md:3:14: error: amount `-1.5` is negative\n  hint: write amounts in US dollars like `1.50` or `\"$1.50\"`",
    ),
    (
        "+++\nschedule = \"manual\"\nbudget_usd = \"1.50 USD\"\n+++\nHi\n",
        ".tend/tasks/triage.md:3:14: error: `1.50 USD` is not an amount of money\n  hint: write amounts in US dollars like `1.50` or `\"$1.50\"`",
    ),
    (
        "+++\nschedule = \"manual\"\nenabled = \"yes\"\n+++\nHi\n",
        ".tend/tasks/triage.md:3:11: error: `enabled` must be a boolean (`true` or `false`), not a string",
    ),
    (
        "+++\nschedule = \"manual\"\nopen_pr = \"true\"\n+++\nHi\n",
        ".tend/tasks/triage.md:3:11: error: `open_pr` must be a boolean, not a string\n  hint: remove the quotes: `open_pr = true`",
    ),
    (
        "+++\nschedule = \"manual\"\nmodel = \"claude-sonnet-4-5\"\n+++\nHi\n",
        ".tend/tasks/triage.md:3:9: error: model `claude-sonnet-4-5` does not name its provider\n  hint: name models as `provider:model`, like `anthropic:claude-sonnet-4-5`; providers are anthropic, openai, replay",
    ),
    (
        "+++\nschedule = \"manual\"\nmodel = \"antropic:claude\"\n+++\nHi\n",
        ".tend/tasks/triage.md:3:9: error: unknown provider `antropic`\n  hint: did you mean `anthropic`? Use one of: anthropic, openai, replay",
    ),
    (
        "+++\nschedule = \"manual\"\nengine = \"command\"\n+++\n",
        ".tend/tasks/triage.md:3:10: error: `engine = \"command\"` needs a `command` to run\n  hint: add `command = \"./scripts/nightly.sh\"`",
    ),
    (
        "+++\nschedule = \"manual\"\ncommand = \"make\"\n+++\nHi\n",
        ".tend/tasks/triage.md:3:1: error: `command` is only for `engine = \"command\"`, but the engine is `builtin`\n  hint: set `engine = \"command\"` to run a plain shell command, or remove `command`",
    ),
    (
        "+++\nschedule = \"manual\"\noutput = \"reports/{dat}.md\"\n+++\nHi\n",
        ".tend/tasks/triage.md:3:19: error: unknown placeholder `{dat}`\n  hint: did you mean `{date}`? placeholders are {date}, {time}, {task} and {run}: `reports/{task}-{date}.md`",
    ),
    (
        "+++\nschedule = \"manual\"\noutput = \"/srv/reports/{date}.md\"\n+++\nHi\n",
        ".tend/tasks/triage.md:3:10: error: `/srv/reports/{date}.md` is outside the repository and tend's outputs folder\n  hint: write a relative path (`reports/{date}.md`: on the run's branch, or in tend's outputs folder for a read-only run), or open the folder with `[sandbox] allow_write = [\"…\"]`",
    ),
    (
        "+++\nschedule = \"manual\"\n[[input]]\nlog = \"a.log\"\nmax_bytes = \"200XB\"\n+++\nHi\n",
        ".tend/tasks/triage.md:5:17: error: unknown size unit `XB`\n  hint: units are B, KB, MB, GB (1000) and KiB, MiB, GiB (1024); write sizes like `200KB`, `1.5MB`, `512KiB` or a number of bytes",
    ),
    (
        "+++\nschedule = \"manual\"\n[[input]]\nlog = \"a.log\"\nmax_bytes = 0\n+++\nHi\n",
        ".tend/tasks/triage.md:5:13: error: `max_bytes` must be more than zero\n  hint: an input of zero bytes never says anything; remove the input instead",
    ),
    (
        "+++\nschedule = \"manual\"\n[[input]]\nname = \"nothing\"\n+++\nHi\n",
        ".tend/tasks/triage.md:3:1: error: this input says neither `log`, `command` nor `file`\n  hint: an input is one of `log = \"/var/log/app/*.log\"`, `command = \"gh pr list\"` or `file = \"TODO.md\"`",
    ),
    (
        "+++\nschedule = \"manual\"\n[[input]]\nlog = \"a.log\"\nfile = \"b.txt\"\n+++\nHi\n",
        ".tend/tasks/triage.md:5:1: error: an input takes exactly one of `log`, `command` and `file`\n  hint: write a separate `[[input]]` for each source",
    ),
    (
        "+++\nschedule = \"manual\"\n[[input]]\nfile = \"b.txt\"\ntimeout = \"1m\"\n+++\nHi\n",
        ".tend/tasks/triage.md:5:1: error: `timeout` applies only to `command` inputs\n  hint: remove `timeout` from this input",
    ),
    (
        "+++\nschedule = \"manual\"\n[input]\nlog = \"a.log\"\n+++\nHi\n",
        ".tend/tasks/triage.md:3:1: error: `input` must be a list of inputs\n  hint: write each input as `[[input]]` (two brackets)",
    ),
    (
        "+++\nschedule = \"manual\"\n[when]\ninputs_changed = true\n+++\nHi\n",
        ".tend/tasks/triage.md:3:1: error: `inputs_changed = true` but the task has no `[[input]]`\n  hint: add an `[[input]]` (a log, a command or a file), or remove `inputs_changed`",
    ),
    (
        "+++\nschedule = \"manual\"\n[permissions]\nallow = [\"bash(cargo test *)\", \"shell(ls)\"]\n+++\nHi\n",
        ".tend/tasks/triage.md:4:33: error: unknown tool `shell` in rule `shell(ls)`\n  hint: rules name one of read, write, edit, glob, grep, bash, or mcp__<server>__<tool>",
    ),
    (
        "+++\nschedule = \"manual\"\n[permissions]\nallow = \"bash(ls)\"\n+++\nHi\n",
        ".tend/tasks/triage.md:4:9: error: `permissions.allow` must be an array, not a string",
    ),
    (
        "+++\nschedule = \"manual\"\n[sandbox]\nnetwork = [\"https://crates.io\"]\n+++\nHi\n",
        ".tend/tasks/triage.md:4:18: error: `https://crates.io` is a URL, not a domain name\n  hint: write domain names only, like `crates.io` or `*.github.com` (no scheme, port or path)",
    ),
    (
        "+++\nschedule = \"manual\"\n[mcp.servers.linear]\nurl = \"https://mcp.linear.app/mcp\"\ncommand = \"npx\"\n+++\nHi\n",
        ".tend/tasks/triage.md:4:1: error: an MCP server has either `command` (stdio) or `url` (HTTP), not both",
    ),
    (
        "+++\nschedule = \"manual\"\n[mcp.servers.linear]\nenabled = true\n+++\nHi\n",
        ".tend/tasks/triage.md:3:14: error: MCP server `mcp.servers.linear` needs a `command` or a `url`\n  hint: `command = \"npx\"` with `args = [...]` starts a local server; `url = \"https://…/mcp\"` connects to a remote one",
    ),
    (
        "+++\nschedule = \"manual\"\n[mcp.servers.linear]\nurl = \"https://mcp.linear.app/mcp\"\nheaders = { Authorization = \"Bearer sk-123\" }\n+++\nHi\n",
        ".tend/tasks/triage.md:5:13: error: secrets do not belong in task files: header `Authorization` has a literal value\n  hint: put the token in an environment variable and name it: `bearer_token_env = \"LINEAR_TOKEN\"`",
    ),
    (
        "+++\nschedule = \"manual\"\n[mcp.servers.linear]\ncommand = \"npx\"\nbearer_token_env = \"T\"\n+++\nHi\n",
        ".tend/tasks/triage.md:5:1: error: `bearer_token_env` applies only to servers reached by `url`",
    ),
    (
        "+++\nschedule = \"manual\"\n[mcp.servers.gh]\ncommand = \"gh-mcp\"\nenv = { GITHUB_TOKEN = \"ghp_123\" }\n+++\nHi\n",
        ".tend/tasks/triage.md:5:24: error: secrets do not belong in task or config files: `env.GITHUB_TOKEN` has a literal value\n  hint: export it in tend's environment and refer to it: `GITHUB_TOKEN = \"${GITHUB_TOKEN}\"`",
    ),
    (
        "+++\nschedule = \"manual\"\n[mcp.servers.a__b]\ncommand = \"npx\"\n+++\nHi\n",
        ".tend/tasks/triage.md:3:14: error: `a__b` is not a valid MCP server name\n  hint: server names are letters, digits, `-` and `_` (no `__`): they appear in rules as `mcp__<server>__<tool>`",
    ),
    (
        "+++\nschedule = \"manual\"\n[notify]\non = [\"failure\", \"sucess\"]\n+++\nHi\n",
        ".tend/tasks/triage.md:4:18: error: unknown notification event `sucess`\n  hint: did you mean `success`? Use one of: proposal, approval, failure, success",
    ),
    (
        "+++\nschedule = \"every 1h\"\nanchor = \"tomorrow\"\n+++\nHi\n",
        ".tend/tasks/triage.md:3:10: error: `tomorrow` is not a date and time\n  hint: write a local time like `2026-01-01 09:00` or an instant like `2026-01-01T09:00:00Z`",
    ),
];

#[test]
fn schedule_errors_point_inside_the_string() {
    let cases = [
        "schedule = \"0 25 * * *\"",
        "schedule = 'every 30x'",
        "schedule = \"\"\"0 9 * * MON-FRX\"\"\"",
        "schedule = \"manaul\"",
        // An escape in the string: the column falls back to the opening quote.
        "schedule = \"0 25 * * *\\u0020\"",
    ];
    let rendered: Vec<String> = cases
        .iter()
        .map(|line| errors(&format!("+++\n{line}\n+++\nHi\n")))
        .collect();
    insta::assert_snapshot!(rendered.join("\n\n"));
}

#[test]
fn anchor_is_only_for_every_schedules() {
    assert_eq!(
        errors("+++\nschedule = \"@daily\"\nanchor = \"2026-01-01 09:00\"\n+++\nHi\n"),
        ".tend/tasks/triage.md:3:1: error: `anchor` sets the phase of an `every` schedule, but this schedule is `@daily`\n  hint: remove `anchor`, or use a schedule like `every 6h`"
    );
}

#[test]
fn an_absolute_output_path_needs_a_folder_the_sandbox_opens() {
    let text = "+++\nschedule = \"manual\"\noutput = \"/srv/reports/{date}.md\"\n[sandbox]\nallow_write = [\"/srv/reports\"]\n+++\nHi\n";
    let task = parse(text).unwrap();
    assert_eq!(
        task.def.output.map(|o| o.to_string()),
        Some("/srv/reports/{date}.md".to_owned())
    );
}

#[test]
fn error_table() {
    let actual: Vec<(&str, String)> = ERROR_CASES.iter().map(|(t, _)| (*t, errors(t))).collect();
    let expected: Vec<(&str, String)> = ERROR_CASES
        .iter()
        .map(|(t, e)| (*t, (*e).to_owned()))
        .collect();
    assert_eq!(actual, expected);
}

#[test]
fn all_bad_keys_of_a_file_are_reported_in_order() {
    let text = r#"+++
schedule = "manual"
timezone = "Mars/Base"
mode = "yolo"
max_turns = 5000
colour = "blue"

[sandbox]
network = ["crates.io", "bad domain"]
mode = "of"

[permissions]
deny = ["rm(*)"]
+++
Hi
"#;
    insta::assert_snapshot!(errors(text));
}

#[test]
fn name_must_be_branch_safe() {
    let e = TaskFile::parse(
        Path::new("tasks/Nightly Build.md"),
        "+++\nschedule = \"manual\"\n+++\nHi\n",
        Scope::User,
    )
    .unwrap_err();
    assert_eq!(
        render_errors(&e),
        "tasks/Nightly Build.md: error: `Nightly Build` is not a valid task name\n  hint: task names are lowercase letters, digits, `-` and `_` (at most 64), because they become part of the branch name `tend/<task>/<run-id>`; rename the file to `nightly-build.md`"
    );
    for good in ["triage", "ci-watch", "nightly_2", "7days"] {
        assert!(check_task_name(good).is_ok(), "{good}");
    }
    for bad in ["", "-x", "_x", "a.b", "a/b", "A", "a b", &"x".repeat(65)] {
        assert!(check_task_name(bad).is_err(), "{bad}");
    }
}

#[test]
fn positions_count_characters_and_the_fence_line() {
    // Multi-byte characters before the error move the byte offset but not the column.
    let text = "+++\ndescription = \"été\"; timezone = 1\nschedule = \"manual\"\n+++\nHi\n";
    assert!(errors(text).starts_with(".tend/tasks/triage.md:2:20: error: invalid TOML"));
    let text = "+++\ndescription = \"été\"\ntimezone = 1\nschedule = \"manual\"\n+++\nHi\n";
    assert_eq!(
        errors(text),
        ".tend/tasks/triage.md:3:12: error: `timezone` must be a string, not an integer"
    );
}

#[test]
fn discover_loads_good_files_beside_broken_ones() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write("b-task.md", "+++\nschedule = \"manual\"\n+++\nB\n");
    write("a-task.md", "+++\nschedule = \"@daily\"\n+++\nA\n");
    write("broken.md", "+++\nschedule = 5\n+++\nX\n");
    write("notes.txt", "not a task");
    std::fs::create_dir(dir.path().join("sub.md")).unwrap();
    let (tasks, errors) = discover(dir.path(), &Scope::User);
    let names: Vec<&str> = tasks.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["a-task", "b-task"]);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].path, dir.path().join("broken.md"));
    assert_eq!((errors[0].line, errors[0].col), (2, 12));

    let (tasks, errors) = discover(&dir.path().join("missing"), &Scope::User);
    assert!(tasks.is_empty() && errors.is_empty());
}

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pretty_assertions::assert_eq;
use tend_policy::Mode;

use super::*;
use crate::error::render_errors;
use crate::resolve::ResolvedTask;
use crate::task::{Engine, McpServer, McpTransport, Scope, TaskFile};
use crate::zone::MachineZone;

const PATH: &str = "config.toml";

fn parse(text: &str) -> Config {
    Config::parse(Path::new(PATH), text).unwrap()
}

fn errors(text: &str) -> String {
    render_errors(&Config::parse(Path::new(PATH), text).unwrap_err())
}

fn zone(name: &str) -> ZoneName {
    ZoneName::lookup(name).unwrap()
}

fn model(text: &str) -> ModelRef {
    text.parse().unwrap()
}

#[test]
fn full_config_parses() {
    let text = r#"
max_concurrent_runs = 4

[defaults]
model = "anthropic:claude-sonnet-4-5"
timezone = "Europe/Berlin"
mode = "read-only"
timeout = "30m"
max_turns = 40
budget_usd = 2
catch_up = "none"
overlap = "queue"
approval_timeout = "12h"

[providers.anthropic]
api_key_env = "ANTHROPIC_API_KEY"

[providers.openai]
base_url = "http://localhost:11434/v1/"

[prices."anthropic:claude-sonnet-4-5"]
input = 3.0
output = 15
cache_read = 0.30
cache_write = "$3.75"

[notify.channels.desk]
kind = "desktop"

[notify.channels.hook]
kind = "webhook"
url = "https://hooks.example.com/tend"

[notify.channels.slack]
kind = "webhook"
url = "${SLACK_WEBHOOK_URL}"
timeout = "5s"

[notify.channels.script]
kind = "command"
command = "notify-send tend"

[mcp.servers.github]
command = "github-mcp"
env = { GITHUB_TOKEN = "${GITHUB_TOKEN}" }

[mcp.servers.linear]
url = "https://mcp.linear.app/mcp"
headers = { Authorization = "Token ${LINEAR_KEY}" }

[ui]
port = 7777
"#;
    let expected = Config {
        max_concurrent_runs: Some(4),
        defaults: Defaults {
            model: Some(model("anthropic:claude-sonnet-4-5")),
            timezone: Some(zone("Europe/Berlin")),
            mode: Some(Mode::ReadOnly),
            timeout: Some(Duration::from_secs(1800)),
            max_turns: Some(40),
            budget_usd: Some(Money::from_micros(2_000_000)),
            catch_up: Some(CatchUp::None),
            overlap: Some(Overlap::Queue),
            approval_timeout: Some(Duration::from_secs(12 * 3600)),
        },
        providers: BTreeMap::from([
            (
                Provider::Anthropic,
                ProviderConfig {
                    base_url: None,
                    api_key_env: Some("ANTHROPIC_API_KEY".into()),
                },
            ),
            (
                Provider::OpenAi,
                ProviderConfig {
                    base_url: Some("http://localhost:11434/v1".into()),
                    api_key_env: None,
                },
            ),
        ]),
        prices: BTreeMap::from([(
            model("anthropic:claude-sonnet-4-5"),
            Price {
                input: Money::from_micros(3_000_000),
                output: Money::from_micros(15_000_000),
                cache_read: Some(Money::from_micros(300_000)),
                cache_write: Some(Money::from_micros(3_750_000)),
            },
        )]),
        channels: BTreeMap::from([
            ("desk".to_owned(), Channel::Desktop),
            (
                "hook".to_owned(),
                Channel::Webhook {
                    url: "https://hooks.example.com/tend".into(),
                    timeout: None,
                },
            ),
            (
                "script".to_owned(),
                Channel::Command {
                    command: "notify-send tend".into(),
                    timeout: None,
                },
            ),
            (
                "slack".to_owned(),
                Channel::Webhook {
                    url: "${SLACK_WEBHOOK_URL}".into(),
                    timeout: Some(Duration::from_secs(5)),
                },
            ),
        ]),
        mcp: BTreeMap::from([
            (
                "github".to_owned(),
                McpServer {
                    transport: McpTransport::Stdio {
                        command: "github-mcp".into(),
                        args: vec![],
                        env: BTreeMap::from([(
                            "GITHUB_TOKEN".to_owned(),
                            "${GITHUB_TOKEN}".to_owned(),
                        )]),
                        cwd: None,
                    },
                    startup_timeout: None,
                    call_timeout: None,
                    enabled: true,
                },
            ),
            (
                "linear".to_owned(),
                McpServer {
                    transport: McpTransport::Http {
                        url: "https://mcp.linear.app/mcp".into(),
                        headers: BTreeMap::from([(
                            "Authorization".to_owned(),
                            "Token ${LINEAR_KEY}".to_owned(),
                        )]),
                        bearer_token_env: None,
                    },
                    startup_timeout: None,
                    call_timeout: None,
                    enabled: true,
                },
            ),
        ]),
        ui: UiConfig {
            enabled: None,
            port: Some(7777),
        },
    };
    assert_eq!(parse(text), expected);
    assert!(expected.ui.enabled());
    assert_eq!(expected.max_concurrent_runs(), 4);
    assert_eq!(Config::default().max_concurrent_runs(), 2);
}

const ERROR_CASES: &[(&str, &str)] = &[
    (
        "[ui]\nport = 80\n",
        "config.toml:2:8: error: `ui.port` must be an integer from 1024 to 65535, not 80",
    ),
    (
        "[providers.anthropic]\napi_key = \"sk-ant-123\"\n",
        "config.toml:2:1: error: API keys do not belong in config files\n  hint: put the key in an environment variable and name it: `api_key_env = \"ANTHROPIC_API_KEY\"`",
    ),
    (
        "[providers.anthropic]\napi_key_env = \"sk-ant-123\"\n",
        "config.toml:2:15: error: `sk-ant-123` is not the name of an environment variable\n  hint: name the variable that holds the secret, like `LINEAR_TOKEN`; never the secret itself",
    ),
    (
        "[providers.gemini]\nbase_url = \"https://x\"\n",
        "config.toml:1:12: error: unknown key `gemini` in `[providers]`\n  hint: known keys here: `anthropic`, `openai`",
    ),
    (
        "max_concurent_runs = 3\n",
        "config.toml:1:1: error: unknown key `max_concurent_runs`\n  hint: did you mean `max_concurrent_runs`?",
    ),
    (
        "max_concurrent_runs = 0\n",
        "config.toml:1:23: error: `max_concurrent_runs` must be an integer from 1 to 64, not 0",
    ),
    (
        "[defaults]\ntimezone = \"Europe/Berln\"\n",
        "config.toml:2:12: error: unknown time zone `Europe/Berln`\n  hint: did you mean `Europe/Berlin`? Time zones are IANA names like `Europe/Berlin` or `UTC`",
    ),
    (
        "[defaults]\ncatch_up = \"lates\"\n",
        "config.toml:2:12: error: unknown catch-up policy `lates`\n  hint: did you mean `latest`? Use one of: none, latest, all",
    ),
    (
        "[prices.\"claude\"]\ninput = 3\noutput = 15\n",
        "config.toml:1:9: error: model `claude` does not name its provider\n  hint: name models as `provider:model`, like `anthropic:claude-sonnet-4-5`; providers are anthropic, openai, replay",
    ),
    (
        "[prices.\"openai:gpt-5\"]\ninput = 1.25\n",
        "config.toml:1:9: error: price for `prices.openai:gpt-5` has no `output`\n  hint: prices are USD per million tokens: `input = 3.0`, `output = 15.0`",
    ),
    (
        "[notify.channels.x]\nkind = \"email\"\n",
        "config.toml:2:8: error: unknown channel kind `email`\n  hint: use one of: desktop, webhook, command",
    ),
    (
        "[notify.channels.x]\nkind = \"webhook\"\n",
        "config.toml:2:8: error: a `webhook` channel needs `url`",
    ),
    (
        "[notify.channels.x]\nkind = \"webhook\"\nurl = \"https://hooks.slack.com/services/T0/B0/XYZ\"\n",
        "config.toml:3:7: error: this webhook URL holds its secret token; it does not belong in a config file\n  hint: export it in tend's environment and refer to it: `url = \"${SLACK_WEBHOOK_URL}\"`",
    ),
    (
        "[notify.channels.x]\nkind = \"webhook\"\nurl = \"hooks.example.com\"\n",
        "config.toml:3:7: error: `hooks.example.com` is not an http(s) URL\n  hint: write the whole URL, like `https://example.com/hook`, or take it from the environment: `url = \"${SLACK_WEBHOOK_URL}\"`",
    ),
    (
        "[notify.channels.x]\nkind = \"webhook\"\nurl = \"https://x/${bad-name}\"\n",
        "config.toml:3:20: error: `bad-name` is not the name of an environment variable\n  hint: name the variable that holds the secret, like `LINEAR_TOKEN`; never the secret itself",
    ),
    (
        "[notify.channels.x]\nkind = \"command\"\ncommand = \"x\"\ntimeout = \"0s\"\n",
        "config.toml:4:11: error: `notify.channels.x.timeout` must be longer than zero",
    ),
    (
        "[notify.channels.x]\nkind = \"desktop\"\ntimeout = \"5s\"\n",
        "config.toml:3:1: error: `timeout` does not apply to a `desktop` channel",
    ),
    (
        "[notify.channels.x]\nkind = \"desktop\"\ncommand = \"x\"\n",
        "config.toml:3:1: error: `command` does not apply to a `desktop` channel",
    ),
    (
        "[notify.channels.x]\nurl = \"https://x\"\n",
        "config.toml:1:18: error: channel `notify.channels.x` has no `kind`\n  hint: set `kind = \"desktop\"`, `\"webhook\"` (with `url`) or `\"command\"` (with `command`)",
    ),
    (
        "[defaults\nmodel = 1\n",
        "config.toml:1:10: error: invalid TOML: unclosed table, expected `]`",
    ),
];

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
fn missing_file_is_an_empty_config() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        Config::load(&dir.path().join("config.toml")),
        Ok(Config::default())
    );
    std::fs::write(dir.path().join("config.toml"), "max_concurrent_runs = 3\n").unwrap();
    assert_eq!(
        Config::load(&dir.path().join("config.toml"))
            .unwrap()
            .max_concurrent_runs,
        Some(3)
    );
}

#[test]
fn project_layer_overrides_user_layer_key_by_key() {
    let user = parse(
        r#"
max_concurrent_runs = 3
[defaults]
timezone = "Asia/Tokyo"
mode = "auto"
[providers.openai]
base_url = "http://localhost:1/v1"
api_key_env = "USER_KEY"
[notify.channels.desk]
kind = "desktop"
"#,
    );
    let project = parse(
        r#"
[defaults]
timezone = "Europe/Berlin"
[providers.openai]
base_url = "http://localhost:2/v1"
[notify.channels.hook]
kind = "webhook"
url = "https://x"
"#,
    );
    let merged = user.layered(&project);
    assert_eq!(merged.max_concurrent_runs, Some(3));
    assert_eq!(merged.defaults.timezone, Some(zone("Europe/Berlin")));
    assert_eq!(merged.defaults.mode, Some(Mode::Auto));
    assert_eq!(
        merged.providers[&Provider::OpenAi],
        ProviderConfig {
            base_url: Some("http://localhost:2/v1".into()),
            api_key_env: Some("USER_KEY".into()),
        }
    );
    assert_eq!(merged.channels.keys().collect::<Vec<_>>(), ["desk", "hook"]);
}

fn task(front: &str) -> TaskFile {
    TaskFile::parse(
        Path::new("/repo/.tend/tasks/triage.md"),
        &format!("+++\n{front}+++\nDo it.\n"),
        Scope::Project {
            root: PathBuf::from("/repo"),
        },
    )
    .unwrap()
}

fn config_with_zone(zone_name: Option<&str>) -> Config {
    let mut c = Config::default();
    c.defaults.timezone = zone_name.map(zone);
    c
}

#[test]
fn zone_resolution_order() {
    let machine = MachineZone::fixed(zone("America/Chicago"));
    let with_tz = task("schedule = \"manual\"\ntimezone = \"Asia/Tokyo\"\n");
    let without = task("schedule = \"manual\"\n");
    let user = config_with_zone(Some("Europe/Paris"));
    let project = config_with_zone(Some("Europe/Berlin"));
    let none = config_with_zone(None);
    let zone_of = |t: &TaskFile, c: &Config| {
        ResolvedTask::resolve(t, c, &machine)
            .unwrap()
            .timezone
            .name()
            .to_owned()
    };
    assert_eq!(zone_of(&with_tz, &user.layered(&project)), "Asia/Tokyo");
    assert_eq!(zone_of(&without, &user.layered(&project)), "Europe/Berlin");
    assert_eq!(zone_of(&without, &user.layered(&none)), "Europe/Paris");
    assert_eq!(zone_of(&without, &none.layered(&project)), "Europe/Berlin");
    assert_eq!(zone_of(&without, &none), "America/Chicago");

    let fallback = MachineZone::from_system(Err(jiff::Error::from_args(format_args!("no zone"))));
    let resolved = ResolvedTask::resolve(&without, &none, &fallback).unwrap();
    assert_eq!(resolved.timezone.name(), "UTC");
    assert!(resolved.timezone_note.is_some());
}

#[test]
fn defaults_apply_where_the_task_is_silent() {
    let machine = MachineZone::fixed(zone("UTC"));
    let config = parse(
        "[defaults]\nmodel = \"openai:gpt-5\"\nmode = \"auto\"\ntimeout = \"5m\"\nbudget_usd = 0.5\n",
    );
    let t = task("schedule = \"manual\"\nmode = \"read-only\"\n");
    let r = ResolvedTask::resolve(&t, &config, &machine).unwrap();
    assert_eq!(
        (
            r.model.clone(),
            r.mode,
            r.timeout,
            r.budget_usd,
            r.max_turns
        ),
        (
            Some(model("openai:gpt-5")),
            Mode::ReadOnly,
            Duration::from_secs(300),
            Some(Money::from_micros(500_000)),
            60
        )
    );
    let bare = ResolvedTask::resolve(&t, &Config::default(), &machine).unwrap();
    assert_eq!(
        (
            bare.model,
            bare.timeout,
            bare.catch_up,
            bare.overlap,
            bare.approval_timeout,
            bare.engine
        ),
        (
            None,
            Duration::from_secs(1200),
            CatchUp::Latest,
            Overlap::Skip,
            Duration::from_secs(86_400),
            Engine::Builtin
        )
    );
}

#[test]
fn unknown_notify_channel_fails_resolution() {
    let machine = MachineZone::fixed(zone("UTC"));
    let t = task("schedule = \"manual\"\n[notify]\non = [\"failure\"]\nchannels = [\"slack\"]\n");
    let config = parse("[notify.channels.desk]\nkind = \"desktop\"\n");
    let e = ResolvedTask::resolve(&t, &config, &machine).unwrap_err();
    assert_eq!(
        render_errors(&e),
        "/repo/.tend/tasks/triage.md: error: notify channel `slack` is not defined in the config\n  hint: defined channels: desk"
    );
}

#[test]
fn a_task_notifies_through_the_channels_it_names_or_all_of_them() {
    let machine = MachineZone::fixed(zone("UTC"));
    let config = parse(
        "[notify.channels.desk]\nkind = \"desktop\"\n[notify.channels.hook]\nkind = \"webhook\"\nurl = \"${HOOK}\"\n",
    );
    let named = task("schedule = \"manual\"\n[notify]\nchannels = [\"hook\"]\n");
    let resolved = ResolvedTask::resolve(&named, &config, &machine).unwrap();
    assert_eq!(resolved.channels.keys().collect::<Vec<_>>(), ["hook"]);
    let all = task("schedule = \"manual\"\n");
    let resolved = ResolvedTask::resolve(&all, &config, &machine).unwrap();
    assert_eq!(
        resolved.channels.keys().collect::<Vec<_>>(),
        ["desk", "hook"]
    );
    let none = ResolvedTask::resolve(&all, &Config::default(), &machine).unwrap();
    assert_eq!(none.channels, BTreeMap::new());
}

#[test]
fn resolved_task_serializes_human_values() {
    let machine = MachineZone::fixed(zone("UTC"));
    let t = TaskFile::parse(
        Path::new("/repo/.tend/tasks/triage.md"),
        crate::task::tests::DESIGN_EXAMPLE,
        Scope::Project {
            root: PathBuf::from("/repo"),
        },
    )
    .unwrap();
    let r = ResolvedTask::resolve(&t, &Config::default(), &machine).unwrap();
    insta::assert_json_snapshot!(r);
}

#[test]
fn local_anchor_is_placed_in_the_resolved_zone() {
    let machine = MachineZone::fixed(zone("UTC"));
    let t = task("schedule = \"every 6h\"\nanchor = \"2026-07-01 09:00\"\n");
    let config = config_with_zone(Some("Europe/Berlin"));
    let r = ResolvedTask::resolve(&t, &config, &machine).unwrap();
    assert_eq!(
        r.anchor,
        Some("2026-07-01T07:00:00Z".parse::<jiff::Timestamp>().unwrap())
    );
}

#[test]
fn plan_uses_the_anchor_zone_and_jitter() {
    let machine = MachineZone::fixed(zone("UTC"));
    let first_seen: jiff::Timestamp = "2026-07-01T00:00:00Z".parse().unwrap();
    let anchored = task("schedule = \"every 6h\"\nanchor = \"2026-07-01T01:00:00Z\"\n");
    let r = ResolvedTask::resolve(&anchored, &Config::default(), &machine).unwrap();
    let plan = r.plan(first_seen);
    assert_eq!(
        plan.anchor(),
        "2026-07-01T01:00:00Z".parse::<jiff::Timestamp>().unwrap()
    );
    assert_eq!(plan.jitter(), Duration::ZERO);

    let jittered = task("schedule = \"@hourly\"\njitter = \"5m\"\n");
    let r = ResolvedTask::resolve(&jittered, &Config::default(), &machine).unwrap();
    assert_eq!(
        r.plan(first_seen),
        tend_schedule::Plan::new(
            crate::task::Schedule::parse("@hourly").unwrap(),
            jiff::tz::TimeZone::UTC,
            first_seen
        )
        .with_jitter(Duration::from_secs(300), "triage")
    );
}

#[test]
fn mcp_servers_layer_by_name_and_tasks_replace_them() {
    let user =
        parse("[mcp.servers.a]\ncommand = \"user-a\"\n[mcp.servers.b]\ncommand = \"user-b\"\n");
    let project = parse("[mcp.servers.b]\nurl = \"https://b.example.com/mcp\"\n");
    let layered = user.layered(&project);
    let targets = |servers: &BTreeMap<String, McpServer>| -> Vec<(String, String)> {
        servers
            .iter()
            .map(|(name, s)| {
                let target = match &s.transport {
                    McpTransport::Stdio { command, .. } => command.clone(),
                    McpTransport::Http { url, .. } => url.clone(),
                };
                (name.clone(), target)
            })
            .collect()
    };
    assert_eq!(
        targets(&layered.mcp),
        vec![
            ("a".to_owned(), "user-a".to_owned()),
            ("b".to_owned(), "https://b.example.com/mcp".to_owned()),
        ]
    );
    let task = TaskFile::parse(
        Path::new("/t/x.md"),
        "+++\nschedule = \"manual\"\n[mcp.servers.a]\ncommand = \"task-a\"\n+++\nHi\n",
        Scope::User,
    )
    .unwrap();
    let resolved =
        ResolvedTask::resolve(&task, &layered, &MachineZone::fixed(ZoneName::utc())).unwrap();
    assert_eq!(
        targets(&resolved.mcp),
        vec![
            ("a".to_owned(), "task-a".to_owned()),
            ("b".to_owned(), "https://b.example.com/mcp".to_owned()),
        ]
    );
}

#[test]
fn mcp_secrets_in_the_config_are_refused() {
    assert_eq!(
        errors("[mcp.servers.gh]\ncommand = \"gh\"\nenv = { GH_TOKEN = \"ghp_x\" }\n"),
        "config.toml:3:20: error: secrets do not belong in task or config files: `env.GH_TOKEN` has a literal value\n  hint: export it in tend's environment and refer to it: `GH_TOKEN = \"${GH_TOKEN}\"`"
    );
    assert_eq!(
        errors(
            "[mcp.servers.l]\nurl = \"https://l/mcp\"\nheaders = { authorization = \"Bearer x\" }\n"
        ),
        "config.toml:3:13: error: secrets do not belong in task files: header `authorization` has a literal value\n  hint: put the token in an environment variable and name it: `bearer_token_env = \"LINEAR_TOKEN\"`"
    );
}

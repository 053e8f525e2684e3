//! Config files: `<config dir>/config.toml` (user) and `<repo>/.tend/config.toml` (project).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use tend_policy::Mode;
use toml::de::DeTable;

use crate::error::ConfigError;
use crate::keyword::keyword_enum;
use crate::names::check_env_name;
use crate::read::{Ctx, Field, Problem, TableReader, Zero, optional};
use crate::task::{CatchUp, McpServer, ModelRef, Overlap, Provider};
use crate::units::Money;
use crate::zone::ZoneName;

/// Default for `max_concurrent_runs`.
pub const DEFAULT_MAX_CONCURRENT_RUNS: u32 = 2;

/// One config file, or several layered into one ([`Config::layered`]).
///
/// Every setting is optional so that layering can tell "not said" from "said".
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Config {
    pub max_concurrent_runs: Option<u32>,
    pub defaults: Defaults,
    pub providers: BTreeMap<Provider, ProviderConfig>,
    /// USD per million tokens, by model.
    pub prices: BTreeMap<ModelRef, Price>,
    /// `[notify.channels.NAME]`.
    pub channels: BTreeMap<String, Channel>,
    /// `[mcp.servers.NAME]`: MCP servers every task gets (a task's own server of the same
    /// name replaces one of these).
    pub mcp: BTreeMap<String, McpServer>,
    /// `[ui]`: the daemon's dashboard.
    pub ui: UiConfig,
}

/// `[ui]`: the dashboard the daemon serves on 127.0.0.1.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct UiConfig {
    /// `enabled = false` keeps the daemon from serving it (default: served).
    pub enabled: Option<bool>,
    /// A fixed port (default: one the system picks, written to `<state>/ui.json`).
    pub port: Option<u16>,
}

impl UiConfig {
    pub fn enabled(&self) -> bool {
        self.enabled.unwrap_or(true)
    }
}

/// `[defaults]`: what a task gets when its file does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Defaults {
    pub model: Option<ModelRef>,
    pub timezone: Option<ZoneName>,
    pub mode: Option<Mode>,
    #[serde(serialize_with = "crate::ser::opt_duration")]
    pub timeout: Option<Duration>,
    pub max_turns: Option<u32>,
    pub budget_usd: Option<Money>,
    pub catch_up: Option<CatchUp>,
    pub overlap: Option<Overlap>,
    #[serde(serialize_with = "crate::ser::opt_duration")]
    pub approval_timeout: Option<Duration>,
}

/// `[providers.anthropic]`, `[providers.openai]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ProviderConfig {
    pub base_url: Option<String>,
    /// The environment variable that holds the API key (never the key itself).
    pub api_key_env: Option<String>,
}

/// Prices in USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Price {
    pub input: Money,
    pub output: Money,
    pub cache_read: Option<Money>,
    pub cache_write: Option<Money>,
}

keyword_enum! {
    /// The kinds of notification channel.
    pub enum ChannelKind ("channel kind") {
        /// A desktop notification.
        Desktop = "desktop",
        /// An HTTP POST with a JSON body.
        Webhook = "webhook",
        /// A shell command, with the event as JSON on stdin.
        Command = "command",
    }
}

/// A place notifications go.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Channel {
    Desktop,
    /// An HTTP POST of a Slack-compatible JSON body. `url` may hold `${VAR}` references,
    /// filled from tend's environment at delivery (a webhook URL is often a secret).
    Webhook {
        url: String,
        #[serde(serialize_with = "crate::ser::opt_duration")]
        timeout: Option<Duration>,
    },
    /// A shell command, given the event in `TEND_*` variables and as JSON on stdin.
    Command {
        command: String,
        #[serde(serialize_with = "crate::ser::opt_duration")]
        timeout: Option<Duration>,
    },
}

impl Config {
    /// The number of runs allowed at once.
    pub fn max_concurrent_runs(&self) -> u32 {
        self.max_concurrent_runs
            .unwrap_or(DEFAULT_MAX_CONCURRENT_RUNS)
    }

    /// Reads a config file; a file that does not exist is an empty config.
    pub fn load(path: &Path) -> Result<Config, Vec<ConfigError>> {
        match crate::error::read_text(path, "config file") {
            Ok(Ok(text)) => Config::parse(path, &text),
            Ok(Err(not_utf8)) => Err(vec![not_utf8]),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(vec![ConfigError::whole_file(
                path,
                format!("cannot read the config file: {e}"),
                None,
            )]),
        }
    }

    /// Validates a config file's text; `path` names the file in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Config, Vec<ConfigError>> {
        let ctx = Ctx::new(path, text, 0);
        let root = match DeTable::parse(text) {
            Ok(root) => root,
            Err(e) => {
                let at = e.span().map_or(0, |s| s.start);
                ctx.error(at, format!("invalid TOML: {}", e.message()), None);
                return Err(ctx.into_errors());
            }
        };
        let config = read_config(&ctx, root.get_ref());
        match config {
            Some(c) if !ctx.has_errors() => Ok(c),
            _ => Err(ctx.into_errors()),
        }
    }

    /// `over` on top of `self`: every setting `over` makes wins (a project config over the
    /// user's). Providers merge key by key; prices, channels and MCP servers entry by entry.
    pub fn layered(&self, over: &Config) -> Config {
        let d = &self.defaults;
        let o = &over.defaults;
        let mut providers = self.providers.clone();
        for (p, c) in &over.providers {
            let entry = providers.entry(*p).or_default();
            if c.base_url.is_some() {
                entry.base_url.clone_from(&c.base_url);
            }
            if c.api_key_env.is_some() {
                entry.api_key_env.clone_from(&c.api_key_env);
            }
        }
        let mut prices = self.prices.clone();
        prices.extend(over.prices.iter().map(|(k, v)| (k.clone(), *v)));
        let mut channels = self.channels.clone();
        channels.extend(over.channels.iter().map(|(k, v)| (k.clone(), v.clone())));
        let mut mcp = self.mcp.clone();
        mcp.extend(over.mcp.iter().map(|(k, v)| (k.clone(), v.clone())));
        let ui = UiConfig {
            enabled: over.ui.enabled.or(self.ui.enabled),
            port: over.ui.port.or(self.ui.port),
        };
        Config {
            max_concurrent_runs: over.max_concurrent_runs.or(self.max_concurrent_runs),
            defaults: Defaults {
                model: o.model.clone().or_else(|| d.model.clone()),
                timezone: o.timezone.clone().or_else(|| d.timezone.clone()),
                mode: o.mode.or(d.mode),
                timeout: o.timeout.or(d.timeout),
                max_turns: o.max_turns.or(d.max_turns),
                budget_usd: o.budget_usd.or(d.budget_usd),
                catch_up: o.catch_up.or(d.catch_up),
                overlap: o.overlap.or(d.overlap),
                approval_timeout: o.approval_timeout.or(d.approval_timeout),
            },
            providers,
            prices,
            channels,
            mcp,
            ui,
        }
    }

    pub fn price(&self, model: &ModelRef) -> Option<&Price> {
        self.prices.get(model)
    }
}

fn read_config(ctx: &Ctx<'_>, root: &DeTable<'_>) -> Option<Config> {
    let mut t = TableReader::new(ctx, root, String::new());
    let max = t
        .get("max_concurrent_runs")
        .map(|f| f.int_in(1..=64).and_then(|n| u32::try_from(n).ok()));
    let defaults = t.get("defaults").map(|f| defaults(&f));
    let providers = t.get("providers").map(|f| providers(&f));
    let prices = t.get("prices").map(|f| prices(&f));
    let channels = t.get("notify").map(|f| notify(&f));
    let mcp = t.get("mcp").map(|f| crate::task::mcp_servers(&f));
    let ui = t.get("ui").map(|f| ui(&f));
    t.finish();
    Some(Config {
        max_concurrent_runs: max.map_or(Some(None), |m| m.map(Some))?,
        defaults: defaults.unwrap_or(Some(Defaults::default()))?,
        providers: providers.unwrap_or(Some(BTreeMap::new()))?,
        prices: prices.unwrap_or(Some(BTreeMap::new()))?,
        channels: channels.unwrap_or(Some(BTreeMap::new()))?,
        mcp: mcp.unwrap_or(Some(BTreeMap::new()))?,
        ui: ui.unwrap_or(Some(UiConfig::default()))?,
    })
}

fn ui(f: &Field<'_, '_>) -> Option<UiConfig> {
    let mut t = f.table()?;
    let ui = UiConfig {
        enabled: t.get("enabled").and_then(|f| f.bool()),
        // Below 1024 needs privileges a user's daemon does not have.
        port: t
            .get("port")
            .and_then(|f| f.int_in(1024..=65535))
            .and_then(|n| u16::try_from(n).ok()),
    };
    t.finish();
    Some(ui)
}

fn defaults(f: &Field<'_, '_>) -> Option<Defaults> {
    let mut t = f.table()?;
    let d = Defaults {
        model: t
            .get("model")
            .and_then(|f| f.parse_str(ModelRef::parse_problem)),
        timezone: t
            .get("timezone")
            .and_then(|f| f.parse_str(ZoneName::parse_problem)),
        mode: t.get("mode").and_then(|f| f.keyword()),
        timeout: t.get("timeout").and_then(|f| f.duration(Zero::Refuse)),
        max_turns: t
            .get("max_turns")
            .and_then(|f| f.int_in(1..=1000))
            .and_then(|n| u32::try_from(n).ok()),
        budget_usd: t.get("budget_usd").and_then(|f| crate::task::money(&f)),
        catch_up: t.get("catch_up").and_then(|f| f.keyword()),
        overlap: t.get("overlap").and_then(|f| f.keyword()),
        approval_timeout: t
            .get("approval_timeout")
            .and_then(|f| f.duration(Zero::Refuse)),
    };
    t.finish();
    Some(d)
}

fn providers(f: &Field<'_, '_>) -> Option<BTreeMap<Provider, ProviderConfig>> {
    let mut t = f.table()?;
    let anthropic = t.get("anthropic").map(|f| provider(&f));
    let openai = t.get("openai").map(|f| provider(&f));
    t.finish();
    let mut out = BTreeMap::new();
    for (p, c) in [(Provider::Anthropic, anthropic), (Provider::OpenAi, openai)] {
        if let Some(c) = c {
            out.insert(p, c?);
        }
    }
    Some(out)
}

fn provider(f: &Field<'_, '_>) -> Option<ProviderConfig> {
    let mut t = f.table()?;
    let base_url = t.get("base_url").map(|f| f.parse_str(http_url));
    let api_key_env = t.get("api_key_env").map(|f| f.parse_str(check_env_name));
    if let Some(key) = t.get("api_key") {
        key.error_at_key(
            "API keys do not belong in config files",
            Some("put the key in an environment variable and name it: `api_key_env = \"ANTHROPIC_API_KEY\"`".to_owned()),
        );
    }
    t.finish();
    Some(ProviderConfig {
        base_url: optional(base_url)?,
        api_key_env: optional(api_key_env)?,
    })
}

fn http_url(s: &str) -> Result<String, Problem> {
    if s.starts_with("https://") || s.starts_with("http://") {
        Ok(s.trim_end_matches('/').to_owned())
    } else {
        Err(Problem::new(format!("`{s}` is not an http(s) URL"))
            .hint("write the whole URL, like `http://localhost:11434/v1`"))
    }
}

fn prices(f: &Field<'_, '_>) -> Option<BTreeMap<ModelRef, Price>> {
    let t = f.table()?;
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (name, field) in t.entries() {
        let model = match ModelRef::parse_problem(name) {
            Ok(m) => m,
            Err(p) => {
                field.error_at_key(p.message, p.hint);
                ok = false;
                continue;
            }
        };
        match price(&field) {
            Some(p) => {
                out.insert(model, p);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn price(f: &Field<'_, '_>) -> Option<Price> {
    let mut t = f.table()?;
    let input = t.get("input");
    let output = t.get("output");
    let cache_read = t.get("cache_read").map(|f| crate::task::money(&f));
    let cache_write = t.get("cache_write").map(|f| crate::task::money(&f));
    t.finish();
    let required = |field: Option<Field<'_, '_>>, key: &str| match field {
        Some(f) => crate::task::money(&f),
        None => {
            f.error_at_key(
                format!("price for `{}` has no `{key}`", f.name),
                Some(
                    "prices are USD per million tokens: `input = 3.0`, `output = 15.0`".to_owned(),
                ),
            );
            None
        }
    };
    let input = required(input, "input");
    let output = required(output, "output");
    Some(Price {
        input: input?,
        output: output?,
        cache_read: optional(cache_read)?,
        cache_write: optional(cache_write)?,
    })
}

fn notify(f: &Field<'_, '_>) -> Option<BTreeMap<String, Channel>> {
    let mut t = f.table()?;
    let channels = t.get("channels");
    t.finish();
    let Some(channels) = channels else {
        return Some(BTreeMap::new());
    };
    let table = channels.table()?;
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (name, field) in table.entries() {
        match channel(&field) {
            Some(c) => {
                out.insert(name.to_owned(), c);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn channel(f: &Field<'_, '_>) -> Option<Channel> {
    let mut t = f.table()?;
    let kind = t.get("kind");
    let url = t.get("url");
    let command = t.get("command");
    let timeout = t.get("timeout");
    t.finish();
    let Some(kind_field) = kind else {
        f.error_at_key(
            format!("channel `{}` has no `kind`", f.name),
            Some("set `kind = \"desktop\"`, `\"webhook\"` (with `url`) or `\"command\"` (with `command`)".to_owned()),
        );
        return None;
    };
    let kind = kind_field.keyword::<ChannelKind>()?;
    let unexpected = |field: &Option<Field<'_, '_>>, key: &str| {
        if let Some(x) = field {
            x.error_at_key(
                format!("`{key}` does not apply to a `{kind}` channel"),
                None,
            );
        }
    };
    let needed = |field: &Option<Field<'_, '_>>, key: &str| -> Option<String> {
        match field {
            Some(x) => x.non_empty_str().map(str::to_owned),
            None => {
                kind_field.error(format!("a `{kind}` channel needs `{key}`"), None);
                None
            }
        }
    };
    let timeout = match (&timeout, kind) {
        (None, _) => Some(None),
        (Some(t), ChannelKind::Desktop) => {
            t.error_at_key("`timeout` does not apply to a `desktop` channel", None);
            None
        }
        (Some(t), ChannelKind::Webhook | ChannelKind::Command) => {
            t.duration(Zero::Refuse).map(Some)
        }
    };
    match kind {
        ChannelKind::Desktop => {
            unexpected(&url, "url");
            unexpected(&command, "command");
            timeout.map(|_| Channel::Desktop)
        }
        ChannelKind::Webhook => {
            unexpected(&command, "command");
            match &url {
                Some(u) => {
                    let url = u.parse_str(webhook_url);
                    Some(Channel::Webhook {
                        url: url?,
                        timeout: timeout?,
                    })
                }
                None => {
                    needed(&url, "url");
                    None
                }
            }
        }
        ChannelKind::Command => {
            unexpected(&url, "url");
            let command = needed(&command, "command");
            Some(Channel::Command {
                command: command?,
                timeout: timeout?,
            })
        }
    }
}

/// A webhook's URL: an http(s) URL, or one made of `${VAR}` references (`"${SLACK_WEBHOOK_URL}"`)
/// that tend fills from its environment when it delivers. Incoming-webhook URLs of Slack and
/// Discord carry their token in the path, so they are refused written out.
fn webhook_url(s: &str) -> Result<String, Problem> {
    let mut rest = s;
    let mut offset = 0;
    while let Some(i) = rest.find("${") {
        let at = offset + i;
        let Some(close) = rest[i..].find('}') else {
            return Err(Problem::new("`${` is never closed").at(at));
        };
        let name = &rest[i + 2..i + close];
        if let Err(mut p) = check_env_name(name) {
            p.offset = Some(at + 2);
            return Err(p);
        }
        offset = at + close + 1;
        rest = &s[offset..];
    }
    if s.starts_with("${") {
        return Ok(s.to_owned());
    }
    let url = http_url(s).map_err(|p| {
        p.hint("write the whole URL, like `https://example.com/hook`, or take it from the environment: `url = \"${SLACK_WEBHOOK_URL}\"`")
    })?;
    let secret_hosts = [
        "https://hooks.slack.com/",
        "https://discord.com/api/webhooks/",
    ];
    if !s.contains("${") && secret_hosts.iter().any(|h| s.starts_with(h)) {
        return Err(Problem::new(
            "this webhook URL holds its secret token; it does not belong in a config file",
        )
        .hint(
            "export it in tend's environment and refer to it: `url = \"${SLACK_WEBHOOK_URL}\"`",
        ));
    }
    Ok(url)
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;

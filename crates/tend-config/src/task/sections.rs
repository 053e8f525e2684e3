//! Reading the front matter's tables: `[[input]]`, `[when]`, `[permissions]`, `sandbox`,
//! `[mcp.servers.NAME]`, `[notify]`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use tend_policy::Rule;
use toml::de::DeValue;

use crate::keyword::Keyword;
use crate::names::{Domain, check_env_name};
use crate::read::{Field, Problem, TableReader, Zero, optional};
use crate::task::def::{
    DEFAULT_INPUT_MAX_BYTES, DEFAULT_MAX_DISK, Input, InputSource, McpServer, McpTransport, Notify,
    NotifyOn, Permissions, Sandbox, SandboxMode, When,
};
use crate::units::Size;

/// `max_bytes = "200KB"` or `max_bytes = 4096`.
pub(crate) fn size(f: &Field<'_, '_>) -> Option<Size> {
    match f.value() {
        DeValue::Integer(i) => match u64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => Some(Size(n)),
            Err(_) => {
                f.error(format!("`{}` must not be negative", f.name), None);
                None
            }
        },
        _ => f.parse_str(Size::parse_problem),
    }
}

pub(crate) fn inputs(f: &Field<'_, '_>) -> Option<Vec<Input>> {
    if matches!(f.value(), DeValue::Table(_)) {
        f.error(
            "`input` must be a list of inputs",
            Some("write each input as `[[input]]` (two brackets)".to_owned()),
        );
        return None;
    }
    let items = f.array()?;
    let mut out = Vec::with_capacity(items.len());
    let mut ok = true;
    for item in &items {
        match input(item) {
            Some(i) => out.push(i),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn input(f: &Field<'_, '_>) -> Option<Input> {
    let mut t = f.table()?;
    let name = t
        .get("name")
        .and_then(|f| f.non_empty_str().map(str::to_owned));
    let log = t.get("log");
    let command = t.get("command");
    let file = t.get("file");
    let t_max_bytes = t.get("max_bytes");
    let max_bytes = t_max_bytes.as_ref().map(size);
    let timeout = t.get("timeout");
    t.finish();

    let sources: Vec<&Field<'_, '_>> = [&log, &command, &file].into_iter().flatten().collect();
    let hint = "an input is one of `log = \"/var/log/app/*.log\"`, `command = \"gh pr list\"` or `file = \"TODO.md\"`";
    match sources.as_slice() {
        [] => {
            f.error(
                "this input says neither `log`, `command` nor `file`",
                Some(hint.to_owned()),
            );
            return None;
        }
        [_] => {}
        [_, second, ..] => {
            second.error_at_key(
                "an input takes exactly one of `log`, `command` and `file`",
                Some("write a separate `[[input]]` for each source".to_owned()),
            );
            return None;
        }
    }
    let timeout = match (&timeout, &command) {
        (Some(t), Some(_)) => Some(t.duration(Zero::Refuse)?),
        (Some(t), None) => {
            t.error_at_key(
                "`timeout` applies only to `command` inputs",
                Some("remove `timeout` from this input".to_owned()),
            );
            return None;
        }
        (None, _) => None,
    };
    let source = if let Some(l) = &log {
        InputSource::Log {
            glob: l.non_empty_str()?.to_owned(),
        }
    } else if let Some(c) = &command {
        InputSource::Command {
            command: c.non_empty_str()?.to_owned(),
            timeout,
        }
    } else if let Some(p) = &file {
        InputSource::File {
            path: PathBuf::from(p.non_empty_str()?),
        }
    } else {
        return None;
    };
    let max_bytes = match max_bytes {
        Some(m) => m?,
        None => DEFAULT_INPUT_MAX_BYTES,
    };
    if max_bytes.bytes() == 0
        && let Some(f) = &t_max_bytes
    {
        f.error(
            "`max_bytes` must be more than zero",
            Some("an input of zero bytes never says anything; remove the input instead".to_owned()),
        );
        return None;
    }
    Some(Input {
        name,
        source,
        max_bytes,
    })
}

pub(crate) fn when(f: &Field<'_, '_>) -> Option<When> {
    let mut t = f.table()?;
    let inputs_changed = t.get("inputs_changed").map(|f| f.bool());
    let check = t.get("check").map(|f| f.non_empty_str().map(str::to_owned));
    t.finish();
    Some(When {
        inputs_changed: inputs_changed.unwrap_or(Some(false))?,
        check: optional(check)?,
    })
}

fn rules(t: &mut TableReader<'_, '_>, key: &'static str) -> Option<Vec<Rule>> {
    match t.get(key) {
        Some(f) => f.list(|s| s.parse::<Rule>().map_err(Problem::from)),
        None => Some(Vec::new()),
    }
}

pub(crate) fn permissions(f: &Field<'_, '_>) -> Option<Permissions> {
    let mut t = f.table()?;
    let allow = rules(&mut t, "allow");
    let ask = rules(&mut t, "ask");
    let deny = rules(&mut t, "deny");
    t.finish();
    Some(Permissions {
        allow: allow?,
        ask: ask?,
        deny: deny?,
    })
}

fn paths(t: &mut TableReader<'_, '_>, key: &'static str) -> Option<Vec<PathBuf>> {
    match t.get(key) {
        Some(f) => f.list(|s| {
            if s.trim().is_empty() {
                Err(Problem::new("empty path"))
            } else {
                Ok(PathBuf::from(s))
            }
        }),
        None => Some(Vec::new()),
    }
}

/// `sandbox = "off"`, `sandbox = "auto"`, or a `[sandbox]` table.
pub(crate) fn sandbox(f: &Field<'_, '_>) -> Option<Sandbox> {
    match f.value() {
        DeValue::String(_) => Some(Sandbox {
            mode: f.keyword::<SandboxMode>()?,
            ..Sandbox::default()
        }),
        DeValue::Table(_) => {
            let mut t = f.table()?;
            let mode = t.get("mode").map(|f| f.keyword::<SandboxMode>());
            let network = match t.get("network") {
                Some(f) => f.list(Domain::parse_problem),
                None => Some(Vec::new()),
            };
            let deny_read = paths(&mut t, "deny_read");
            let allow_write = paths(&mut t, "allow_write");
            let max_disk = t.get("max_disk").map(|f| max_disk(&f));
            t.finish();
            Some(Sandbox {
                mode: mode.unwrap_or(Some(SandboxMode::Auto))?,
                network: network?,
                deny_read: deny_read?,
                allow_write: allow_write?,
                max_disk: max_disk.unwrap_or(Some(DEFAULT_MAX_DISK))?,
            })
        }
        _ => {
            f.error(
                "`sandbox` must be \"auto\", \"off\" or a `[sandbox]` table",
                Some("for example `[sandbox]` with `network = [\"crates.io\"]`".to_owned()),
            );
            None
        }
    }
}

/// `max_disk = "1GB"`: a size, more than zero (a run that may not write a byte cannot even
/// create a file in its tmp).
fn max_disk(f: &Field<'_, '_>) -> Option<Size> {
    let size = size(f)?;
    if size.bytes() == 0 {
        f.error(
            "`max_disk` must be more than zero",
            Some(format!(
                "it bounds what a run writes to its tmp and worktree; the default is `{DEFAULT_MAX_DISK}`"
            )),
        );
        return None;
    }
    Some(size)
}

/// MCP server names end up in rule names (`mcp__server__tool`), so they follow the same syntax.
fn check_server_name(name: &str) -> Result<(), Problem> {
    let ok = !name.is_empty()
        && !name.contains("__")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Problem::new(format!("`{name}` is not a valid MCP server name")).hint(
            "server names are letters, digits, `-` and `_` (no `__`): they appear in rules as `mcp__<server>__<tool>`",
        ))
    }
}

pub(crate) fn mcp(f: &Field<'_, '_>) -> Option<BTreeMap<String, McpServer>> {
    let mut t = f.table()?;
    let servers = t.get("servers");
    t.finish();
    let servers = servers?;
    let table = servers.table()?;
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (name, field) in table.entries() {
        if let Err(p) = check_server_name(name) {
            field.error_at_key(p.message, p.hint);
            ok = false;
            continue;
        }
        match mcp_server(&field) {
            Some(s) => {
                out.insert(name.to_owned(), s);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// A stdio server's `env`, refusing secrets written into the file: a variable whose name looks
/// like a secret must take its value from tend's environment (`"${GITHUB_TOKEN}"`).
fn env_map(f: &Field<'_, '_>) -> Option<BTreeMap<String, String>> {
    let t = f.table()?;
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (key, value) in t.entries() {
        if looks_secret(key) && value.str().is_some_and(|v| !v.contains("${")) {
            value.error(
                format!(
                    "secrets do not belong in task or config files: `env.{key}` has a literal value"
                ),
                Some(format!(
                    "export it in tend's environment and refer to it: `{key} = \"${{{key}}}\"`"
                )),
            );
            ok = false;
            continue;
        }
        match value.str() {
            Some(v) => {
                out.insert(key.to_owned(), v.to_owned());
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn mcp_server(f: &Field<'_, '_>) -> Option<McpServer> {
    let mut t = f.table()?;
    let command = t.get("command");
    let args = t.get("args");
    let env = t.get("env");
    let cwd = t.get("cwd");
    let url = t.get("url");
    let headers = t.get("headers");
    let bearer = t.get("bearer_token_env");
    let startup_timeout = t.get("startup_timeout").map(|f| f.duration(Zero::Refuse));
    let call_timeout = t.get("call_timeout").map(|f| f.duration(Zero::Refuse));
    let enabled = t.get("enabled").map(|f| f.bool());
    t.finish();

    let transport = match (&command, &url) {
        (Some(_), Some(u)) => {
            u.error_at_key(
                "an MCP server has either `command` (stdio) or `url` (HTTP), not both",
                None,
            );
            None
        }
        (None, None) => {
            f.error_at_key(
                format!("MCP server `{}` needs a `command` or a `url`", f.name),
                Some("`command = \"npx\"` with `args = [...]` starts a local server; `url = \"https://…/mcp\"` connects to a remote one".to_owned()),
            );
            None
        }
        (Some(c), None) => stdio(c, [&headers, &bearer], &args, &env, &cwd),
        (None, Some(u)) => http(u, [&args, &env, &cwd], &headers, &bearer),
    };
    let startup_timeout = optional(startup_timeout);
    let call_timeout = optional(call_timeout);
    let enabled = enabled.unwrap_or(Some(true));
    Some(McpServer {
        transport: transport?,
        startup_timeout: startup_timeout?,
        call_timeout: call_timeout?,
        enabled: enabled?,
    })
}

fn refuse_keys(keys: [&Option<Field<'_, '_>>; 3], only_for: &str) -> bool {
    let mut ok = true;
    for field in keys.into_iter().flatten() {
        let key = field.name.rsplit('.').next().unwrap_or(&field.name);
        field.error_at_key(format!("`{key}` applies only to servers {only_for}"), None);
        ok = false;
    }
    ok
}

fn stdio(
    command: &Field<'_, '_>,
    http_only: [&Option<Field<'_, '_>>; 2],
    args: &Option<Field<'_, '_>>,
    env: &Option<Field<'_, '_>>,
    cwd: &Option<Field<'_, '_>>,
) -> Option<McpTransport> {
    let [headers, bearer] = http_only;
    let ok = refuse_keys([headers, bearer, &None], "reached by `url`");
    let command = command.non_empty_str().map(str::to_owned);
    let args = match args {
        Some(a) => a.list(|s| Ok(s.to_owned())),
        None => Some(Vec::new()),
    };
    let env = match env {
        Some(e) => env_map(e),
        None => Some(BTreeMap::new()),
    };
    let cwd = match cwd {
        Some(c) => c.non_empty_str().map(|s| Some(PathBuf::from(s))),
        None => Some(None),
    };
    if !ok {
        return None;
    }
    Some(McpTransport::Stdio {
        command: command?,
        args: args?,
        env: env?,
        cwd: cwd?,
    })
}

fn http(
    url: &Field<'_, '_>,
    stdio_only: [&Option<Field<'_, '_>>; 3],
    headers: &Option<Field<'_, '_>>,
    bearer: &Option<Field<'_, '_>>,
) -> Option<McpTransport> {
    let ok = refuse_keys(stdio_only, "started with `command`");
    let url = url.parse_str(|s| {
        if s.starts_with("https://") || s.starts_with("http://") {
            Ok(s.to_owned())
        } else {
            Err(Problem::new(format!("`{s}` is not an http(s) URL"))
                .hint("MCP servers over HTTP have URLs like `https://mcp.linear.app/mcp`"))
        }
    });
    let headers = match headers {
        Some(h) => header_map(h),
        None => Some(BTreeMap::new()),
    };
    let bearer = match bearer {
        Some(b) => b.parse_str(check_env_name).map(Some),
        None => Some(None),
    };
    if !ok {
        return None;
    }
    Some(McpTransport::Http {
        url: url?,
        headers: headers?,
        bearer_token_env: bearer?,
    })
}

/// Whether an environment variable's name says it holds a secret.
fn looks_secret(name: &str) -> bool {
    let name = name.to_ascii_uppercase();
    [
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "API_KEY",
        "APIKEY",
        "CREDENTIAL",
        "PRIVATE_KEY",
    ]
    .iter()
    .any(|s| name.contains(s))
}

/// Headers, refusing credentials written into the file (`${VAR}` references are fine).
fn header_map(f: &Field<'_, '_>) -> Option<BTreeMap<String, String>> {
    let t = f.table()?;
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (key, value) in t.entries() {
        let literal = value.str().is_some_and(|v| !v.contains("${"));
        if (key.eq_ignore_ascii_case("authorization")
            || key.eq_ignore_ascii_case("proxy-authorization"))
            && literal
        {
            value.error_at_key(
                format!("secrets do not belong in task files: header `{key}` has a literal value"),
                Some("put the token in an environment variable and name it: `bearer_token_env = \"LINEAR_TOKEN\"`".to_owned()),
            );
            ok = false;
            continue;
        }
        match value.str() {
            Some(v) => {
                out.insert(key.to_owned(), v.to_owned());
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

pub(crate) fn notify(f: &Field<'_, '_>) -> Option<Notify> {
    let mut t = f.table()?;
    let on = t
        .get("on")
        .map(|f| f.list(|s| NotifyOn::parse(s).map_err(Problem::from)));
    let channels = t.get("channels").map(|f| {
        f.list(|s| {
            if !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                Ok(s.to_owned())
            } else {
                Err(Problem::new(format!("`{s}` is not a channel name"))
                    .hint("channels are named in the config's `[notify.channels.NAME]`"))
            }
        })
    });
    t.finish();
    let defaults = Notify::default();
    Some(Notify {
        on: on.unwrap_or(Some(defaults.on))?,
        channels: channels.unwrap_or(Some(defaults.channels))?,
    })
}

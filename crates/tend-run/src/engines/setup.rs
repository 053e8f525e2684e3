//! What an external engine's process gets: the program (found on `PATH`, or named by
//! `TEND_CLAUDE_BIN`, `TEND_CODEX_BIN`, `TEND_GOOSE_BIN`) and an environment built from an
//! allowlist: the basics every program needs, plus only the variables of that engine's own
//! provider. Nothing else of tend's environment reaches it (no other keys or tokens).

use std::path::{Path, PathBuf};

use tend_config::{Config, Engine, Provider, ResolvedTask};

use crate::RunError;

/// The program of an external engine and its environment. `Debug` shows variable names only.
#[derive(Clone, PartialEq, Eq)]
pub struct ExternalSetup {
    pub program: PathBuf,
    /// Sorted by name.
    pub env: Vec<(String, String)>,
    /// A base URL from tend's config (`[providers.X] base_url`) or the provider's variable:
    /// passed to engines that take it as a flag rather than from their environment (Codex).
    pub base_url: Option<String>,
}

impl std::fmt::Debug for ExternalSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.env.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ExternalSetup")
            .field("program", &self.program)
            .field("env", &names)
            .field("base_url", &self.base_url)
            .finish()
    }
}

/// Passed through to every engine when set: what a program needs to run, find its own
/// configuration and reach the network through the user's proxy.
const BASE: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_CACHE_HOME",
    "XDG_STATE_HOME",
    "XDG_RUNTIME_DIR",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "NO_PROXY",
    "https_proxy",
    "http_proxy",
    "no_proxy",
];

/// Claude Code's own variables: its key or token, endpoint, config folder, and the cloud
/// providers it can use instead of Anthropic's API.
const CLAUDE: &[&str] = &[
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_CUSTOM_HEADERS",
    "CLAUDE_CODE_OAUTH_TOKEN",
    "CLAUDE_CONFIG_DIR",
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC",
    "DISABLE_TELEMETRY",
    "ANTHROPIC_VERTEX_PROJECT_ID",
    "CLOUD_ML_REGION",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "AWS_REGION",
    "AWS_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];

const CODEX: &[&str] = &[
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "CODEX_HOME",
    "CODEX_API_KEY",
];

const GOOSE: &[&str] = &[
    "GOOSE_PROVIDER",
    "GOOSE_MODEL",
    "GOOSE_DISABLE_KEYRING",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_HOST",
    "OPENAI_API_KEY",
    "OPENAI_HOST",
    "OPENAI_BASE_PATH",
];

const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// The setup of `task`'s engine; `None` for engines that run no program of their own
/// (`builtin`, `command`).
pub fn setup(
    task: &ResolvedTask,
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<ExternalSetup>, RunError> {
    let (own, program_var, program_name, provider) = match task.engine {
        Engine::Builtin | Engine::Command => return Ok(None),
        Engine::Claude => (CLAUDE, "TEND_CLAUDE_BIN", "claude", Provider::Anthropic),
        Engine::Codex => (CODEX, "TEND_CODEX_BIN", "codex", Provider::OpenAi),
        Engine::Goose => (
            GOOSE,
            "TEND_GOOSE_BIN",
            "goose",
            task.model
                .as_ref()
                .map_or(Provider::Anthropic, |m| m.provider),
        ),
    };
    check_model(task)?;
    let mut vars: Vec<(String, String)> = BASE
        .iter()
        .chain(own)
        .filter_map(|name| env(name).map(|v| ((*name).to_owned(), v)))
        .collect();
    if !vars.iter().any(|(k, _)| k == "PATH") {
        vars.push(("PATH".to_owned(), DEFAULT_PATH.to_owned()));
    }
    // tend's config names the endpoint and the key's variable for each provider; the engine
    // reads them under its own names.
    let (url_var, key_var) = match provider {
        Provider::Anthropic => ("ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY"),
        Provider::OpenAi | Provider::Replay => ("OPENAI_BASE_URL", "OPENAI_API_KEY"),
    };
    let overrides = config.providers.get(&provider);
    let base_url = overrides
        .and_then(|p| p.base_url.clone())
        .or_else(|| env(url_var));
    if let Some(url) = &base_url {
        set(&mut vars, url_var, url);
    }
    if let Some(key) = overrides
        .and_then(|p| p.api_key_env.as_deref())
        .and_then(env)
    {
        set(&mut vars, key_var, &key);
    }
    // A background run must not update the engine under the user's feet.
    set(&mut vars, "DISABLE_AUTOUPDATER", "1");
    set(&mut vars, "NO_COLOR", "1");
    set(&mut vars, "TERM", "dumb");
    vars.sort();
    vars.dedup_by(|a, b| a.0 == b.0);
    let path = vars
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let program = match env(program_var) {
        Some(p) => PathBuf::from(p),
        None => find_on_path(program_name, &path).ok_or_else(|| {
            RunError::Model(format!(
                "task `{}` uses engine = \"{}\", but `{program_name}` is not on PATH; install \
                 it ({}) or name it with {program_var}",
                task.name,
                task.engine,
                install_hint(task.engine)
            ))
        })?,
    };
    Ok(Some(ExternalSetup {
        program,
        env: vars,
        base_url,
    }))
}

fn set(vars: &mut Vec<(String, String)>, name: &str, value: &str) {
    vars.retain(|(k, _)| k != name);
    vars.push((name.to_owned(), value.to_owned()));
}

fn install_hint(engine: Engine) -> &'static str {
    match engine {
        Engine::Claude => "npm install -g @anthropic-ai/claude-code",
        Engine::Codex => "npm install -g @openai/codex",
        Engine::Goose => "see block.github.io/goose",
        Engine::Builtin | Engine::Command => "",
    }
}

/// The engines speak one provider each (goose several): a model of another is an error now,
/// not a confusing failure inside the engine.
fn check_model(task: &ResolvedTask) -> Result<(), RunError> {
    let Some(model) = &task.model else {
        return Ok(());
    };
    let fits = match (task.engine, model.provider) {
        (Engine::Claude, Provider::Anthropic)
        | (Engine::Codex, Provider::OpenAi)
        | (Engine::Goose, Provider::Anthropic | Provider::OpenAi) => true,
        (Engine::Claude | Engine::Codex | Engine::Goose, _) => false,
        (Engine::Builtin | Engine::Command, _) => true,
    };
    if fits {
        Ok(())
    } else {
        Err(RunError::Model(format!(
            "task `{}`: engine = \"{}\" cannot use the model `{model}`; name a model of {}",
            task.name,
            task.engine,
            match task.engine {
                Engine::Claude => "anthropic (`anthropic:claude-sonnet-4-5`)",
                Engine::Codex => "openai (`openai:gpt-5`)",
                _ => "anthropic or openai",
            }
        )))
    }
}

fn find_on_path(name: &str, path: &str) -> Option<PathBuf> {
    std::env::split_paths(path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

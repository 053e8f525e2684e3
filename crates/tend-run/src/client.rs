//! From a task's `model = "provider:model"` and tend's config to a ready model client, with
//! its price (for cost and budgets) and context window (for compaction).

use std::path::{Path, PathBuf};

use tend_config::{Config, Engine, ModelRef, Provider, ResolvedTask, Scope};
use tend_model::{
    Client, Price, PriceTable, Provider as ApiProvider, ProviderOverrides, ProviderSettings,
    Recording, ReplayClient,
};

use crate::RunError;
use crate::engines::ExternalSetup;

/// The model a run talks to.
#[derive(Debug, Clone)]
pub struct ModelChoice {
    pub client: Client,
    /// The model's name as the provider knows it; for a replay, the recording's path.
    pub name: String,
    /// `provider:model`, as the task file says it.
    pub label: String,
    pub price: Option<Price>,
    /// Tokens of context the model takes.
    pub context_window: u64,
    /// For the `claude`, `codex` and `goose` engines: the program and its environment (the
    /// client above is then never used).
    pub external: Option<ExternalSetup>,
}

/// The client for a task's model. `env` looks up environment variables (API keys, base URLs).
pub fn model_choice(
    task: &ResolvedTask,
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ModelChoice, RunError> {
    match task.engine {
        Engine::Builtin => {}
        Engine::Claude | Engine::Codex | Engine::Goose | Engine::Command => {
            return external_choice(task, config, env);
        }
    }
    let model = task.model.as_ref().ok_or_else(|| {
        RunError::Model(format!(
            "task `{}` names no model: set `model = \"anthropic:claude-sonnet-4-5\"` in it, or \
             `[defaults] model` in tend's config",
            task.name
        ))
    })?;
    let label = model.to_string();
    let provider = match model.provider {
        Provider::Anthropic => ApiProvider::Anthropic,
        Provider::OpenAi => ApiProvider::OpenAi,
        Provider::Replay => {
            let path = recording_path(task, &model.model);
            let client = ReplayClient::load(&path).map_err(|e| RunError::Model(e.to_string()))?;
            return Ok(ModelChoice {
                client: Client::Replay(client),
                name: model.model.clone(),
                label,
                price: None,
                context_window: 200_000,
                external: None,
            });
        }
    };
    let overrides = match config.providers.get(&model.provider) {
        Some(p) => ProviderOverrides {
            base_url: p.base_url.clone(),
            api_key_env: p.api_key_env.clone(),
        },
        None => ProviderOverrides::default(),
    };
    let settings = ProviderSettings::from_lookup(provider, &overrides, env)
        .map_err(|e| RunError::Model(e.to_string()))?;
    let client = Client::new(provider, &settings).map_err(|e| RunError::Model(e.to_string()))?;
    Ok(ModelChoice {
        client,
        name: model.model.clone(),
        label,
        price: price(config, model),
        context_window: context_window(model),
        external: None,
    })
}

/// The choice for an engine that is not tend's own loop: no model client of tend's (an inert
/// one stands in), the engine's program and environment, and the model's price when tend knows
/// it (for engines that report tokens but not money).
fn external_choice(
    task: &ResolvedTask,
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ModelChoice, RunError> {
    let external = crate::engines::setup(task, config, env)?;
    let label = match (&task.model, task.engine) {
        (_, Engine::Command) => "none".to_owned(),
        (Some(model), _) => model.to_string(),
        (None, engine) => format!("{engine}'s default"),
    };
    let name = task
        .model
        .as_ref()
        .map(|m| m.model.clone())
        .unwrap_or_default();
    Ok(ModelChoice {
        client: Client::Replay(ReplayClient::new(Recording::new("none", name.clone()))),
        name,
        label,
        price: task.model.as_ref().and_then(|m| price(config, m)),
        context_window: task.model.as_ref().map_or(200_000, context_window),
        external,
    })
}

/// A recording named relative to the task's project (or, for a user task, tend's config
/// folder's parent is unknown here, so relative to the task file's folder).
pub fn recording_path(task: &ResolvedTask, name: &str) -> PathBuf {
    let path = Path::new(name);
    if path.is_absolute() {
        return path.to_path_buf();
    }
    match &task.scope {
        Scope::Project { root } => root.join(path),
        Scope::User => task
            .path
            .parent()
            .map_or_else(|| path.to_path_buf(), |dir| dir.join(path)),
    }
}

/// The config's price for the model, else the built-in list price, else unknown.
fn price(config: &Config, model: &ModelRef) -> Option<Price> {
    if let Some(p) = config.price(model) {
        let input = p.input.micros();
        return Some(Price {
            input,
            output: p.output.micros(),
            cache_read: p.cache_read.map_or(input, |m| m.micros()),
            cache_write: p.cache_write.map_or(input, |m| m.micros()),
        });
    }
    PriceTable::builtin().get(&model.model)
}

/// Context windows of the model families tend knows; a conservative 128K otherwise.
fn context_window(model: &ModelRef) -> u64 {
    let name = model.model.as_str();
    if name.starts_with("claude") {
        200_000
    } else if name.starts_with("gpt-4.1") || name.starts_with("gpt-5") {
        400_000
    } else {
        128_000
    }
}

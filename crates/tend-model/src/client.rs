//! One type for every provider, chosen at run time.

use std::sync::{Arc, Mutex};

use crate::anthropic::AnthropicClient;
use crate::error::ModelError;
use crate::openai::OpenAiClient;
use crate::replay::{Recorder, Recording, ReplayClient};
use crate::retry::Sleeper;
use crate::settings::{Provider, ProviderSettings};
use crate::types::{ModelEvent, ModelRequest, ModelResponse};

#[derive(Debug, Clone)]
pub enum Client {
    Anthropic(AnthropicClient),
    OpenAi(OpenAiClient),
    Replay(ReplayClient),
    /// Another client whose responses are recorded.
    Recording(Recorder),
}

impl Client {
    /// A live client of an API provider.
    pub fn new(provider: Provider, settings: &ProviderSettings) -> Result<Client, ModelError> {
        match provider {
            Provider::Anthropic => AnthropicClient::new(settings).map(Client::Anthropic),
            Provider::OpenAi => OpenAiClient::new(settings).map(Client::OpenAi),
            Provider::Replay => Err(ModelError::NoSettings {
                provider,
                reason: "make a replay client from a recording: `Client::Replay(ReplayClient::load(path)?)`".into(),
            }),
        }
    }

    /// Wraps this client so each successful response is recorded. The returned log fills as
    /// the run goes; save it with [`Recording::save`].
    pub fn recording(self, model: &str) -> (Client, Arc<Mutex<Recording>>) {
        let log = Arc::new(Mutex::new(Recording::new(self.provider().as_str(), model)));
        let client = Client::Recording(Recorder {
            inner: Box::new(self),
            log: Arc::clone(&log),
        });
        (client, log)
    }

    /// The provider that answers (a recorder answers with its inner client's).
    pub fn provider(&self) -> Provider {
        match self {
            Client::Anthropic(_) => Provider::Anthropic,
            Client::OpenAi(_) => Provider::OpenAi,
            Client::Replay(_) => Provider::Replay,
            Client::Recording(recorder) => recorder.inner.provider(),
        }
    }

    /// Replaces the timer of retry waits (tests pass [`Sleeper::instant`]).
    pub fn with_sleeper(self, sleeper: Sleeper) -> Client {
        match self {
            Client::Anthropic(client) => Client::Anthropic(client.with_sleeper(sleeper)),
            Client::OpenAi(client) => Client::OpenAi(client.with_sleeper(sleeper)),
            Client::Replay(client) => Client::Replay(client),
            Client::Recording(Recorder { inner, log }) => Client::Recording(Recorder {
                inner: Box::new(inner.with_sleeper(sleeper)),
                log,
            }),
        }
    }

    /// Sends one request; `on_event` sees the response as it streams (and each retry).
    pub async fn complete(
        &self,
        req: &ModelRequest,
        on_event: &mut (dyn FnMut(ModelEvent) + Send),
    ) -> Result<ModelResponse, ModelError> {
        match self {
            Client::Anthropic(client) => client.complete(req, on_event).await,
            Client::OpenAi(client) => client.complete(req, on_event).await,
            Client::Replay(client) => client.complete(req, on_event).await,
            Client::Recording(recorder) => {
                let response = Box::pin(recorder.inner.complete(req, on_event)).await?;
                recorder.append(req, &response);
                Ok(response)
            }
        }
    }
}

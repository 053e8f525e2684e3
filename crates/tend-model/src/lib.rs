//! Model providers for tend's own agent loop: the Anthropic Messages API, OpenAI Chat
//! Completions (and the servers that speak it), and `replay` of a recorded session.
//!
//! Every request streams; responses are accumulated into a [`ModelResponse`] while
//! [`ModelEvent`]s report progress. Transient failures (429, 529, 5xx, broken connections,
//! streams cut short) retry the whole request with backoff, honouring `retry-after`, through
//! an injectable [`Sleeper`] so tests never wait.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tend_model::ModelError> {
//! use tend_model::{Client, Message, ModelRequest, Provider, ProviderOverrides, ProviderSettings};
//!
//! let settings = ProviderSettings::from_env(Provider::Anthropic, &ProviderOverrides::default())?;
//! let client = Client::new(Provider::Anthropic, &settings)?;
//! let request = ModelRequest {
//!     model: "claude-sonnet-4-5".into(),
//!     system: vec!["You are terse.".into()],
//!     tools: vec![],
//!     messages: vec![Message::user_text("Say hi.")],
//!     max_tokens: 1024,
//! };
//! let response = client.complete(&request, &mut |event| println!("{event:?}")).await?;
//! println!("{}", response.text());
//! # Ok(())
//! # }
//! ```

mod anthropic;
mod client;
mod error;
mod http;
mod openai;
mod price;
mod replay;
mod retry;
mod secret;
mod settings;
mod sse;
mod types;

pub use anthropic::{ANTHROPIC_VERSION, AnthropicClient};
pub use client::Client;
pub use error::ModelError;
pub use http::install_tls_provider;
pub use openai::{MaxTokensField, OpenAiClient};
pub use price::{Price, PriceTable, cost_micro_usd};
pub use replay::{RECORDING_VERSION, RecordedTurn, Recorder, Recording, ReplayClient};
pub use retry::{SleepLog, Sleeper};
pub use secret::Secret;
pub use settings::{
    ANTHROPIC_DEFAULT_BASE_URL, DEFAULT_TIMEOUT, OPENAI_DEFAULT_BASE_URL, Provider,
    ProviderOverrides, ProviderSettings, RetryPolicy,
};
pub use types::{
    Content, Message, ModelEvent, ModelRequest, ModelResponse, Role, StopReason, ToolSpec, Usage,
};

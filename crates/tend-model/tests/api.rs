//! Properties of the public API that other crates rely on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use pretty_assertions::assert_eq;
use tend_model::{Client, MaxTokensField, OpenAiClient, Provider, Recording, ReplayClient};

fn assert_send_sync<T: Send + Sync>(_: &T) {}
fn assert_send<T: Send>(_: &T) {}

#[test]
fn clients_and_their_futures_can_move_between_tasks() {
    let client = Client::Replay(ReplayClient::new(Recording::new("anthropic", "m")));
    assert_send_sync(&client);
    let request = simple_request();
    let mut on_event = |_event| {};
    let future = client.complete(&request, &mut on_event);
    assert_send(&future);
}

#[test]
fn openai_itself_is_sent_max_completion_tokens_and_others_max_tokens() {
    let cases = [
        (
            "https://api.openai.com/v1",
            MaxTokensField::MaxCompletionTokens,
        ),
        (
            "https://me.openai.azure.com/openai/v1",
            MaxTokensField::MaxCompletionTokens,
        ),
        ("http://localhost:11434/v1", MaxTokensField::MaxTokens),
        ("https://openrouter.ai/api/v1", MaxTokensField::MaxTokens),
    ];
    for (url, field) in cases {
        let client = OpenAiClient::new(&settings(url.into())).unwrap();
        assert_eq!(client.max_tokens_field(), field, "{url}");
    }
}

#[test]
fn bad_base_urls_and_replay_settings_are_refused() {
    assert_eq!(
        Client::new(Provider::Anthropic, &settings("api.anthropic.com".into()))
            .unwrap_err()
            .to_string(),
        "cannot set up the anthropic client: the base URL `api.anthropic.com` must start with http:// or https://"
    );
    assert_eq!(
        Client::new(Provider::Replay, &settings("http://x".into()))
            .unwrap_err()
            .to_string(),
        "replay has no HTTP settings: make a replay client from a recording: `Client::Replay(ReplayClient::load(path)?)`"
    );
}

//! API keys never show in Debug output, errors or anything else printed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use tend_mock_model::Step;
use tend_model::{
    AnthropicClient, Client, OpenAiClient, Provider, ProviderOverrides, ProviderSettings,
};

fn assert_no_key(text: &str) {
    assert!(!text.contains(KEY), "the key leaked: {text}");
    assert!(
        !text.contains("THE-SECRET"),
        "part of the key leaked: {text}"
    );
}

#[tokio::test]
async fn keys_stay_out_of_debug_output_and_errors() {
    let setup = start(Provider::Anthropic, [Step::error(401), Step::error(500)]).await;
    let settings = settings(setup.mock.base_url());
    assert_no_key(&format!("{settings:?} {settings:#?}"));
    assert!(format!("{settings:?}").contains("[redacted]"));

    let anthropic = AnthropicClient::new(&settings).unwrap();
    let openai = OpenAiClient::new(&settings).unwrap();
    assert_no_key(&format!(
        "{anthropic:?} {anthropic:#?} {openai:?} {openai:#?}"
    ));
    assert_no_key(&format!("{:?}", setup.client));
    let (recording, _) = setup.client.clone().recording("m");
    assert_no_key(&format!("{recording:?}"));

    let (unauthorized, _) = run(&setup.client, &simple_request()).await;
    let error = unauthorized.unwrap_err();
    assert_no_key(&format!("{error} {error:?}"));
    let (server_error, events) = run(&setup.client, &simple_request()).await;
    let error = server_error.unwrap_err();
    assert_no_key(&format!("{error} {error:?} {events:?}"));

    // It was sent, though.
    assert_eq!(setup.mock.requests()[0].header("x-api-key"), Some(KEY));
}

#[test]
fn settings_from_the_environment_keep_the_key_hidden() {
    let env = |name: &str| match name {
        "ANTHROPIC_API_KEY" | "OPENAI_API_KEY" => Some(KEY.to_owned()),
        _ => None,
    };
    for provider in [Provider::Anthropic, Provider::OpenAi] {
        let settings =
            ProviderSettings::from_lookup(provider, &ProviderOverrides::default(), &env).unwrap();
        assert_eq!(settings.api_key.as_ref().unwrap().expose(), KEY);
        assert_no_key(&format!("{settings:?}"));
        let client = Client::new(provider, &settings).unwrap();
        assert_no_key(&format!("{client:?}"));
    }
}

#[test]
fn a_key_that_is_no_header_value_is_refused_without_echoing_it() {
    let mut settings = settings("http://127.0.0.1:9".into());
    settings.api_key = Some(tend_model::Secret::new(format!("{KEY}\n")));
    let error = AnthropicClient::new(&settings).unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot set up the anthropic client: the value for the `x-api-key` header has characters HTTP does not allow"
    );
}

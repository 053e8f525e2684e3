//! Recording live responses and playing them back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use pretty_assertions::assert_eq;
use serde_json::json;
use tend_mock_model::{MockContent, MockUsage, Reply, Step};
use tend_model::{
    Client, Content, ModelError, ModelEvent, ModelResponse, Provider, RecordedTurn, Recording,
    ReplayClient, StopReason, Usage,
};

fn recording() -> Recording {
    Recording {
        version: 1,
        provider: "anthropic".into(),
        model: "claude-sonnet-4-5".into(),
        turns: vec![
            RecordedTurn {
                response: ModelResponse {
                    content: vec![
                        Content::text("Let me look."),
                        Content::ToolUse {
                            id: "toolu_1".into(),
                            name: "read".into(),
                            input: json!({"path": "a.rs"}),
                        },
                    ],
                    stop: StopReason::ToolUse,
                    usage: Usage {
                        input_tokens: 10,
                        output_tokens: 20,
                        cache_read_tokens: 0,
                        cache_write_tokens: 300,
                    },
                    request_id: Some("req_1".into()),
                },
                tools: Some(vec!["bash".into(), "read".into()]),
            },
            RecordedTurn {
                response: ModelResponse {
                    content: vec![Content::text("All good.")],
                    stop: StopReason::EndTurn,
                    usage: Usage::default(),
                    request_id: None,
                },
                tools: Some(vec!["bash".into(), "read".into()]),
            },
        ],
    }
}

fn request_with_tools(names: &[&str]) -> tend_model::ModelRequest {
    let mut request = simple_request();
    request.tools = names.iter().map(|n| tool(n)).collect();
    request
}

#[tokio::test]
async fn replay_plays_turn_by_turn_then_runs_out() {
    let client = Client::Replay(ReplayClient::new(recording()));
    let request = request_with_tools(&["read", "bash"]);
    let (first, events) = run(&client, &request).await;
    assert_eq!(first.unwrap(), recording().turns[0].response);
    assert_eq!(
        events,
        vec![
            ModelEvent::TextDelta("Let me look.".into()),
            ModelEvent::ToolUseStart {
                id: "toolu_1".into(),
                name: "read".into()
            },
            ModelEvent::ToolInputDelta {
                id: "toolu_1".into(),
                partial_json: "{\"path\":\"a.rs\"}".into()
            },
        ]
    );
    let (second, _) = run(&client, &request).await;
    assert_eq!(second.unwrap(), recording().turns[1].response);
    let (third, _) = run(&client, &request).await;
    assert_eq!(
        third.unwrap_err().to_string(),
        "the recording has 2 turns; the run asked for turn 3 — re-record with `tend run --record`"
    );
}

#[tokio::test]
async fn replay_notices_a_different_tool_set() {
    let client = Client::Replay(ReplayClient::new(recording()));
    let (result, _) = run(&client, &request_with_tools(&["read", "edit"])).await;
    assert_eq!(
        result.unwrap_err(),
        ModelError::ToolSetMismatch {
            turn: 1,
            recorded: vec!["bash".into(), "read".into()],
            requested: vec!["edit".into(), "read".into()],
        }
    );
    assert_eq!(
        run(&client, &request_with_tools(&["edit"]))
            .await
            .0
            .unwrap_err()
            .to_string(),
        "turn 2 of the recording was made with the tools [bash, read], but the run offers [edit] — re-record with `tend run --record`"
    );
}

#[test]
fn recordings_are_plain_json_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session.json");
    recording().save(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        value["turns"][1],
        json!({
            "content": [{"type": "text", "text": "All good."}],
            "stop": "end_turn",
            "usage": {"input_tokens": 0, "output_tokens": 0, "cache_read_tokens": 0, "cache_write_tokens": 0},
            "request_id": null,
            "tools": ["bash", "read"],
        })
    );
    assert_eq!(Recording::load(&path).unwrap(), recording());

    std::fs::write(&path, text.replace("\"version\": 1", "\"version\": 9")).unwrap();
    assert_eq!(
        Recording::load(&path).unwrap_err().to_string(),
        format!(
            "recording {}: version 9 is not supported (this tend reads version 1)",
            path.display()
        )
    );
    let missing = dir.path().join("nope.json");
    assert!(
        ReplayClient::load(&missing)
            .unwrap_err()
            .to_string()
            .starts_with(&format!("recording {}: ", missing.display()))
    );
}

#[tokio::test]
async fn recording_then_replaying_gives_the_same_responses() {
    for provider in [Provider::Anthropic, Provider::OpenAi] {
        let setup = start(
            provider,
            [
                Step::error(529),
                Reply::new(vec![
                    MockContent::text("Checking."),
                    MockContent::tool_use("bash", json!({"command": "cargo test"})),
                ])
                .with_usage(MockUsage {
                    input_tokens: 5,
                    output_tokens: 6,
                    cache_read_tokens: 7,
                    cache_write_tokens: 0,
                })
                .into(),
                Step::text("Fixed."),
            ],
        )
        .await;
        let (client, log) = setup.client.recording("test-model");
        assert_eq!(client.provider(), provider);
        let request = request_with_tools(&["bash"]);
        let live_first = run(&client, &request).await.0.unwrap();
        let live_second = run(&client, &request).await.0.unwrap();

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rec.json");
        log.lock().unwrap().save(&path).unwrap();
        let saved = Recording::load(&path).unwrap();
        assert_eq!(
            (
                saved.provider.as_str(),
                saved.model.as_str(),
                saved.turns.len()
            ),
            (provider.as_str(), "test-model", 2),
            "{provider}"
        );

        let replay = Client::Replay(ReplayClient::load(&path).unwrap());
        let (replayed_first, events) = run(&replay, &request).await;
        assert_eq!(replayed_first.unwrap(), live_first, "{provider}");
        assert_eq!(streamed_text(&events), "Checking.");
        assert_eq!(
            run(&replay, &request).await.0.unwrap(),
            live_second,
            "{provider}"
        );
        // The failed attempt was retried live and never recorded.
        assert_eq!(setup.mock.requests().len(), 3);
    }
}

#[tokio::test]
async fn failed_responses_are_not_recorded() {
    let setup = start(Provider::Anthropic, [Step::error(400)]).await;
    let (client, log) = setup.client.recording("m");
    assert!(run(&client, &simple_request()).await.0.is_err());
    assert_eq!(log.lock().unwrap().turns, vec![]);
    let Client::Recording(recorder) = &client else {
        panic!("not a recorder");
    };
    assert_eq!(recorder.recording().turns.len(), 0);
}

#[tokio::test]
async fn a_hand_written_recording_without_tools_accepts_any_tool_set() {
    let text = r#"{
      "version": 1,
      "provider": "anthropic",
      "model": "claude-sonnet-4-5",
      "turns": [
        {"content": [{"type": "text", "text": "Nothing to do."}], "stop": "end_turn",
         "usage": {"input_tokens": 1, "output_tokens": 2, "cache_read_tokens": 0, "cache_write_tokens": 0}}
      ]
    }"#;
    let client = Client::Replay(ReplayClient::new(Recording::from_json(text).unwrap()));
    let response = run(&client, &request_with_tools(&["anything"]))
        .await
        .0
        .unwrap();
    assert_eq!(
        response,
        ModelResponse {
            content: vec![Content::text("Nothing to do.")],
            stop: StopReason::EndTurn,
            usage: Usage {
                input_tokens: 1,
                output_tokens: 2,
                cache_read_tokens: 0,
                cache_write_tokens: 0,
            },
            request_id: None,
        }
    );
}
